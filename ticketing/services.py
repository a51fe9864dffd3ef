"""Seat holds, bookings and cancellations: every seat-state change goes through here.

Rules kept by every function:
- a state change is one conditional UPDATE or one short transaction;
- no payment call (or any other outside call) runs while seat rows are locked;
- every change bumps the event's seat version and is broadcast after commit.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from events.models import Event, EventStatus
from ticketing import lock_objects
from ticketing.broadcast import seat_changes_publish_on_commit
from ticketing.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    EventNotFound,
    HoldLimitExceeded,
    IdempotencyKeyReused,
    NoHeldSeats,
    PaymentDeclined,
    SaleNotActive,
    SeatsUnavailable,
    UnknownSeats,
)
from ticketing.models import Booking, BookingSeat, BookingStatus, EventSeat, SeatStatus, Ticket, TicketStatus
from ticketing.payments import PaymentError, get_payment_provider

logger = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a box office


@dataclass(frozen=True)
class Hold:
    seat_ids: list[int]
    expires_at: datetime


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str = ""


# --- seat versions -----------------------------------------------------------------------------

def _seat_changes_record(cursor, *, event_id: int, seat_ids: list[int]) -> int:
    """Stamp the changed seats with the event's next version and broadcast them after commit.

    Called last in a transaction, after the seat rows are locked: the version row is then held
    only until commit, and version order is commit order.
    """
    cursor.execute(
        "INSERT INTO ticketing_seatversion (event_id, version) VALUES (%s, 1) "
        "ON CONFLICT (event_id) DO UPDATE SET version = ticketing_seatversion.version + 1 RETURNING version",
        [event_id],
    )
    version = cursor.fetchone()[0]
    cursor.execute(
        "UPDATE ticketing_eventseat SET version = %s WHERE id = ANY(%s) "
        "RETURNING id, status, held_until, booking_id",
        [version, list(seat_ids)],
    )
    changes = sorted((seat_change_row_to_dict(row) for row in cursor.fetchall()), key=lambda c: c["seat_id"])
    seat_changes_publish_on_commit(event_id, version, changes)
    return version


def seat_change_row_to_dict(row) -> dict:
    """(id, status, held_until, booking_id) → what clients see; shared with the selectors."""
    seat_id, status, held_until, booking_id = row
    if status == SeatStatus.HELD and booking_id is None and held_until <= timezone.now():
        return {"seat_id": seat_id, "status": SeatStatus.AVAILABLE}
    change = {"seat_id": seat_id, "status": status}
    if status == SeatStatus.HELD and booking_id is None:
        change["held_until"] = held_until.isoformat()
    return change


# --- holds -------------------------------------------------------------------------------------

def _event_on_sale(event_id: int) -> Event:
    try:
        event = Event.objects.only("id", "status", "sales_open_at", "sales_close_at", "ends_at").get(pk=event_id)
    except Event.DoesNotExist:
        raise EventNotFound() from None
    now = timezone.now()
    if (
        event.status != EventStatus.ON_SALE
        or (event.sales_open_at and now < event.sales_open_at)
        or (event.sales_close_at and now >= event.sales_close_at)
    ):
        raise SaleNotActive()
    return event


HOLD_SQL = """
UPDATE ticketing_eventseat
   SET status = 'held', hold_owner = %(owner)s, held_until = %(until)s, booking_id = NULL
 WHERE event_id = %(event_id)s AND id = ANY(%(seat_ids)s)
   AND (status = 'available'
        OR (status = 'held' AND booking_id IS NULL AND (held_until <= now() OR hold_owner = %(owner)s)))
