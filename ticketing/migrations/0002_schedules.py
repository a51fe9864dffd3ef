"""django-q2 schedules for the seat sweeper and payment reconciliation (every minute)."""

from django.db import migrations

from evently.schedules import every_minute

SCHEDULES = [
    ("ticketing: release expired holds", "ticketing.tasks.holds_expire"),
    ("ticketing: reconcile pending bookings and refunds", "ticketing.tasks.bookings_reconcile_due"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ticketing", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [every_minute(SCHEDULES)]
