"""Bookings: confirm (three phases around the payment call) and reconcile.

Cancellations live in `ticketing.services.cancellation`, refunds in `ticketing.services.refunds`.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from evently.payments import PaymentError, get_payment_provider
from evently.prepared import prepared_cursor
from ticketing import lock_objects
from ticketing.exceptions import (
    IdempotencyKeyReused,
    NoHeldSeats,
    PaymentDeclined,
    SaleNotActive,
)
from ticketing.models import Booking, BookingStatus, CancellationReason, EventSeat, SeatStatus
from ticketing.seat_state import (
    STAMP,
    STAMP_SQL,
    held_changes,
    live_hold_sql,
    lock_wait_bounded,
    seats_free,
    seats_publish,
    status_changes,
)
from ticketing.services.areas import (
    booking_has_places,
    booking_places_return,
    booking_places_sell,
    cart_places_lock,
    cart_places_reserve,
)
from ticketing.services.availability import event_availability_refresh
from ticketing.services.carts import cart_expiry
from ticketing.services.limits import email_limit_check, email_limit_lock_key, order_limit_check
from ticketing.services.refunds import booking_refund_owed, refund_record, refunds_due
from ticketing.services.seats import event_selling
from ticketing.services.tickets import tickets_issue, tickets_issue_places
from ticketing.services.vouchers import (
    booking_voucher_items,
    booking_voucher_redeem,
    voucher_payment_reference,
    voucher_uses_return,
)

logger = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a box office


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str = ""


def booking_reference_new() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def booking_confirm(
    *, event_id: int, owner: str, customer: Customer, payment_token: str,
    idempotency_key: str | None = None, user=None, voucher: str = "",
) -> Booking:
    """Turn the owner's current hold into a paid booking with tickets.

    Phase 1 reserves the held seats in a pending booking (one transaction); phase 2 charges the
    provider with the booking's own server-made key (no transaction); phase 3 sells the seats and
    issues tickets (one transaction). The same `idempotency_key` from the same buyer always
    answers with the same booking; it never reaches the provider. A `voucher` code takes its
    discount off the seats in phase 1 (ticketing.services.vouchers). Raises NoHeldSeats,
    PaymentDeclined (the hold is kept while its time lasts), SaleNotActive, IdempotencyKeyReused,
    and the voucher errors (nothing written, the hold kept).
    A payment whose outcome is unknown leaves the booking pending; `booking_reconcile` finishes it.
    """
    # A repeated key is found where it matters, without a look-up per confirm: the hold is gone
    # (NoHeldSeats), the key clashes (IntegrityError), or the sale has closed since. The key only
    # ever names this buyer's bookings; the provider sees a key made here (booking_payment_key).
    client_key = idempotency_key or ""
    try:
        event = event_selling(event_id)
        booking = _booking_reserve(event=event, owner=owner, customer=customer, client_key=client_key, user=user,
                                   voucher=voucher)
    except (SaleNotActive, NoHeldSeats):
        replay = _booking_replay(client_key, owner=owner, event_id=event_id)
        if replay:
            return replay
        raise
    if booking.status != BookingStatus.PENDING:  # a concurrent request with the same key got there first
        return _booking_replay(client_key, owner=owner, event_id=event_id) or booking
    return _booking_pay(booking, payment_token=payment_token)


def booking_payment_key() -> str:
    """The idempotency key the payment provider sees: made here, one per booking, never the client's.

    A client-chosen key could name someone else's charge (an organizer's deposit, another
    booking) and have the status fallback mark this booking paid with it.
    """
    return f"booking-{uuid.uuid4().hex}"


def _booking_replay(client_key: str, *, owner: str, event_id: int) -> Booking | None:
    """The booking this buyer already made with this key; a key only ever names its own buyer's bookings."""
    if not client_key:
        return None
    booking = Booking.objects.filter(buyer=owner, client_key=client_key).first()
    if booking is None:
        return None
    if booking.event_id != event_id:
        raise IdempotencyKeyReused()
    if booking.status == BookingStatus.FAILED:
        raise PaymentDeclined(booking_id=booking.pk, reason=booking.failure_reason)
    return booking


