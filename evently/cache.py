"""Django's Redis cache with one connection pool per server for the whole process, failing soft.

Django keeps a cache object per request context, and its Redis client a pool per cache object,
so under an ASGI server every request opened (and paid the connect of) a fresh Redis connection.
Here all of a process's cache objects share one thread-safe pool per server.

**Redis down is a cache miss** (docs/reliability.md). Everything the cache holds can be computed
again from Postgres — sections' counts, the home page's lists, a magic link's cool-down — so a
read that cannot reach Redis answers "not cached", a write is skipped, and the request goes on.
After an error the cache is not asked again for CACHE_RETRY_SECONDS (so an outage costs each
request nothing, not a connect timeout each), and short socket timeouts keep a hung Redis from
holding a request. Code that needs to know whether Redis answers (the health check) uses
`raw_client()`, which still raises.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 0.5

# One try per command: a cache miss is cheaper than a request waiting out redis-py's retries. One
# instance, so every cache object's pool options (and so its shared pool's key) are the same.
_NO_RETRY = Retry(NoBackoff(), 0)

_pools: dict[tuple, object] = {}
_pools_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        options.setdefault("retry", _NO_RETRY)
        super().__init__(servers, **options)

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        key = (self._servers[index], tuple(sorted((k, repr(v)) for k, v in self._pool_options.items())))
        pool = _pools.get(key)
        if pool is None:
            with _pools_lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        return pool


class _Outage:
    """Process-wide: after a Redis error, answer from the fallback for CACHE_RETRY_SECONDS.

    Deletes that could not reach Redis are remembered and done at the next call that does: a logout
    during an outage (the `cached_db` session deleted from Postgres, not from Redis) must not leave a
    cached copy that logs the old cookie in again when Redis returns. Kept per process and bounded;
    a Redis that restarts empty (no persistence, the usual case) has no stale copy anyway.
    """

    MAX_PENDING_DELETES = 10_000

    def __init__(self):
        self.until = 0.0
        self.pending_deletes: set[str] = set()
        self._lock = threading.Lock()

    def remember_delete(self, keys) -> None:
        with self._lock:
            if len(self.pending_deletes) < self.MAX_PENDING_DELETES:
                self.pending_deletes.update(keys)

    def take_pending_deletes(self) -> list[str]:
        with self._lock:
            keys, self.pending_deletes = list(self.pending_deletes), set()
        return keys

    def is_down(self) -> bool:
        return time.monotonic() < self.until

    def trip(self, error: Exception) -> None:
        if not self.is_down():
            logger.warning("cache: Redis unreachable (%s); serving without it for %ss", error, CACHE_RETRY_SECONDS)
        self.until = time.monotonic() + CACHE_RETRY_SECONDS

    def reset(self) -> None:
        self.until = 0.0


_outage = _Outage()


def cache_outage_reset() -> None:
    """Ask Redis again at the next cache call (tests, after restarting Redis)."""
    _outage.reset()


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient

    def raw_client(self):
        """A redis-py client on the shared pool, for what the cache API cannot say in one round trip.
        Not fail-soft: its commands raise when Redis is down."""
        return self._cache.get_client(write=True)

    def _soft(self, fallback, call, *args):
        if _outage.is_down():
            return fallback
        try:
            if _outage.pending_deletes:
                self._deletes_catch_up()
            return call(*args)
        except (RedisError, OSError) as error:
            _outage.trip(error)
            return fallback

    def _deletes_catch_up(self) -> None:
        keys = _outage.take_pending_deletes()  # already made (prefix, version)
        try:
            self._cache.delete_many(keys)
        except (RedisError, OSError):
            _outage.remember_delete(keys)
            raise

    def get(self, key, default=None, version=None):
        return self._soft(default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._soft({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._soft(False, super().has_key, key, version)

    # add() answers True when Redis is down: callers use it as a cool-down ("only if not done lately"),
    # and a cool-down that lapses during an outage is better than an action refused until Redis returns.
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft(True, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft(None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft(list(data), super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._soft_delete([self.make_and_validate_key(key, version=version)], False, super().delete, key,
                                 version)

    def delete_many(self, keys, version=None):
        return self._soft_delete([self.make_and_validate_key(key, version=version) for key in keys], None,
                                 super().delete_many, keys, version)

    def _soft_delete(self, made_keys: list[str], fallback, call, *args):
        if _outage.is_down():
            _outage.remember_delete(made_keys)
            return fallback
        try:
            return call(*args)
        except (RedisError, OSError) as error:
            _outage.trip(error)
            _outage.remember_delete(made_keys)
            return fallback
