"""General admission: places of standing areas, held, released, reserved, sold and freed by quantity.

An area of an event is one counter row (`EventArea`: capacity, held, sold, blocked); a buyer's
places are `AreaHold` rows whose quantities add up to the counter's `held`. Every change moves a
quantity between rows and counter in one short transaction, always in the same lock order —
hold rows (by id) → the area's counter row — and the counter changes with one conditional UPDATE:

    UPDATE ticketing_eventarea SET held = held + :delta … WHERE capacity - sold - blocked - held >= :delta

so an area is never oversold (a CHECK constraint backs it), whatever the concurrency. Why a
counter and not a row per place: a stampede on one area then costs one row lock per hold instead
of scanning and locking up to `quantity` rows, and the hold rows tell release, expiry and a failed
payment exactly how many places to give back (docs/architecture.md, "General admission").

**Expiry is lazy**: a hold whose time is over is available to buyers at once. What pages see
(`area_available_sql`) leaves expired holds out, and a hold first reclaims the area's expired holds
(deleting them and lowering `held` by what they held) in its own transaction; the worker's sweep
(`area_holds_expire`, with the seat sweep every minute) does the same for every area and
announces the change.

Area ids in the API are the venue section's id (an area *is* a section drawn on the map); the
`EventArea` row is found by (event, section).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from events.models import Event
from ticketing.exceptions import AreaNotFound, EventNotFound, InsufficientCapacity, NotAnArea
from ticketing.seat_state import RELAXED_COMMIT_SQL, STAMP_SQL, lock_wait_bounded, seats_publish
from ticketing.services.carts import LIVE_PLACES_SQL, cart_expiry, cart_places, cart_seats
from ticketing.services.limits import order_limit_check
from ticketing.services.pricing import tier_picks_locked
from ticketing.services.seats import event_selling


def area_expired_places_sql(alias: str = "area") -> str:
    """SQL: the places of the area's holds whose time is over (still in `held` until reclaimed)."""
    return ("(SELECT COALESCE(sum(expired.quantity), 0) FROM ticketing_areahold expired "
            f" WHERE expired.event_area_id = {alias}.id AND expired.booking_id IS NULL "
            "   AND expired.held_until <= now())")


def area_available_sql(alias: str = "area") -> str:
    """SQL: places any buyer may take now — free, or held by a hold that has expired (the free-place rule)."""
    return (f"({alias}.capacity - {alias}.sold - {alias}.blocked - {alias}.held "
            f"+ {area_expired_places_sql(alias)})::int")


@dataclass(frozen=True)
class AreaHoldResult:
    area_id: int  # the section's id, as the API names areas
    quantity: int  # the buyer's places in the area now
    expires_at: datetime | None
    available: int


def area_changes(changes: list[tuple[int, int]]) -> list[dict]:
    """(area id, available) → what live maps and `changes?since=` carry for areas."""
    return [{"area_id": area_id, "available": available} for area_id, available in changes]


def _area_for_event(cursor, *, event_id: int, area_id: int) -> tuple[int, int, Decimal]:
    """(event area pk, category id, category price) of the event's area `area_id`; AreaNotFound / NotAnArea."""
    cursor.execute(
        "SELECT area.id, area.category_id, category.price FROM ticketing_eventarea area "
        "  JOIN events_seatcategory category ON category.id = area.category_id "
        " WHERE area.event_id = %s AND area.section_id = %s",
        [event_id, area_id],
    )
    row = cursor.fetchone()
    if row is not None:
        return row
    cursor.execute(
        "SELECT 1 FROM venues_section section JOIN events_event e ON e.venue_id = section.venue_id "
        " WHERE e.id = %s AND section.id = %s AND NOT section.is_general_admission",
        [event_id, area_id],
    )
    if cursor.fetchone():
        raise NotAnArea(area_id=area_id)
    raise AreaNotFound(area_id=area_id)


