"""A fixed-window rate limit in Redis: cheap enough for every hold request."""

from django.core.cache import cache

from evently.errors import TooManyRequests


def rate_limit(*, key: str, limit: int, window_seconds: int) -> None:
    """Count one request for `key`; raise TooManyRequests (429 busy) past `limit` in the window."""
    cache_key = f"ratelimit:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the window expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds)
        count = 1
    if count > limit:
        raise TooManyRequests(
            f"Too many requests; please wait {window_seconds} seconds and try again.",
            retry_after=window_seconds,
        )