RETURNING id
"""


def seat_hold(*, event_id: int, seat_ids: list[int], owner: str) -> Hold:
    """Hold all of `seat_ids` for `owner`, or none of them.

    The owner's seats for one event share one expiry (the first hold's), so adding a seat never
    extends the countdown. Raises SeatsUnavailable (with the taken ids), UnknownSeats,
    HoldLimitExceeded or SaleNotActive; on any error nothing is held.
    """
    seat_ids = sorted(set(seat_ids))
    _event_on_sale(event_id)
    with transaction.atomic(), connection.cursor() as cursor:
        # One owner's holds on one event run one at a time, so two tabs cannot race the limit.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"hold:{event_id}:{owner}"])
        cursor.execute(
            "SELECT COALESCE(min(held_until), now() + make_interval(secs => %s)), "
            "       count(*) FILTER (WHERE NOT (id = ANY(%s))) "
            "  FROM ticketing_eventseat "
            " WHERE event_id = %s AND hold_owner = %s AND status = 'held' AND booking_id IS NULL "
            "   AND held_until > now()",
            [settings.HOLD_TTL_SECONDS, seat_ids, event_id, owner],
        )
        until, already_held = cursor.fetchone()
        if already_held + len(seat_ids) > settings.MAX_SEATS_PER_HOLD:
            raise HoldLimitExceeded(
                f"You can hold at most {settings.MAX_SEATS_PER_HOLD} seats for this event "
                f"(you already hold {already_held}).",
                limit=settings.MAX_SEATS_PER_HOLD,
                held=already_held,
            )
        cursor.execute(HOLD_SQL, {"owner": owner, "until": until, "event_id": event_id, "seat_ids": seat_ids})
        held = sorted(row[0] for row in cursor.fetchall())
        if len(held) != len(seat_ids):
            missing = sorted(set(seat_ids) - set(held))
            cursor.execute(
                "SELECT id FROM ticketing_eventseat WHERE event_id = %s AND id = ANY(%s)", [event_id, missing]
            )
            known = {row[0] for row in cursor.fetchall()}
            if len(known) != len(missing):
                raise UnknownSeats(seat_ids=sorted(set(missing) - known))
            raise SeatsUnavailable(seat_ids=missing)  # leaving atomic() rolls the partial hold back
        _seat_changes_record(cursor, event_id=event_id, seat_ids=held)
    return Hold(seat_ids=held, expires_at=until)


def seat_release(*, event_id: int, seat_ids: list[int], owner: str) -> list[int]:
    """Release the owner's own holds among `seat_ids`; others' seats are left alone. Returns what was released."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ticketing_eventseat SET status = 'available', hold_owner = '', held_until = NULL "
            " WHERE event_id = %s AND id = ANY(%s) AND hold_owner = %s AND status = 'held' AND booking_id IS NULL "
            "RETURNING id",
            [event_id, sorted(set(seat_ids)), owner],
        )
        released = sorted(row[0] for row in cursor.fetchall())
        if released:
            _seat_changes_record(cursor, event_id=event_id, seat_ids=released)
    return released


