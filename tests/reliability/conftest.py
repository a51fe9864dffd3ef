"""Fault-injection fixtures: a Redis of the module's own and a real server using it (tests/reliability/faults.py)."""

from __future__ import annotations

import pytest

from tests.conftest import make_event
from tests.reliability.faults import RedisServer
from ticketing.models import EventSeat


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def server(redis_server, django_db_setup, django_db_blocker):
    """The app, with every use of Redis (cache, rate limits, task queue, live maps) on `redis_server`."""
    from tests.asgi_server import AsgiServer

    with django_db_blocker.unblock():
        app = AsgiServer(REDIS_URL=redis_server.url, RATE_LIMIT_REDIS_URL=redis_server.url,
                         CHANNEL_PREFIX="reliability")
    yield app
    app.stop()


@pytest.fixture
def redis_down(redis_server, server):
    """Redis is dead for the test's duration; started again (empty) afterwards."""
    redis_server.crash()
    yield redis_server
    if not redis_server._answers():
        redis_server.start()


@pytest.fixture
def sale(organizer):
    """A committed event on sale (the server reads it through its own connections) and its seat ids."""
    event = make_event(organizer)
    return event, list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))


@pytest.fixture(autouse=True)
def _cache_outage_forgotten():
    """A test that made this process's cache give up on a dead Redis must not leave the next test without it."""
    from evently.cache import cache_outage_reset

    yield
    cache_outage_reset()
