"""django-q2 schedule (every minute): fold seat counts into search's summaries, re-price categories whose
pricing tier changed by the clock, and rebuild trending when Redis lost it."""

from django.db import migrations

from evently.schedules import every_minute

SCHEDULES = [("events: search summaries and trending", "events.tasks.search_summaries_tick")]


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_discovery_search_and_summaries"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [every_minute(SCHEDULES)]
