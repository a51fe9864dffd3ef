"""Seat inventory per event, holds, bookings and tickets.

Seat state lives in `EventSeat` and changes only through `ticketing.services`, each change one
conditional UPDATE or one short transaction, and stamps `EventSeat.version` with the writing
transaction's id so clients can ask for what they missed (see ticketing.selectors).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


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

    # Every seat change updates every index of this table (a status change is never a HOT update),
    # so it carries only the indexes the queries need: `event` is served by event_seat_unique,
    # category and tier look-ups (rare deletes) go without one; see docs/performance.md.
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="seats", db_index=False)
    seat = models.ForeignKey("venues.Seat", on_delete=models.PROTECT, related_name="event_seats")
    category = models.ForeignKey("events.SeatCategory", on_delete=models.PROTECT, related_name="seats",
                                 db_index=False)
    status = models.CharField(max_length=10, choices=SeatStatus.choices, default=SeatStatus.AVAILABLE)
    hold_owner = models.CharField(max_length=64, blank=True, default="")
    held_until = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey("Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.BigIntegerField(default=0, help_text="Id of the transaction that last changed this seat.")
    # Fixed by the hold (the active pricing tier's price then) and charged at confirm; stale once
    # the seat is available again. Counted against the tier's quota while held or sold.
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    tier = models.ForeignKey("events.PricingTier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)

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
            # Quota use per tier: only seats that hold a place (bounded by the quota, not by the sale).
            models.Index(fields=["tier"], name="event_seat_tier_used_idx",
                         condition=Q(tier__isnull=False, status__in=["held", "sold"])),
            # "Any seat left?" after each sale: finds one without walking the sold seats.
            models.Index(fields=["event", "id"], name="event_seat_unsold_idx",
                         condition=Q(status__in=["available", "held"])),
        ]

    def __str__(self):
        return f"{self.event_id}/{self.seat_id} {self.status}"


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
    customer_email = models.EmailField()
    customer_phone = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    # The key the payment provider sees: made by the server, one per booking (`booking_payment_key`).
    idempotency_key = models.CharField(max_length=100, unique=True)
    # The buyer's own retry key (optional): de-duplicates that buyer's confirms, never reaches the provider.
    client_key = models.CharField(max_length=100, blank=True, default="")
    payment_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refund_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="A pending booking not paid by then is reconciled.")
    hold_expires_at = models.DateTimeField(null=True, blank=True, help_text="When the seats' hold would have ended.")
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The discount code the buyer entered (issue 18); `total` is already after `discount`.
    voucher = models.ForeignKey("Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="bookings")
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0,
                                   help_text="What the voucher took off the seats' prices.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="booking_total_not_negative"),
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="booking_refund_not_negative"),
            models.UniqueConstraint(fields=["buyer", "client_key"], condition=~Q(client_key=""),
                                    name="booking_client_key_unique_per_buyer"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="booking_pending_expiry_idx", condition=Q(status="pending")),
            # One address's bookings: the per-e-mail limit of each confirm (whatever the sale's size)
            # and "my bookings".
            models.Index(Lower("customer_email"), name="booking_email_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_box_office(self) -> bool:
        """Sold over the counter for cash or complimentary: no provider charge behind it (a card sale
        at the counter is charged and refunded through the provider like an online one)."""
        return self.buyer.startswith("boxoffice:") and (
            self.payment_reference == "comp" or self.payment_reference.startswith("cash:"))


# A refund of a box-office booking is paid at the counter: its reference starts with this.
BOX_OFFICE_REFUND_PREFIX = "box-office:"


class BookingSeat(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="booking_seats")
    event_seat = models.ForeignKey(EventSeat, on_delete=models.PROTECT, related_name="booking_seats")
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="What the buyer pays: after `discount`.")
    # What a voucher took off this seat's price (the list price is price + discount); > 0 is one use.
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=0, db_default=0)
    tier = models.ForeignKey("events.PricingTier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
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
    # A seat ticket names its booking seat; a general-admission ticket (issue 15) its booking place instead.
    booking_seat = models.ForeignKey(BookingSeat, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="tickets")
    booking_place = models.ForeignKey("BookingPlace", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="tickets")
    status = models.CharField(max_length=12, choices=TicketStatus.choices, default=TicketStatus.VALID)
    holder_name = models.CharField(max_length=200)
    token = models.TextField(blank=True, help_text="What the QR code holds: see ticketing.tokens.")
    nonce = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Tickets (issue 5): who holds it after a transfer, where it came from, and when the door admitted it.
    holder_email = models.EmailField(blank=True, help_text="Set for a ticket transferred to someone; else the buyer's.")
    transferred_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="transferred_to",
        help_text="The ticket this one replaced by transfer; such a ticket cannot be transferred again.",
    )
    admitted_at = models.DateTimeField(null=True, blank=True, help_text="Set by check-in when the door admits it.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking_seat"], condition=Q(status="valid"), name="ticket_one_valid_per_booking_seat"
            ),
            models.UniqueConstraint(
                fields=["booking_place"], condition=Q(status="valid"), name="ticket_one_valid_per_booking_place"
            ),
            models.CheckConstraint(
                condition=Q(booking_seat__isnull=False, booking_place__isnull=True)
                | Q(booking_seat__isnull=True, booking_place__isnull=False),
                name="ticket_is_for_a_seat_or_a_place",
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


class RetiredSigningKey(models.Model):
    """A public key an event's tickets were signed with before its key was rotated.

    Tickets signed with it keep verifying (online and on offline door devices) until the event
    ends; the private half is gone, so nothing new is ever signed with it.
    """

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="retired_signing_keys")
    public_key = models.BinaryField()
    created_at = models.DateTimeField(help_text="When the key was made.")
    retired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-retired_at", "-id"]

    def __str__(self):
        return f"Retired signing key of event {self.event_id}"


# --- e-ticket delivery, transfers and the waitlist (issue 5) ----------------------------------------


class TicketTransfer(models.Model):
    """Who gave which ticket to whom, and when. The old ticket is `transferred`, the new one valid."""

    from_ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="transfer_out")
    to_ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="transfer_in")
    from_name = models.CharField(max_length=200)
    to_name = models.CharField(max_length=200)
    to_email = models.EmailField()
    transferred_by = models.CharField(max_length=100, help_text="buyer:<session id>, user:<id> or email:<address>.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Ticket {self.from_ticket_id} → {self.to_ticket_id}"


class OutgoingEmail(models.Model):
    """One e-mail that must go out exactly once, keyed by what it is about ("booking-tickets:12").

    `ticketing.services.delivery` claims a row with a conditional UPDATE before sending, so two
    workers (or a retried task) never send the same e-mail twice.
    """

    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=30)
    object_id = models.BigIntegerField()
    to = models.EmailField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="outgoing_email_unsent_idx", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self):
        return self.key


class WaitlistStatus(models.TextChoices):
    PENDING = "pending", "Waiting for e-mail confirmation"
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Seats offered"
    CLAIMED = "claimed", "Claimed"
    EXPIRED = "expired", "Offer expired"
    LEFT = "left", "Left the waitlist"


class WaitlistEntry(models.Model):
    """A buyer waiting for seats of a sold-out event (or one seat category of it), first come first served."""

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="waitlist_entries")
    category = models.ForeignKey("events.SeatCategory", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    party_size = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING)
    offered_seat_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, help_text="The buyer session that claimed the offer.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "email"], condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_one_open_entry_per_email",
            ),
            models.CheckConstraint(condition=Q(party_size__gte=1), name="waitlist_party_size_positive"),
        ]
        indexes = [
            models.Index(fields=["event", "created_at", "id"], name="waitlist_waiting_idx",
                         condition=Q(status="waiting")),
        ]

    def __str__(self):
        return f"{self.email} × {self.party_size} ({self.status})"

    @property
    def hold_owner(self) -> str:
        """The `EventSeat.hold_owner` of seats held for this entry's offer."""
        return f"waitlist:{self.pk}"