# Lazy expiry: the area's expired holds leave (locked in id order, like every locker of hold rows).
_RECLAIM_SQL = """
DELETE FROM ticketing_areahold WHERE id IN (
    SELECT id FROM ticketing_areahold
     WHERE event_area_id = %s AND booking_id IS NULL AND held_until <= now()
     ORDER BY id FOR UPDATE)
RETURNING quantity
"""

# The one conditional statement that takes (or gives back) places: never more than are free.
_TAKE_SQL = f"""
UPDATE ticketing_eventarea SET held = held - %(reclaimed)s + %(delta)s, version = {STAMP_SQL}
 WHERE id = %(event_area_id)s AND capacity - sold - blocked - (held - %(reclaimed)s) >= %(delta)s
RETURNING section_id, capacity - sold - blocked - held
"""


def area_hold(*, event_id: int, area_id: int, quantity: int, owner: str) -> AreaHoldResult:
    """Make the owner's places in the area exactly `quantity` (more or fewer than now), or change nothing.

    Setting the total (not adding to it) makes a retried request harmless and a stepper simple.
    New places get the price of the area's category's active pricing tier (quotas locked like
    seats'); places already held keep theirs; going down gives back the dearest places first.
    The places share the cart's expiry (the first hold's). Raises InsufficientCapacity (with
    `available`), OrderLimitExceeded (seats and places of the cart together), AreaNotFound,
    NotAnArea, SaleNotActive, SeatsBusy; on any error nothing changes.
    """
    event = event_selling(event_id)
    with transaction.atomic(), connection.cursor() as cursor, \
            lock_wait_bounded(cursor, relaxed_commit=True, one_at_a_time=f"hold:{event_id}:{owner}"):
        event_area_id, category_id, category_price = _area_for_event(cursor, event_id=event_id, area_id=area_id)
        cursor.execute(_RECLAIM_SQL, [event_area_id])
        reclaimed = sum(row[0] for row in cursor.fetchall())
        cursor.execute(
            "SELECT id, quantity, price, tier_id FROM ticketing_areahold "
            f" WHERE event_area_id = %s AND owner = %s AND {LIVE_PLACES_SQL} ORDER BY id FOR UPDATE",
            [event_area_id, owner],
        )
        mine = cursor.fetchall()
        current = sum(row[1] for row in mine)
        seats, seats_until = cart_seats(cursor, event_id=event_id, owner=owner)
        other_places, places_until = cart_places(cursor, event_id=event_id, owner=owner,
                                                 except_event_area_id=event_area_id)
        order_limit_check(event=event, seats=seats + other_places + quantity)
        until = cart_expiry(seats_until, places_until) or (
            timezone.now() + timedelta(seconds=settings.HOLD_TTL_SECONDS))
        delta = quantity - current
        cursor.execute(_TAKE_SQL, {"reclaimed": reclaimed, "delta": delta, "event_area_id": event_area_id})
        row = cursor.fetchone()
        if row is None:
            # Free places now (the reclaimed holds are deleted in this transaction, not yet counted off).
            cursor.execute(f"SELECT {area_available_sql()} FROM ticketing_eventarea area WHERE id = %s",
                           [event_area_id])
            available = cursor.fetchone()[0] + reclaimed
            raise InsufficientCapacity(
                f"Only {available} more places are left in this area.", available=available, area_id=area_id,
                quantity=current)  # leaving atomic() undoes the reclaim too
        _, available = row
        if delta > 0:
            _places_add(cursor, event_id=event_id, event_area_id=event_area_id, owner=owner, count=delta,
                        category_id=category_id, category_price=category_price, until=until, mine=mine)
        elif delta < 0:
            _places_remove(cursor, count=-delta, mine=mine)
        if delta or reclaimed:
            seats_publish(event_id, area_changes([(area_id, available)]))
    return AreaHoldResult(area_id=area_id, quantity=quantity, expires_at=until, available=available)


