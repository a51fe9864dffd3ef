"""Shared infrastructure's own records: the fake payment provider's ledger."""

from django.db import models


class PaymentAttempt(models.Model):
    """What the fake payment provider remembers: it stands in for the provider's own records.

    Stored in Postgres so reconciliation in another process can ask "did this charge happen?".
    Ticketing's bookings and venues' deposits are charged through the same provider, so the
    ledger lives below both. (It moved here from ticketing; the table keeps its name.)
    """

    idempotency_key = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    token = models.CharField(max_length=100)
    status = models.CharField(max_length=12)  # succeeded | declined
    reference = models.CharField(max_length=100)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refunds = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ticketing_paymentattempt"

    def __str__(self):
        return f"{self.reference} {self.status}"
