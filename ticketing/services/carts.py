"""A buyer's cart for one event: the seats and general-admission places they hold, with one expiry.

Seats and places of one buyer share the first hold's expiry (adding to the cart never extends
the countdown) and count together against the event's per-order limit. Seat-only events never
ask for places (`Event.has_areas`, read with the sale's fields), so their holds run no extra statement.
"""

from __future__ import annotations

from datetime import datetime

from ticketing.seat_state import LIVE_HOLD_SQL

# A place hold in a cart: not yet in a pending booking, not expired.
LIVE_PLACES_SQL = "(booking_id IS NULL AND held_until > now())"

_CART_PLACES_SQL = f"""
SELECT COALESCE(sum(quantity) FILTER (WHERE event_area_id <> %s), 0)::int, min(held_until)
  FROM ticketing_areahold
 WHERE event_id = %s AND owner = %s AND {LIVE_PLACES_SQL}
"""

_CART_SEATS_SQL = f"""
SELECT count(*)::int, min(held_until) FROM ticketing_eventseat
 WHERE event_id = %s AND hold_owner = %s AND {LIVE_HOLD_SQL}
"""


def cart_places(cursor, *, event_id: int, owner: str, except_event_area_id: int = 0) -> tuple[int, datetime | None]:
    """(places held in the owner's cart outside `except_event_area_id`, the earliest expiry of any of their places)."""
    cursor.execute(_CART_PLACES_SQL, [except_event_area_id, event_id, owner])
    return cursor.fetchone()


def cart_seats(cursor, *, event_id: int, owner: str) -> tuple[int, datetime | None]:
    """(seats held in the owner's cart, their expiry)."""
    cursor.execute(_CART_SEATS_SQL, [event_id, owner])
    return cursor.fetchone()


def cart_expiry(*expiries: datetime | None) -> datetime | None:
    """The cart's one expiry: the earliest of its parts' (None: the cart is empty)."""
    present = [expiry for expiry in expiries if expiry is not None]
    return min(present) if present else None
