"""Tickets: issuing them with signed tokens, and the per-event signing keys."""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.utils import timezone

from ticketing.models import Booking, EventSigningKey, RetiredSigningKey, Ticket
from ticketing.services.delivery import email_send_after_commit
from ticketing.tokens import TicketClaims, area_claim, keypair_generate, new_nonce, token_sign

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


# Tickets and their e-mail in one statement.
TICKETS_INSERT_SQL = """
WITH issued AS (
    INSERT INTO ticketing_ticket (id, booking_id, booking_seat_id, status, holder_name, token, nonce, created_at,
                                  holder_email, transferred_from_id, admitted_at)
    SELECT issued.id, %(booking_id)s, issued.booking_seat_id, 'valid', %(holder)s, issued.token, issued.nonce, now(),
           '', NULL, NULL
      FROM unnest(%(ids)s::bigint[], %(booking_seat_ids)s::bigint[], %(tokens)s::text[], %(nonces)s::bigint[])
           AS issued(id, booking_seat_id, token, nonce)
)
INSERT INTO ticketing_outgoingemail (key, kind, object_id, "to", attempts, last_error, created_at)
VALUES (%(email_key)s, 'booking-tickets', %(booking_id)s, %(to)s, 0, '', now())
ON CONFLICT (key) DO NOTHING
RETURNING id
"""


def tickets_issue(cursor, *, booking: Booking, seats: list[tuple[int, int, int]]) -> None:
    """One valid ticket per (booking seat id, event seat id, ticket id), each with a signed token.

    Inside the paying transaction, which also records the tickets e-mail as due (sent after commit).
    """
    private_key = event_private_key(booking.event_id)
    nonces = [new_nonce() for _ in seats]
    tokens = [
        token_sign(TicketClaims(event_id=booking.event_id, ticket_id=ticket_id, booking_id=booking.pk,
                                seat_id=seat_id, nonce=nonce), private_key)
        for (_, seat_id, ticket_id), nonce in zip(seats, nonces, strict=True)
    ]
    cursor.execute(TICKETS_INSERT_SQL, {
        "booking_id": booking.pk, "holder": booking.customer_name, "ids": [ticket_id for _, _, ticket_id in seats],
        "booking_seat_ids": [bs_id for bs_id, _, _ in seats], "tokens": tokens, "nonces": nonces,
        "email_key": f"booking-tickets:{booking.pk}", "to": booking.customer_email,
    })
    row = cursor.fetchone()
    if row:
        email_send_after_commit(row[0])
    # What the confirm answers with, so it need not read the tickets back.
    booking.issued_tickets = [
        {"id": ticket_id, "seat_id": seat_id, "token": token, "status": "valid"}
        for (_, seat_id, ticket_id), token in zip(seats, tokens, strict=True)
    ]


def tickets_issue_for(booking: Booking) -> None:
    """Tickets for every active seat of a booking paid outside the online checkout (the box office)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, event_seat_id, nextval(pg_get_serial_sequence('ticketing_ticket', 'id')) "
            "  FROM ticketing_bookingseat WHERE booking_id = %s AND is_active ORDER BY event_seat_id",
            [booking.pk],
        )
        tickets_issue(cursor, booking=booking, seats=cursor.fetchall())


# General-admission tickets (issue 15): one per booking place, and the tickets e-mail (once per booking).
TICKETS_INSERT_PLACES_SQL = """
WITH issued AS (
    INSERT INTO ticketing_ticket (id, booking_id, booking_seat_id, booking_place_id, status, holder_name, token, nonce,
                                  created_at, holder_email, transferred_from_id, admitted_at)
    SELECT issued.id, %(booking_id)s, NULL, issued.booking_place_id, 'valid', %(holder)s, issued.token, issued.nonce,
           now(), '', NULL, NULL
      FROM unnest(%(ids)s::bigint[], %(booking_place_ids)s::bigint[], %(tokens)s::text[], %(nonces)s::bigint[])
           AS issued(id, booking_place_id, token, nonce)
)
INSERT INTO ticketing_outgoingemail (key, kind, object_id, "to", attempts, last_error, created_at)
VALUES (%(email_key)s, 'booking-tickets', %(booking_id)s, %(to)s, 0, '', now())
ON CONFLICT (key) DO NOTHING
RETURNING id
"""


def tickets_issue_places(cursor, *, booking: Booking, places: list[tuple[int, int, int]]) -> None:
    """One valid ticket per (booking place id, area id, ticket id), each with its own signed token.

    Like `tickets_issue` (same transaction, same e-mail, which goes out once); the token's seat
    field names the area (`ticketing.tokens.area_claim`). Adds to `booking.issued_tickets`.
    """
    private_key = event_private_key(booking.event_id)
    nonces = [new_nonce() for _ in places]
    tokens = [
        token_sign(TicketClaims(event_id=booking.event_id, ticket_id=ticket_id, booking_id=booking.pk,
                                seat_id=area_claim(area_id), nonce=nonce), private_key)
        for (_, area_id, ticket_id), nonce in zip(places, nonces, strict=True)
    ]
    cursor.execute(TICKETS_INSERT_PLACES_SQL, {
        "booking_id": booking.pk, "holder": booking.customer_name, "ids": [ticket_id for _, _, ticket_id in places],
        "booking_place_ids": [place_id for place_id, _, _ in places], "tokens": tokens, "nonces": nonces,
        "email_key": f"booking-tickets:{booking.pk}", "to": booking.customer_email,
    })
    row = cursor.fetchone()
    if row:
        email_send_after_commit(row[0])
    booking.issued_tickets = [*getattr(booking, "issued_tickets", []), *(
        {"id": ticket_id, "area_id": area_id, "token": token, "status": "valid"}
        for (_, area_id, ticket_id), token in zip(places, tokens, strict=True)
    )]


def tickets_issue_places_for(booking: Booking) -> None:
    """Tickets for every active general-admission place of a booking paid over the counter (box office)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT place.id, area.section_id, nextval(pg_get_serial_sequence('ticketing_ticket', 'id')) "
            "  FROM ticketing_bookingplace place JOIN ticketing_eventarea area ON area.id = place.event_area_id "
            " WHERE place.booking_id = %s AND place.is_active ORDER BY place.id",
            [booking.pk],
        )
        tickets_issue_places(cursor, booking=booking, places=cursor.fetchall())