def _places_add(cursor, *, event_id, event_area_id, owner, count, category_id, category_price, until, mine) -> None:
    """Add `count` places to the owner's rows, priced by the category's tiers (one row per tier)."""
    picks = tier_picks_locked(cursor, counts={category_id: count}, category_prices={category_id: category_price})
    by_tier = Counter((pick.tier.pk if pick.tier else None, pick.price) for pick in picks[category_id])
    existing = {tier_id: hold_id for hold_id, _, _, tier_id in mine}
    for (tier_id, price), added in by_tier.items():
        if tier_id in existing:
            cursor.execute("UPDATE ticketing_areahold SET quantity = quantity + %s WHERE id = %s",
                           [added, existing[tier_id]])
        else:
            cursor.execute(
                "INSERT INTO ticketing_areahold (event_area_id, event_id, owner, quantity, held_until, booking_id, "
                "                                price, tier_id) VALUES (%s, %s, %s, %s, %s, NULL, %s, %s)",
                [event_area_id, event_id, owner, added, until, price, tier_id],
            )


def _places_remove(cursor, *, count: int, mine) -> None:
    """Take `count` places off the owner's rows, the dearest first (the counter was lowered already)."""
    for hold_id, held, _, _ in sorted(mine, key=lambda row: (row[2], row[0]), reverse=True):
        if count <= 0:
            break
        if held <= count:
            cursor.execute("DELETE FROM ticketing_areahold WHERE id = %s", [hold_id])
        else:
            cursor.execute("UPDATE ticketing_areahold SET quantity = quantity - %s WHERE id = %s", [count, hold_id])
        count -= held


# Rows leave and their areas' counters drop by exactly what they held, in one statement.
_GIVE_BACK_SQL = f"""
WITH gone AS (
    DELETE FROM ticketing_areahold WHERE id IN (
        SELECT id FROM ticketing_areahold WHERE {{where}} ORDER BY id FOR UPDATE)
    RETURNING event_area_id, quantity
), per_area AS (
    SELECT event_area_id, sum(quantity)::int AS quantity FROM gone GROUP BY event_area_id
)
UPDATE ticketing_eventarea area SET held = area.held - per_area.quantity, version = {STAMP_SQL}
  FROM per_area WHERE area.id = per_area.event_area_id
RETURNING area.id, area.event_id, area.section_id, per_area.quantity
"""


def area_places_give_back(cursor, *, where: str, params: list) -> list[tuple[int, int, int]]:
    """Delete the hold rows matching `where` and return their places to their areas; announce after commit.

    The one way held places become available again (release, expiry, failed or expired payment).
    Returns (event id, area id, places given back) per area.
    """
    cursor.execute(_GIVE_BACK_SQL.format(where=where), params)
    rows = cursor.fetchall()
    _places_freed(cursor, rows)
    return [(event_id, area_id, quantity) for _, event_id, area_id, quantity in rows]


# (cursor, event_id, freed: {event area pk: places freed}) → takes some of them for the people waiting.
# Registered by the waitlist (`TicketingConfig.ready`), as for seats (`seat_state.seats_free`).
FreedPlacesClaimer = Callable[..., None]
_freed_places_claimers: list[FreedPlacesClaimer] = []


def freed_places_claimer_register(claimer: FreedPlacesClaimer) -> None:
    if claimer not in _freed_places_claimers:
        _freed_places_claimers.append(claimer)


def _places_freed(cursor, rows) -> None:
    """Places just given back (rows: event area pk, event id, area id, quantity): the waitlist first,
    in the same transaction, then the announcement of what is left."""
    by_event: dict[int, dict[int, int]] = {}
    for event_area_id, event_id, _, quantity in rows:
        by_event.setdefault(event_id, {})[event_area_id] = quantity
    for event_id, freed in by_event.items():
        for claimer in _freed_places_claimers:
            claimer(cursor, event_id=event_id, freed=freed)
    _areas_announce(cursor, rows)


