"""django-q2 tasks: thin wrappers around services, safe to run twice."""

from ticketing import services


def holds_expire() -> int:
    return services.holds_expire()


def bookings_reconcile_due() -> int:
    return services.bookings_reconcile_due()
