"""Shared fixtures: a small venue with an event on sale, buyers with their own sessions."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client
from django.utils import timezone

from events.models import Event, EventStatus, SeatCategory
from ticketing.buyer import BUYER_COOKIE
from ticketing.models import EventSeat
from ticketing.services import event_inventory_create
from venues.models import Venue
from venues.services import venue_build_from_template


class Buyer(Client):
    """A browser-like API client: its own session, CSRF enforced like a real browser's."""

    def __init__(self, **kwargs):
        super().__init__(enforce_csrf_checks=True, **kwargs)
        self.get("/api/session")

    @property
    def csrf_token(self) -> str:
        return self.cookies["csrftoken"].value

    def post_json(self, path: str, data=None, *, raw: str | None = None, **headers):
        body = raw if raw is not None else json.dumps(data)
        return self.post(path, body, content_type="application/json", HTTP_X_CSRFTOKEN=self.csrf_token, **headers)

    def hold(self, event, seat_ids):
        return self.post_json("/api/seats/hold", {"event_id": event.pk, "seat_ids": list(seat_ids)})

    def release(self, event, seat_ids):
        return self.post_json("/api/seats/release", {"event_id": event.pk, "seat_ids": list(seat_ids)})

    def confirm(self, event, token="tok_ok", **extra):
        payload = {"event_id": event.pk, "customer": {"name": "Ada Lovelace", "email": "ada@example.com",
                                                      "phone": "+44 20 7946 0000"},
                   "payment_token": token, **extra}
        return self.post_json("/api/bookings/confirm", payload)

    def buyer_id(self) -> str:
        return signing.Signer(salt="evently.buyer").unsign(self.cookies[BUYER_COOKIE].value)


@pytest.fixture(autouse=True)
def _rate_limits_fresh():
    """Every test starts with full abuse-limit buckets (they live in the real Redis, keyed by IP:
    the test client is always 127.0.0.1)."""
    from evently.ratelimit import KEY_PREFIX, rate_limits_reset

    rate_limits_reset()
    client = redis.Redis.from_url(django_settings.RATE_LIMIT_REDIS_URL)
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
    yield
    rate_limits_reset()


@pytest.fixture(autouse=True)
def _discovery_settings(settings):
    """Search sees seat changes at once (no fold interval); seed_demo skips the 300-event catalogue unless a
    test asks for it; trending keys are this test's own (tests/discovery)."""
    import uuid

    settings.SUMMARY_FOLD_SECONDS = 0
    settings.TRENDING_CACHE_SECONDS = 0
    settings.DEMO_CATALOGUE_EVENTS = 0
    settings.TRENDING_KEY_PREFIX = f"test-{uuid.uuid4().hex[:12]}:trending"


@pytest.fixture
def organizer(db):
    return User.objects.create_user("org", password="pw-organizer", is_staff=True)


def make_event(organizer, *, rows=4, seats_per_block=5, blocks=2, status=EventStatus.ON_SALE, price="40.00",
               title="Test Concert") -> Event:
    venue = Venue.objects.create(name=f"Hall {Venue.objects.count() + 1}", city="Berlin", organizer=organizer)
    venue_build_from_template(venue=venue, template="conference",
                              params={"rows": rows, "seats_per_block": seats_per_block, "blocks": blocks})
    now = timezone.now()
    event = Event.objects.create(
        organizer=organizer, venue=venue, title=title, status=status,
        starts_at=now + timedelta(days=10), ends_at=now + timedelta(days=10, hours=3),
        sales_open_at=now - timedelta(days=1),
    )
    category = SeatCategory.objects.create(event=event, name="Standard", price=Decimal(price), colour="#123456")
    event_inventory_create(event=event, section_categories={s.pk: category.pk for s in venue.sections.all()})
    return event


@pytest.fixture
def event(organizer):
    """An event on sale with 40 seats (2 blocks × 4 rows × 5 seats), all €40."""
    return make_event(organizer)


@pytest.fixture
def other_event(organizer):
    return make_event(organizer, title="Other Concert")


@pytest.fixture
def seat_ids(event):
    return list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))


@pytest.fixture
def buyer(db):
    return Buyer()


@pytest.fixture
def other_buyer(db):
    return Buyer()


def seat_statuses(event) -> dict[int, str]:
    return dict(EventSeat.objects.filter(event=event).values_list("id", "status"))


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """The production ASGI app under uvicorn, on a free port, against the test database."""
    from tests.asgi_server import AsgiServer

    with django_db_blocker.unblock():
        server = AsgiServer()
    yield server
    server.stop()


@pytest.fixture
def asgi_server_factory(django_db_setup, django_db_blocker):
    """Start extra servers with other settings, e.g. asgi_server_factory(HOLD_TTL_SECONDS="5"), or the
    websocket-only app: asgi_server_factory("evently.asgi:websocket_application")."""
    from tests.asgi_server import AsgiServer

    servers = []

    def start(app: str = "evently.asgi:application", **env):
        with django_db_blocker.unblock():
            servers.append(AsgiServer(app, **env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright; tests using it are skipped where Chromium is missing.

    Module-scoped: while Playwright's sync API is open it runs an event loop in this thread, which
    breaks `asyncio.run` and `async_to_sync` in unrelated tests that would run after it. Inside the
    module the ORM calls of tests and fixtures are plain sync calls, hence DJANGO_ALLOW_ASYNC_UNSAFE.
    """
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make test installs it with apt-get when run as root)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def no_email_rush(settings):
    """Tests book many seats within a second; only the rush tests ask for the sale-rush e-mail behaviour."""
    settings.RUSH_EMAILS_PER_SECOND = 1_000_000


@pytest.fixture(autouse=True)
def fresh_layouts(settings):
    """Each layout request builds anew (the one-second sharing has its own tests)."""
    settings.LAYOUT_SHARED_SECONDS = 0
