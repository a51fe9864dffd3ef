"""Blocking seats for an event (house seats, broken seats, camera positions) and unblocking them."""

from __future__ import annotations

from django.db import connection, transaction

from ticketing.exceptions import SeatsNotBlockable, UnknownSeats
from ticketing.seat_state import FREE_SEAT_SQL, seats_changed, seats_free

# Only a free seat (available, or an expired hold nobody is paying for) can be blocked.
BLOCK_SQL = f"""
UPDATE ticketing_eventseat
   SET status = 'blocked', hold_owner = '', held_until = NULL
 WHERE event_id = %(event_id)s AND id = ANY(%(seat_ids)s) AND {FREE_SEAT_SQL}
RETURNING id
"""

_DESCRIBE_SQL = """
SELECT es.id, es.status, es.held_until > now() OR es.booking_id IS NOT NULL, section.name, seat.row_label, seat.number
  FROM ticketing_eventseat es
  JOIN venues_seat seat ON seat.id = es.seat_id
  JOIN venues_section section ON section.id = seat.section_id
 WHERE es.event_id = %s AND es.id = ANY(%s)
 ORDER BY es.id
"""


def seats_block(*, event_id: int, seat_ids: list[int]) -> list[int]:
    """Block all of `seat_ids` or none. Already blocked seats count as done.

    Raises SeatsNotBlockable listing the held and sold seats (by label), or UnknownSeats; on any
    error nothing changes.
    """
    seat_ids = sorted(set(seat_ids))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(BLOCK_SQL, {"event_id": event_id, "seat_ids": seat_ids})
        blocked = sorted(row[0] for row in cursor.fetchall())
        if len(blocked) != len(seat_ids):
            missing = sorted(set(seat_ids) - set(blocked))
            cursor.execute(_DESCRIBE_SQL, [event_id, missing])
            rows = cursor.fetchall()
            if len(rows) != len(missing):
                raise UnknownSeats(seat_ids=sorted(set(missing) - {row[0] for row in rows}))
            refused = [(seat_id, status, f"{section} row {row} seat {number}")
                       for seat_id, status, is_live, section, row, number in rows if status != "blocked"]
            if refused:
                listing = ", ".join(f"{label} ({status})" for _, status, label in refused)
                raise SeatsNotBlockable(
                    f"Only available seats can be blocked. Refused: {listing}.",
                    seat_ids=[seat_id for seat_id, _, _ in refused],
                    seats=[label for _, _, label in refused],
                )
        if blocked:
            seats_changed(cursor, event_id=event_id, seat_ids=blocked)
    return blocked


def seats_unblock(*, event_id: int, seat_ids: list[int]) -> list[int]:
    """Put blocked seats among `seat_ids` back on sale; other seats are left alone. Returns the unblocked ids."""
    with transaction.atomic(), connection.cursor() as cursor:
        # A released block goes to the waitlist first, and is stamped so reconnecting pages learn of it.
        return seats_free(cursor, event_id=event_id, where="id = ANY(%s) AND status = 'blocked'",
                          params=[sorted(set(seat_ids))])
