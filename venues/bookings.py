"""Services for venue bookings: request, pay the deposit (→ confirmed), cancel, add-ons.

A venue hosts one thing at a time, setup and teardown included. The rule lives in Postgres (the
exclusion constraint `venue_booking_no_overlap`), so two racing requests cannot both pass; these
services only turn the constraint's refusal into an error that names the clashing booking (by
name only to its own organizer). Requests whose deposit is not paid in time expire.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from evently.payments import PaymentError, get_payment_provider
from venues.exceptions import (
    DepositDeclined,
    DepositPending,
    VenueBookingConflict,
    VenueBookingInvalid,
    VenueBookingNotFound,
    VenueBookingWrongStatus,
)
from venues.localtime import venue_time_label
from venues.models import (
    VENUE_FREEING_STATUSES,
    AddOnType,
    Venue,
    VenueBooking,
    VenueBookingAddOn,
    VenueBookingStatus,
)

logger = logging.getLogger(__name__)

OVERLAP_CONSTRAINT = "venue_booking_no_overlap"


def venue_booking_clashes(*, venue_id: int, blocked_from: datetime, blocked_until: datetime,
                          exclude_id: int | None = None):
    """Non-cancelled bookings of the venue whose padded range overlaps [blocked_from, blocked_until)."""
    from django.db.backends.postgresql.psycopg_any import DateTimeTZRange

    queryset = VenueBooking.objects.filter(
        venue_id=venue_id, blocked_period__overlap=DateTimeTZRange(blocked_from, blocked_until, "[)"),
    ).exclude(status__in=VENUE_FREEING_STATUSES)
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.order_by("start")


def _conflict_error(booking: VenueBooking) -> VenueBookingConflict:
    clashes = list(venue_booking_clashes(venue_id=booking.venue_id, blocked_from=booking.blocked_from,
                                         blocked_until=booking.blocked_until, exclude_id=booking.pk))
    if not clashes:  # the other booking was cancelled in between: say so rather than guess
        return VenueBookingConflict("The venue was booked at that time by a request that has since changed; "
                                    "please try again.")
    clash = clashes[0]
    own = booking.organizer_id is None or clash.organizer_id == booking.organizer_id
    return VenueBookingConflict(
        venue_booking_clash_text(booking.venue.name, clash, viewer_id=booking.organizer_id),
        **({"conflicting_booking_id": clash.pk, "conflicting_booking": clash.title} if own else {}),
    )


def venue_booking_clash_text(venue_name: str, clash: VenueBooking, *, viewer_id: int | None) -> str:
    """Why a time is taken, told to organizer `viewer_id` (None: the platform, which sees all).
    Another organizer's booking is only "booked": its title, number and status are theirs (a
    rival's plans are not for everyone who tries the same dates)."""
    # In the venue's own time (the clash is at the same venue), labelled with its zone.
    when = (f"{venue_name} is already booked from {venue_time_label(clash.blocked_from, clash.venue)} to "
            f"{venue_time_label(clash.blocked_until, clash.venue)} (setup and teardown included)")
    if viewer_id is not None and clash.organizer_id != viewer_id:
        return f"{when}."
    return f"{when} by booking #{clash.pk} “{clash.title}” ({clash.get_status_display().lower()})."


def _validate(booking: VenueBooking) -> None:
    if booking.end <= booking.start:
        raise VenueBookingInvalid("A venue booking must end after it starts.")
    if booking.deposit_amount < 0 or booking.rental_fee < 0:
        raise VenueBookingInvalid("Amounts cannot be negative.")


def _save_or_conflict(booking: VenueBooking, **save_kwargs) -> VenueBooking:
    # Two inserts that overlap each wait for the other's index entry; Postgres then aborts one as a
    # deadlock rather than an exclusion violation. Retrying finds the winner committed: a clean conflict.
    for attempt in range(3):
        try:
            with transaction.atomic():
                booking.save(**save_kwargs)
            return booking
        except IntegrityError as error:
            if OVERLAP_CONSTRAINT in str(error):
                raise _conflict_error(booking) from None
            raise
        except OperationalError as error:
            if not isinstance(error.__cause__, psycopg.errors.DeadlockDetected) or attempt == 2:
                raise
    return booking


def venue_booking_request(
    *, venue: Venue, title: str, start: datetime, end: datetime, setup_hours: int = 0, teardown_hours: int = 0,
    organizer=None, event=None, rental_fee: Decimal = Decimal("0"), deposit_amount: Decimal = Decimal("0"),
) -> VenueBooking:
    """Book the venue (status requested). Raises VenueBookingConflict naming the clashing booking,
    or VenueBookingInvalid; on error nothing is written."""
    booking = VenueBooking(
        venue=venue, title=title, start=start, end=end, setup_hours=setup_hours, teardown_hours=teardown_hours,
        organizer=organizer, event=event, rental_fee=rental_fee, deposit_amount=deposit_amount,
    )
    _validate(booking)
    return _save_or_conflict(booking)


