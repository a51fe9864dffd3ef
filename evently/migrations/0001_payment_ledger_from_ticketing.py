from django.db import migrations, models


class Migration(migrations.Migration):
    """PaymentAttempt moves from ticketing to evently: state only, the table stays as it is."""

    initial = True

    dependencies = [
        ("ticketing", "0007_box_office_sale"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PaymentAttempt",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("idempotency_key", models.CharField(max_length=100, unique=True)),
                        ("amount", models.DecimalField(decimal_places=2, max_digits=12)),
                        ("currency", models.CharField(max_length=3)),
                        ("token", models.CharField(max_length=100)),
                        ("status", models.CharField(max_length=12)),
                        ("reference", models.CharField(max_length=100)),
                        ("refunded_amount", models.DecimalField(decimal_places=2, default=0, max_digits=12)),
                        ("refunds", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "ticketing_paymentattempt"},
                ),
            ],
            database_operations=[],
        ),
    ]
