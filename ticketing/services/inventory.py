"""The per-event seat inventory, created from the venue's seats."""

from __future__ import annotations

from django.db import connection, transaction

from events.models import Event
from ticketing.seat_state import STAMP_SQL
from ticketing.services.tickets import event_signing_key


def event_inventory_create(*, event: Event, section_categories: dict[int, int]) -> int:
    """Create the event's seat inventory from its venue in one INSERT … SELECT (50,000 seats in well under a second).

    `section_categories` maps every section id of the venue to a seat category of the event;
    seats of unmapped sections are not sold. Returns the number of seats created. Idempotent:
    seats already in the inventory are left as they are.
    """
    if not section_categories:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ticketing_eventseat (event_id, seat_id, category_id, status, hold_owner, version) "
            f"SELECT %s, seat.id, mapping.category_id, 'available', '', {STAMP_SQL} "
            "  FROM venues_seat seat "
            "  JOIN unnest(%s::bigint[], %s::bigint[]) AS mapping(section_id, category_id) "
            "    ON mapping.section_id = seat.section_id "
            " WHERE seat.venue_id = %s "
            "ON CONFLICT (event_id, seat_id) DO NOTHING",
            [event.pk, list(section_categories.keys()), list(section_categories.values()), event.venue_id],
        )
        created = cursor.rowcount
        event_signing_key(event.pk)
    return created
