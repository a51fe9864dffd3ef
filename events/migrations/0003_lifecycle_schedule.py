"""django-q2 schedule for the event lifecycle (every minute): on sale, sales closed, finished."""

from django.db import migrations

from evently.schedules import every_minute

SCHEDULES = [("events: lifecycle transitions", "ticketing.tasks.events_lifecycle_tick")]


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_pricing_tiers_limits_cancellation_policy"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [every_minute(SCHEDULES)]