def venue_booking_save(*, booking: VenueBooking) -> VenueBooking:
    """Save an edited booking (the admin form's path); same checks and errors as a request."""
    _validate(booking)
    return _save_or_conflict(booking)


def venue_booking_pay_deposit(*, booking_id: int, payment_token: str) -> VenueBooking:
    """Charge the deposit and confirm the booking (requested → confirmed).

    The charge runs outside any transaction with an idempotency key per booking, so paying twice
    charges once. A zero deposit confirms without a charge. If the booking was cancelled while
    the charge ran, the deposit is refunded at once. Raises DepositDeclined (booking stays
    requested), DepositPending (provider unreachable), VenueBookingWrongStatus, VenueBookingNotFound.
    """
    booking = _get(booking_id)
    if booking.status == VenueBookingStatus.CONFIRMED:
        return booking
    if booking.status != VenueBookingStatus.REQUESTED:
        raise VenueBookingWrongStatus(f"Booking #{booking.pk} is {booking.status}; only a requested booking "
                                      "can be confirmed.", status=booking.status)
    reference = ""
    if booking.deposit_amount > 0:
        try:
            result = get_payment_provider().charge(
                amount=booking.deposit_amount, currency="EUR", token=payment_token,
                idempotency_key=_deposit_key(booking.pk),
            )
        except PaymentError:
            raise DepositPending() from None
        if not result.succeeded:
            raise DepositDeclined(reason=result.decline_reason)
        reference = result.reference
    with transaction.atomic():
        booking = VenueBooking.objects.select_for_update().get(pk=booking_id)
        if booking.status == VenueBookingStatus.REQUESTED:
            booking.status = VenueBookingStatus.CONFIRMED
            booking.deposit_payment_reference = reference
            booking.confirmed_at = timezone.now()
            booking.save(update_fields=["status", "deposit_payment_reference", "confirmed_at"])
            return booking
    if reference and booking.status in VENUE_FREEING_STATUSES:
        # Cancelled while we were charging: never keep a deposit for a booking that is gone.
        _deposit_refund(booking, reference=reference)
    return booking


def venue_bookings_expire() -> int:
    """The scheduled sweep: requests whose deposit was not paid within VENUE_BOOKING_REQUEST_TTL_HOURS
    of being made expire and free the venue (a request never blocks it forever). Safe to run twice."""
    cutoff = timezone.now() - timedelta(hours=settings.VENUE_BOOKING_REQUEST_TTL_HOURS)
    return VenueBooking.objects.filter(
        status=VenueBookingStatus.REQUESTED, created_at__lte=cutoff, deposit_payment_reference="",
    ).update(status=VenueBookingStatus.EXPIRED, cancelled_at=timezone.now())


def venue_booking_cancel(*, booking_id: int) -> VenueBooking:
    """Cancel the booking, freeing the venue at once; a paid deposit is refunded (outside the transaction)."""
    with transaction.atomic():
        try:
            booking = VenueBooking.objects.select_for_update().get(pk=booking_id)
        except VenueBooking.DoesNotExist:
            raise VenueBookingNotFound() from None
        if booking.status == VenueBookingStatus.CANCELLED:
            return booking
        booking.status = VenueBookingStatus.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.save(update_fields=["status", "cancelled_at"])
    if booking.deposit_payment_reference:
        _deposit_refund(booking, reference=booking.deposit_payment_reference)
    return booking


def venue_booking_add_on_add(*, booking_id: int, type: str, description: str, cost: Decimal) -> VenueBookingAddOn:
    if type not in AddOnType.values:
        raise VenueBookingInvalid(f"Unknown add-on type {type!r}.")
    if cost < 0:
        raise VenueBookingInvalid("An add-on cannot cost less than nothing.")
    booking = _get(booking_id)
    if booking.status == VenueBookingStatus.CANCELLED:
        raise VenueBookingWrongStatus("A cancelled booking takes no add-ons.", status=booking.status)
    return VenueBookingAddOn.objects.create(booking=booking, type=type, description=description, cost=cost)


def _get(booking_id: int) -> VenueBooking:
    try:
        return VenueBooking.objects.select_related("venue").get(pk=booking_id)
    except VenueBooking.DoesNotExist:
        raise VenueBookingNotFound() from None


def _deposit_key(booking_id: int) -> str:
    return f"venue-deposit-{booking_id}"


def _deposit_refund(booking: VenueBooking, *, reference: str) -> None:
    try:
        get_payment_provider().refund(idempotency_key=_deposit_key(booking.pk), amount=booking.deposit_amount,
                                      refund_key=f"venue-deposit-refund-{booking.pk}")
    except PaymentError:
        logger.warning("deposit refund for venue booking %s failed (payment %s); refund by hand", booking.pk, reference)