# Phase 1 in two statements: lock the buyer's live hold (in id order, like every seat locker) …
RESERVE_LOCK_SQL = f"""
SELECT es.id, COALESCE(es.price, category.price), es.tier_id, es.held_until
  FROM ticketing_eventseat es JOIN events_seatcategory category ON category.id = es.category_id
 WHERE es.event_id = %s AND es.hold_owner = %s AND {live_hold_sql("es")}
 ORDER BY es.id
   FOR UPDATE OF es
"""

# … then create the pending booking, its seats, and move the seats into it, in one statement.
RESERVE_SQL = f"""
WITH booking AS (
    INSERT INTO ticketing_booking (event_id, reference, buyer, user_id, customer_name, customer_email, customer_phone,
                                   status, total, currency, idempotency_key, client_key, payment_reference,
                                   failure_reason, refund_amount, refund_reference, created_at, expires_at,
                                   hold_expires_at)
    VALUES (%(event_id)s, %(reference)s, %(buyer)s, %(user_id)s, %(name)s, %(email)s, %(phone)s,
            'pending', %(total)s, %(currency)s, %(key)s, %(client_key)s, '', '', 0, '', %(now)s, %(expires_at)s,
            %(hold_expires_at)s)
    RETURNING id
), booked AS (
    INSERT INTO ticketing_bookingseat (booking_id, event_seat_id, price, tier_id, is_active)
    SELECT booking.id, picked.id, picked.price, picked.tier_id, true
      FROM booking, unnest(%(seat_ids)s::bigint[], %(prices)s::numeric[], %(tier_ids)s::bigint[])
                    AS picked(id, price, tier_id)
), reserved AS (
    UPDATE ticketing_eventseat es SET booking_id = booking.id, held_until = %(expires_at)s, version = {STAMP_SQL}
      FROM booking WHERE es.id = ANY(%(seat_ids)s)
)
SELECT id FROM booking
"""


def _booking_reserve(*, event, owner: str, customer: Customer, client_key: str, user, voucher: str = "") -> Booking:
    """Phase 1: move the owner's live hold into a pending booking that expires after ORDER_TTL.

    Charges each seat the price fixed when it was held. Raises OrderLimitExceeded,
    EmailLimitExceeded (nothing written; the hold stays). A clash on the buyer's key (a
    concurrent retry) answers with that booking.
    """
    try:
        return _booking_reserve_once(event=event, owner=owner, customer=customer, client_key=client_key, user=user,
                                     voucher=voucher)
    except IntegrityError:
        existing = _booking_replay(client_key, owner=owner, event_id=event.pk)
        if existing:
            return existing
        # the 1-in-10^12 reference collision: nothing was written, try once more with a new one
        return _booking_reserve_once(event=event, owner=owner, customer=customer, client_key=client_key, user=user,
                                     voucher=voucher)


