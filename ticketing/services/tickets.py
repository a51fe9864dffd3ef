"""Tickets: issuing them with signed tokens, and the per-event signing keys."""

from __future__ import annotations

from django.db import connection

from ticketing.models import Booking, EventSigningKey, Ticket
from ticketing.services.delivery import email_enqueue
from ticketing.tokens import TicketClaims, keypair_generate, new_nonce, token_sign

_private_keys: dict[int, bytes] = {}


def event_private_key(event_id: int) -> bytes:
    """The event's private signing key, cached in the process: keys never change once made."""
    key = _private_keys.get(event_id)
    if key is None:
        key = _private_keys[event_id] = bytes(event_signing_key(event_id).private_key)
    return key


def event_signing_key(event_id: int):
    """The event's key pair, made on first use (race-safe: the primary key decides)."""
    key = EventSigningKey.objects.filter(pk=event_id).first()
    if key is None:
        private, public = keypair_generate()
        EventSigningKey.objects.get_or_create(
            event_id=event_id, defaults={"private_key": private, "public_key": public}
        )
        key = EventSigningKey.objects.get(pk=event_id)
    return key


def ticket_token_issue(ticket: Ticket, *, event_id: int, seat_id: int, private_key: bytes) -> None:
    """Give the ticket a fresh nonce and a token signed with the event's key (saved by the caller)."""
    ticket.nonce = new_nonce()
    ticket.token = token_sign(
        TicketClaims(event_id=event_id, ticket_id=ticket.pk, booking_id=ticket.booking_id, seat_id=seat_id,
                     nonce=ticket.nonce),
        bytes(private_key),
    )


def tickets_issue(booking: Booking) -> None:
    """One ticket per booked seat, each with a signed token.

    The token names the ticket id, so ids are drawn from the sequence first and the tickets
    inserted once, complete.
    """
    private_key = event_private_key(booking.event_id)
    booking_seats = list(booking.booking_seats.filter(is_active=True).order_by("event_seat_id"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('ticketing_ticket', 'id')) FROM generate_series(1, %s)",
            [len(booking_seats)],
        )
        ticket_ids = [row[0] for row in cursor.fetchall()]
    tickets = []
    for ticket_id, booking_seat in zip(ticket_ids, booking_seats, strict=False):
        ticket = Ticket(pk=ticket_id, booking=booking, booking_seat=booking_seat, holder_name=booking.customer_name)
        ticket_token_issue(ticket, event_id=booking.event_id, seat_id=booking_seat.event_seat_id,
                           private_key=private_key)
        tickets.append(ticket)
    Ticket.objects.bulk_create(tickets)
    # The e-mail with the PDF is recorded as due in this (payment) transaction and sent after commit.
    email_enqueue(kind="booking-tickets", object_id=booking.pk, to=booking.customer_email)
