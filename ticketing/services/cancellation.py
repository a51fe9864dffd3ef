"""Cancelling bookings (whole or some seats) under the event's policy, and cancelling whole events.

Policy (events.CancellationPolicy; an event without one gets the model's defaults):
- buyers may cancel paid seats until `deadline_hours` before the start, if cancellation is allowed;
- each seat's fee is `fee_fixed + price × fee_percent / 100` (rounded to the cent), at most its price;
- seats of non-refundable categories or tiers may be given back but refund nothing;
- the event's organizer (or a superuser) cancelling someone else's booking refunds in full, any time;
- a cancelled event refunds every booking in full.
The refund is recorded in the same transaction that frees the seats and paid out after commit
(`ticketing.services.refunds`). Freed seats are on sale again at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone

from evently.payments import PaymentError, get_payment_provider
from events.models import CancellationPolicy, Event, EventStatus
from ticketing import lock_objects
from ticketing.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    CancellationDeadlinePassed,
    CancellationNotAllowed,
    EventNotCancellable,
    EventNotFound,
    SeatsNotInBooking,
    SeatsTransferred,
    SeatsUsed,
)
from ticketing.models import (
    Booking,
    BookingPlace,
    BookingSeat,
    BookingStatus,
    Cancellation,
    CancellationReason,
    Ticket,
    TicketStatus,
)
from ticketing.seat_state import seats_free
from ticketing.services.areas import booking_places_cancel
from ticketing.services.availability import event_availability_refresh
from ticketing.services.bookings import booking_fail, booking_finalize, booking_is_visible_to, charge_is_for_booking
from ticketing.services.delivery import email_enqueue
from ticketing.services.refunds import booking_refund_owed, refund_record
from ticketing.services.vouchers import voucher_uses_return
from venues.localtime import venue_time_label

CENT = Decimal("0.01")


# --- the policy --------------------------------------------------------------------------------

def cancellation_policy_for(event: Event) -> CancellationPolicy:
    """The event's policy, or an unsaved one with the defaults."""
    try:
        return event.cancellation_policy
    except CancellationPolicy.DoesNotExist:
        return CancellationPolicy(event=event)


def cancellation_deadline(event: Event, policy: CancellationPolicy) -> datetime | None:
    """Until when buyers may cancel; None if they may not at all."""
    if not policy.allows_cancellation:
        return None
    return event.starts_at - timedelta(hours=policy.deadline_hours)


# An organizer's choice of refund when cancelling from the admin (recorded as the cancellation's reason).
ORGANIZER_REFUND_FULL = "full"
ORGANIZER_REFUND_POLICY = "policy"


def _money(amount: Decimal) -> str:
    return f"{Decimal(amount).quantize(CENT)}"


def cancellation_policy_text(event: Event, policy: CancellationPolicy | None = None) -> str:
    """The policy in one or two sentences for buyers (the deadline on the venue's clock, with its zone)."""
    policy = policy or cancellation_policy_for(event)
    deadline = cancellation_deadline(event, policy)
    if deadline is None:
        text = "Tickets for this event cannot be cancelled."
    else:
        fees = []
        if policy.fee_fixed:
            fees.append(f"{_money(policy.fee_fixed)} per seat")
        if policy.fee_percent:
            fees.append(f"{policy.fee_percent.normalize():f}% of the seat price")
        fee_text = f"for a fee of {' plus '.join(fees)}" if fees else "free of charge"
        when = f"up to {policy.deadline_hours} hours before the start" if policy.deadline_hours else "until the start"
        text = (f"You can cancel seats {when} ({venue_time_label(deadline, event.venue)}), "
                f"{fee_text}; no cancellations after that.")
        if policy.pk:
            names = [c.name for c in policy.non_refundable_categories.all()]
            names += [f"{t.category.name} {t.name}" for t in policy.non_refundable_tiers.select_related("category")]
            if names:
                text += f" Non-refundable: {', '.join(names)}."
    if policy.notes:
        text += " " + policy.notes.strip()
    return text


