"""Ticket transfer: the holder gives a ticket to someone else, once.

A transfer never edits a ticket's token: it marks the old ticket `transferred` (door check-in
rejects it with reason `transferred`) and issues a new ticket with a new nonce and token for the
new holder. A ticket that came from a transfer cannot be transferred again.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from ticketing import lock_objects
from ticketing.exceptions import TicketNotFound, TicketNotTransferable, TransferLimit
from ticketing.models import Booking, BookingStatus, Ticket, TicketStatus, TicketTransfer
from ticketing.services.access import booking_is_accessible
from ticketing.services.delivery import email_enqueue
from ticketing.services.tickets import event_signing_key, ticket_token_issue

logger = logging.getLogger(__name__)


def ticket_transfer(
    *, ticket_id: int, to_name: str, to_email: str, owner: str | None, user=None, email: str | None = None,
) -> TicketTransfer:
    """Give ticket `ticket_id` to `to_name` <`to_email`>; returns the transfer record.

    Allowed to whoever may manage the booking (its buyer's session, its user, the organizer, or
    someone signed in to "my bookings" with the booking's e-mail). Raises TicketNotFound,
    TransferLimit (422 transfer_limit), TicketNotTransferable (422, code ticket_cancelled /
    ticket_transferred / ticket_used / event_started). On error nothing is written. The new
    holder's e-mail goes out after commit.
    """
    booking_id = Ticket.objects.filter(pk=ticket_id).values_list("booking_id", flat=True).first()
    if booking_id is None:
        raise TicketNotFound()
    private_key = bytes(event_signing_key(
        Booking.objects.filter(pk=booking_id).values_list("event_id", flat=True).get()
    ).private_key)
    with transaction.atomic():
        # Lock order: the booking first (as booking_cancel does), then its ticket.
        booking = lock_objects.booking_for_update(booking_id)
        if not booking_is_accessible(booking, owner=owner, user=user, email=email):
            raise TicketNotFound()
        ticket = (
            Ticket.objects.select_for_update(of=("self",)).select_related("booking_seat").get(pk=ticket_id)
        )
        if ticket.transferred_from_id is not None:
            raise TransferLimit()
        _check_transferable(ticket, booking)
        ticket.status = TicketStatus.TRANSFERRED
        ticket.save(update_fields=["status"])
        new_ticket = Ticket.objects.create(
            booking=booking, booking_seat=ticket.booking_seat, holder_name=to_name, holder_email=to_email,
            transferred_from=ticket,
        )
        ticket_token_issue(new_ticket, event_id=booking.event_id, seat_id=ticket.booking_seat.event_seat_id,
                           private_key=private_key)
        new_ticket.save(update_fields=["token", "nonce"])
        transfer = TicketTransfer.objects.create(
            from_ticket=ticket, to_ticket=new_ticket, from_name=ticket.holder_name, to_name=to_name,
            to_email=to_email, transferred_by=_actor(owner=owner, user=user, email=email),
        )
        email_enqueue(kind="ticket-transfer", object_id=transfer.pk, to=to_email)
        transaction.on_commit(lambda: _booking_pdf_refresh(booking_id))
    return transfer


def _check_transferable(ticket: Ticket, booking: Booking) -> None:
    if ticket.status == TicketStatus.CANCELLED or booking.status != BookingStatus.PAID:
        raise TicketNotTransferable("This ticket was cancelled.", code="ticket_cancelled")
    if ticket.status == TicketStatus.TRANSFERRED:
        raise TicketNotTransferable("This ticket has already been transferred.", code="ticket_transferred")
    if ticket.admitted_at is not None:
        raise TicketNotTransferable("This ticket has already been used at the door.", code="ticket_used")
    if booking.event.starts_at <= timezone.now():
        raise TicketNotTransferable("The event has already started.", code="event_started")


def _actor(*, owner, user, email) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    if email:
        return f"email:{email}"
    return f"buyer:{owner}"


def _booking_pdf_refresh(booking_id: int) -> None:
    """Re-render the seller's PDF off the request. Best effort: a lost hand-over (Redis down) only means the
    PDF is rendered when first downloaded (`booking_pdf` re-renders whenever the tickets changed)."""
    try:
        async_task("ticketing.tasks.booking_pdf_render", booking_id)
    except Exception:  # noqa: BLE001 - the transfer has committed; it must not answer 500
        logger.warning("could not queue the PDF of booking %s; rendered on download", booking_id, exc_info=True)
