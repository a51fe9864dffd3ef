"""Pricing tiers (sales waves): which tier sells a category's next seats, at what price.

The tier rules here are pure: they are told how many seats each tier has given away. Ticketing
counts that from the seats themselves (`ticketing.services.pricing.tier_seats_used`), never in a
counter: a seat that is released, expires or is cancelled gives its place back by itself, with
no bookkeeping that could drift. Holds lock the quota-limited tiers they draw from, so two holds
cannot both take a tier's last place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from events.models import PricingTier, SeatCategory


@dataclass(frozen=True)
class PricePick:
    price: Decimal
    tier: PricingTier | None


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


def categories_price_now(categories: list[SeatCategory], *, tiers: dict[int, list[PricingTier]],
                         used: dict[int, int], at: datetime) -> dict[int, dict]:
    """What the next seat of each category costs at `at`, and the tier selling it (None: the base price). Pure.

    `used` counts the seats each quota-limited tier has given away.
    `{category_id: {"price": Decimal, "tier": {"id", "name", "available_until", "quota", "remaining"} | None}}`
    """
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
