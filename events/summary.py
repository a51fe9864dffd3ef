"""Seat counts and prices per event for search, kept without counting seats.

The trigger on `ticketing_eventseat` (ticketing migration 0010) appends per-statement deltas to
`SeatCountChange`; `seat_counts_fold` moves them into `CategorySummary` and `EventSummary` in one
short transaction, records tickets sold per hour (`EventSalesHour`) and, after the commit, tells
trending about them. Prices are the pricing tiers' (events.pricing, the one home of that rule, with
each quota-limited tier's use counted by ticketing: `tier_use_register`), recomputed for a category
when its tiers or price change, when the clock passes a tier boundary (`price_valid_until`), and
after seat changes while a quota-limited tier sells. Events never reads seats itself: a recount from
the seats is ticketing's (`ticketing.services.search_counts`), handed in through `category_counts_replace`.

Who folds: `event_summaries_fresh` before search reads (at most once per `SUMMARY_FOLD_SECONDS` per
process, and never waiting: if another process is folding, the reader goes on with what is there),
and `event_summaries_tick` every minute from the worker. A seat change reaches search results at
the next fold: at once for the next search, at worst a minute later when nobody searches. An expired
hold counts as held until the sweeper (every minute) makes it available.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from events import trending
from events.models import CategorySummary, EventSalesHour, PricingTier, SeatCategory
from events.pricing import categories_price_now, tiers_by_category

logger = logging.getLogger(__name__)

# pg_advisory_lock key of the fold ('evsm'): one folder at a time, so each delta row is applied once
# and trending's Redis updates never interleave with a rebuild (events.trending).
FOLD_LOCK_KEY = 0x6576736D
PRICE_BATCH = 500  # categories re-priced per fold at most, so one fold stays short

FOLD_SQL = """
WITH moved AS (
    DELETE FROM events_seatcountchange
    RETURNING event_id, category_id, available, held, sold, blocked, created_at
), per_category AS (
    SELECT moved.category_id, moved.event_id, sum(moved.available) AS available, sum(moved.held) AS held,
           sum(moved.sold) AS sold, sum(moved.blocked) AS blocked
      FROM moved JOIN events_seatcategory category ON category.id = moved.category_id
                                                  AND category.event_id = moved.event_id
     GROUP BY moved.category_id, moved.event_id
), counted AS (
    INSERT INTO events_categorysummary AS summary
           (category_id, event_id, available_seats, held_seats, sold_seats, blocked_seats, has_quota_tier)
    SELECT category_id, event_id, available, held, sold, blocked, false FROM per_category
    ON CONFLICT (category_id) DO UPDATE
       SET available_seats = summary.available_seats + excluded.available_seats,
           held_seats = summary.held_seats + excluded.held_seats,
           sold_seats = summary.sold_seats + excluded.sold_seats,
           blocked_seats = summary.blocked_seats + excluded.blocked_seats
    RETURNING summary.category_id, summary.has_quota_tier OR summary.price IS NULL AS needs_price
), sales AS (
    SELECT moved.event_id, date_trunc('hour', moved.created_at) AS hour, sum(moved.sold)::int AS tickets
      FROM moved JOIN events_event event ON event.id = moved.event_id
     WHERE moved.sold > 0
     GROUP BY moved.event_id, date_trunc('hour', moved.created_at)
), recorded AS (
    INSERT INTO events_eventsaleshour AS sales_hour (event_id, hour, tickets)
    SELECT event_id, hour, tickets FROM sales
    ON CONFLICT (event_id, hour) DO UPDATE SET tickets = sales_hour.tickets + excluded.tickets
)
SELECT 'category', category_id, needs_price::int, NULL::timestamptz FROM counted
UNION ALL
SELECT 'sale', event_id, tickets, hour FROM sales
"""

# The event row from its categories: counts summed; the price range over categories with seats available
# (over all of them when none is, so a sold-out event still says what it cost).
EVENT_SUMMARY_SQL = """
INSERT INTO events_eventsummary AS summary
       (event_id, available_seats, held_seats, sold_seats, blocked_seats, min_price, max_price, updated_at)
