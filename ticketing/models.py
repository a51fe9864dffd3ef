"""Seat inventory per event, holds, bookings and tickets.

Seat state lives in `EventSeat` and changes only through `ticketing.services`, each change one
conditional UPDATE or one short transaction. `SeatVersion` numbers those changes per event so
clients can ask for what they missed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class SeatStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    HELD = "held", "Held"
    SOLD = "sold", "Sold"
    BLOCKED = "blocked", "Blocked"


class EventSeat(models.Model):
    """One sellable seat of one event.

    A seat is `held` while `held_until` is in the future; an expired hold counts as available at
    once, whether or not the sweeper has run — unless a pending booking (`booking`) reserves it,
    in which case only reconciliation may free it.
    """

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="seats")
    seat = models.ForeignKey("venues.Seat", on_delete=models.PROTECT, related_name="event_seats")
    category = models.ForeignKey("events.SeatCategory", on_delete=models.PROTECT, related_name="seats")
    status = models.CharField(max_length=10, choices=SeatStatus.choices, default=SeatStatus.AVAILABLE)
    hold_owner = models.CharField(max_length=64, blank=True, default="")
    held_until = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey("Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "seat"], name="event_seat_unique"),
            models.CheckConstraint(
                condition=Q(status="held", held_until__isnull=False) | ~Q(status="held"),
                name="event_seat_held_has_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "version"], name="event_seat_version_idx"),
            models.Index(fields=["event", "hold_owner"], name="event_seat_holder_idx", condition=Q(status="held")),
            models.Index(fields=["held_until"], name="event_seat_held_until_idx", condition=Q(status="held")),
        ]

    def __str__(self):
        return f"{self.event_id}/{self.seat_id} {self.status}"


class SeatVersion(models.Model):
    """The per-event counter of seat changes.

    Writers lock this row last, after their seat rows, and hold it only until commit: version order
    is then commit order, so `changes?since=N` never skips a change committed late.
    """

    event = models.OneToOneField("events.Event", on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.event_id}: v{self.version}"


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    PAID = "paid", "Paid"
    FAILED = "failed", "Payment failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class Booking(models.Model):
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="bookings")
    reference = models.CharField(max_length=12, unique=True)
    buyer = models.CharField(max_length=64, db_index=True, help_text="The buyer's session identity.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField(db_index=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    idempotency_key = models.CharField(max_length=100, unique=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refund_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="A pending booking not paid by then is reconciled.")
    hold_expires_at = models.DateTimeField(null=True, blank=True, help_text="When the seats' hold would have ended.")
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="booking_total_not_negative"),
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="booking_refund_not_negative"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="booking_pending_expiry_idx", condition=Q(status="pending")),
        ]

    def __str__(self):
        return self.reference


class BookingSeat(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="booking_seats")
    event_seat = models.ForeignKey(EventSeat, on_delete=models.PROTECT, related_name="booking_seats")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    # True while the booking is pending or paid; the constraint below is "one active booking per seat".
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_seat"], condition=Q(is_active=True), name="booking_seat_one_active_per_seat"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="booking_seat_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.booking_id}: {self.event_seat_id}"


class TicketStatus(models.TextChoices):
    VALID = "valid", "Valid"
    CANCELLED = "cancelled", "Cancelled"
    TRANSFERRED = "transferred", "Transferred"


class Ticket(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="tickets")
    booking_seat = models.ForeignKey(BookingSeat, on_delete=models.PROTECT, related_name="tickets")
    status = models.CharField(max_length=12, choices=TicketStatus.choices, default=TicketStatus.VALID)
    holder_name = models.CharField(max_length=200)
    token = models.TextField(blank=True, help_text="What the QR code holds: see ticketing.tokens.")
    nonce = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking_seat"], condition=Q(status="valid"), name="ticket_one_valid_per_booking_seat"
            ),
        ]

    def __str__(self):
        return f"Ticket {self.pk} ({self.status})"


class EventSigningKey(models.Model):
    """The event's Ed25519 key pair for ticket tokens. The private key never leaves the server;
    the public key goes to check-in devices so they can verify tickets offline."""

    event = models.OneToOneField("events.Event", on_delete=models.CASCADE, primary_key=True, related_name="signing_key")
    private_key = models.BinaryField()
    public_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Signing key of event {self.event_id}"


class PaymentAttempt(models.Model):
    """What the fake payment provider remembers: it stands in for the provider's own records.

    Stored in Postgres so reconciliation in another process can ask "did this charge happen?".
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

    def __str__(self):
        return f"{self.reference} {self.status}"


class BoxOfficeMethod(models.TextChoices):
    CASH = "cash", "Cash"
    COMP = "comp", "Complimentary"


class BoxOfficeSale(models.Model):
    """Who sold a booking at the box office, and how it was paid (no payment provider involved)."""

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, primary_key=True, related_name="box_office_sale")
    sold_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="box_office_sales")
    method = models.CharField(max_length=10, choices=BoxOfficeMethod.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.booking_id} ({self.method}) by {self.sold_by_id}"