def holds_expire() -> int:
    """Turn expired holds back into available seats, one short transaction per event.

    Expired holds already count as available to buyers; this makes it visible (broadcast) and
    is where freed seats will be offered to a waitlist. Safe to run twice or concurrently.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT event_id FROM ticketing_eventseat "
            " WHERE status = 'held' AND booking_id IS NULL AND held_until <= now()"
        )
        event_ids = [row[0] for row in cursor.fetchall()]
    released_total = 0
    for event_id in event_ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ticketing_eventseat SET status = 'available', hold_owner = '', held_until = NULL "
                " WHERE event_id = %s AND status = 'held' AND booking_id IS NULL AND held_until <= now() "
                "RETURNING id",
                [event_id],
            )
            released = [row[0] for row in cursor.fetchall()]
            if released:
                _seat_changes_record(cursor, event_id=event_id, seat_ids=released)
                released_total += len(released)
    return released_total


# --- bookings ----------------------------------------------------------------------------------

def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def booking_confirm(
    *, event_id: int, owner: str, customer: Customer, payment_token: str,
    idempotency_key: str | None = None, user=None,
) -> Booking:
    """Turn the owner's current hold into a paid booking with tickets.

    Phase 1 reserves the held seats in a pending booking (one transaction); phase 2 charges the
    provider with the booking's idempotency key (no transaction); phase 3 sells the seats and
    issues tickets (one transaction). The same idempotency key always answers with the same
    booking. Raises NoHeldSeats, PaymentDeclined (the hold is kept while its time lasts),
    SaleNotActive, IdempotencyKeyReused. A payment whose outcome is unknown leaves the booking
    pending; `booking_reconcile` finishes it.
    """
    key = idempotency_key or uuid.uuid4().hex
    replay = _booking_replay(key, owner=owner, event_id=event_id)
    if replay:
        return replay
    _event_on_sale(event_id)
    booking = _booking_reserve(event_id=event_id, owner=owner, customer=customer, key=key, user=user)
    if booking.status != BookingStatus.PENDING:  # a concurrent request with the same key got there first
        return _booking_replay(key, owner=owner, event_id=event_id)
    return _booking_pay(booking, payment_token=payment_token)


def _booking_replay(key: str, *, owner: str, event_id: int) -> Booking | None:
    booking = Booking.objects.filter(idempotency_key=key).first()
    if booking is None:
        return None
    if booking.buyer != owner or booking.event_id != event_id:
        raise IdempotencyKeyReused()
    if booking.status == BookingStatus.FAILED:
        raise PaymentDeclined(booking_id=booking.pk)
    return booking


def _booking_reserve(*, event_id: int, owner: str, customer: Customer, key: str, user) -> Booking:
    """Phase 1: move the owner's live hold into a pending booking that expires after ORDER_TTL."""
    with transaction.atomic():
        seats = list(
            lock_objects.event_seats_for_update(
                event_id=event_id, hold_owner=owner, status=SeatStatus.HELD, booking__isnull=True,
                held_until__gt=timezone.now(),
            ).select_related("category")
        )
        if not seats:
            existing = Booking.objects.filter(idempotency_key=key).first()
            if existing:
                return existing
            raise NoHeldSeats()
        now = timezone.now()
        booking = Booking(
            event_id=event_id, buyer=owner, user=user if getattr(user, "is_authenticated", False) else None,
            customer_name=customer.name, customer_email=customer.email, customer_phone=customer.phone,
            total=sum((seat.category.price for seat in seats), Decimal("0")), currency=settings.CURRENCY,
            idempotency_key=key, expires_at=now + timedelta(seconds=settings.ORDER_TTL_SECONDS),
            hold_expires_at=min(seat.held_until for seat in seats), reference=_new_reference(),
        )
        try:
            with transaction.atomic():
                booking.save()
        except IntegrityError:
            existing = Booking.objects.filter(idempotency_key=key).first()
            if existing:
                return existing
            booking.reference = _new_reference()  # the 1-in-10^12 reference collision
            booking.save()
        BookingSeat.objects.bulk_create(
            BookingSeat(booking=booking, event_seat=seat, price=seat.category.price) for seat in seats
        )
        seat_ids = [seat.pk for seat in seats]
        EventSeat.objects.filter(pk__in=seat_ids).update(booking=booking, held_until=booking.expires_at)
        with connection.cursor() as cursor:
            _seat_changes_record(cursor, event_id=event_id, seat_ids=seat_ids)
    return booking


def _booking_pay(booking: Booking, *, payment_token: str) -> Booking:
    """Phase 2: charge outside any transaction, then settle the outcome."""
    try:
        result = get_payment_provider().charge(
            amount=booking.total, currency=booking.currency, token=payment_token,
            idempotency_key=booking.idempotency_key,
        )
    except PaymentError as error:
        logger.warning("payment outcome unknown for booking %s: %s", booking.reference, error)
        return booking  # stays pending; reconciliation asks the provider later
    if not result.succeeded:
        _booking_fail(booking.pk, reason=result.decline_reason, keep_hold=True)
        raise PaymentDeclined(booking_id=booking.pk)
    return booking_finalize(booking.pk, payment_reference=result.reference)


def booking_finalize(booking_id: int, *, payment_reference: str) -> Booking:
    """Phase 3: sell the reserved seats and issue tickets. Idempotent.

    If the booking was given up meanwhile (expired by reconciliation), the charge is refunded:
    a payment is never kept without seats.
    """
    with transaction.atomic():
        booking = lock_objects.booking_for_update(booking_id)
        if booking.status == BookingStatus.PAID:
            return booking
        if booking.status != BookingStatus.PENDING:
            booking.payment_reference = payment_reference
            booking.refund_amount = booking.total
            booking.failure_reason = booking.failure_reason or "Payment arrived after the order expired."
            booking.save(update_fields=["payment_reference", "refund_amount", "failure_reason"])
            transaction.on_commit(lambda: booking_refund_owed(booking_id))
            return booking
        seats = list(lock_objects.event_seats_for_update(booking=booking))
        now = timezone.now()
        seat_ids = [seat.pk for seat in seats]
        EventSeat.objects.filter(pk__in=seat_ids).update(status=SeatStatus.SOLD, held_until=None)
        booking.status = BookingStatus.PAID
        booking.paid_at = now
        booking.payment_reference = payment_reference
        booking.save(update_fields=["status", "paid_at", "payment_reference"])
        _tickets_issue(booking)
        with connection.cursor() as cursor:
            _seat_changes_record(cursor, event_id=booking.event_id, seat_ids=seat_ids)
    return booking