SELECT event.id, coalesce(sum(category.available_seats), 0), coalesce(sum(category.held_seats), 0),
       coalesce(sum(category.sold_seats), 0), coalesce(sum(category.blocked_seats), 0),
       coalesce(min(category.price) FILTER (WHERE category.available_seats > 0), min(category.price)),
       coalesce(max(category.price) FILTER (WHERE category.available_seats > 0), max(category.price)), now()
  FROM events_event event LEFT JOIN events_categorysummary category ON category.event_id = event.id
 WHERE event.id = ANY(%s)
 GROUP BY event.id
ON CONFLICT (event_id) DO UPDATE
   SET available_seats = excluded.available_seats, held_seats = excluded.held_seats,
       sold_seats = excluded.sold_seats, blocked_seats = excluded.blocked_seats,
       min_price = excluded.min_price, max_price = excluded.max_price, updated_at = excluded.updated_at
"""

_last_fold = 0.0

# tier ids → {tier id: seats held or sold at it}: how much of each quota is used, which only ticketing knows.
TierUse = Callable[[list[int]], dict[int, int]]
_tier_use: TierUse | None = None


def tier_use_register(tier_use: TierUse) -> None:
    """Ticketing tells how many seats each quota-limited tier has given away (`TicketingConfig.ready`).
    Without it a quota is taken as unused: prices stay right for tiers without quotas only."""
    global _tier_use
    _tier_use = tier_use


@contextlib.contextmanager
def fold_lock(*, wait: bool = True):
    """The fold's session-level advisory lock; yields whether it was taken (`wait=False` may not).

    Held across a fold's commit and its Redis update, and by rebuilds, so a delta is applied once and
    a sale reaches Redis once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)" if wait else "SELECT pg_try_advisory_lock(%s)", [FOLD_LOCK_KEY])
        taken = wait or cursor.fetchone()[0]
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [FOLD_LOCK_KEY])


def event_summaries_fresh() -> None:
    """Fold pending seat changes before a search reads, unless this process did so within
    SUMMARY_FOLD_SECONDS or another process is folding right now (then it reads what is there)."""
    global _last_fold
    interval = settings.SUMMARY_FOLD_SECONDS
    if interval and time.monotonic() - _last_fold < interval:
        return
    _last_fold = time.monotonic()
    with connection.cursor() as cursor:  # the common case, nothing changed: one cheap read, no lock
        cursor.execute("SELECT EXISTS (SELECT 1 FROM events_seatcountchange)")
        if not cursor.fetchone()[0]:
            return
    try:
        seat_counts_fold(wait=False)
    except DatabaseError:  # e.g. a category deleted under the fold: the worker's next fold retries
        logger.warning("seat counts fold failed; search reads the summaries as they are", exc_info=True)


def seat_counts_fold(*, wait: bool = True) -> int:
    """Apply pending seat-count deltas to the summaries and re-price what needs it; returns the number of
    categories touched. Safe to run any time, in any number of processes: one folds, others skip
    (`wait=False`) or queue (`wait=True`). Tickets sold reach trending after the commit."""
    with fold_lock(wait=wait) as taken:
        if not taken:
            return 0
        with transaction.atomic():
            with connection.cursor() as cursor:
                # A lost fold is redone from the same rows (the DELETE is lost with it): async commit is safe.
                cursor.execute("SET LOCAL synchronous_commit = off")
                cursor.execute(FOLD_SQL)
                rows = cursor.fetchall()
            touched = [row[1] for row in rows if row[0] == "category"]
            # New categories (no price yet), and those whose quota-limited tier may have sold out just now.
            to_price = [row[1] for row in rows if row[0] == "category" and row[2]]
            sales = [(row[1], row[2], row[3]) for row in rows if row[0] == "sale"]
            event_ids = set(_categories_reprice(to_price, include_due=False))
            if touched:
                event_ids |= set(
                    CategorySummary.objects.filter(category_id__in=touched).values_list("event_id", flat=True)
                )
            event_summaries_update(event_ids=sorted(event_ids))
        if sales:
            try:
                trending.sales_record(sales)
            except RedisError:  # the sales are in Postgres (EventSalesHour): rebuild once Redis is back
                _trending_outage.missed = True
                logger.warning("trending: Redis unreachable; rebuilt from Postgres when it is back", exc_info=True)
            _trending_cache.clear()
    return len(touched)


