"""django-q2 schedule for retrying failed ticket e-mails (every minute)."""

from django.db import migrations

from evently.schedules import every_minute

SCHEDULES = [
    ("ticketing: retry failed e-mails", "ticketing.tasks.emails_retry_due"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ticketing", "0003_tickets_transfers_waitlist"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [every_minute(SCHEDULES)]
