"""Abuse limits: token buckets per session, per IP and per network, in Redis, one round trip each.

Every limited action (hold, confirm, transfer, magic link, waitlist join, login, declined
payments) names its buckets in `settings.RATE_LIMITS` as "capacity/seconds": a bucket holds up
to `capacity` requests and refills at `capacity / seconds` per second, so a burst is allowed and
a steady flood is not. A request is checked against all its buckets at once — the session's, the
client IP's (an IPv6 client's /64) and its network's (the IPv4 /24, the IPv6 /48) — by one Lua
script: it takes a token from each only if every bucket has one, else answers how long to wait.
The same script keeps the cap on seats held per IP per event (`settings.MAX_SEATS_HELD_PER_IP`).

When Redis is unreachable the limits **fail open to a local bucket**: each process keeps the
same buckets in memory (so a single process still throttles a flood) and retries Redis after a
few seconds; the per-IP seat cap is skipped. Why open: these limits protect fairness and
capacity, not correctness — Postgres alone decides every seat, every payment and every
admission, and a Redis outage at an on-sale must not turn into refusing every buyer.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

from evently.errors import TooManyRequests

logger = logging.getLogger(__name__)

KEY_PREFIX = "evently:rl:"
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_RETRY_SECONDS = 5.0
LOCAL_MAX_BUCKETS = 100_000


class RateLimited(TooManyRequests):
    code = "rate_limited"
    message = "Too many requests from here; please wait a moment and try again."


class SeatCapReached(TooManyRequests):
    code = "ip_seat_limit"
    message = "Too many seats are held from your network for this event right now; please try again later."


# KEYS: the buckets, then (optional) the event's seat set for this IP and the owner's seat set.
# ARGV: bucket count; capacity, window ms, cost per bucket; then mode ("none" | "add" | "drop"),
# and for "add": the cap, the expiry (ms since the epoch) and the seat ids; for "drop": seat ids
# (none: every seat the owner added). Answers {1, 0, added seat ids...} or {0 | 2, wait ms}.
# Levels are kept in thousandths of a token so refills stay whole numbers.
_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local n = tonumber(ARGV[1])
local levels = {}
local wait = 0
for i = 1, n do
  local capacity = tonumber(ARGV[i * 3 - 1]) * 1000
  local window = tonumber(ARGV[i * 3])
  local cost = tonumber(ARGV[i * 3 + 1]) * 1000
  local state = redis.call('HMGET', KEYS[i], 'm', 't')
  local level = tonumber(state[1])
  if level == nil then
    level = capacity
  else
    local elapsed = now - tonumber(state[2])
    if elapsed > 0 then level = math.min(capacity, level + math.floor(elapsed * capacity / window)) end
  end
  levels[i] = level
  local need = math.max(cost, 1000)
  if level < need then
    local w = math.ceil((need - level) * window / capacity)
    if w > wait then wait = w end
  end
end
if wait > 0 then return {0, wait} end
local base = 3 * n + 2
local mode = ARGV[base]
local added = {}
if mode == 'add' then
  local zkey, skey = KEYS[n + 1], KEYS[n + 2]
  local cap, expire_at = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
  redis.call('ZREMRANGEBYSCORE', zkey, '-inf', now)
  local count = redis.call('ZCARD', zkey)
  for j = base + 3, #ARGV do
    if not redis.call('ZSCORE', zkey, ARGV[j]) then added[#added + 1] = ARGV[j] end
  end
  if count + #added > cap then
    local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
    local w = 1000
    if first[2] then w = math.max(1000, tonumber(first[2]) - now) end
    return {2, w}
  end
  for _, seat in ipairs(added) do
    redis.call('ZADD', zkey, expire_at, seat)
    redis.call('SADD', skey, seat)
  end
  if #added > 0 then
    for _, key in ipairs({zkey, skey}) do
      if redis.call('PTTL', key) < expire_at - now then redis.call('PEXPIREAT', key, expire_at) end
    end
  end
elseif mode == 'drop' then
  local zkey, skey = KEYS[n + 1], KEYS[n + 2]
  local seats = {}
  for j = base + 1, #ARGV do seats[#seats + 1] = ARGV[j] end
  if #seats == 0 then seats = redis.call('SMEMBERS', skey) end
  if #seats > 0 then
    redis.call('ZREM', zkey, unpack(seats))
    redis.call('SREM', skey, unpack(seats))
  end
end
for i = 1, n do
  local cost = tonumber(ARGV[i * 3 + 1]) * 1000
  if cost > 0 then
    redis.call('HSET', KEYS[i], 'm', levels[i] - cost, 't', now)
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[i * 3]))
  end
end
local answer = {1, 0}
for _, seat in ipairs(added) do answer[#answer + 1] = seat end
return answer
"""