class CancellationReason(models.TextChoices):
    BUYER = "buyer", "Cancelled by the buyer"
    ORGANIZER = "organizer", "Cancelled by the organizer (full refund)"
    ORGANIZER_POLICY = "organizer_policy", "Cancelled by the organizer (event's policy)"
    EVENT_CANCELLED = "event_cancelled", "The event was cancelled"
    LATE_PAYMENT = "late_payment", "Payment arrived after the order expired"


class Cancellation(models.Model):
    """One cancellation of some or all seats of a booking, and the refund it owes.

    The refund is paid out after commit (`refund_reference` set once the provider confirms);
    reconciliation retries unpaid ones. Late payments are recorded here too, with no seats.
    """

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="cancellations")
    reason = models.CharField(max_length=20, choices=CancellationReason.choices)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    buyer = models.CharField(max_length=64, blank=True, help_text="The session identity that asked, if a buyer.")
    booking_seats = models.ManyToManyField(BookingSeat, blank=True, related_name="cancellations")
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="What the cancelled seats cost.")
    fee = models.DecimalField(max_digits=12, decimal_places=2, help_text="What is kept: fees and non-refundable seats.")
    refund = models.DecimalField(max_digits=12, decimal_places=2)
    refund_reference = models.CharField(max_length=100, blank=True)
    # When a payout was last tried: the sweep takes the least recently tried first, so a refund the
    # provider keeps refusing never starves the others.
    refund_attempted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(refund__gte=0, fee__gte=0), name="cancellation_amounts_not_negative"),
            models.CheckConstraint(condition=Q(amount=models.F("fee") + models.F("refund")),
                                   name="cancellation_amount_is_fee_plus_refund"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="cancellation_refund_due_idx",
                         condition=Q(refund__gt=0, refund_reference="")),
        ]

    def __str__(self):
        return f"Cancellation {self.pk} of {self.booking_id}"


