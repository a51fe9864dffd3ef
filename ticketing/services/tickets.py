"""Tickets: issuing them with signed tokens, and the per-event signing keys."""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.utils import timezone

from ticketing.models import Booking, EventSigningKey, RetiredSigningKey, Ticket
from ticketing.services.delivery import email_enqueue
from ticketing.tokens import TicketClaims, keypair_generate, new_nonce, token_sign

# (expires at, key) per event: a rotation made by another process is picked up within this time.
PRIVATE_KEY_CACHE_SECONDS = 60
_private_keys: dict[int, tuple[float, bytes]] = {}


def event_private_key(event_id: int) -> bytes:
    """The event's current private signing key, cached in the process for a minute."""
    cached = _private_keys.get(event_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    key = bytes(event_signing_key(event_id).private_key)
    _private_keys[event_id] = (time.monotonic() + PRIVATE_KEY_CACHE_SECONDS, key)
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


def event_signing_key_rotate(*, event_id: int) -> EventSigningKey:
    """Give the event a new key pair: tickets issued from now on are signed with it.

    The old public key is kept (`RetiredSigningKey`), so tickets already sent out keep verifying
    until the event ends — at the door and on offline devices, whose next manifest lists both
    keys; its private half is deleted. Other processes sign with the new key within
    PRIVATE_KEY_CACHE_SECONDS (until then they sign with the old one, which still verifies).
    Not a revocation: for a leaked key, rotate and then reissue the tickets.
    """
    event_signing_key(event_id)
    private, public = keypair_generate()
    with transaction.atomic():
        current = EventSigningKey.objects.select_for_update().get(pk=event_id)
        RetiredSigningKey.objects.create(event_id=event_id, public_key=bytes(current.public_key),
                                         created_at=current.created_at)
        current.private_key, current.public_key, current.created_at = private, public, timezone.now()
        current.save(update_fields=["private_key", "public_key", "created_at"])
    _private_keys.pop(event_id, None)
    return current


def event_public_keys(event_id: int) -> list[bytes]:
    """Every public key the event's valid tickets may be signed with: the current one first."""
    current = bytes(event_signing_key(event_id).public_key)
    retired = [bytes(key) for key in RetiredSigningKey.objects.filter(event_id=event_id)
               .values_list("public_key", flat=True)]
    return [current, *retired]


def retired_signing_keys_prune() -> int:
    """Forget retired keys of events that have ended (no ticket of theirs is scanned any more)."""
    deleted, _ = RetiredSigningKey.objects.filter(event__ends_at__lt=timezone.now()).delete()
    return deleted


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