def _areas_announce(cursor, rows) -> None:
    """Publish after commit the places now available in each changed area (rows start with
    event area pk, event id, area id). Read after the change: within its statement, holds it
    deleted would still count as expired places."""
    if not rows:
        return
    cursor.execute(f"SELECT area.id, {area_available_sql()} FROM ticketing_eventarea area WHERE area.id = ANY(%s)",
                   [[row[0] for row in rows]])
    available = dict(cursor.fetchall())
    by_event: dict[int, list[tuple[int, int]]] = {}
    for event_area_id, event_id, area_id, *_ in rows:
        by_event.setdefault(event_id, []).append((area_id, available[event_area_id]))
    for event_id, changes in by_event.items():
        seats_publish(event_id, area_changes(sorted(changes)))


# A cancellation (issue 15): the places leave the booking, their tickets are cancelled and the areas'
# `sold` drops by exactly as many, in one statement.
_CANCEL_PLACES_SQL = f"""
WITH cancelled AS (
    UPDATE ticketing_bookingplace SET is_active = false
     WHERE booking_id = %(booking_id)s AND id = ANY(%(place_ids)s) AND is_active
    RETURNING id, event_area_id
), tickets AS (
    UPDATE ticketing_ticket SET status = 'cancelled'
     WHERE booking_place_id IN (SELECT id FROM cancelled) AND status = 'valid'
), per_area AS (
    SELECT event_area_id, count(*)::int AS quantity FROM cancelled GROUP BY event_area_id
)
UPDATE ticketing_eventarea area SET sold = area.sold - per_area.quantity, version = {STAMP_SQL}
  FROM per_area WHERE area.id = per_area.event_area_id
RETURNING area.id, area.event_id, area.section_id, per_area.quantity
"""


def booking_places_cancel(cursor, *, booking_id: int, booking_place_ids: list[int]) -> int:
    """Cancel these places of a paid booking (inside the cancellation's transaction, booking locked):
    their tickets no longer admit, the places are on sale again at once. Returns how many."""
    cursor.execute(_CANCEL_PLACES_SQL, {"booking_id": booking_id, "place_ids": booking_place_ids})
    rows = cursor.fetchall()
    _places_freed(cursor, rows)
    return sum(row[3] for row in rows)


def area_release(*, event_id: int, area_id: int, owner: str) -> int:
    """Give back all the owner's places in the area (not those of a pending booking). Returns how many.

    Raises EventNotFound, AreaNotFound or NotAnArea for an area that is not the event's.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RELAXED_COMMIT_SQL)
        if not Event.objects.filter(pk=event_id).exists():
            raise EventNotFound()
        event_area_id, _, _ = _area_for_event(cursor, event_id=event_id, area_id=area_id)
        given = area_places_give_back(cursor, where="event_area_id = %s AND owner = %s AND booking_id IS NULL",
                                      params=[event_area_id, owner])
    return sum(quantity for _, _, quantity in given)


def area_holds_expire() -> int:
    """The sweep: every expired place hold leaves and its places return to the area. Returns the places freed.

    Buyers already see expired places as available; this makes the counters say so and announces
    the new availability. One short transaction per area; safe to run twice or concurrently.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT event_area_id FROM ticketing_areahold "
                       " WHERE booking_id IS NULL AND held_until <= now()")
        event_area_ids = [row[0] for row in cursor.fetchall()]
    freed = 0
    for event_area_id in event_area_ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RELAXED_COMMIT_SQL)
            given = area_places_give_back(
                cursor, where="event_area_id = %s AND booking_id IS NULL AND held_until <= now()",
                params=[event_area_id])
            freed += sum(quantity for _, _, quantity in given)
    return freed


# --- confirm: the places of a cart go into the booking with its seats ------------------------------


@dataclass(frozen=True)
class CartPlaces:
    hold_ids: list[int]
    quantity: int
    total: Decimal
    expires_at: datetime | None