def _tickets_issue(booking: Booking) -> None:
    """One ticket per booked seat, each with a signed token (ids first, so the token can name them)."""
    private_key = event_signing_key(booking.event_id).private_key
    booking_seats = list(booking.booking_seats.filter(is_active=True).order_by("event_seat_id"))
    tickets = Ticket.objects.bulk_create(
        Ticket(booking=booking, booking_seat=booking_seat, holder_name=booking.customer_name)
        for booking_seat in booking_seats
    )
    for ticket, booking_seat in zip(tickets, booking_seats):
        ticket_token_issue(ticket, event_id=booking.event_id, seat_id=booking_seat.event_seat_id,
                           private_key=private_key)
    Ticket.objects.bulk_update(tickets, ["token", "nonce"])


def _booking_fail(booking_id: int, *, reason: str, keep_hold: bool, status: str = BookingStatus.FAILED) -> None:
    """Give up a pending booking. Its seats go back to the buyer's hold (if asked and time is left) or to sale."""
    with transaction.atomic():
        booking = lock_objects.booking_for_update(booking_id)
        if booking.status != BookingStatus.PENDING:
            return
        seats = list(lock_objects.event_seats_for_update(booking=booking))
        seat_ids = [seat.pk for seat in seats]
        if keep_hold and booking.hold_expires_at and booking.hold_expires_at > timezone.now():
            EventSeat.objects.filter(pk__in=seat_ids).update(booking=None, held_until=booking.hold_expires_at)
        else:
            EventSeat.objects.filter(pk__in=seat_ids).update(
                booking=None, status=SeatStatus.AVAILABLE, hold_owner="", held_until=None
            )
        booking.booking_seats.update(is_active=False)
        booking.status = status
        booking.failure_reason = reason[:200]
        booking.save(update_fields=["status", "failure_reason"])
        if seat_ids:
            with connection.cursor() as cursor:
                _seat_changes_record(cursor, event_id=booking.event_id, seat_ids=seat_ids)


def booking_reconcile(booking_id: int) -> Booking:
    """Finish what a crash or a timeout left: ask the provider, then finalise, give up, or refund.

    A pending booking whose charge succeeded is finalised at any time; one the provider never
    saw (or declined) is given up once its order time is over. Safe to run twice.
    """
    booking = Booking.objects.get(pk=booking_id)
    if booking.status == BookingStatus.PENDING:
        result = get_payment_provider().status(idempotency_key=booking.idempotency_key)
        if result and result.succeeded:
            return booking_finalize(booking.pk, payment_reference=result.reference)
        if result is not None or booking.expires_at <= timezone.now():
            _booking_fail(booking.pk, reason="Payment not completed in time.", keep_hold=False,
                          status=BookingStatus.EXPIRED)
    elif booking.refund_amount and not booking.refund_reference:
        booking_refund_owed(booking.pk)
    return Booking.objects.get(pk=booking_id)


def bookings_reconcile_due() -> int:
    """The scheduled sweep: pending bookings older than a minute, and refunds not yet paid out."""
    cutoff = timezone.now() - timedelta(seconds=60)
    due = list(
        Booking.objects.filter(
            Q(status=BookingStatus.PENDING, created_at__lte=cutoff)
            | Q(refund_amount__gt=0, refund_reference="", payment_reference__gt="")
        ).values_list("pk", flat=True)[:500]
    )
    for booking_id in due:
        try:
            booking_reconcile(booking_id)
        except PaymentError:
            logger.warning("reconciliation of booking %s must wait: provider unreachable", booking_id)
    return len(due)


def booking_refund_owed(booking_id: int) -> None:
    """Pay out a refund recorded on the booking; outside any transaction, idempotent by booking."""
    booking = Booking.objects.get(pk=booking_id)
    if not booking.refund_amount or booking.refund_reference or not booking.payment_reference:
        return
    try:
        reference = get_payment_provider().refund(
            idempotency_key=booking.idempotency_key, amount=booking.refund_amount,
            refund_key=f"refund-{booking.pk}",
        )
    except PaymentError:
        logger.warning("refund for booking %s failed; reconciliation retries it", booking.reference)
        return
    Booking.objects.filter(pk=booking.pk, refund_reference="").update(refund_reference=reference)


