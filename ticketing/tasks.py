"""django-q2 tasks: thin wrappers around services, safe to run twice."""

from django.conf import settings
from django.core.mail import send_mail

from events import services as event_services
from ticketing import services
from ticketing.models import Cancellation
from ticketing.services import delivery


def holds_expire() -> int:
    return services.holds_expire()


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
    """Tell the buyer about a cancellation and its refund (e-mail)."""
    cancellation = Cancellation.objects.select_related("booking__event").get(pk=cancellation_id)
    booking = cancellation.booking
    subject = f"{booking.event.title}: booking {booking.reference} — {cancellation.get_reason_display()}"
    body = (
        f"Hello {booking.customer_name},\n\n{cancellation.get_reason_display()}.\n"
        f"Seats cancelled: {cancellation.booking_seats.count()}. Refund: {cancellation.refund} {booking.currency}"
        f" (fee {cancellation.fee} {booking.currency}).\n\nEvently\n"
    )
    send_mail(subject, body, getattr(settings, "DEFAULT_FROM_EMAIL", None), [booking.customer_email])
