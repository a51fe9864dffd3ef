from django.db import migrations


class Migration(migrations.Migration):
    """PaymentAttempt now belongs to evently (evently/migrations/0001): drop it from ticketing's state only."""

    dependencies = [
        ("ticketing", "0008_hot_path_indexes"),
        ("evently", "0001_payment_ledger_from_ticketing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PaymentAttempt")],
            database_operations=[],
        ),
    ]