def cancellation_policy_as_dict(event: Event) -> dict:
    policy = cancellation_policy_for(event)
    deadline = cancellation_deadline(event, policy)
    return {
        "text": cancellation_policy_text(event, policy),
        "allows_cancellation": policy.allows_cancellation,
        "deadline": deadline.isoformat() if deadline else None,
        "deadline_hours": policy.deadline_hours,
        "fee_fixed": _money(policy.fee_fixed),
        "fee_percent": f"{Decimal(policy.fee_percent).quantize(CENT)}",
        "non_refundable_category_ids": sorted(policy.non_refundable_categories.values_list("pk", flat=True))
        if policy.pk else [],
        "non_refundable_tier_ids": sorted(policy.non_refundable_tiers.values_list("pk", flat=True))
        if policy.pk else [],
    }


# --- quotes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeatRefund:
    booking_seat: BookingSeat
    price: Decimal
    fee: Decimal
    refund: Decimal
    is_refundable: bool


@dataclass(frozen=True)
class PlaceRefund:
    """A general-admission place (issue 15) in a quote, priced like a seat."""

    booking_place: BookingPlace
    price: Decimal
    fee: Decimal
    refund: Decimal
    is_refundable: bool


@dataclass(frozen=True)
class CancellationQuote:
    seats: list[SeatRefund]
    deadline: datetime | None
    full_refund: bool
    places: list[PlaceRefund] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return sum((item.price for item in (*self.seats, *self.places)), Decimal("0"))

    @property
    def fee(self) -> Decimal:
        return sum((item.fee for item in (*self.seats, *self.places)), Decimal("0"))

    @property
    def refund(self) -> Decimal:
        return sum((item.refund for item in (*self.seats, *self.places)), Decimal("0"))


