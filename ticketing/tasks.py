"""django-q2 tasks: thin wrappers around services, safe to run twice."""

from events import services as event_services
from ticketing import services
from ticketing.models import Cancellation
from ticketing.services import delivery
from ticketing.services.areas import area_holds_expire


def holds_expire() -> int:
    """Expired seat holds, then expired general-admission place holds (issue 15): seats and places freed."""
    return services.holds_expire() + area_holds_expire()


def bookings_reconcile_due() -> int:
    return services.bookings_reconcile_due()


def email_send(outgoing_id: int) -> bool:
    return delivery.email_send(outgoing_id)


def emails_retry_due() -> int:
    return delivery.emails_retry_due()


def booking_pdf_render(booking_id: int) -> str:
    """Re-render a booking's PDF after a ticket changed, so the next download is instant."""
    return str(delivery.booking_pdf(booking_id))


def magic_link_send(email: str, url: str) -> None:
    delivery.magic_link_send(email=email, url=url)


def events_lifecycle_tick() -> int:
    return event_services.events_lifecycle_tick()


def cancellation_notify(cancellation_id: int) -> None:
    """Kept for tasks queued before cancellations went through the e-mail outbox: sends it at most once."""
    cancellation = Cancellation.objects.select_related("booking").get(pk=cancellation_id)
    delivery.email_enqueue(kind="cancellation", object_id=cancellation.pk, to=cancellation.booking.customer_email)


def event_reminders_due() -> int:
    """Every minute: the day-before reminders that are due (each booking once)."""
    return delivery.event_reminders_due()
