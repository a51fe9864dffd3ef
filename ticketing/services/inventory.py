"""The per-event seat inventory: created from the venue's seats, released when the venue's seats are regenerated."""

from __future__ import annotations

from django.db import connection, transaction

from events.models import Event
from ticketing.models import SeatStatus
from ticketing.seat_state import STAMP_SQL, free_seat_sql, seats_publish, status_changes
from ticketing.services.tickets import event_signing_key
from venues.exceptions import VenueHasSales
from venues.models import Venue

# Inventory creations this large refresh the table's planner statistics at once (see below).
ANALYZE_AFTER_SEATS = 5000


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
        # General-admission sections become areas: one counter row each (issue 15).
        cursor.execute(
            "INSERT INTO ticketing_eventarea "
            "       (event_id, section_id, category_id, capacity, held, sold, blocked, version) "
            f"SELECT %s, section.id, mapping.category_id, section.capacity, 0, 0, 0, {STAMP_SQL} "
            "  FROM venues_section section "
            "  JOIN unnest(%s::bigint[], %s::bigint[]) AS mapping(section_id, category_id) "
            "    ON mapping.section_id = section.id "
            " WHERE section.venue_id = %s AND section.is_general_admission "
            "ON CONFLICT (event_id, section_id) DO NOTHING",
            [event.pk, list(section_categories.keys()), list(section_categories.values()), event.venue_id],
        )
        event_signing_key(event.pk)
    if created >= ANALYZE_AFTER_SEATS:
        # The organizer is sent to the seat map next. Until autovacuum has analyzed the new rows the
        # planner takes the event for one seat and may join a stadium's seats in a nested loop
        # without an index (minutes instead of milliseconds); fresh statistics cost ~0.1 s here.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ticketing_eventseat")
    return created



# Inventory rows that may go with the old seats: nobody holds or bought them, and no booking
# (not even a cancelled one) points at them. An expired hold counts as available, as everywhere.
_DELETE_FREE_INVENTORY = f"""
DELETE FROM ticketing_eventseat es
 USING venues_seat seat
 WHERE es.seat_id = seat.id AND seat.venue_id = %s
   AND ({free_seat_sql("es")} OR es.status = 'blocked')
   AND NOT EXISTS (SELECT 1 FROM ticketing_bookingseat bs WHERE bs.event_seat_id = es.id)
RETURNING es.event_id, es.id
"""

_REMAINING_INVENTORY = """
SELECT title, is_future, status, sum(places)::int FROM (
    SELECT event.title, event.ends_at > now() AS is_future, es.status, count(*) AS places
      FROM ticketing_eventseat es
      JOIN venues_seat seat ON seat.id = es.seat_id
      JOIN events_event event ON event.id = es.event_id
     WHERE seat.venue_id = %s
     GROUP BY event.title, is_future, es.status
    UNION ALL
    SELECT event.title, event.ends_at > now(), 'general admission', sum(area.capacity)
      FROM ticketing_eventarea area
      JOIN venues_section section ON section.id = area.section_id
      JOIN events_event event ON event.id = area.event_id
     WHERE section.venue_id = %s
     GROUP BY event.title, event.ends_at > now()
) AS remaining
 GROUP BY title, is_future, status
 ORDER BY is_future DESC, title, status
"""

# General-admission areas that may go with the old sections: no holds, nothing sold or blocked, no
# booking (not even a cancelled one) ever had a place in them.
_DELETE_FREE_AREAS = """
DELETE FROM ticketing_eventarea area
 USING venues_section section
 WHERE area.section_id = section.id AND section.venue_id = %s
   AND area.held = 0 AND area.sold = 0 AND area.blocked = 0
   AND NOT EXISTS (SELECT 1 FROM ticketing_areahold hold WHERE hold.event_area_id = area.id)
   AND NOT EXISTS (SELECT 1 FROM ticketing_bookingplace place WHERE place.event_area_id = area.id)
"""


def venue_inventory_release(*, venue: Venue) -> list[int]:
    """Before `venue`'s seats are regenerated: delete its events' free inventory; returns those events' ids.

    Free inventory (available, blocked, expired holds with no booking history) goes with the old
    seats; if any other inventory remains — seats held or sold for a future event, or booking
    history of a past one — VenueHasSales lists it and the caller's transaction rolls back. The
    DELETE locks the rows it removes, so a hold racing this call either lands first (and is
    reported) or finds its seat gone. Live seat maps learn after commit that the removed seats
    are no longer for sale (`blocked`); the event needs `event_inventory_create` again.
    Registered with `venues.services` (`seat_dependents_register`) by `ticketing.providers`.
    """
    with connection.cursor() as cursor:
        # Areas nobody holds, bought or was refused go too; the others are reported like seats.
        cursor.execute(_DELETE_FREE_AREAS, [venue.pk])
        cursor.execute(_DELETE_FREE_INVENTORY, [venue.pk])
        removed: dict[int, list[int]] = {}
        for event_id, seat_id in cursor.fetchall():
            removed.setdefault(event_id, []).append(seat_id)
        cursor.execute(_REMAINING_INVENTORY, [venue.pk, venue.pk])
        remaining = cursor.fetchall()
    if remaining:
        details = "; ".join(
            f"{title}{'' if is_future else ' (past)'}: {count} {status}"
            for title, is_future, status, count in remaining
        )
        raise VenueHasSales(
            f"The seats of {venue.name} cannot be regenerated while tickets depend on them — {details}. "
            "Release or cancel those first, or create a new venue.",
            seats=[{"event": title, "is_future": is_future, "status": status, "count": count}
                   for title, is_future, status, count in remaining],
        )
    for event_id, seat_ids in removed.items():
        seats_publish(event_id, status_changes(sorted(seat_ids), SeatStatus.BLOCKED))
    return sorted(removed)