def _booking_reserve_once(*, event, owner: str, customer: Customer, client_key: str, user,
                          voucher: str = "") -> Booking:
    event_id = event.pk
    # Two orders of one e-mail run one after the other, so they cannot both slip under its limit.
    email_lock = email_limit_lock_key(event=event, email=customer.email)
    with transaction.atomic(), prepared_cursor() as cursor, lock_wait_bounded(cursor, one_at_a_time=email_lock):
        cursor.execute(RESERVE_LOCK_SQL, [event_id, owner])
        seats = cursor.fetchall()
        # General admission (issue 15): the cart's places join the booking; seat-only events never ask.
        has_areas = getattr(event, "has_areas", True)
        places = cart_places_lock(cursor, event_id=event_id, owner=owner) if has_areas else None
        place_count = places.quantity if places else 0
        if not seats and not place_count:
            raise NoHeldSeats()
        order_limit_check(event=event, seats=len(seats) + place_count)
        email_limit_check(cursor, event=event, email=customer.email, seats=len(seats) + place_count,
                          with_places=has_areas)
        now = timezone.now()
        booking = Booking(
            event_id=event_id, buyer=owner, user_id=user.pk if getattr(user, "is_authenticated", False) else None,
            customer_name=customer.name, customer_email=customer.email, customer_phone=customer.phone,
            total=sum((price for _, price, _, _ in seats), places.total if places else Decimal("0")),
            currency=settings.CURRENCY,
            idempotency_key=booking_payment_key(), client_key=client_key,
            expires_at=now + timedelta(seconds=settings.ORDER_TTL_SECONDS),
            hold_expires_at=cart_expiry(min((held_until for _, _, _, held_until in seats), default=None),
                                        places.expires_at if places else None),
            reference=booking_reference_new(),
            created_at=now,
        )
        seat_ids = [seat_id for seat_id, _, _, _ in seats]
        cursor.execute(RESERVE_SQL, {
            "event_id": event_id, "reference": booking.reference, "buyer": owner, "user_id": booking.user_id,
            "name": customer.name, "email": customer.email, "phone": customer.phone, "total": booking.total,
            "currency": booking.currency, "key": booking.idempotency_key, "client_key": client_key, "now": now,
            "expires_at": booking.expires_at,
            "hold_expires_at": booking.hold_expires_at, "seat_ids": seat_ids,
            "prices": [price for _, price, _, _ in seats], "tier_ids": [tier_id for _, _, tier_id, _ in seats],
        })
        booking.pk = cursor.fetchone()[0]
        booking._state.adding = False
        booking.seat_ids = seat_ids
        booking.place_count = place_count
        if place_count:
            cart_places_reserve(cursor, booking_id=booking.pk, places=places, expires_at=booking.expires_at)
        if voucher.strip():  # blank: no voucher
            booking_voucher_redeem(cursor, booking=booking, code=voucher)
        seats_publish(event_id, held_changes(seat_ids, booking.expires_at))
    return booking


def _booking_pay(booking: Booking, *, payment_token: str) -> Booking:
    """Phase 2: charge outside any transaction, then settle the outcome."""
    if _paid_by_voucher(booking):
        return booking_finalize(booking.pk, payment_reference=voucher_payment_reference(booking), booking=booking)
    try:
        result = get_payment_provider().charge(
            amount=booking.total, currency=booking.currency, token=payment_token,
            idempotency_key=booking.idempotency_key,
        )
    except PaymentError as error:
        # The charge may have happened (tok_error_after_charge): ask once now, so a buyer whose card
        # was charged is not kept waiting for the reconciliation sweep.
        logger.warning("payment outcome unknown for booking %s: %s", booking.reference, error)
        try:
            result = get_payment_provider().status(idempotency_key=booking.idempotency_key)
        except PaymentError:
            result = None
        if result is None or not result.succeeded:
            return booking  # stays pending; reconciliation asks the provider later
    if result.succeeded and not charge_is_for_booking(booking, result):
        return booking  # stays pending: reconciliation gives it up (a charge for something else never pays)
    if not result.succeeded:
        booking_fail(booking.pk, reason=result.decline_reason, keep_hold=True)
        raise PaymentDeclined(booking_id=booking.pk, reason=result.decline_reason)
    return booking_finalize(booking.pk, payment_reference=result.reference, booking=booking)


def _paid_by_voucher(booking: Booking) -> bool:
    """A voucher took the whole price off: nothing to charge (the organizer gave these tickets away)."""
    return booking.voucher_id is not None and booking.total == 0


def charge_is_for_booking(booking: Booking, result) -> bool:
    """The provider charged this booking's total in its currency (a provider that does not report
    the amount is trusted: the key is ours, made per booking)."""
    if result.amount is None:
        return True
    if result.matches(amount=booking.total, currency=booking.currency):
        return True
    logger.error("charge %s for booking %s is %s %s, not %s %s: not accepted as its payment", result.reference,
                 booking.reference, result.amount, result.currency, booking.total, booking.currency)
    return False