class PaymentWebhookEvent(models.Model):
    """Every provider webhook once: its id is unique, so a replay is recognised and ignored."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=50)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.type} {self.event_id}"


class BoxOfficeMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card (through the payment provider)"
    COMP = "comp", "Complimentary"


class BoxOfficeSale(models.Model):
    """Who sold a booking at the box office, and how it was paid (no payment provider involved)."""

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, primary_key=True, related_name="box_office_sale")
    sold_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="box_office_sales")
    method = models.CharField(max_length=10, choices=BoxOfficeMethod.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.booking_id} ({self.method}) by {self.sold_by_id}"


class BookingLogAction(models.TextChoices):
    TICKETS_RESENT = "tickets_resent", "Tickets e-mailed again"
    HOLDER_CORRECTED = "holder_corrected", "Holder name corrected"
    TICKET_REISSUED = "ticket_reissued", "Ticket reissued (new QR code)"


class BookingLogEntry(models.Model):
    """What an organizer did to a booking from the admin that no other record tells (issue 18):
    part of the booking's history beside its cancellations, transfers, e-mails and scans."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="log_entries")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=BookingLogAction.choices)
    message = models.CharField(max_length=300)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "booking log entries"

    def __str__(self):
        return f"{self.booking_id}: {self.get_action_display()}"
# --- general admission: areas sold by quantity (issue 15) ------------------------------------------


class EventArea(models.Model):
    """One general-admission area of one event: a counter of places, not a row per place.

    `held` counts the places in buyers' carts and in pending bookings (the `AreaHold` rows of the
    area always add up to it), `sold` the places of paid bookings, `blocked` the places the
    organizer holds back. Every change is one conditional UPDATE of this row (ticketing.services.areas),
    and the check constraint below makes an oversold area impossible even for a buggy caller.
    An expired hold still counts in `held` until a buyer's hold or the sweep reclaims it; what
    buyers see as available already leaves it out (`AREA_AVAILABLE_SQL`).
    """

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="areas")
    section = models.ForeignKey("venues.Section", on_delete=models.PROTECT, related_name="event_areas")
    category = models.ForeignKey("events.SeatCategory", on_delete=models.PROTECT, related_name="areas")
    capacity = models.PositiveIntegerField()
    held = models.IntegerField(default=0)
    sold = models.IntegerField(default=0)
    blocked = models.IntegerField(default=0)
    version = models.BigIntegerField(default=0, help_text="Id of the transaction that last changed this area.")

    class Meta:
        ordering = ["event", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "section"], name="event_area_unique"),
            models.CheckConstraint(condition=Q(held__gte=0, sold__gte=0, blocked__gte=0),
                                   name="event_area_counts_not_negative"),
            models.CheckConstraint(
                condition=Q(capacity__gte=models.F("held") + models.F("sold") + models.F("blocked")),
                name="event_area_never_oversold",
            ),
        ]
        indexes = [models.Index(fields=["event", "version"], name="event_area_version_idx")]

    def __str__(self):
        return f"{self.event_id}/area {self.section_id}: {self.sold} sold, {self.held} held of {self.capacity}"