def cancellation_quote(*, event: Event, booking_seats: list[BookingSeat], full_refund: bool,
                       booking_places: list[BookingPlace] = (), at: datetime | None = None) -> CancellationQuote:
    """What cancelling these seats (and general-admission places) would refund and keep, one by one.

    Reads the policy; writes nothing. A place is charged like a seat of its area's category. With `at`
    (an organizer applying the event's policy), a cancellation the policy no longer allows then — past its
    deadline, or never allowed — refunds nothing: every seat and place is kept in full.
    """
    policy = cancellation_policy_for(event)
    deadline = cancellation_deadline(event, policy)
    if full_refund:
        seats = [SeatRefund(bs, bs.price, Decimal("0"), bs.price, True) for bs in booking_seats]
        places = [PlaceRefund(bp, bp.price, Decimal("0"), bp.price, True) for bp in booking_places]
        return CancellationQuote(seats, deadline, True, places)
    if at is not None and (deadline is None or at >= deadline):
        return CancellationQuote([SeatRefund(bs, bs.price, bs.price, Decimal("0"), False) for bs in booking_seats],
                                 deadline, False,
                                 [PlaceRefund(bp, bp.price, bp.price, Decimal("0"), False) for bp in booking_places])
    non_refundable_categories: set[int] = set()
    non_refundable_tiers: set[int] = set()
    if policy.pk:
        non_refundable_categories = set(policy.non_refundable_categories.values_list("pk", flat=True))
        non_refundable_tiers = set(policy.non_refundable_tiers.values_list("pk", flat=True))

    def fee_of(price: Decimal, category_id: int, tier_id: int | None) -> tuple[Decimal, bool]:
        """(fee kept, refundable?) for one seat or place under the policy."""
        if category_id in non_refundable_categories or (tier_id is not None and tier_id in non_refundable_tiers):
            return price, False
        fee = policy.fee_fixed + (price * policy.fee_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return min(fee, price), True

    seats = []
    for booking_seat in booking_seats:
        price = booking_seat.price
        fee, refundable = fee_of(price, booking_seat.event_seat.category_id, booking_seat.tier_id)
        seats.append(SeatRefund(booking_seat, price, fee, price - fee, refundable))
    places = []
    for booking_place in booking_places:
        price = booking_place.price
        fee, refundable = fee_of(price, booking_place.event_area.category_id, booking_place.tier_id)
        places.append(PlaceRefund(booking_place, price, fee, price - fee, refundable))
    return CancellationQuote(seats, deadline, False, places)


def _is_organizer_cancel(booking: Booking, *, owner: str | None, user) -> bool:
    """The organizer (or a superuser) cancelling a booking that is not their own purchase."""
    if booking.buyer == owner or user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or booking.event.organizer_id == user.pk


def _seats_to_cancel(booking: Booking, seat_ids: list[int] | None, *, by_organizer: bool) -> list[BookingSeat]:
    """The booking's active seats to cancel: all or `seat_ids`.

    A ticket transferred to someone else belongs to its new holder: the buyer's own cancel leaves
    it alone (cancelling "everything" covers the seats the buyer still holds) and names it if asked
    for explicitly. Only the organizer (or an event cancellation) cancels such a seat, and its
    holder is told. A ticket already used at the door is never cancelled here (only a whole-event
    cancellation refunds it): "everything" leaves it out, naming it raises SeatsUsed.
    Raises SeatsNotInBooking, SeatsTransferred, SeatsUsed.
    """
    active = list(booking.booking_seats.filter(is_active=True).select_related("event_seat").order_by("event_seat_id"))
    given_away = set() if by_organizer else set(
        Ticket.objects.filter(booking=booking, status=TicketStatus.VALID, transferred_from__isnull=False)
        .values_list("booking_seat__event_seat_id", flat=True)
    )
    used = set(Ticket.objects.filter(booking=booking, status=TicketStatus.VALID, admitted_at__isnull=False)
               .values_list("booking_seat__event_seat_id", flat=True))
    by_seat = {bs.event_seat_id: bs for bs in active}
    if seat_ids is None:
        return [bs for bs in active if bs.event_seat_id not in given_away | used]
    unknown = sorted(set(seat_ids) - set(by_seat))
    if unknown:
        raise SeatsNotInBooking(seat_ids=unknown)
    transferred = sorted(set(seat_ids) & given_away)
    if transferred:
        raise SeatsTransferred(seat_ids=transferred)
    if set(seat_ids) & used:
        raise SeatsUsed(seat_ids=sorted(set(seat_ids) & used))
    return [by_seat[seat_id] for seat_id in sorted(set(seat_ids))]


def _check_booking_cancellable(booking: Booking) -> None:
    """A paid booking of an event that is neither cancelled nor over; BookingNotCancellable otherwise."""
    if booking.status != BookingStatus.PAID or booking.event.status in (EventStatus.CANCELLED, EventStatus.FINISHED):
        raise BookingNotCancellable(status=booking.status)


def _check_cancellable(booking: Booking, quote: CancellationQuote, *, at: datetime) -> None:
    _check_booking_cancellable(booking)
    if quote.full_refund:
        return
    if quote.deadline is None:
        raise CancellationNotAllowed()
    if at >= quote.deadline:
        raise CancellationDeadlinePassed(deadline=quote.deadline.isoformat())


def _visible_booking(booking_id: int, *, owner: str | None, user, for_update: bool) -> Booking:
    try:
        booking = (lock_objects.booking_for_update(booking_id) if for_update
                   else Booking.objects.select_related("event").get(pk=booking_id))
    except Booking.DoesNotExist:
        raise BookingNotFound() from None
    if not booking_is_visible_to(booking, owner=owner or "", user=user):
        raise BookingNotFound()
    return booking


def booking_cancel_preview(*, booking_id: int, owner: str | None, user=None, seat_ids: list[int] | None = None) -> dict:
    """What cancelling (all or `seat_ids` of) the booking would refund now, and whether it is allowed.

    Raises BookingNotFound, SeatsNotInBooking; a cancellation that is not allowed is described,
    not raised (`allowed: false` with the error code the cancel would return).
    """
    booking = _visible_booking(booking_id, owner=owner, user=user, for_update=False)
    by_organizer = _is_organizer_cancel(booking, owner=owner, user=user)
    seats = _seats_to_cancel(booking, seat_ids, by_organizer=by_organizer)
    places = _places_to_cancel(booking, seat_ids, by_organizer=by_organizer)
    quote = cancellation_quote(event=booking.event, booking_seats=seats, full_refund=by_organizer,
                               booking_places=places)
    error = None
    try:
        _check_cancellable(booking, quote, at=timezone.now())
        if not seats and not places:
            raise _nothing_left_to_cancel(booking)
    except (BookingNotCancellable, CancellationNotAllowed, CancellationDeadlinePassed, SeatsTransferred,
            SeatsUsed) as broken:
        error = {"error": broken.code, "message": broken.message}
    return {
        "booking_id": booking.pk,
        "allowed": error is None,
        **({"reason": error} if error else {}),
        "deadline": quote.deadline.isoformat() if quote.deadline else None,
        "policy": cancellation_policy_text(booking.event),
        "amount": _money(quote.amount),
        "fee": _money(quote.fee),
        "refund": _money(quote.refund),
        "seats": [
            {"seat_id": seat.booking_seat.event_seat_id, "price": _money(seat.price), "fee": _money(seat.fee),
             "refund": _money(seat.refund), "refundable": seat.is_refundable}
            for seat in quote.seats
        ],
        # general admission (issue 15): one entry per place, with its area
        "places": [
            {"area_id": place.booking_place.event_area.section_id, "price": _money(place.price),
             "fee": _money(place.fee), "refund": _money(place.refund), "refundable": place.is_refundable}
            for place in quote.places
        ],
    }


# --- cancelling --------------------------------------------------------------------------------

def booking_cancel(*, booking_id: int, owner: str | None, user=None, seat_ids: list[int] | None = None) -> Booking:
    """Cancel all (or `seat_ids`) of a paid booking's seats; returns the booking. See `booking_seats_cancel`."""
    return booking_seats_cancel(booking_id=booking_id, owner=owner, user=user, seat_ids=seat_ids).booking


def booking_seats_cancel(*, booking_id: int, owner: str | None, user=None, seat_ids: list[int] | None = None,
                         places: dict[int, int] | None = None,
                         organizer_refund: str = ORGANIZER_REFUND_FULL) -> Cancellation:
    """Cancel all (or `seat_ids`) of a paid booking's seats under the event's policy.

    The event's organizer (or a superuser) cancels any time and chooses the refund, which the
    cancellation records (its reason): `organizer_refund="full"` (the default) refunds every seat in
    full; `"policy"` applies the event's policy — its fees and non-refundable categories and tiers,
    and nothing back once its deadline has passed (`cancellation_quote(at=…)`).

    The seats are on sale again when this returns; the refund is recorded with the seats' release
    and paid out right after commit (reconciliation retries it if the provider is down). Cancelling
    every remaining seat makes the booking `cancelled`. General admission (issue 15): `places`
    (area id → how many) cancels some places; with neither `seat_ids` nor `places` everything goes,
    places included. Raises BookingNotFound, SeatsNotInBooking,
    BookingNotCancellable, CancellationNotAllowed, CancellationDeadlinePassed; on error nothing is written.
    """
    with transaction.atomic():
        booking = _visible_booking(booking_id, owner=owner, user=user, for_update=True)
        by_organizer = _is_organizer_cancel(booking, owner=owner, user=user)
        seats = [] if seat_ids is None and places is not None else _seats_to_cancel(
            booking, seat_ids, by_organizer=by_organizer)
        chosen_places = _places_to_cancel(booking, seat_ids, by_organizer=by_organizer, places=places)
        now = timezone.now()
        if by_organizer and organizer_refund == ORGANIZER_REFUND_POLICY:
            quote = cancellation_quote(event=booking.event, booking_seats=seats, full_refund=False,
                                       booking_places=chosen_places, at=now)
            _check_booking_cancellable(booking)  # the organizer is bound by no deadline
            reason = CancellationReason.ORGANIZER_POLICY
        else:
            quote = cancellation_quote(event=booking.event, booking_seats=seats, full_refund=by_organizer,
                                       booking_places=chosen_places)
            _check_cancellable(booking, quote, at=now)
            reason = CancellationReason.ORGANIZER if by_organizer else CancellationReason.BUYER
        if not seats and not chosen_places:
            raise _nothing_left_to_cancel(booking)
        cancellation = _booking_seats_cancel(
            booking, quote, reason=reason, user=user, buyer="" if by_organizer else (owner or ""),
        )
    _after_cancel(cancellation)
    return cancellation


def _places_to_cancel(booking: Booking, seat_ids: list[int] | None, *, by_organizer: bool,
                      places: dict[int, int] | None = None) -> list[BookingPlace]:
    """General-admission places (issue 15) to cancel: `places` (area id → how many, the latest first),
    or all of them when the whole booking is cancelled (neither `seat_ids` nor `places`), none when
    only seats are. Places given away by transfer are their new holder's, as with seats. Raises
    SeatsNotInBooking when the booking has fewer places of an area than asked."""
    if places is None and seat_ids is not None:
        return []
    given_away = set() if by_organizer else set(
        Ticket.objects.filter(booking=booking, status=TicketStatus.VALID, transferred_from__isnull=False,
                              booking_place__isnull=False).values_list("booking_place_id", flat=True))
    active = [place for place in booking.booking_places.filter(is_active=True).select_related("event_area")
              .order_by("-id") if place.pk not in given_away]
    if places is None:
        return sorted(active, key=lambda place: place.pk)
    chosen = []
    for area_id, quantity in sorted(places.items()):
        of_area = [place for place in active if place.event_area.section_id == area_id]
        if quantity < 1 or len(of_area) < quantity:
            raise SeatsNotInBooking(f"This booking has {len(of_area)} cancellable places in that area.",
                                    area_id=area_id, available=len(of_area))
        chosen += of_area[:quantity]
    return sorted(chosen, key=lambda place: place.pk)


def _nothing_left_to_cancel(booking: Booking) -> Exception:
    if Ticket.objects.filter(booking=booking, status=TicketStatus.VALID, admitted_at__isnull=False).exists():
        return SeatsUsed("Every remaining ticket of this booking was transferred or used at the door.")
    if booking.booking_seats.filter(is_active=True).exists() or booking.booking_places.filter(is_active=True).exists():
        # what is left was all transferred
        return SeatsTransferred("Every remaining ticket of this booking was transferred: its new holders own them.")
    return BookingNotCancellable(status=booking.status)


def _booking_seats_cancel(booking: Booking, quote: CancellationQuote, *, reason: str, user, buyer: str) -> Cancellation:
    """Free the quoted seats, cancel their tickets, record the refund. Inside a transaction holding the booking lock."""
    booking_seats = [seat.booking_seat for seat in quote.seats]
    seat_ids = [bs.event_seat_id for bs in booking_seats]
    list(lock_objects.event_seats_for_update(pk__in=seat_ids, booking=booking))
    BookingSeat.objects.filter(pk__in=[bs.pk for bs in booking_seats]).update(is_active=False)
    # Locked: a scan that admitted one of them since `_seats_to_cancel` looked is seen here, and the
    # cancel is refused (rolled back) rather than cancelling a ticket already used at the door.
    tickets = list(Ticket.objects.select_for_update().filter(booking_seat__in=booking_seats, status=TicketStatus.VALID)
                   .order_by("pk").values_list("pk", "holder_email", "admitted_at", "booking_seat__event_seat_id"))
    used = sorted(seat_id for _, _, admitted_at, seat_id in tickets if admitted_at is not None)
    if used:
        raise SeatsUsed(seat_ids=used)
    cancelled_tickets = [(ticket_id, holder_email) for ticket_id, holder_email, _, _ in tickets]
    Ticket.objects.filter(pk__in=[ticket_id for ticket_id, _ in cancelled_tickets]).update(
        status=TicketStatus.CANCELLED
    )
    # Whoever holds a cancelled ticket by transfer is told too (the buyer hears of the cancellation itself).
    for ticket_id, holder_email in cancelled_tickets:
        if holder_email and holder_email.lower() != booking.customer_email.lower():
            email_enqueue(kind="ticket-cancelled", object_id=ticket_id, to=holder_email)
    booking_place_ids = [place.booking_place.pk for place in quote.places]
    if booking_place_ids:  # general admission (issue 15): their tickets cancelled, the places on sale again
        with connection.cursor() as cursor:
            booking_places_cancel(cursor, booking_id=booking.pk, booking_place_ids=booking_place_ids)
    voucher_uses_return(booking=booking, items=[*booking_seats, *(place.booking_place for place in quote.places)])
    if not booking.booking_seats.filter(is_active=True).exists() and not booking.booking_places.filter(
            is_active=True).exists():
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.save(update_fields=["status", "cancelled_at"])
    cancellation = refund_record(booking=booking, reason=reason, amount=quote.amount, fee=quote.fee,
                                 booking_seats=booking_seats, user=user, buyer=buyer)
    with connection.cursor() as cursor:  # the waitlist gets them first
        seats_free(cursor, event_id=booking.event_id, where="id = ANY(%s) AND booking_id = %s",
                   params=[seat_ids, booking.pk])
    return cancellation


def _after_cancel(cancellation: Cancellation) -> None:
    """After commit: pay the refund out (retried by reconciliation if the provider is down) and
    put a sold-out event back on sale."""
    booking_refund_owed(cancellation.booking_id)
    event_availability_refresh(event_id=cancellation.booking.event_id)
    cancellation.booking.refresh_from_db()


def event_cancel(*, event_id: int, user=None) -> int:
    """Cancel an event: no more sales, every booking cancelled with a full refund, buyers told.

    The status changes first (and commits), so no new booking can be paid; then each booking is
    settled in its own short transaction. Pending bookings are asked about at the provider: a
    charge that went through is refunded, one that did not is dropped (and refunded if it comes in
    later). Safe to run again after a crash. Returns how many bookings were cancelled.
    Raises EventNotFound, EventNotCancellable.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            raise EventNotFound()
        if event.status == EventStatus.FINISHED:
            raise EventNotCancellable()
        if event.status != EventStatus.CANCELLED:
            Event.objects.filter(pk=event_id).update(status=EventStatus.CANCELLED)
    cancelled = 0
    for booking_id, status in Booking.objects.filter(
        event_id=event_id, status__in=[BookingStatus.PAID, BookingStatus.PENDING]
    ).values_list("pk", "status"):
        if status == BookingStatus.PENDING:
            _event_cancel_pending(booking_id)
            cancelled += 1
            continue
        with transaction.atomic():
            booking = lock_objects.booking_for_update(booking_id)
            if booking.status != BookingStatus.PAID:
                continue
            seats = list(booking.booking_seats.filter(is_active=True).select_related("event_seat"))
            places = list(booking.booking_places.filter(is_active=True).select_related("event_area"))
            quote = cancellation_quote(event=booking.event, booking_seats=seats, full_refund=True,
                                       booking_places=places)
            cancellation = _booking_seats_cancel(booking, quote, reason=CancellationReason.EVENT_CANCELLED,
                                                 user=user, buyer="")
        booking_refund_owed(cancellation.booking_id)
        cancelled += 1
    return cancelled


def _event_cancel_pending(booking_id: int) -> None:
    booking = Booking.objects.get(pk=booking_id)
    try:
        result = get_payment_provider().status(idempotency_key=booking.idempotency_key)
    except PaymentError:
        result = None  # reconciliation asks again; a late charge is refunded by booking_finalize
    if result and result.succeeded and charge_is_for_booking(booking, result):
        booking_finalize(booking_id, payment_reference=result.reference)  # sees the cancelled event: refunds
        return
    booking_fail(booking_id, reason="The event was cancelled.", keep_hold=False, status=BookingStatus.CANCELLED)


def booking_cancellations(*, booking_id: int, owner: str | None, user=None) -> list[dict]:
    """The booking's cancellations, oldest first. Raises BookingNotFound."""
    booking = _visible_booking(booking_id, owner=owner, user=user, for_update=False)
    return [
        {"id": c.pk, "reason": c.reason, "created_at": c.created_at.isoformat(), "amount": _money(c.amount),
         "fee": _money(c.fee), "refund": _money(c.refund), "refunded": bool(c.refund_reference) or not c.refund,
         "seat_ids": sorted(bs.event_seat_id for bs in c.booking_seats.all())}
        for c in booking.cancellations.prefetch_related("booking_seats")
    ]
