"""Fixing each seat's price when it is held: the active pricing tier's price, race-safe on quotas.

Called inside the hold transaction, before the hold UPDATE. Lock order for holds:
PricingTier (quota-limited tiers in their window that still have room, by id) → EventSeat. Only
holds lock tiers, and they hold the lock until commit, so the seats a tier has given away are
counted after the previous hold of that tier committed: a quota cannot be oversold.

A tier found full without the lock is not locked at all: once an early-bird quota is used up,
holds stop queueing on its row. The price of that is at the margin — a place freed a moment
ago may go unnoticed by a concurrent hold, which then pays the next tier's price; never the
other way round.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from events.models import PricingTier, SeatCategory
from events.pricing import categories_price_now, tiers_by_category, tiers_fill
from ticketing.seat_state import TAKES_A_PLACE_SQL, live_hold_sql

# Each requested seat with its category's price, and whether the owner already holds it at a fixed price.
SEATS_SQL = f"""
SELECT es.id, es.category_id, category.price,
       ({live_hold_sql("es")} AND es.hold_owner = %s AND es.price IS NOT NULL),
       EXISTS (SELECT 1 FROM events_pricingtier tier WHERE tier.category_id = es.category_id)
  FROM ticketing_eventseat es JOIN events_seatcategory category ON category.id = es.category_id
 WHERE es.event_id = %s AND es.id = ANY(%s)
 ORDER BY es.id
"""

PLACES_OF_TIER_SQL = """(
    (SELECT COALESCE(sum(quantity), 0) FROM ticketing_areahold
      WHERE tier_id = tier.id AND booking_id IS NULL AND held_until > now())
  + (SELECT count(*) FROM ticketing_bookingplace WHERE tier_id = tier.id AND is_active))"""

# The tiers of some categories in their order, with the places each quota-limited one has given.
TIERS_SQL = f"""
SELECT tier.id, tier.category_id, tier.name, tier.price, tier.available_from, tier.available_until, tier.quota,
       tier.position,
       CASE WHEN tier.quota IS NULL THEN 0
            ELSE (SELECT count(*) FROM ticketing_eventseat WHERE tier_id = tier.id AND {TAKES_A_PLACE_SQL})
                 + {PLACES_OF_TIER_SQL} END
  FROM events_pricingtier tier
 WHERE tier.category_id = ANY(%s)
 ORDER BY tier.category_id, tier.position, tier.id
