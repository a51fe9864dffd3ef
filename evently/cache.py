"""Django's Redis cache with one connection pool per server for the whole process.

Django keeps a cache object per request context, and its Redis client a pool per cache object,
so under an ASGI server every request opened (and paid the connect of) a fresh Redis connection.
Here all of a process's cache objects share one thread-safe pool per server.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_pools: dict[tuple, object] = {}
_pools_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
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


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient

    def raw_client(self):
        """A redis-py client on the shared pool, for what the cache API cannot say in one round trip."""
        return self._cache.get_client(write=True)