def cart_places_lock(cursor, *, event_id: int, owner: str) -> CartPlaces:
    """Lock the owner's live place holds (after their seats, in id order): what the booking will contain."""
    cursor.execute(
        "SELECT id, quantity, price, held_until FROM ticketing_areahold "
        f" WHERE event_id = %s AND owner = %s AND {LIVE_PLACES_SQL} ORDER BY id FOR UPDATE",
        [event_id, owner],
    )
    rows = cursor.fetchall()
    return CartPlaces(
        hold_ids=[row[0] for row in rows], quantity=sum(row[1] for row in rows),
        total=sum((row[1] * row[2] for row in rows), Decimal("0")),
        expires_at=min((row[3] for row in rows), default=None),
    )


# Phase 1: the holds move into the pending booking (their places stay counted in `held`), and the
# booking gets one booking place per admission.
_RESERVE_PLACES_SQL = """
WITH moved AS (
    UPDATE ticketing_areahold SET booking_id = %(booking_id)s, held_until = %(expires_at)s
     WHERE id = ANY(%(hold_ids)s)
    RETURNING event_area_id, quantity, price, tier_id
)
INSERT INTO ticketing_bookingplace (booking_id, event_area_id, price, tier_id, is_active)
SELECT %(booking_id)s, moved.event_area_id, moved.price, moved.tier_id, true
  FROM moved, generate_series(1, moved.quantity)
"""


def cart_places_reserve(cursor, *, booking_id: int, places: CartPlaces, expires_at: datetime) -> None:
    cursor.execute(_RESERVE_PLACES_SQL, {"booking_id": booking_id, "expires_at": expires_at,
                                         "hold_ids": places.hold_ids})


# Phase 3, after the booking was paid in this transaction: its holds leave, their places move from
# `held` to `sold`, and its booking places come back with fresh ticket ids.
_SELL_PLACES_SQL = f"""
WITH paid AS (
    SELECT paid_at FROM ticketing_booking WHERE id = %(booking_id)s AND status = 'paid'
), gone AS (
    DELETE FROM ticketing_areahold WHERE id IN (
        SELECT id FROM ticketing_areahold WHERE booking_id = %(booking_id)s AND EXISTS (SELECT 1 FROM paid)
         ORDER BY id FOR UPDATE)
    RETURNING event_area_id, quantity
), per_area AS (
    SELECT event_area_id, sum(quantity)::int AS quantity FROM gone GROUP BY event_area_id
), counted AS (
    UPDATE ticketing_eventarea area SET held = area.held - per_area.quantity, sold = area.sold + per_area.quantity,
                                        version = {STAMP_SQL}
      FROM per_area WHERE area.id = per_area.event_area_id
)
SELECT place.id, area.section_id, nextval(pg_get_serial_sequence('ticketing_ticket', 'id')), paid.paid_at
  FROM ticketing_bookingplace place
  JOIN ticketing_eventarea area ON area.id = place.event_area_id
  CROSS JOIN paid
 WHERE place.booking_id = %(booking_id)s AND place.is_active
 ORDER BY place.id
"""


def booking_places_sell(cursor, *, booking_id: int) -> list[tuple[int, int, int, datetime]]:
    """(booking place id, area id, new ticket id, paid_at) per place of a booking paid in this transaction."""
    cursor.execute(_SELL_PLACES_SQL, {"booking_id": booking_id})
    return cursor.fetchall()


def booking_has_places(booking_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM ticketing_bookingplace WHERE booking_id = %s)", [booking_id])
        return cursor.fetchone()[0]


def booking_places_return(cursor, *, booking_id: int, owner: str, keep_until: datetime | None) -> None:
    """A pending booking given up: its places go back to the buyer's cart until `keep_until`, or to sale.

    Places whose cart row (same area and tier) the buyer has meanwhile filled again go to sale.
    """
    if keep_until is not None:
        cursor.execute(
            "UPDATE ticketing_areahold hold SET booking_id = NULL, held_until = %s "
            " WHERE hold.booking_id = %s AND NOT EXISTS ("
            "     SELECT 1 FROM ticketing_areahold cart WHERE cart.event_area_id = hold.event_area_id "
            "        AND cart.owner = %s AND cart.tier_id IS NOT DISTINCT FROM hold.tier_id "
            "        AND cart.booking_id IS NULL)",
            [keep_until, booking_id, owner],
        )
    area_places_give_back(cursor, where="booking_id = %s", params=[booking_id])
    cursor.execute("UPDATE ticketing_bookingplace SET is_active = false WHERE booking_id = %s", [booking_id])


