"""Data for the admin seat map of one event: its seats with their status, drawn on the venue's map.

The same shapes as `venues.seatmap` (which draws a venue's own seats), with the event's inventory
instead: `id` is the EventSeat id, `status` its public status (the free-seat rule of
`ticketing.seat_state`: an expired hold with no booking shows as available) and `colour` its
category's.
"""

from __future__ import annotations

from django.db import connection

from ticketing.seat_state import free_seat_sql
from venues.models import Venue
from venues.seatmap import seatmap_payload, seatmap_rows, section_overview_rows


def event_seatmap_data(*, venue: Venue, event_id: int, section_id: int | None = None) -> dict:
    """The event's seats as [id, x, y, status, section_id, row, number, colour, flags]."""
    params: list = [event_id, venue.pk]
    section_filter = ""
    if section_id is not None:
        section_filter = " AND seat.section_id = %s"
        params.append(section_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT es.id, seat.x, seat.y, "
            f"       CASE WHEN {free_seat_sql('es')} THEN 'available' ELSE es.status END, "
            "       seat.section_id, seat.row_label, seat.number, category.colour, "
            "       seat.is_wheelchair, seat.is_companion, seat.is_restricted_view "
            "  FROM ticketing_eventseat es JOIN venues_seat seat ON seat.id = es.seat_id "
            "  JOIN events_seatcategory category ON category.id = es.category_id "
            " WHERE es.event_id = %s AND seat.venue_id = %s" + section_filter + " ORDER BY es.id",
            params,
        )
        seats = seatmap_rows(cursor.fetchall())
    return seatmap_payload(venue=venue, seats=seats, section_id=section_id)


def event_section_overview(*, venue: Venue, event_id: int) -> list[dict]:
    """Per section: outline and the event's seat counts (total, sold, held, blocked)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seat.section_id, count(*), "
            "       count(*) FILTER (WHERE es.status = 'sold'), "
            f"       count(*) FILTER (WHERE es.status = 'held' AND NOT {free_seat_sql('es')}), "
            "       count(*) FILTER (WHERE es.status = 'blocked') "
            "  FROM ticketing_eventseat es JOIN venues_seat seat ON seat.id = es.seat_id "
            " WHERE es.event_id = %s GROUP BY seat.section_id", [event_id])
        counts = {row[0]: row[1:] for row in cursor.fetchall()}
    return section_overview_rows(venue=venue, counts=counts)
