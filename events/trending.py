"""Trending: tickets sold per event in the last 24 hours, in Redis sorted sets with one set per hour.

`{TRENDING_KEY_PREFIX}:h:<YYYYMMDDHH>` holds tickets sold in that UTC hour by event id, and expires a
day after the hour ends, so old sales fall out by themselves. The score of the last 24 hours is
the union of 25 hourly sets, the oldest weighted by the share of its hour still inside the
window: a sale 23 h ago counts fully, one 25 h ago not at all, and the ranking moves smoothly.

Sales arrive from `events.summary.seat_counts_fold` after the fold that saw them committed — every
way a seat becomes sold (online checkout, box office) is counted once, and the booking path does
no extra work. The same fold writes the hourly counts to Postgres (`EventSalesHour`), from which
`events.summary.trending_rebuild` rewrites the sets when Redis lost them (no `built` marker): on the
next search that needs them, the worker's minute, or `manage.py trending_rebuild`. This module only
talks to Redis.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.utils import timezone

WINDOW = timedelta(hours=24)
HOURS_KEPT = 25


@functools.cache
def _redis() -> redis.Redis:
    # Short timeouts: a hung Redis costs a search half a second, not forever (events.summary degrades).
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)


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


def oldest_hour(at: datetime) -> datetime:
    """The start of the oldest hour that still counts at `at`."""
    return _hour_start(at) - timedelta(hours=HOURS_KEPT - 1)


def trending_scores(*, limit: int = 1000, at: datetime | None = None) -> tuple[list[tuple[int, float]], bool]:
    """([(event_id, tickets sold in the 24 h before `at`)], most first, at most `limit`; whether Redis has the
    sets at all — False after it lost them, see events.summary.trending_scores). Events of any status:
    callers filter to what they may show."""
    at = at or timezone.now()
    window_start = at - WINDOW
    hours = [oldest_hour(at) + timedelta(hours=n) for n in range(HOURS_KEPT)]
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
    return [(int(member), score) for member, score in ranked if score > 0], bool(is_built)


def sets_replace(rows: list[tuple[int, datetime, int]], *, at: datetime) -> None:
    """Replace the hourly sets around `at` with `rows` — (event_id, hour, tickets) — in one MULTI, and mark
    Redis as built (for a day: a daily rebuild is cheap and heals any drift)."""
    pipe = _redis().pipeline(transaction=True)
    for hour in (oldest_hour(at) + timedelta(hours=n) for n in range(HOURS_KEPT)):
        pipe.delete(_hour_key(hour))
    for event_id, hour, tickets in rows:
        key = _hour_key(hour)
        pipe.zadd(key, {event_id: tickets})
        pipe.expireat(key, int((hour + timedelta(hours=HOURS_KEPT + 1)).timestamp()))
    pipe.set(f"{_prefix()}:built", at.isoformat(), ex=86400)
    pipe.execute()


def is_built() -> bool:
    return bool(_redis().exists(f"{_prefix()}:built"))
