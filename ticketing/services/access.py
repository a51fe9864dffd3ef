"""Who may manage a booking (download its tickets, cancel, transfer): one rule, used everywhere."""

from __future__ import annotations

from ticketing.models import Booking
from ticketing.services.bookings import booking_is_visible_to


def booking_is_accessible(booking: Booking, *, owner: str | None, user=None, email: str | None = None) -> bool:
    """The buyer's session, its user, the event's organizer (booking_is_visible_to), or someone who
    proved by magic link that they read the booking's e-mail address (`email`)."""
    if booking_is_visible_to(booking, owner=owner, user=user):
        return True
    return bool(email) and booking.customer_email.lower() == email.lower()