@dataclass(frozen=True)
class Bucket:
    key: str
    capacity: int
    window_ms: int
    cost: int = 1  # 0 = only check that a token is there (e.g. "may this buyer still pay?")


@dataclass(frozen=True)
class SeatCap:
    """Seats held from one IP for one event: `seat_ids` are added (mode "add") or dropped ("drop")."""

    event_id: int
    ip: str
    owner: str
    mode: str
    seat_ids: tuple[int, ...] = ()


def parse_limit(text: str) -> tuple[int, int] | None:
    """"30/10" → (30 requests, 10 seconds); "" or "0" → None (no limit)."""
    text = (text or "").strip()
    if not text or text == "0":
        return None
    count, _, seconds = text.partition("/")
    return int(count), int(seconds or 1)


# --- who is asking ---------------------------------------------------------------------------------

def client_addresses(request) -> tuple[str, str]:
    """(the client's address key, its network key): IPv4 address and /24; IPv6 /64 and /48.

    The address is REMOTE_ADDR. Behind a proxy, uvicorn's --forwarded-allow-ips (or the proxy's
    own real-IP module) puts the client's address there; never trust a header the client sends.
    """
    raw = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return f"?{raw[:64]}", f"?{raw[:64]}"
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.version == 4:
        return str(address), str(ipaddress.ip_network(f"{address}/24", strict=False))
    return (str(ipaddress.ip_network(f"{address}/64", strict=False)),
            str(ipaddress.ip_network(f"{address}/48", strict=False)))


def buckets(action: str, *, request=None, session: str | None = None, username: str | None = None,
            cost: int = 1) -> list[Bucket]:
    """The buckets of `action` that apply to this request, from settings.RATE_LIMITS."""
    limits = settings.RATE_LIMITS.get(action, {})
    values = {"session": session, "username": username.lower() if username else None}
    if request is not None:
        values["ip"], values["net"] = client_addresses(request)
    result = []
    for scope, text in limits.items():
        parsed = parse_limit(text)
        value = values.get(scope)
        if parsed is None or not value:
            continue
        capacity, seconds = parsed
        result.append(Bucket(f"{KEY_PREFIX}{action}:{scope}:{value}", capacity, seconds * 1000, cost))
    return result


# --- checking --------------------------------------------------------------------------------------

def rate_limit(action: str, *, request=None, session: str | None = None, username: str | None = None,
               also: list[Bucket] = (), seat_cap: SeatCap | None = None) -> list[int]:
    """Take one token from every bucket of `action` (and `also`), or raise RateLimited (429).

    With `seat_cap`, also keeps the per-IP seat cap in the same round trip (SeatCapReached, 429).
    Returns the seat ids `seat_cap` newly counted. Raises nothing when Redis is down (see above).
    """
    checked = [*buckets(action, request=request, session=session, username=username), *also]
    return buckets_take(checked, seat_cap=seat_cap)


