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


def events_lifecycle_tick() -> int:
    from events.services import events_lifecycle_tick

    return events_lifecycle_tick()


def cancellation_notify(cancellation_id: int) -> None:
    """Kept for tasks queued before cancellations went through the e-mail outbox: sends it at most once."""
    from ticketing.models import Cancellation
    from ticketing.services.delivery import email_enqueue

    cancellation = Cancellation.objects.select_related("booking").get(pk=cancellation_id)
    email_enqueue(kind="cancellation", object_id=cancellation.pk, to=cancellation.booking.customer_email)
