"""The single-seat rule: an order may not leave one empty seat alone between taken seats in a row.

A lone seat between two taken ones is nearly unsellable (parties rarely come as one), so mature
box offices refuse orders that create one. Checked when the buyer goes to pay (the checkout page
and `POST /api/bookings/confirm`), not on each click: a buyer picking seat 1, then seat 2 next to a
sold seat 3, passes through a moment with a gap at seat 2 that is theirs to fill. Only gaps next to
the buyer's own held seats count (a gap others left is not this buyer's to fix); wheelchair and
companion spaces are never "gaps". Organizers switch the rule off per event (`Event.single_seat_rule`).
Best available never creates a gap while the rule is on (`ticketing.services.best_seats`).
"""

from __future__ import annotations

from django.db import connection

from ticketing.exceptions import SingleSeatGap
from ticketing.seat_state import free_seat_sql, live_hold_sql

# The first gap the owner's live holds would leave, in the rows those holds are in (if the event has the rule).
GAP_SQL = f"""
WITH mine AS (
  SELECT s.section_id, s.row_label FROM ticketing_eventseat es JOIN venues_seat s ON s.id = es.seat_id
   WHERE es.event_id = %(event_id)s AND es.hold_owner = %(owner)s AND {live_hold_sql("es")}
     AND (SELECT single_seat_rule FROM events_event WHERE id = %(event_id)s)
), row_seats AS (
  SELECT es.id, s.section_id, s.row_label, s.number, (s.is_wheelchair OR s.is_companion) AS is_special,
         {free_seat_sql("es")} AS is_free, (es.hold_owner = %(owner)s AND {live_hold_sql("es")}) AS is_mine,
         sec.name AS section_name
    FROM ticketing_eventseat es JOIN venues_seat s ON s.id = es.seat_id JOIN venues_section sec ON sec.id = s.section_id
   WHERE es.event_id = %(event_id)s AND (s.section_id, s.row_label) IN (SELECT section_id, row_label FROM mine)
)
SELECT gap.id, gap.section_name, gap.row_label, gap.number
  FROM row_seats gap
  JOIN row_seats l ON l.section_id = gap.section_id AND l.row_label = gap.row_label AND l.number = gap.number - 1
  JOIN row_seats r ON r.section_id = gap.section_id AND r.row_label = gap.row_label AND r.number = gap.number + 1
 WHERE gap.is_free AND NOT gap.is_special AND NOT l.is_free AND NOT r.is_free AND (l.is_mine OR r.is_mine)
 ORDER BY gap.section_id, gap.row_label, gap.number
 LIMIT 1
"""


def seat_gap_check(*, event_id: int, owner: str) -> None:
    """Raises SingleSeatGap (422, with `seat_id`) if the owner's held seats leave a single empty seat
    between taken seats in a row and the event has the rule on; one read-only statement, no locks."""
    if not owner:
        return
    with connection.cursor() as cursor:
        cursor.execute(GAP_SQL, {"event_id": event_id, "owner": owner})
        gap = cursor.fetchone()
    if gap is not None:
        seat_id, section, row_label, number = gap
        raise SingleSeatGap(
            f"{section}, row {row_label}, seat {number} would be left empty on its own between taken seats. "
            "Add it to your order, or choose other seats.", seat_id=seat_id,
        )
