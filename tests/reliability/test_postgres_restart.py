"""Postgres restarts during a stampede: requests in flight get a clean 503, the next ones work, nothing is lost.

A dedicated embedded Postgres (its own data directory, migrated) serves a real Evently server with
persistent connections (DB_CONN_MAX_AGE=600, as in production); the test restarts it (fast shutdown:
every connection terminated, open transactions rolled back) while buyers hold and pay.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.reliability.faults import HttpBuyer, PostgresServer

pytestmark = [pytest.mark.slow]

MAKE_SALE = """
import json
from django.contrib.auth.models import User
from tests.conftest import make_event
from ticketing.models import EventSeat
organizer = User.objects.create_user(f"org-{User.objects.count()}", password="x")
event = make_event(organizer, rows=10, seats_per_block=10, blocks=2)
print(json.dumps([event.pk, list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))]))
"""


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def server(postgres):
    from tests.asgi_server import AsgiServer

    app = AsgiServer(DATABASE_URL=postgres.url, DB_CONN_MAX_AGE="600", SEAT_LOCK_TIMEOUT_MS="30000",
                     RATE_LIMITS_ENABLED="0")
    yield app
    app.stop()


@pytest.fixture
def sale(postgres):
    event_id, seat_ids = json.loads(postgres.manage("shell", "-c", MAKE_SALE).strip().splitlines()[-1])
    return event_id, seat_ids


def _seat_statuses(postgres, seat_ids) -> dict[int, str]:
    with postgres.connect() as db:
        return dict(db.execute("SELECT id, status FROM ticketing_eventseat WHERE id = ANY(%s)", [seat_ids]).fetchall())


def test_a_request_in_flight_gets_503_with_retry_after_and_writes_nothing(postgres, server, sale):
    # given: a buyer's hold waits on a seat another transaction has locked
    event_id, seat_ids = sale
    buyer = HttpBuyer(server.url)
    locker = postgres.connect()
    locker.execute("BEGIN")
    locker.execute("SELECT 1 FROM ticketing_eventseat WHERE id = %s FOR UPDATE", [seat_ids[1]])
    answer = {}
    waiting = threading.Thread(target=lambda: answer.update(hold=buyer.hold(event_id, seat_ids[:2])))
    waiting.start()
    time.sleep(1.0)

    # when: Postgres restarts under it
    postgres.restart()
    waiting.join(30)
    locker.close()

    # then: a clean 503 in the API's shape, nothing written, and the retry succeeds
    hold = answer["hold"]
    assert hold.status_code == 503, hold.text
    assert hold.json()["error"] == "unavailable"
    assert hold.headers["Retry-After"] == "5"
    assert set(_seat_statuses(postgres, seat_ids[:2]).values()) == {"available"}
    assert buyer.hold(event_id, seat_ids[:2]).status_code == 200


def test_the_first_requests_after_a_restart_succeed(postgres, server, sale):
    # given: every server thread has a persistent connection
    event_id, seat_ids = sale
    buyers = [HttpBuyer(server.url) for _ in range(8)]
    assert [b.hold(event_id, [seat_ids[n]]).status_code for n, b in enumerate(buyers)] == [200] * 8

    # when: Postgres restarts while nobody is asking
    postgres.restart()

    # then: the next request on each of those connections reconnects (CONN_HEALTH_CHECKS) instead of failing
    assert [b.confirm(event_id).status_code for b in buyers] == [201] * 8


def test_a_stampede_through_a_restart_loses_no_confirmed_booking(postgres, server, sale):
    # given: buyers holding and paying in a loop
    event_id, seat_ids = sale
    answers: list[tuple[str, int, dict | None]] = []
    stop = threading.Event()

    def buyer_loop(offset: int):
        for seat_id in seat_ids[offset::6]:
            if stop.is_set():
                return
            buyer = HttpBuyer(server.url)
            hold = buyer.hold(event_id, [seat_id])
            answers.append(("hold", hold.status_code, hold.json()))
            if hold.status_code == 200:
                confirm = buyer.confirm(event_id, email=f"buyer-{seat_id}@example.com")
                answers.append(("confirm", confirm.status_code, confirm.json()))

    threads = [threading.Thread(target=buyer_loop, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()

    # when: Postgres restarts in the middle
    time.sleep(2)
    postgres.restart()
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(60)

    # then: every answer is a success or a clean, retryable refusal — never a 500
    statuses = {status for _, status, _ in answers}
    assert statuses <= {200, 201, 409, 503}, [answer for answer in answers if answer[1] not in (200, 201, 503)]
    assert 503 in statuses or postgres.restarts  # (the restart may fall between requests)
    # every booking a buyer was told about is paid, with its seat sold and a valid ticket
    confirmed = [body["booking_id"] for kind, status, body in answers if kind == "confirm" and status == 201]
    assert confirmed
    with postgres.connect() as db:
        paid = dict(db.execute("SELECT id, status FROM ticketing_booking WHERE id = ANY(%s)", [confirmed]).fetchall())
        assert set(paid.values()) == {"paid"} and len(paid) == len(confirmed)
        # and no seat is sold without a paid booking, nor a paid booking without its seats
        mismatched = db.execute("""
            SELECT count(*) FROM ticketing_eventseat es
              LEFT JOIN ticketing_booking b ON b.id = es.booking_id
             WHERE es.event_id = %s AND (es.status = 'sold') <> (b.status IS NOT DISTINCT FROM 'paid')
        """, [event_id]).fetchone()[0]
        assert mismatched == 0
