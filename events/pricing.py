"""Pricing tiers (sales waves): which tier sells a category's next seats, at what price.

Quota use is counted from the seats themselves (held or sold at the tier), never kept in a
counter: a seat that is released, expires or is cancelled gives its place back by itself, with
no bookkeeping that could drift. Holds lock the quota-limited tiers they draw from
(`ticketing.services.pricing`), so two holds cannot both take a tier's last place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from events.models import PricingTier, SeatCategory

# A seat uses its tier's quota while sold, reserved by a pending booking, or held and not expired.
SEAT_USES_QUOTA_SQL = "(status = 'sold' OR (status = 'held' AND (booking_id IS NOT NULL OR held_until > now())))"


@dataclass(frozen=True)
class PricePick:
    price: Decimal
    tier: PricingTier | None


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


def tiers_fill(*, category: SeatCategory, tiers: list[PricingTier], used: dict[int, int], seats: int,
               at: datetime) -> list[PricePick]:
    """Price `seats` new seats of `category`, in order: each tier in window takes what its quota
    allows, the next takes the rest; with no tier left the category's own price applies. Pure."""
    picks: list[PricePick] = []
    for tier in tiers:
        if len(picks) == seats:
            break
        if not tier.is_in_window(at):
            continue
        room = seats - len(picks) if tier.quota is None else max(tier.quota - used.get(tier.pk, 0), 0)
        picks.extend([PricePick(tier.price, tier)] * min(room, seats - len(picks)))
    picks.extend([PricePick(category.price, None)] * (seats - len(picks)))
    return picks


def tiers_by_category(category_ids: Iterable[int]) -> dict[int, list[PricingTier]]:
    tiers: dict[int, list[PricingTier]] = {}
    for tier in PricingTier.objects.filter(category_id__in=list(category_ids)).order_by("position", "id"):
        tiers.setdefault(tier.category_id, []).append(tier)
    return tiers


def categories_current_price(categories: list[SeatCategory], *, at: datetime | None = None) -> dict[int, dict]:
    """What the next seat of each category costs now, and the tier selling it (None: the base price).

    `{category_id: {"price": Decimal, "tier": {"id", "name", "available_until", "quota", "remaining"} | None}}`
    """
    at = at or timezone.now()
    tiers = tiers_by_category(category.pk for category in categories)
    used = tier_seats_used(tier.pk for category_tiers in tiers.values() for tier in category_tiers
                           if tier.quota is not None)
    current = {}
    for category in categories:
        pick = tiers_fill(category=category, tiers=tiers.get(category.pk, []), used=used, seats=1, at=at)[0]
        tier = pick.tier
        current[category.pk] = {
            "price": pick.price,
            "tier": None if tier is None else {
                "id": tier.pk, "name": tier.name,
                "available_until": tier.available_until.isoformat() if tier.available_until else None,
                "quota": tier.quota,
                "remaining": None if tier.quota is None else tier.quota - used.get(tier.pk, 0),
            },
        }
    return current