# --- reads ------------------------------------------------------------------------------------------


def event_areas(*, event_id: int, owner: str | None = None) -> list[dict]:
    """The event's areas for the seat map: id (the section's), name, capacity, available, category, the
    owner's places (`held_by_me`), its outline; price is added by the caller (the active tier's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT section.id, section.name, section.outline, area.capacity, {area_available_sql()}, "
            "        area.category_id, "
            "        (SELECT COALESCE(sum(mine.quantity), 0)::int FROM ticketing_areahold mine "
            f"         WHERE mine.event_area_id = area.id AND mine.owner = %s AND {LIVE_PLACES_SQL}), "
            "        (SELECT min(mine.held_until) FROM ticketing_areahold mine "
            f"         WHERE mine.event_area_id = area.id AND mine.owner = %s AND {LIVE_PLACES_SQL}) "
            "   FROM ticketing_eventarea area JOIN venues_section section ON section.id = area.section_id "
            "  WHERE area.event_id = %s ORDER BY section.position, section.id",
            [owner or "", owner or "", event_id],
        )
        rows = cursor.fetchall()
    return [
        {"id": section_id, "name": name, "capacity": capacity, "available": available, "category": category_id,
         "outline": json.loads(outline) if isinstance(outline, str) else outline,
         "held_by_me": mine, "my_expires_at": until}
        for section_id, name, outline, capacity, available, category_id, mine, until in rows
    ]


def area_changes_since(*, event_id: int, since: int) -> list[dict]:
    """Areas changed by transactions from `since` on, with their places available now."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT area.section_id, {area_available_sql()} FROM ticketing_eventarea area "
            " WHERE area.event_id = %s AND area.version >= %s ORDER BY area.section_id",
            [event_id, since],
        )
        return area_changes(cursor.fetchall())


# --- the organizer: holding places back ---------------------------------------------------------------

_BLOCK_SQL = f"""
UPDATE ticketing_eventarea SET blocked = %(blocked)s, version = {STAMP_SQL}
 WHERE id = %(event_area_id)s AND capacity - sold - held >= %(blocked)s
RETURNING section_id, capacity - sold - blocked - held
"""


def area_blocked_set(*, event_id: int, area_id: int, blocked: int) -> int:
    """Hold back exactly `blocked` places of the area (not for sale; 0 releases them). Returns the places left.

    Blocking takes only free places (expired holds are reclaimed first): raises InsufficientCapacity
    (with `available`) when fewer are free, AreaNotFound / NotAnArea, ValueError for a negative number.
    """
    if blocked < 0:
        raise ValueError("blocked must not be negative")
    with transaction.atomic(), connection.cursor() as cursor:
        event_area_id, _, _ = _area_for_event(cursor, event_id=event_id, area_id=area_id)
        row = _reclaimed_then_taken(cursor, event_area_id=event_area_id, area_id=area_id, sql=_BLOCK_SQL,
                                    params={"blocked": blocked}, free_sql="capacity - sold - held - blocked",
                                    refusal="more places are free to hold back")
        seats_publish(event_id, area_changes([(area_id, row[1])]))
    return row[1]


def _reclaimed_then_taken(cursor, *, event_area_id: int, area_id: int, sql: str, params: dict, free_sql: str,
                          refusal: str) -> tuple:
    """The organizer's changes of an area: reclaim its expired holds, then run the conditional `sql`;
    no row → InsufficientCapacity with the places `free_sql` counts (the transaction rolls back)."""
    area_places_give_back(cursor, where="event_area_id = %s AND booking_id IS NULL AND held_until <= now()",
                          params=[event_area_id])
    cursor.execute(sql, {**params, "event_area_id": event_area_id})
    row = cursor.fetchone()
    if row is None:
        cursor.execute(f"SELECT {free_sql} FROM ticketing_eventarea WHERE id = %s", [event_area_id])
        available = cursor.fetchone()[0]
        raise InsufficientCapacity(f"Only {available} {refusal}.", available=available, area_id=area_id)
    return row