def booking_finalize(booking_id: int, *, payment_reference: str, booking: Booking | None = None) -> Booking:
    """Phase 3: sell the reserved seats and issue tickets. Idempotent.

    If the booking was given up meanwhile (expired by reconciliation, its seats perhaps sold to
    someone else) or its event was cancelled, the charge is refunded in full and the buyer told:
    a payment is never kept without seats. Follow-ups (refund payout, the event's sold-out check)
    run after the commit, here rather than in on_commit hooks so they also run inside tests.
    `booking`, when the caller has it in hand, saves reading it again.
    """
    booking, outcome = _booking_settle(booking_id, payment_reference=payment_reference, booking=booking)
    if outcome == "refund":
        booking_refund_owed(booking.pk)
        booking.refresh_from_db()
    elif outcome == "sold":
        event_availability_refresh(event_id=booking.event_id)
    return booking


# The sale, in one statement once the booking row is locked: the booking is paid (unless its event
# was cancelled: read in this statement, after the lock), its reserved seats sold, and its active
# seats returned with fresh ticket ids (the signed token names the ticket, so ids come first).
SELL_SQL = f"""
WITH paid AS (
    UPDATE ticketing_booking b SET status = 'paid', paid_at = now(), payment_reference = %(reference)s
     WHERE b.id = %(booking_id)s AND b.status = 'pending'
       AND NOT EXISTS (SELECT 1 FROM events_event e WHERE e.id = b.event_id AND e.status = 'cancelled')
    RETURNING b.id, b.paid_at
), sold AS (
    UPDATE ticketing_eventseat es SET status = 'sold', held_until = NULL, version = {STAMP_SQL}
     WHERE es.booking_id = %(booking_id)s AND es.status = 'held' AND EXISTS (SELECT 1 FROM paid)
)
SELECT bs.id, bs.event_seat_id, nextval(pg_get_serial_sequence('ticketing_ticket', 'id')), paid.paid_at
  FROM ticketing_bookingseat bs JOIN paid ON paid.id = bs.booking_id
 WHERE bs.is_active
 ORDER BY bs.event_seat_id
"""


def _booking_settle(booking_id: int, *, payment_reference: str, booking: Booking | None) -> tuple[Booking, str]:
    with transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute("SELECT status FROM ticketing_booking WHERE id = %s FOR UPDATE", [booking_id])
        if cursor.fetchone()[0] == BookingStatus.PENDING:
            # Read after the booking lock: event_cancel marks the event first, then locks each booking.
            cursor.execute(SELL_SQL, {"reference": payment_reference, "booking_id": booking_id})
            rows = cursor.fetchall()
            places = booking_places_sell(cursor, booking_id=booking_id) if _booking_has_places(
                booking, booking_id) else []
            if rows or places:
                booking = booking or Booking.objects.get(pk=booking_id)
                booking.status, booking.payment_reference, booking.paid_at = (
                    BookingStatus.PAID, payment_reference, (rows or places)[0][3])
                if rows:
                    tickets_issue(cursor, booking=booking, seats=[(bs_id, seat_id, ticket_id)
                                                                  for bs_id, seat_id, ticket_id, _ in rows])
                    seats_publish(booking.event_id, status_changes([row[1] for row in rows], SeatStatus.SOLD))
                if places:
                    tickets_issue_places(cursor, booking=booking, places=[(place_id, area_id, ticket_id)
                                                                         for place_id, area_id, ticket_id, _ in places])
                return booking, "sold"
        booking = lock_objects.booking_for_update(booking_id)  # ours already: the rare outcomes below
        if booking.status == BookingStatus.PAID:
            return booking, "already_paid"
        if booking.status != BookingStatus.PENDING:
            if not booking.payment_reference:  # first news of this charge: refund it, once
                booking.payment_reference = payment_reference
                booking.failure_reason = booking.failure_reason or "Payment arrived after the order expired."
                booking.save(update_fields=["payment_reference", "failure_reason"])
                refund_record(booking=booking, reason=CancellationReason.LATE_PAYMENT, amount=booking.total)
            return booking, "refund"
        # pending, and SELL_SQL found its event cancelled
        booking.payment_reference = payment_reference
        booking.save(update_fields=["payment_reference"])
        booking_fail(booking.pk, reason="The event was cancelled.", keep_hold=False, status=BookingStatus.CANCELLED)
        refund_record(booking=booking, reason=CancellationReason.EVENT_CANCELLED, amount=booking.total)
        return booking, "refund"


