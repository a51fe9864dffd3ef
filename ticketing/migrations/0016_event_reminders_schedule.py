"""django-q2 schedule (every minute): the day-before reminder e-mails (issue 17)."""

from django.db import migrations

from evently.schedules import every_minute

SCHEDULES = [("ticketing: event reminders", "ticketing.tasks.event_reminders_due")]


class Migration(migrations.Migration):
    dependencies = [
        ("ticketing", "0015_general_admission_areas"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [every_minute(SCHEDULES)]
