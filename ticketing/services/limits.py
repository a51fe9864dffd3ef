"""Order limits per event: seats per order (hold and booking) and seats per customer e-mail."""

from __future__ import annotations

from events.models import Event
from ticketing.exceptions import EmailLimitExceeded, OrderLimitExceeded


def order_limit_check(*, event: Event, seats: int) -> None:
    """Raises OrderLimitExceeded if one order of `seats` seats is more than the event allows."""
    if seats > event.max_seats_per_order:
        raise OrderLimitExceeded(
            f"At most {event.max_seats_per_order} seats per order for this event.", limit=event.max_seats_per_order,
        )


def email_limit_lock_key(*, event: Event, email: str) -> str | None:
    """The advisory lock `email_limit_check` needs held (None: the event has no per-e-mail limit).

    The booking's transaction takes it first thing, before the seat locks; only confirms take it,
    and each takes one, so the order cannot deadlock.
    """
    if not event.max_seats_per_email:
        return None
    return f"email-limit:{event.pk}:{email.strip().lower()}"


def email_limit_check(cursor, *, event: Event, email: str, seats: int, with_places: bool = False) -> None:
    """Raises EmailLimitExceeded if `email` would own more seats of the event than allowed.

    Counts seats of the e-mail's pending and paid bookings (an index on the event and the
    lower-cased address serves it, whatever the size of the sale). Must run inside the booking's
    transaction holding the lock named by `email_limit_lock_key`, so two orders of the same
    e-mail cannot both slip under the limit. `with_places` (an event with general-admission
    areas) counts the bookings' places too: the limit is on admissions, seated or standing.
    """
    limit = event.max_seats_per_email
    if not limit:
        return
    # Per booking of the address, its active seats: both by index, never a scan of the sale's seats.
    cursor.execute(
        "SELECT COALESCE(sum((SELECT count(*) FROM ticketing_bookingseat bs "
        "                      WHERE bs.booking_id = b.id AND bs.is_active)"
        + (" + (SELECT count(*) FROM ticketing_bookingplace bp WHERE bp.booking_id = b.id AND bp.is_active)"
           if with_places else "") +
        "), 0)::int "
        "  FROM ticketing_booking b "
        " WHERE b.event_id = %s AND lower(b.customer_email) = %s AND b.status IN ('pending', 'paid')",
        [event.pk, email.strip().lower()],
    )
    owned = cursor.fetchone()[0]
    if owned + seats > limit:
        raise EmailLimitExceeded(
            f"At most {limit} seats per e-mail address for this event (this address has {owned}).",
            limit=limit, booked=owned,
        )