# --- the box office -----------------------------------------------------------------------------------

# Free places first, then places held back (the box office releases them, like house seats); never a
# place in someone's cart or pending booking.
_BOXOFFICE_TAKE_SQL = f"""
UPDATE ticketing_eventarea area
   SET sold = area.sold + %(quantity)s,
       blocked = area.blocked - GREATEST(0, %(quantity)s - (area.capacity - area.sold - area.held - area.blocked)),
       version = {STAMP_SQL}
  FROM events_seatcategory category
 WHERE area.id = %(event_area_id)s AND category.id = area.category_id
   AND area.capacity - area.sold - area.held >= %(quantity)s
RETURNING category.price
"""


def boxoffice_places_sell(cursor, *, event_id: int, booking_id: int, places: dict[int, int],
                          is_comp: bool) -> list[Decimal]:
    """Inside the box-office sale's transaction: take `places` (area id → quantity) for the paid booking.

    Returns the price of each place (0 when complimentary). Raises InsufficientCapacity (with
    `available`), AreaNotFound, NotAnArea; the caller's transaction then rolls everything back.
    """
    prices: list[Decimal] = []
    for area_id, quantity in sorted(places.items()):
        event_area_id, _, _ = _area_for_event(cursor, event_id=event_id, area_id=area_id)
        row = _reclaimed_then_taken(cursor, event_area_id=event_area_id, area_id=area_id, sql=_BOXOFFICE_TAKE_SQL,
                                    params={"quantity": quantity}, free_sql="capacity - sold - held",
                                    refusal="places of this area can be sold")
        price = Decimal("0") if is_comp else row[0]
        cursor.execute(
            "INSERT INTO ticketing_bookingplace (booking_id, event_area_id, price, tier_id, is_active) "
            "SELECT %s, %s, %s, NULL, true FROM generate_series(1, %s)",
            [booking_id, event_area_id, price, quantity],
        )
        prices += [price] * quantity
        cursor.execute(f"SELECT {area_available_sql()} FROM ticketing_eventarea area WHERE id = %s", [event_area_id])
        seats_publish(event_id, area_changes([(area_id, cursor.fetchone()[0])]))
    return prices



# --- offers to the waitlist ------------------------------------------------------------------------------

# Places for one waitlist entry, if that many are free (the same conditional statement as a hold).
_OFFER_TAKE_SQL = f"""
UPDATE ticketing_eventarea SET held = held + %(quantity)s, version = {STAMP_SQL}
 WHERE id = %(event_area_id)s AND capacity - sold - held - blocked >= %(quantity)s
RETURNING section_id
"""


def area_places_offer(cursor, *, event_id: int, event_area_id: int, category_id: int, category_price: Decimal,
                      owner: str, quantity: int, until: datetime) -> bool:
    """Hold `quantity` places of the area for `owner` (a waitlist offer) until `until`, or nothing.

    Inside the freeing transaction (the area's row is locked already); priced like a hold."""
    cursor.execute(_OFFER_TAKE_SQL, {"quantity": quantity, "event_area_id": event_area_id})
    if cursor.fetchone() is None:
        return False
    _places_add(cursor, event_id=event_id, event_area_id=event_area_id, owner=owner, count=quantity,
                category_id=category_id, category_price=category_price, until=until, mine=[])
    return True


def areas_free_places(cursor, *, event_id: int, category_id: int | None) -> int:
    """Places a buyer could hold now in the event's areas (of one category, if given)."""
    cursor.execute(
        f"SELECT COALESCE(sum({area_available_sql()}), 0)::int FROM ticketing_eventarea area "
        " WHERE area.event_id = %s AND (%s::bigint IS NULL OR area.category_id = %s)",
        [event_id, category_id, category_id],
    )
    return cursor.fetchone()[0]