class AreaHold(models.Model):
    """Places of one area in one buyer's cart (`booking` empty) or in a pending booking.

    One row per (area, buyer, pricing tier): the places a hold took at each tier's price. The
    quantities of an area's rows add up to its `EventArea.held`; a release, the expiry sweep and a
    failed payment give back exactly the quantity of the rows they delete.
    """

    event_area = models.ForeignKey(EventArea, on_delete=models.CASCADE, related_name="holds")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+", db_index=False)
    owner = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    held_until = models.DateTimeField()
    booking = models.ForeignKey("Booking", null=True, blank=True, on_delete=models.CASCADE, related_name="area_holds")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    tier = models.ForeignKey("events.PricingTier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="area_hold_quantity_positive"),
            models.UniqueConstraint(fields=["event_area", "owner", "tier"], condition=Q(booking__isnull=True),
                                    nulls_distinct=False, name="area_hold_one_cart_row_per_tier"),
        ]
        indexes = [
            models.Index(fields=["event", "owner"], name="area_hold_owner_idx", condition=Q(booking__isnull=True)),
            models.Index(fields=["event_area", "held_until"], name="area_hold_expiry_idx",
                         condition=Q(booking__isnull=True)),
            models.Index(fields=["tier"], name="area_hold_tier_idx", condition=Q(tier__isnull=False)),
        ]

    def __str__(self):
        return f"{self.owner}: {self.quantity} × area {self.event_area_id}"


class BookingPlace(models.Model):
    """One admission to a general-admission area in a booking (each gets its own ticket)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="booking_places")
    event_area = models.ForeignKey(EventArea, on_delete=models.PROTECT, related_name="booking_places")
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="What the buyer pays: after `discount`.")
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=0, db_default=0)  # as BookingSeat's
    tier = models.ForeignKey("events.PricingTier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)
    # True while the booking is pending or paid (like BookingSeat.is_active).
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="booking_place_price_not_negative")]
        indexes = [
            models.Index(fields=["tier"], name="booking_place_tier_idx",
                         condition=Q(tier__isnull=False, is_active=True)),
        ]

    def __str__(self):
        return f"{self.booking_id}: area {self.event_area_id}"


# --- vouchers: discount codes per event (issue 18) ------------------------------------------------


class VoucherKind(models.TextChoices):
    PERCENT = "percent", "Percentage off each ticket"
    AMOUNT = "amount", "Amount off each ticket"


class Voucher(models.Model):
    """A discount code of one event: a percentage or an amount off each ticket of its categories.

    `used` counts the tickets the code took money off in pending and paid bookings; a booking that
    is never paid, or a cancelled ticket, gives its use back. Every change of `used` is one
    conditional UPDATE (ticketing.services.vouchers), and the check constraint makes using a code
    beyond its quota impossible even for a buggy caller.
    """

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="vouchers")
    code = models.CharField(max_length=40, help_text="What buyers type at checkout; letters are not case-sensitive.")
    kind = models.CharField(max_length=10, choices=VoucherKind.choices, default=VoucherKind.PERCENT)
    value = models.DecimalField(max_digits=10, decimal_places=2,
                                help_text="Percent (1–100) or the amount off each ticket.")
    categories = models.ManyToManyField("events.SeatCategory", blank=True, related_name="vouchers",
                                        help_text="The seat categories it applies to; none chosen: all of them.")
    quota = models.PositiveIntegerField(null=True, blank=True,
                                        help_text="How many tickets may use it; empty: no limit.")
    used = models.IntegerField(default=0, editable=False)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Untick to stop it at once (bookings keep theirs).")
    note = models.CharField(max_length=200, blank=True, help_text="For you: who it was given to, and why.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "code"]
        constraints = [
            models.UniqueConstraint(fields=["event", "code"], name="voucher_code_unique_per_event"),
            models.CheckConstraint(condition=Q(used__gte=0), name="voucher_used_not_negative"),
            models.CheckConstraint(condition=Q(quota__isnull=True) | Q(used__lte=models.F("quota")),
                                   name="voucher_never_over_quota"),
            models.CheckConstraint(condition=Q(value__gt=0) & (~Q(kind="percent") | Q(value__lte=100)),
                                   name="voucher_value_in_range"),
        ]

    def __str__(self):
        return self.code

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.used, 0)
