"""django-q2 tasks: thin wrappers around services, safe to run twice."""

from ticketing import services


def holds_expire() -> int:
    return services.holds_expire()


def bookings_reconcile_due() -> int:
    return services.bookings_reconcile_due()


def email_send(outgoing_id: int) -> bool:
    from ticketing.services.delivery import email_send

    return email_send(outgoing_id)


def emails_retry_due() -> int:
    from ticketing.services.delivery import emails_retry_due

    return emails_retry_due()


def booking_pdf_render(booking_id: int) -> str:
    """Re-render a booking's PDF after a ticket changed, so the next download is instant."""
    from ticketing.services.delivery import booking_pdf

    return str(booking_pdf(booking_id))


def magic_link_send(email: str, url: str) -> None:
    from ticketing.services.delivery import magic_link_send

    magic_link_send(email=email, url=url)
