"""django-q2 tasks of the venues app: thin wrappers around services, safe to run twice."""

from venues import bookings


def venue_bookings_expire() -> int:
    return bookings.venue_bookings_expire()