def category_prices_refresh(*, category_ids: list[int]) -> None:
    """Re-price these categories and their events' summaries now (a tier or price was edited).

    Runs inside the caller's transaction, so an admin save and its new price commit together.
    """
    with transaction.atomic():
        event_ids = _categories_reprice(list(category_ids), include_due=False)
        event_summaries_update(event_ids=sorted(set(event_ids)))


def event_summaries_tick() -> int:
    """The worker's minute: fold, re-price categories whose tier boundary has passed, forget sales older than
    two days, and rebuild trending if Redis lost it. Returns the number of categories touched."""
    touched = seat_counts_fold(wait=True)
    with transaction.atomic():
        while True:  # a batch at a time, so one statement never re-prices the world
            events = _categories_reprice([], include_due=True)
            event_summaries_update(event_ids=sorted(set(events)))
            if len(events) < PRICE_BATCH:
                break
    EventSalesHour.objects.filter(hour__lt=timezone.now() - timedelta(hours=48)).delete()
    trending_ensure()
    return touched


def trending_rebuild(*, at: datetime | None = None) -> int:
    """Rewrite trending's Redis sets from `EventSalesHour`; returns the number of (event, hour) rows loaded.
    Holds the fold lock, so no fold adds sales to Redis between the read and the write."""
    at = at or timezone.now()
    with fold_lock():
        rows = list(EventSalesHour.objects.filter(hour__gte=trending.oldest_hour(at))
                    .values_list("event_id", "hour", "tickets"))
        trending.sets_replace(rows, at=at)
        _trending_cache.clear()
    return len(rows)


class _TrendingOutage:
    """Whether this process folded sales while Redis was unreachable: its sets miss them until rebuilt."""

    missed = False


_trending_outage = _TrendingOutage()


def trending_ensure() -> bool:
    """Rebuild when Redis has lost the sets (a restart without persistence, a flush) or missed sales this
    process folded while it was unreachable. Returns whether it did."""
    if trending.is_built() and not _trending_outage.missed:
        return False
    _trending_outage.missed = False
    trending_rebuild()
    return True


_trending_cache: dict[tuple[str, int], tuple[float, list[tuple[int, float]]]] = {}


def trending_scores(*, limit: int = 1000, at: datetime | None = None) -> list[tuple[int, float]]:
    """Trending's scores (events.trending.trending_scores), rebuilt from Postgres first if Redis lost them.

    The current scores are kept in this process for TRENDING_CACHE_SECONDS (a ranking by the hour does not
    need to be fresher, and the union costs a few milliseconds); a fold that records sales forgets them."""
    key = (settings.TRENDING_KEY_PREFIX, limit)
    cached = _trending_cache.get(key)
    if at is None and cached and time.monotonic() - cached[0] < settings.TRENDING_CACHE_SECONDS:
        return cached[1]
    try:
        if _trending_outage.missed:
            trending_ensure()
        scores, is_built = trending.trending_scores(limit=limit, at=at)
        if not is_built:
            trending_rebuild(at=at)
            scores = trending.trending_scores(limit=limit, at=at)[0]
    except RedisError:  # no ranking while Redis is down: search still answers, by date
        logger.warning("trending: Redis unreachable; no trending ranking for now", exc_info=True)
        return []
    if at is None:
        _trending_cache[key] = (time.monotonic(), scores)
    return scores


