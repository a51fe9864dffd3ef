"""Fixing each seat's price when it is held: the active pricing tier's price, race-safe on quotas.

Called inside the hold transaction, before the hold UPDATE. Lock order for holds:
PricingTier (quota-limited tiers in their window, by id) → EventSeat → SeatVersion. Only holds
lock tiers, and they hold the lock until commit, so the seats a tier has given away are counted
after the previous hold of that tier committed: a quota cannot be oversold.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from events.models import PricingTier, SeatCategory
from events.pricing import categories_price_now, tiers_by_category, tiers_fill

# A seat uses its tier's quota while sold, reserved by a pending booking, or held and not expired.
SEAT_USES_QUOTA_SQL = "(status = 'sold' OR (status = 'held' AND (booking_id IS NOT NULL OR held_until > now())))"


def tier_seats_used(tier_ids: Iterable[int]) -> dict[int, int]:
    """Seats held or sold at each tier, by tier id (tiers with none are left out)."""
    tier_ids = list(tier_ids)
    if not tier_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tier_id, count(*) FROM ticketing_eventseat "
            f" WHERE tier_id = ANY(%s) AND {SEAT_USES_QUOTA_SQL} GROUP BY tier_id",
            [tier_ids],
        )
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


def seat_prices_fix(cursor, *, event_id: int, owner: str, seat_ids: list[int]) -> tuple[list, list]:
    """Prices and tier ids for `seat_ids` (same order) to write with the hold.

    Seats the owner already holds keep their price (the hold UPDATE does that); unknown seats get
    None (the hold fails for them anyway). Must run inside the hold's transaction.
    """
    # One query for the common case (no tiers): each seat's category price, and whether tiers exist.
    cursor.execute(
        "SELECT es.id, es.category_id, category.price, "
        "       (es.status = 'held' AND es.hold_owner = %s AND es.booking_id IS NULL "
        "        AND es.held_until > now() AND es.price IS NOT NULL), "
        "       EXISTS (SELECT 1 FROM events_pricingtier tier WHERE tier.category_id = es.category_id) "
        "  FROM ticketing_eventseat es JOIN events_seatcategory category ON category.id = es.category_id "
        " WHERE es.event_id = %s AND es.id = ANY(%s) ORDER BY es.id",
        [owner, event_id, seat_ids],
    )
    picked: dict[int, tuple[Decimal, int | None]] = {}
    new_seats_by_category: dict[int, list[int]] = {}
    for seat_id, category_id, category_price, is_own_hold, has_tiers in cursor.fetchall():
        if is_own_hold:
            continue
        if has_tiers:
            new_seats_by_category.setdefault(category_id, []).append(seat_id)
        else:
            picked[seat_id] = (category_price, None)
    if new_seats_by_category:
        now = timezone.now()
        categories = SeatCategory.objects.in_bulk(list(new_seats_by_category))
        tiers = tiers_by_category(new_seats_by_category)
        limited = sorted(tier.pk for category_tiers in tiers.values() for tier in category_tiers
                         if tier.quota is not None and tier.is_in_window(now))
        if limited:
            # The quota lock: concurrent holds of the same tiers wait here until this one commits.
            list(PricingTier.objects.select_for_update().filter(pk__in=limited).order_by("id").values_list("id"))
        used = tier_seats_used(limited)
        for category_id, category_seat_ids in new_seats_by_category.items():
            picks = tiers_fill(category=categories[category_id], tiers=tiers.get(category_id, []), used=used,
                               seats=len(category_seat_ids), at=now)
            for seat_id, pick in zip(category_seat_ids, picks, strict=True):
                picked[seat_id] = (pick.price, pick.tier.pk if pick.tier else None)
    prices = [picked.get(seat_id, (None, None))[0] for seat_id in seat_ids]
    tier_ids = [picked.get(seat_id, (None, None))[1] for seat_id in seat_ids]
    return prices, tier_ids
