"""Redis crashes in the middle of a sale: Postgres is the truth, so the sale goes on.

A real Evently server (uvicorn, the production ASGI app) runs against the test database and a Redis
of this module's own, which the tests kill with SIGKILL and start again (empty, as after a restart
without persistence). Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from django.contrib.auth.models import Group, User
from django.core import mail

from checkin.models import DoorAssignment, DoorSchedule
from tests.conftest import Buyer
from tests.reliability.faults import HttpBuyer
from ticketing.models import Booking, BookingStatus, EventSeat, OutgoingEmail, SeatStatus
from ticketing.services.delivery import emails_retry_due

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_buyers_hold_confirm_and_cancel_with_redis_down(server, redis_down, sale):
    # given: Redis has crashed; a new buyer arrives
    event, seat_ids = sale
    buyer = HttpBuyer(server.url)
    assert buyer.session.status_code == 200

    # when: they hold, pay and cancel
    hold = buyer.hold(event.pk, seat_ids[:2])
    confirm = buyer.confirm(event.pk)
    cancel = buyer.post_json(f"/api/bookings/{confirm.json()['booking_id']}/cancel", {})

    # then: each answers as it would with Redis up
    assert hold.status_code == 200, hold.text
    assert confirm.status_code == 201, confirm.text
    assert confirm.json()["status"] == "paid" and len(confirm.json()["tickets"]) == 2
    assert cancel.status_code == 200, cancel.text
    assert EventSeat.objects.get(pk=seat_ids[0]).status == SeatStatus.AVAILABLE
    assert Booking.objects.get().status == BookingStatus.CANCELLED


def test_ticket_transfer_with_redis_down(server, redis_down, sale):
    # given: a paid ticket; Redis has crashed
    event, seat_ids = sale
    buyer = HttpBuyer(server.url)
    buyer.hold(event.pk, seat_ids[:2])
    ticket = buyer.confirm(event.pk).json()["tickets"][0]

    # when: the buyer gives it to a friend (the seller's PDF refresh cannot be queued)
    transfer = buyer.post_json(f"/api/tickets/{ticket['id']}/transfer", {"name": "Grace", "email": "grace@example.com"})

    # then: the transfer stands, and the friend's e-mail waits in the outbox for the sweep
    assert transfer.status_code == 201, transfer.text
    assert OutgoingEmail.objects.filter(kind="ticket-transfer", to="grace@example.com", sent_at=None).count() == 1


def test_tickets_email_lost_with_redis_is_sent_once_by_the_sweep(server, redis_server, redis_down, sale, settings):
    # given: a confirm whose hand-over to the worker failed (Redis down)
    event, seat_ids = sale
    buyer = HttpBuyer(server.url)
    buyer.hold(event.pk, seat_ids[:1])
    assert buyer.confirm(event.pk).status_code == 201
    outgoing = OutgoingEmail.objects.get(kind="booking-tickets")
    assert outgoing.sent_at is None and outgoing.attempts == 0

    # when: Redis is back and the worker's sweep runs (twice, as it does every minute)
    redis_server.start()
    settings.EMAIL_SWEEP_DELAY_SECONDS = 0
    emails_retry_due()
    emails_retry_due()

    # then: the tickets went out exactly once
    outgoing.refresh_from_db()
    assert outgoing.sent_at is not None and outgoing.attempts == 1
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_rate_limits_answer_json_429_with_redis_down(server, redis_down, sale):
    # given: Redis is down, so the limits fall back to each process's own buckets
    event, seat_ids = sale
    buyer = HttpBuyer(server.url)

    # when: one buyer floods the hold endpoint (the session's bucket: 30 per 10 s)
    answers = [buyer.hold(event.pk, seat_ids[:1]) for _ in range(45)]

    # then: the flood is throttled with the API's JSON, never an error page
    statuses = {response.status_code for response in answers}
    assert statuses == {200, 429}
    throttled = next(response for response in answers if response.status_code == 429)
    assert throttled.json()["error"] == "rate_limited"
    assert int(throttled.headers["Retry-After"]) >= 1


def test_staff_log_in_use_the_admin_and_scan_with_redis_down(server, redis_down, sale, organizer):
    # given: a paid ticket, a door assignment, doors open; then Redis went down
    event, seat_ids = sale
    buyer = HttpBuyer(server.url)
    buyer.hold(event.pk, seat_ids[:1])
    token = buyer.confirm(event.pk).json()["tickets"][0]["token"]
    door_user = User.objects.create_user("door-r", password="pw-door-reliable")
    door_user.groups.add(Group.objects.get_or_create(name="Door staff")[0])
    DoorAssignment.objects.create(user=door_user, event=event)
    DoorSchedule.objects.create(event=event, doors_open_at=event.starts_at.replace(year=2000))

    # when: the organizer and the door staff log in and work
    organizer.set_password("pw-organizer-reliable")
    organizer.save()
    office, door = HttpBuyer(server.url), HttpBuyer(server.url)
    office_login = office.login("org", "pw-organizer-reliable")
    admin_page = office.http.get("/admin/")
    door.login("door-r", "pw-door-reliable")
    scan = door.post_json("/api/checkin/scan", {"token": token, "nonce": "nonce-0001", "gate": "Main"})

    # then
    assert office_login.status_code == 302, office_login.text[:500]
    assert admin_page.status_code == 200
    assert scan.status_code == 200, scan.text
    assert scan.json()["result"] == "admit"


def test_health_check_reports_redis_down_then_up(server, redis_server, redis_down):
    down = HttpBuyer(server.url).http.get("/healthz")
    redis_server.start()
    up = HttpBuyer(server.url).http.get("/healthz")

    assert down.status_code == 503 and down.json()["error"] == "unavailable"
    assert up.status_code == 200


async def _next_change(socket, seat_id: int, timeout: float) -> float:
    """Seconds until a message names `seat_id` (raises TimeoutError)."""
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await socket.recv())
            if any(change["seat_id"] == seat_id for change in message.get("changes", [])):
                return time.monotonic() - started


def test_live_seat_map_keeps_up_during_a_redis_outage_and_is_live_again_after(server, redis_server, sale):
    """While Redis is down the websocket servers heal their maps from Postgres (every few seconds);
    once it is back, changes arrive live again."""
    event, seat_ids = sale
    buyer = HttpBuyer(server.url)
    uri = server.url.replace("http", "ws") + f"/ws/events/{event.pk}/seats"

    async def scenario():
        async with websockets.connect(uri, origin=server.url) as viewer:
            await asyncio.to_thread(redis_server.crash)
            await asyncio.to_thread(buyer.hold, event.pk, seat_ids[:1])
            during_outage = await _next_change(viewer, seat_ids[0], timeout=20)
            async with websockets.connect(uri, origin=server.url) as newcomer:  # a viewer arriving meanwhile
                await asyncio.to_thread(buyer.hold, event.pk, seat_ids[1:2])
                newcomer_sees = await _next_change(newcomer, seat_ids[1], timeout=20)
            await asyncio.to_thread(redis_server.start)
            await asyncio.sleep(6)  # the hub's reconnect back-off is at most 5 s
            await asyncio.to_thread(buyer.hold, event.pk, seat_ids[2:3])
            after = await _next_change(viewer, seat_ids[2], timeout=5)
            return during_outage, newcomer_sees, after

    during_outage, newcomer_sees, after = asyncio.run(scenario())
    assert during_outage < 20 and newcomer_sees < 20
    assert after < 1.0  # live again: published through Redis, not waiting for a catch-up


def test_search_and_home_page_work_with_redis_down(server, redis_down, sale):
    http = HttpBuyer(server.url).http
    assert http.get("/").status_code == 200
    search = http.get("/api/events", params={"sort": "trending"})
    assert search.status_code == 200, search.text
    assert http.get(f"/api/events/{sale[0].pk}/layout").status_code == 200


def test_a_delete_redis_missed_is_done_when_it_answers_again(redis_server, settings):
    """A logout while Redis hangs deletes the session from Postgres only; its cached copy must not
    log the old cookie in again once Redis answers (evently/cache.py)."""
    from django.core.cache import cache

    from evently.cache import cache_outage_reset

    # given: the cache on this module's Redis, holding a (session) entry
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": redis_server.url}}
    cache_outage_reset()
    cache.set("django.contrib.sessions.cached_db-old-session", {"_auth_user_id": "1"})
    raw = cache.raw_client()

    # when: Redis stops answering (paused, not restarted: its data survives) while the entry is deleted
    raw.execute_command("CLIENT", "PAUSE", 1500, "ALL")
    cache.delete("django.contrib.sessions.cached_db-old-session")  # times out, remembered
    time.sleep(2)
    cache_outage_reset()  # the retry pause is over

    # then: the next cache call that reaches Redis deletes it first
    assert cache.get("django.contrib.sessions.cached_db-old-session") is None
    assert raw.exists(cache.make_key("django.contrib.sessions.cached_db-old-session")) == 0


def test_trending_counts_sales_folded_while_redis_was_down(redis_server, settings, sale):
    """Sales reach trending's Redis sets through the seat-count fold; one that could not write them
    (Redis down) rebuilds them from Postgres once Redis answers again."""
    from events import summary, trending

    # given: trending on this module's Redis, already built; then Redis crashes and two tickets sell
    settings.REDIS_URL = redis_server.url
    trending._redis.cache_clear()
    summary.trending_rebuild()
    event, seat_ids = sale
    redis_server._server.save()  # on disk: the restarted Redis has the sets, built marker included
    redis_server.crash()
    buyer = Buyer()
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    assert buyer.confirm(event).status_code == 201

    # when: the fold runs with Redis down, then Redis comes back (with its old sets: keep_data)
    summary.seat_counts_fold()
    down = summary.trending_scores()
    redis_server.start(keep_data=True)
    settings.TRENDING_CACHE_SECONDS = 0

    # then: search had no ranking while Redis was down, and counts the sales once it is back
    try:
        assert down == []
        assert (event.pk, 2.0) in summary.trending_scores()
    finally:
        trending._redis.cache_clear()
