"""Trending: tickets sold per event in the last 24 hours, in Redis sorted sets with one set per hour.

`{TRENDING_KEY_PREFIX}:h:<YYYYMMDDHH>` holds tickets sold in that UTC hour by event id, and expires a
day after the hour ends, so old sales fall out by themselves. The score of the last 24 hours is
the union of 25 hourly sets, the oldest weighted by the share of its hour still inside the
window: a sale 23 h ago counts fully, one 25 h ago not at all, and the ranking moves smoothly.

Sales arrive from `events.summary.seat_counts_fold` after the fold that saw them committed — every
way a seat becomes sold (online checkout, box office) is counted once, and the booking path does
no extra work. The same fold writes the hourly counts to Postgres (`EventSalesHour`), which
`trending_rebuild` reads when Redis lost its sets: `manage.py trending_rebuild`, and the worker's
minute when the `built` marker is missing.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

WINDOW = timedelta(hours=24)
HOURS_KEPT = 25


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _prefix() -> str:
    return settings.TRENDING_KEY_PREFIX


def _hour_key(hour: datetime) -> str:
    return f"{_prefix()}:h:{hour.astimezone(UTC):%Y%m%d%H}"


def _hour_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def sales_record(sales: list[tuple[int, int, datetime]]) -> None:
    """Add tickets sold: [(event_id, tickets, hour)], hour = the start of the UTC hour they sold in."""
    pipe = _redis().pipeline(transaction=False)
    for event_id, tickets, hour in sales:
        key = _hour_key(hour)
        pipe.zincrby(key, tickets, event_id)
        pipe.expireat(key, int((hour + timedelta(hours=HOURS_KEPT + 1)).timestamp()))
    pipe.execute()


def trending_scores(*, limit: int = 1000, at: datetime | None = None, _rebuilt: bool = False
                    ) -> list[tuple[int, float]]:
    """[(event_id, tickets sold in the 24 h before `at`)], most first, at most `limit`. Events of any
    status: callers filter to what they may show."""
    at = at or timezone.now()
    now_hour = _hour_start(at)
    hours = [now_hour - timedelta(hours=back) for back in range(HOURS_KEPT)]
    window_start = at - WINDOW
    # The oldest hour straddles the window's start: count the share of it that is still inside.
    weights = {_hour_key(hour): max(0.0, min(1.0, (hour + timedelta(hours=1) - window_start) / timedelta(hours=1)))
               for hour in hours}
    weights = {key: weight for key, weight in weights.items() if weight > 0}
    union_key = f"{_prefix()}:union"  # MULTI: no other client sees or changes it in between
    pipe = _redis().pipeline(transaction=True)
    pipe.exists(f"{_prefix()}:built")
    pipe.zunionstore(union_key, weights)
    pipe.zrevrange(union_key, 0, limit - 1, withscores=True)
    pipe.delete(union_key)
    is_built, _, ranked, _ = pipe.execute()
    if not is_built and not _rebuilt:  # Redis lost the sets: rebuild from Postgres, then answer
        trending_rebuild(at=at)
        return trending_scores(limit=limit, at=at, _rebuilt=True)
    return [(int(member), score) for member, score in ranked if score > 0]


def trending_rebuild(*, at: datetime | None = None) -> int:
    """Rewrite the hourly sets from `EventSalesHour`; returns the number of (event, hour) rows loaded.

    Holds the fold's lock, so no fold adds sales to Redis between the read and the write.
    """
    from events.summary import FOLD_LOCK_KEY

    at = at or timezone.now()
    oldest = _hour_start(at) - timedelta(hours=HOURS_KEPT - 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [FOLD_LOCK_KEY])
        try:
            cursor.execute("SELECT event_id, hour, tickets FROM events_eventsaleshour WHERE hour >= %s",
                           [oldest])
            rows = cursor.fetchall()
            client = _redis()
            pipe = client.pipeline(transaction=True)
            for hour in (oldest + timedelta(hours=n) for n in range(HOURS_KEPT)):
                pipe.delete(_hour_key(hour))
            for event_id, hour, tickets in rows:
                key = _hour_key(hour)
                pipe.zadd(key, {event_id: tickets})
                pipe.expireat(key, int((hour + timedelta(hours=HOURS_KEPT + 1)).timestamp()))
            pipe.set(f"{_prefix()}:built", at.isoformat(), ex=86400)  # a daily rebuild is cheap and self-heals
            pipe.execute()
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [FOLD_LOCK_KEY])
    return len(rows)


def trending_ensure() -> bool:
    """Rebuild when Redis has lost the sets (no `built` marker: a restart without persistence, a flush).
    Returns whether it rebuilt."""
    if _redis().exists(f"{_prefix()}:built"):
        return False
    trending_rebuild()
    return True