def buckets_take(checked: list[Bucket], *, seat_cap: SeatCap | None = None) -> list[int]:
    if not settings.RATE_LIMITS_ENABLED or (not checked and seat_cap is None):
        return []
    if seat_cap is not None and seat_cap.mode == "add" and not settings.MAX_SEATS_HELD_PER_IP:
        seat_cap = None
    allowed, wait_ms, added = _take(checked, seat_cap)
    if allowed == 1:
        return added
    retry_after = max(1, math.ceil(wait_ms / 1000))
    error = SeatCapReached if allowed == 2 else RateLimited
    raise error(f"{error.message} Retry in {retry_after} s.", retry_after=retry_after)


def _take(checked: list[Bucket], seat_cap: SeatCap | None) -> tuple[int, int, list[int]]:
    if time.monotonic() >= _breaker.down_until:
        keys, args = [bucket.key for bucket in checked], [len(checked)]
        for bucket in checked:
            args += [bucket.capacity, bucket.window_ms, bucket.cost]
        if seat_cap is None:
            args.append("none")
        else:
            keys += [f"{KEY_PREFIX}seats:{seat_cap.event_id}:{seat_cap.ip}",
                     f"{KEY_PREFIX}owner-seats:{seat_cap.event_id}:{seat_cap.owner}"]
            args.append(seat_cap.mode)
            if seat_cap.mode == "add":
                expire_at = int((time.time() + settings.HOLD_TTL_SECONDS) * 1000)
                args += [settings.MAX_SEATS_HELD_PER_IP, expire_at]
            args += [str(seat_id) for seat_id in seat_cap.seat_ids]
        try:
            answer = _script()(keys=keys, args=args)
        except redis.RedisError as error:
            _breaker.trip(error)
        else:
            return int(answer[0]), int(answer[1]), [int(seat_id) for seat_id in answer[2:]]
    return (*_local.take(checked), [])


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                socket_timeout=REDIS_TIMEOUT_SECONDS, retry_on_timeout=False)


def _script():
    return _scripts(settings.RATE_LIMIT_REDIS_URL)


@lru_cache(maxsize=4)
def _scripts(url: str):
    return _client(url).register_script(_SCRIPT)


class _Breaker:
    """After a Redis error, use the local buckets for REDIS_RETRY_SECONDS before trying Redis again."""

    def __init__(self):
        self.down_until = 0.0

    def trip(self, error: Exception) -> None:
        if time.monotonic() >= self.down_until:
            logger.warning("rate limits: Redis unreachable (%s); local buckets for %ss", error, REDIS_RETRY_SECONDS)
        self.down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def reset(self) -> None:
        self.down_until = 0.0


class _LocalBuckets:
    """The same buckets in this process's memory: the fallback while Redis is down."""

    def __init__(self):
        self._lock = threading.Lock()
        self._levels: dict[str, tuple[float, float]] = {}

    def take(self, checked: list[Bucket]) -> tuple[int, int]:
        now = time.monotonic() * 1000
        with self._lock:
            if len(self._levels) > LOCAL_MAX_BUCKETS:
                self._levels.clear()
            levels, wait = [], 0
            for bucket in checked:
                level, stamp = self._levels.get(bucket.key, (float(bucket.capacity), now))
                level = min(bucket.capacity, level + (now - stamp) * bucket.capacity / bucket.window_ms)
                levels.append(level)
                need = max(bucket.cost, 1)
                if level < need:
                    wait = max(wait, math.ceil((need - level) * bucket.window_ms / bucket.capacity))
            if wait:
                return 0, wait
            for bucket, level in zip(checked, levels, strict=True):
                if bucket.cost:
                    self._levels[bucket.key] = (level - bucket.cost, now)
            return 1, 0

    def clear(self) -> None:
        with self._lock:
            self._levels.clear()


_breaker = _Breaker()
_local = _LocalBuckets()


def rate_limits_reset() -> None:
    """Forget the local buckets and any Redis outage (tests, or after changing settings)."""
    _breaker.reset()
    _local.clear()
    _client.cache_clear()
    _scripts.cache_clear()