"""

# Seats and general-admission places (issue 15) each quota-limited tier has given away: places in
# carts (live area holds) and in pending or paid bookings (active booking places).
TIER_USE_SQL = f"""
SELECT tier_id, sum(used)::int FROM (
    SELECT tier_id, count(*) AS used FROM ticketing_eventseat
     WHERE tier_id = ANY(%(tier_ids)s) AND {TAKES_A_PLACE_SQL} GROUP BY tier_id
    UNION ALL
    SELECT tier_id, sum(quantity) FROM ticketing_areahold
     WHERE tier_id = ANY(%(tier_ids)s) AND booking_id IS NULL AND held_until > now() GROUP BY tier_id
    UNION ALL
    SELECT tier_id, count(*) FROM ticketing_bookingplace
     WHERE tier_id = ANY(%(tier_ids)s) AND is_active GROUP BY tier_id
) AS use GROUP BY tier_id
"""


def tiers_with_use(cursor, category_ids: list[int]) -> tuple[dict[int, list[PricingTier]], dict[int, int]]:
    """The tiers of `category_ids` by category (in order), and the places each quota-limited tier has given."""
    cursor.execute(TIERS_SQL, [category_ids])
    tiers: dict[int, list[PricingTier]] = {}
    used: dict[int, int] = {}
    for tier_id, category_id, name, price, available_from, available_until, quota, position, taken in cursor.fetchall():
        tiers.setdefault(category_id, []).append(PricingTier(
            id=tier_id, category_id=category_id, name=name, price=price, available_from=available_from,
            available_until=available_until, quota=quota, position=position,
        ))
        if quota is not None:
            used[tier_id] = taken
    return tiers, used


def seat_prices_fix(cursor, *, event_id: int, owner: str, seat_ids: list[int]) -> tuple[list, list]:
    """Prices and tier ids for `seat_ids` (same order) to write with the hold.

    Seats the owner already holds keep their price (the hold UPDATE does that); unknown seats get
    None (the hold fails for them anyway). Must run inside the hold's transaction.
    """
    # One query for the common case (no tiers): each seat's category price, and whether tiers exist.
    cursor.execute(SEATS_SQL, [owner, event_id, seat_ids])
    picked: dict[int, tuple[Decimal, int | None]] = {}
    new_seats_by_category: dict[int, list[int]] = {}
    category_prices: dict[int, Decimal] = {}
    for seat_id, category_id, category_price, is_own_hold, has_tiers in cursor.fetchall():
        if is_own_hold:
            continue
        if has_tiers:
            new_seats_by_category.setdefault(category_id, []).append(seat_id)
            category_prices[category_id] = category_price
        else:
            picked[seat_id] = (category_price, None)
    if new_seats_by_category:
        picks_by_category = tier_picks_locked(
            cursor, counts={category_id: len(ids) for category_id, ids in new_seats_by_category.items()},
            category_prices=category_prices)
        for category_id, category_seat_ids in new_seats_by_category.items():
            for seat_id, pick in zip(category_seat_ids, picks_by_category[category_id], strict=True):
                picked[seat_id] = (pick.price, pick.tier.pk if pick.tier else None)
    prices = [picked.get(seat_id, (None, None))[0] for seat_id in seat_ids]
    tier_ids = [picked.get(seat_id, (None, None))[1] for seat_id in seat_ids]
    return prices, tier_ids


def tier_picks_locked(cursor, *, counts: dict[int, int], category_prices: dict[int, Decimal]) -> dict[int, list]:
    """The price (and tier) of `counts[category]` new seats or places per category, quotas locked.

    Locks the quota-limited tiers in their window that still have room (by id) until commit, so
    concurrent holds of the same tiers count after this one: a quota cannot be oversold.
    """
    now = timezone.now()
    tiers, used = tiers_with_use(cursor, list(counts))
    with_room = sorted(tier.pk for category_tiers in tiers.values() for tier in category_tiers
                       if tier.quota is not None and tier.is_in_window(now) and used[tier.pk] < tier.quota)
    if with_room:
        # The quota lock: concurrent holds of the same tiers wait here until this one commits,
        # then count again.
        cursor.execute("SELECT id FROM events_pricingtier WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [with_room])
        cursor.execute(TIER_USE_SQL, {"tier_ids": with_room})
        used.update({tier_id: 0 for tier_id in with_room})
        used.update(dict(cursor.fetchall()))
    return {
        category_id: tiers_fill(category=SeatCategory(id=category_id, price=category_prices[category_id]),
                                tiers=tiers.get(category_id, []), used=used, seats=count, at=now)
        for category_id, count in counts.items()
    }


def tier_seats_used(tier_ids: Iterable[int]) -> dict[int, int]:
    """Seats held or sold at each tier, by tier id (tiers with none are left out)."""
    tier_ids = list(tier_ids)
    if not tier_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(TIER_USE_SQL, {"tier_ids": tier_ids})
        return dict(cursor.fetchall())


def categories_current_price(categories: list[SeatCategory], *, at: datetime | None = None) -> dict[int, dict]:
    """What the next seat of each category costs now, and the tier selling it (None: the base price).

    `{category_id: {"price": Decimal, "tier": {"id", "name", "available_until", "quota", "remaining"} | None}}`
    (events.pricing.categories_price_now, with each tier's quota use counted from the seats).
    """
    tiers = tiers_by_category(category.pk for category in categories)
    used = tier_seats_used(tier.pk for category_tiers in tiers.values() for tier in category_tiers
                           if tier.quota is not None)
    return categories_price_now(categories, tiers=tiers, used=used, at=at or timezone.now())