def booking_cancel(*, booking_id: int, owner: str, user=None) -> Booking:
    """Cancel a paid booking with a full refund; its seats go back on sale at once.

    The buyer (by session) and the event's organizer may cancel; to anyone else the booking
    does not exist. Raises BookingNotFound, BookingNotCancellable.
    """
    with transaction.atomic():
        try:
            booking = lock_objects.booking_for_update(booking_id)
        except Booking.DoesNotExist:
            raise BookingNotFound() from None
        if not booking_is_visible_to(booking, owner=owner, user=user):
            raise BookingNotFound()
        if booking.status != BookingStatus.PAID:
            raise BookingNotCancellable(status=booking.status)
        seats = list(lock_objects.event_seats_for_update(booking=booking))
        seat_ids = [seat.pk for seat in seats]
        EventSeat.objects.filter(pk__in=seat_ids).update(
            status=SeatStatus.AVAILABLE, booking=None, hold_owner="", held_until=None
        )
        booking.booking_seats.update(is_active=False)
        booking.tickets.filter(status=TicketStatus.VALID).update(status=TicketStatus.CANCELLED)
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.refund_amount = booking.total
        booking.save(update_fields=["status", "cancelled_at", "refund_amount"])
        with connection.cursor() as cursor:
            _seat_changes_record(cursor, event_id=booking.event_id, seat_ids=seat_ids)
    booking_refund_owed(booking.pk)
    booking.refresh_from_db()
    return booking


def booking_is_visible_to(booking: Booking, *, owner: str, user=None) -> bool:
    if booking.buyer == owner:
        return True
    if user is not None and getattr(user, "is_authenticated", False):
        return user.is_superuser or booking.user_id == user.pk or booking.event.organizer_id == user.pk
    return False


# --- inventory ---------------------------------------------------------------------------------

def event_inventory_create(*, event: Event, section_categories: dict[int, int]) -> int:
    """Create the event's seat inventory from its venue in one INSERT … SELECT (50,000 seats in well under a second).

    `section_categories` maps every section id of the venue to a seat category of the event;
    seats of unmapped sections are not sold. Returns the number of seats created. Idempotent:
    seats already in the inventory are left as they are.
    """
    if not section_categories:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ticketing_eventseat (event_id, seat_id, category_id, status, hold_owner, version) "
            "SELECT %s, seat.id, mapping.category_id, 'available', '', 0 "
            "  FROM venues_seat seat "
            "  JOIN unnest(%s::bigint[], %s::bigint[]) AS mapping(section_id, category_id) "
            "    ON mapping.section_id = seat.section_id "
            " WHERE seat.venue_id = %s "
            "ON CONFLICT (event_id, seat_id) DO NOTHING",
            [event.pk, list(section_categories.keys()), list(section_categories.values()), event.venue_id],
        )
        created = cursor.rowcount
        cursor.execute(
            "INSERT INTO ticketing_seatversion (event_id, version) VALUES (%s, 0) ON CONFLICT DO NOTHING", [event.pk]
        )
        event_signing_key(event.pk)
    return created


# --- ticket tokens -----------------------------------------------------------------------------

def event_signing_key(event_id: int):
    """The event's key pair, made on first use (race-safe: the primary key decides)."""
    from ticketing.models import EventSigningKey
    from ticketing.tokens import keypair_generate

    key = EventSigningKey.objects.filter(pk=event_id).first()
    if key is None:
        private, public = keypair_generate()
        EventSigningKey.objects.get_or_create(event_id=event_id, defaults={"private_key": private, "public_key": public})
        key = EventSigningKey.objects.get(pk=event_id)
    return key


def ticket_token_issue(ticket: Ticket, *, event_id: int, seat_id: int, private_key: bytes) -> None:
    """Give the ticket a fresh nonce and a token signed with the event's key (saved by the caller)."""
    from ticketing.tokens import TicketClaims, new_nonce, token_sign

    ticket.nonce = new_nonce()
    ticket.token = token_sign(
        TicketClaims(event_id=event_id, ticket_id=ticket.pk, booking_id=ticket.booking_id, seat_id=seat_id,
                     nonce=ticket.nonce),
        bytes(private_key),
    )
