"""Managing an order from the admin (issue 18): e-mail the tickets again, correct a holder's name
(the same QR, or a reissued one), and the booking's history in one timeline.

Cancelling (all or chosen seats, full refund or the event's policy) is
`ticketing.services.cancellation.booking_seats_cancel(organizer_refund=…)`. Every service here
takes the booking's row lock first, as the cancel and transfer services do, and writes a
`BookingLogEntry` in the same transaction; e-mails go out after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from evently.errors import Conflict, InvalidInput
from ticketing import lock_objects
from ticketing.exceptions import BookingNotFound, TicketNotFound
from ticketing.models import (
    Booking,
    BookingLogAction,
    BookingLogEntry,
    BookingStatus,
    OutgoingEmail,
    Ticket,
    TicketStatus,
    TicketTransfer,
)
from ticketing.services.delivery import email_enqueue
from ticketing.services.tickets import event_private_key, ticket_token_issue
from venues.localtime import venue_time_label


class NothingToResend(Conflict):
    code = "nothing_to_resend"
    message = "This booking has no valid tickets to send: it is not paid, or every ticket was cancelled."


class TicketNotChangeable(Conflict):
    code = "ticket_not_changeable"
    message = "Only a valid ticket's holder can be changed."


class HolderNameInvalid(InvalidInput):
    code = "holder_name_invalid"
    message = "Enter the holder's name (up to 200 characters)."


def booking_tickets_resend(*, booking_id: int, user) -> OutgoingEmail:
    """E-mail the booking's tickets to its buyer again (a new e-mail each time, the current PDF).

    Raises BookingNotFound, NothingToResend; on error nothing is written."""
    with transaction.atomic():
        try:
            booking = lock_objects.booking_for_update(booking_id)
        except Booking.DoesNotExist:
            raise BookingNotFound() from None
        has_tickets = Ticket.objects.filter(booking=booking, status=TicketStatus.VALID, transferred_from=None).exists()
        if booking.status != BookingStatus.PAID or not has_tickets:
            raise NothingToResend()
        key = f"booking-tickets:{booking.pk}:resend:{uuid.uuid4().hex}"
        email_enqueue(kind="booking-tickets", object_id=booking.pk, to=booking.customer_email, key=key)
        BookingLogEntry.objects.create(booking=booking, user=user, action=BookingLogAction.TICKETS_RESENT,
                                       message=f"Tickets e-mailed again to {booking.customer_email}.")
    return OutgoingEmail.objects.get(key=key)


def ticket_holder_correct(*, ticket_id: int, name: str, reissue: bool = False, user) -> Ticket:
    """Put `name` on a valid ticket; its PDF shows it from now on (the PDF cache keys on the name).

    The QR code stays the same, so a ticket already sent or printed keeps working, unless
    `reissue`: then the ticket gets a new nonce and token, and the old code is refused at the door
    ("transferred": someone else holds this ticket now). An admitted ticket is not reissued.
    Raises TicketNotFound, TicketNotChangeable, HolderNameInvalid; on error nothing is written."""
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise HolderNameInvalid()
    booking_id = Ticket.objects.filter(pk=ticket_id).values_list("booking_id", flat=True).first()
    if booking_id is None:
        raise TicketNotFound()
    with transaction.atomic():
        booking = lock_objects.booking_for_update(booking_id)  # lock order: the booking, then its ticket
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related("booking_seat").get(pk=ticket_id)
        if ticket.status != TicketStatus.VALID:
            raise TicketNotChangeable()
        if reissue and ticket.admitted_at is not None:
            raise TicketNotChangeable("This ticket was used at the door already: it is not reissued.")
        old_name = ticket.holder_name
        ticket.holder_name = name
        fields = ["holder_name"]
        if reissue:
            ticket_token_issue(ticket, event_id=booking.event_id, seat_id=ticket.booking_seat.event_seat_id,
                               private_key=event_private_key(booking.event_id))
            fields += ["nonce", "token"]
        ticket.save(update_fields=fields)
        BookingLogEntry.objects.create(
            booking=booking, ticket=ticket, user=user,
            action=BookingLogAction.TICKET_REISSUED if reissue else BookingLogAction.HOLDER_CORRECTED,
            message=f"Ticket {ticket.pk}: holder “{old_name}” → “{name}”"
                    + ("; new QR code, the old one no longer admits." if reissue else "; same QR code."))
    return ticket


# --- history ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str       # hold, payment, cancellation, refund, transfer, email, scan, change
    text: str


# booking → scans of its tickets as HistoryEntry (checkin registers it: ticketing knows nothing of doors).
HistorySource = Callable[[Booking], list[HistoryEntry]]
_history_sources: list[HistorySource] = []


def booking_history_source_register(source: HistorySource) -> None:
    if source not in _history_sources:
        _history_sources.append(source)


def booking_history(*, booking: Booking) -> list[HistoryEntry]:
    """Everything that happened to the booking, oldest first: the hold and checkout, the payment,
    cancellations and refunds, transfers, e-mails, door scans and the organizer's changes."""
    venue = booking.event.venue
    entries = [HistoryEntry(booking.created_at, "hold", _checkout_text(booking, venue))]
    if booking.paid_at:
        entries.append(HistoryEntry(booking.paid_at, "payment",
                                    f"Paid {booking.total} {booking.currency} ({booking.payment_reference or '—'})."))
    elif booking.status in (BookingStatus.FAILED, BookingStatus.EXPIRED):
        entries.append(HistoryEntry(booking.expires_at, "payment", f"Not paid: {booking.get_status_display()}"
                                    + (f" ({booking.failure_reason})." if booking.failure_reason else ".")))
    for cancellation in booking.cancellations.select_related("cancelled_by").prefetch_related(
            "booking_seats__event_seat__seat__section"):
        seats = "; ".join(bs.event_seat.seat.label for bs in cancellation.booking_seats.all()) or "no seats"
        who = f" by {cancellation.cancelled_by.get_username()}" if cancellation.cancelled_by else ""
        entries.append(HistoryEntry(cancellation.created_at, "cancellation",
                                    f"{cancellation.get_reason_display()}{who}: {seats}; price {cancellation.amount}, "
                                    f"kept {cancellation.fee}, refund {cancellation.refund}."))
        if cancellation.refund_reference:
            entries.append(HistoryEntry(cancellation.refund_attempted_at or cancellation.created_at, "refund",
                                        f"Refund of {cancellation.refund} paid ({cancellation.refund_reference})."))
    transfers = list(TicketTransfer.objects.filter(from_ticket__booking=booking))
    for transfer in transfers:
        entries.append(HistoryEntry(transfer.created_at, "transfer",
                                    f"Ticket {transfer.from_ticket_id} transferred from {transfer.from_name} to "
                                    f"{transfer.to_name} <{transfer.to_email}> (new ticket {transfer.to_ticket_id})."))
    ticket_ids = list(booking.tickets.values_list("pk", flat=True))
    emails = OutgoingEmail.objects.filter(
        Q(kind__in=["booking-tickets", "cancellation"], object_id=booking.pk)
        | Q(kind="ticket-transfer", object_id__in=[t.pk for t in transfers])
        | Q(kind="ticket-cancelled", object_id__in=ticket_ids))
    for email in emails:
        state = (f"sent {venue_time_label(email.sent_at, venue)}" if email.sent_at
                 else f"not sent yet ({email.attempts} attempt(s))")
        entries.append(HistoryEntry(email.created_at, "email", f"E-mail “{email.kind}” to {email.to}: {state}."))
    for entry in booking.log_entries.select_related("user"):
        who = f" ({entry.user.get_username()})" if entry.user else ""
        entries.append(HistoryEntry(entry.created_at, "change", f"{entry.message}{who}"))
    for source in _history_sources:
        entries.extend(source(booking))
    return sorted(entries, key=lambda entry: entry.at)


def _checkout_text(booking: Booking, venue) -> str:
    if booking.buyer.startswith("boxoffice:"):
        return "Sold at the box office."
    until = (f" (seats held until {venue_time_label(booking.hold_expires_at, venue, '%H:%M:%S')})"
             if booking.hold_expires_at else "")
    return f"Checkout started{until}."