def _booking_has_places(booking: Booking | None, booking_id: int) -> bool:
    """Whether the booking admits to general-admission areas; known without a query on the checkout path."""
    place_count = getattr(booking, "place_count", None)
    return booking_has_places(booking_id) if place_count is None else place_count > 0


def booking_fail(booking_id: int, *, reason: str, keep_hold: bool, status: str = BookingStatus.FAILED) -> None:
    """Give up a pending booking. Its seats go back to the buyer's hold (if asked and time is left) or to sale."""
    with transaction.atomic():
        booking = lock_objects.booking_for_update(booking_id)
        if booking.status != BookingStatus.PENDING:
            return
        seats = list(lock_objects.event_seats_for_update(booking=booking))
        seat_ids = [seat.pk for seat in seats]
        if keep_hold and booking.hold_expires_at and booking.hold_expires_at > timezone.now():
            EventSeat.objects.filter(pk__in=seat_ids).update(
                booking=None, held_until=booking.hold_expires_at, version=STAMP
            )
            seats_publish(booking.event_id, held_changes(seat_ids, booking.hold_expires_at))
        else:
            with connection.cursor() as cursor:
                seats_free(cursor, event_id=booking.event_id, where="id = ANY(%s) AND booking_id = %s",
                           params=[seat_ids, booking.pk])
        discounted = booking_voucher_items(booking)
        booking.booking_seats.update(is_active=False)
        with connection.cursor() as cursor:
            booking_places_return(cursor, booking_id=booking.pk, owner=booking.buyer, keep_until=(
                booking.hold_expires_at if keep_hold and booking.hold_expires_at
                and booking.hold_expires_at > timezone.now() else None))
        voucher_uses_return(booking=booking, items=discounted)  # the voucher row: always the last lock
        booking.status = status
        booking.failure_reason = reason[:200]
        booking.save(update_fields=["status", "failure_reason"])


def booking_reconcile(booking_id: int) -> Booking:
    """Finish what a crash or a timeout left: ask the provider, then finalise, give up, or refund.

    A pending booking whose charge succeeded is finalised at any time; one the provider never
    saw (or declined) is given up once its order time is over. Safe to run twice.
    """
    booking = Booking.objects.get(pk=booking_id)
    if booking.status == BookingStatus.PENDING and _paid_by_voucher(booking):
        return booking_finalize(booking.pk, payment_reference=voucher_payment_reference(booking))
    if booking.status == BookingStatus.PENDING:
        result = get_payment_provider().status(idempotency_key=booking.idempotency_key)
        if result and result.succeeded and charge_is_for_booking(booking, result):
            return booking_finalize(booking.pk, payment_reference=result.reference)
        if (result is not None and not result.succeeded) or booking.expires_at <= timezone.now():
            booking_fail(booking.pk, reason="Payment not completed in time.", keep_hold=False,
                          status=BookingStatus.EXPIRED)
    else:
        booking_refund_owed(booking.pk)
    return Booking.objects.get(pk=booking_id)


def bookings_reconcile_due() -> int:
    """The scheduled sweep: pending bookings older than a minute, and refunds not yet paid out."""
    cutoff = timezone.now() - timedelta(seconds=60)
    due = list(
        Booking.objects.filter(status=BookingStatus.PENDING, created_at__lte=cutoff).values_list("pk", flat=True)[:500]
    )
    due += [booking_id for booking_id in refunds_due() if booking_id not in due]
    for booking_id in due:
        try:
            booking_reconcile(booking_id)
        except PaymentError:
            logger.warning("reconciliation of booking %s must wait: provider unreachable", booking_id)
        except Exception:  # noqa: BLE001 - one bad row must never stop the sweep for every other booking
            logger.exception("reconciliation of booking %s failed; the sweep goes on", booking_id)
    return len(due)


def booking_is_visible_to(booking: Booking, *, owner: str, user=None) -> bool:
    if booking.buyer == owner:
        return True
    if user is not None and getattr(user, "is_authenticated", False):
        return user.is_superuser or booking.user_id == user.pk or booking.event.organizer_id == user.pk
    return False