def category_counts_replace(rows: Iterable[tuple[int, int, int, int, int, int]]) -> int:
    """Replace every category's seat counts with `rows` — (category_id, event_id, available, held, sold,
    blocked), a recount from the seats that ticketing made under a lock that keeps seats from changing —
    drop pending deltas, re-price everything and recompute every event's row. Returns the events summarised.
    Runs in the caller's transaction; takes the fold lock."""
    with fold_lock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_seatcountchange")
        cursor.execute("UPDATE events_categorysummary SET available_seats = 0, held_seats = 0, sold_seats = 0, "
                       "blocked_seats = 0, price = NULL")
        columns = list(zip(*rows, strict=True)) or [[]] * 6
        cursor.execute("""
            INSERT INTO events_categorysummary AS summary
                   (category_id, event_id, available_seats, held_seats, sold_seats, blocked_seats, has_quota_tier)
            SELECT counted.category_id, counted.event_id, available, held, sold, blocked, false
              FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::int[], %s::int[], %s::int[])
                   AS counted(category_id, event_id, available, held, sold, blocked)
              JOIN events_seatcategory category ON category.id = counted.category_id
            ON CONFLICT (category_id) DO UPDATE
               SET available_seats = excluded.available_seats, held_seats = excluded.held_seats,
                   sold_seats = excluded.sold_seats, blocked_seats = excluded.blocked_seats
        """, [list(column) for column in columns])
        cursor.execute(
            "INSERT INTO events_categorysummary (category_id, event_id, available_seats, held_seats, sold_seats,"
            " blocked_seats, has_quota_tier) SELECT id, event_id, 0, 0, 0, 0, false FROM events_seatcategory"
            " ON CONFLICT DO NOTHING"
        )
        while len(_categories_reprice([], include_due=True)) >= PRICE_BATCH:
            pass
        cursor.execute("SELECT id FROM events_event")
        event_ids = [row[0] for row in cursor.fetchall()]
        event_summaries_update(event_ids=event_ids)
    return len(event_ids)


def _categories_reprice(category_ids: list[int], *, include_due: bool) -> list[int]:
    """Compute the price selling now for these categories (plus, with `include_due`, up to PRICE_BATCH
    whose price is missing or past its validity) and store it; returns their events' ids."""
    now = timezone.now()
    ids = set(category_ids)
    if include_due:
        ids |= set(
            CategorySummary.objects.filter(price__isnull=True).values_list("category_id", flat=True)[:PRICE_BATCH]
        )
        if len(ids) < PRICE_BATCH:
            ids |= set(
                CategorySummary.objects.filter(price_valid_until__lte=now)
                .values_list("category_id", flat=True)[: PRICE_BATCH - len(ids)]
            )
    if not ids:
        return []
    categories = list(SeatCategory.objects.filter(pk__in=ids))
    if not categories:  # e.g. a tier deleted with its event: nothing left to price
        return []
    tiers = tiers_by_category(category.pk for category in categories)
    quota_tiers = [tier.pk for category_tiers in tiers.values() for tier in category_tiers if tier.quota is not None]
    used = _tier_use(quota_tiers) if _tier_use and quota_tiers else {}
    current = categories_price_now(categories, tiers=tiers, used=used, at=now)
    rows = []
    for category in categories:
        category_tiers = tiers.get(category.pk, [])
        rows.append((category.pk, category.event_id, current[category.pk]["price"],
                     _next_boundary(category_tiers, now), any(tier.quota is not None for tier in category_tiers)))
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO events_categorysummary AS summary
                   (category_id, event_id, price, price_valid_until, has_quota_tier,
                    available_seats, held_seats, sold_seats, blocked_seats)
            SELECT category_id, event_id, price, valid_until, has_quota_tier, 0, 0, 0, 0
              FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::timestamptz[], %s::bool[])
                   AS priced(category_id, event_id, price, valid_until, has_quota_tier)
            ON CONFLICT (category_id) DO UPDATE
               SET price = excluded.price, price_valid_until = excluded.price_valid_until,
                   has_quota_tier = excluded.has_quota_tier
        """, [list(column) for column in zip(*rows, strict=True)])
    return [row[1] for row in rows]


def _next_boundary(tiers: list[PricingTier], now: datetime) -> datetime | None:
    """When the clock next changes which tier sells: the earliest tier start or end still ahead."""
    ahead = [moment for tier in tiers for moment in (tier.available_from, tier.available_until)
             if moment is not None and moment > now]
    return min(ahead, default=None)


def event_summaries_update(*, event_ids: list[int]) -> None:
    """Recompute these events' summary rows from their category rows (events that no longer exist: nothing)."""
    if event_ids:
        with connection.cursor() as cursor:
            cursor.execute(EVENT_SUMMARY_SQL, [event_ids])
