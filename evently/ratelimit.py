"""A fixed-window rate limit in Redis: one round trip, cheap enough for every hold request."""

from django.core.cache import cache

from evently.errors import TooManyRequests

# INCR, and start the window's clock on its first request: atomic, one round trip.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def rate_limit(*, key: str, limit: int, window_seconds: int) -> None:
    """Count one request for `key`; raise TooManyRequests (429 busy) past `limit` in the window."""
    client = cache.raw_client()
    count = client.eval(_COUNT_SCRIPT, 1, cache.make_key(f"ratelimit:{key}"), window_seconds)
    if count > limit:
        raise TooManyRequests(
            f"Too many requests; please wait {window_seconds} seconds and try again.",
            retry_after=window_seconds,
        )
