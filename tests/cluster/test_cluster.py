"""Two app nodes behind a balancer behave as one app (`make cluster`, see tests/cluster/conftest.py).

The tests run in file order against one cluster: the demo check first (the demo data lives until
the first test's flush), the Ctrl-C check last (it stops the cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import psycopg
import pytest
import websockets
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule, Task

from checkin.services import _scan_statement_execute
from evently.cluster import Database
from evently.database import database_config
from evently.models import PaymentAttempt
from tests.asgi_server import test_database_url as url_of_the_test_database
from tests.checkin.conftest import doors_open, make_door_staff
from tests.cluster.conftest import HttpBuyer
from tests.conftest import make_event
from ticketing.models import Booking, BookingSeat, EventSeat, Ticket
from ticketing.services import booking_reconcile

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_make_cluster_serves_the_demo_on_one_url(cluster):
    # given make cluster on a fresh database (migrated and seeded by the runner)
    with httpx.Client(base_url=cluster.url, timeout=30) as client:
        # when a visitor opens the site, its stylesheet and the events API through the balancer
        page = client.get("/search/?q=Championship")
        events = [event for query in ("Championship Final", "Hamlet")
                  for event in client.get("/api/events", params={"q": query}).json()["results"]]
        static = re.search(r'/static/[^"\']+\.css', page.text)
        stylesheet = client.get(static.group(0)) if static else None
        health = [client.get("/healthz").json()["node"] for _ in range(4)]
    # then the demo is served, by both nodes in turn
    assert page.status_code == 200 and "Championship Final" in page.text
    assert {event["title"] for event in events} >= {"Championship Final", "Hamlet — Lindenhof Ensemble"}
    assert stylesheet is not None and stylesheet.status_code == 200
    assert sorted(set(health)) == ["web1", "web2"]
    # and the same URL upgrades to a websocket (the balancer proxies upgrades)
    stadium = next(event for event in events if event["title"] == "Championship Final")
    asyncio.run(_websocket_opens(cluster.url, stadium["id"]))


async def _websocket_opens(base_url: str, event_id: int) -> None:
    async with websockets.connect(_ws_url(base_url, event_id), origin=base_url, open_timeout=10) as socket:
        await asyncio.wait_for(await socket.ping(), timeout=5)  # a pong: the upgrade went through


def _ws_url(base_url: str, event_id: int) -> str:
    return base_url.replace("http://", "ws://") + f"/ws/events/{event_id}/seats"


def test_buyer_flow_end_to_end_with_requests_alternating_between_nodes(cluster, event, seat_ids):
    # given a buyer whose every request goes through the balancer
    buyer = HttpBuyer(cluster.url)
    # when they look at the map, hold two seats, watch the changes, pay, and fetch booking and PDF
    assert buyer.get(f"/api/events/{event.pk}/layout").status_code == 200
    assert buyer.hold(event.pk, seat_ids[:2]).status_code == 200
    changes = buyer.get(f"/api/events/{event.pk}/seats/changes?since=0").json()
    confirm = buyer.confirm(event.pk)
    assert confirm.status_code == 201, confirm.text
    booking = confirm.json()
    detail = buyer.get(f"/api/bookings/{booking['booking_id']}").json()
    pdf = buyer.get(booking["pdf_url"])

    # then each step worked although consecutive requests were served by different nodes
    assert {c["seat_id"]: c["status"] for c in changes["changes"]}.items() >= {
        seat_ids[0]: "held", seat_ids[1]: "held"}.items()
    assert booking["status"] == "paid" and detail["status"] == "paid" and len(booking["tickets"]) == 2
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert set(buyer.nodes) == {"web1", "web2"}
    assert all(a != b for a, b in zip(buyer.nodes, buyer.nodes[1:], strict=False)), buyer.nodes
    # and the worker (through PgBouncer too) e-mailed the tickets
    mail_dir = cluster.var_dir / "mail"
    assert _eventually(lambda: any(booking["reference"] in p.read_text(errors="replace")
                                   for p in mail_dir.glob("*.eml")) if mail_dir.exists() else False, timeout=30)

    # and at the door, a scan through one node admits and a second scan through the other sees it
    make_door_staff("door-cluster", event=event)
    doors_open(event)
    door = _door_login(cluster.url, "door-cluster", "pw-door")
    token = booking["tickets"][0]["token"]
    first = door.post("/api/checkin/scan", {"token": token, "nonce": uuid.uuid4().hex, "gate": "A", "device": "d1"})
    second = door.post("/api/checkin/scan", {"token": token, "nonce": uuid.uuid4().hex, "gate": "B", "device": "d2"})
    assert first.json()["result"] == "admit" and second.json()["result"] == "already_admitted"
    assert first.headers["x-evently-node"] != second.headers["x-evently-node"]


def _door_login(base_url: str, username: str, password: str) -> HttpBuyer:
    door = HttpBuyer(base_url)
    form = door.client.get("/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    response = door.client.post("/accounts/login/", data={"username": username, "password": password,
                                                          "csrfmiddlewaretoken": csrf}, headers={"Referer": base_url})
    assert response.status_code == 302, response.text[:500]
    door.token = door.get("/api/session").json()["csrf_token"]  # login rotates the CSRF token
    return door


def test_a_hold_on_node_a_reaches_websocket_clients_on_node_b_and_on_the_balancer(cluster, event, seat_ids):
    web1, web2 = cluster.node_url("web1"), cluster.node_url("web2")

    async def scenario():
        async with (
            websockets.connect(_ws_url(web2, event.pk), origin=web2) as on_b,
            websockets.connect(_ws_url(cluster.url, event.pk), origin=cluster.url) as on_balancer,
        ):
            await asyncio.sleep(0.5)  # both subscribed to the event's group
            # when a buyer holds a seat through node A
            buyer = await asyncio.to_thread(HttpBuyer, web1)
            response = await asyncio.to_thread(buyer.hold, event.pk, [seat_ids[3]], via=web1)
            assert response.status_code == 200, response.text
            return [await _first_change_of(socket, seat_ids[3]) for socket in (on_b, on_balancer)]

    # then both sockets see it held within a few seconds
    assert [change["status"] for change in asyncio.run(scenario())] == ["held", "held"]


async def _first_change_of(socket, seat_id: int, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=max(0.1, deadline - time.monotonic())))
        for change in message.get("changes", []):
            if change["seat_id"] == seat_id:
                return change


def test_a_confirm_retried_on_the_other_node_with_the_same_key_returns_the_same_booking(cluster, event, seat_ids):
    web1, web2 = cluster.node_url("web1"), cluster.node_url("web2")
    # given a buyer who paid through node A, and did not see the answer
    buyer = HttpBuyer(web1)
    assert buyer.hold(event.pk, seat_ids[:2], via=web1).status_code == 200
    first = buyer.confirm(event.pk, key="retry-key-0001", via=web1)
    # when the browser retries the same confirm, and the balancer sends it to node B
    retried = buyer.confirm(event.pk, key="retry-key-0001", via=web2)
    # then B answers with the same booking, paid once
    assert first.status_code == retried.status_code == 201, (first.text, retried.text)
    assert retried.json()["booking_id"] == first.json()["booking_id"]
    assert retried.json()["reference"] == first.json()["reference"]

    # and two copies of one confirm arriving at both nodes at once make one booking and one charge
    racer = HttpBuyer(web1)
    assert racer.hold(event.pk, seat_ids[4:6], via=web1).status_code == 200
    barrier = threading.Barrier(2)

    def confirm_via(node):
        barrier.wait()
        return racer.confirm(event.pk, key="retry-key-0002", via=node)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(confirm_via, [web1, web2]))
    # (the copy that loses the race may see the booking still pending: 202, same booking)
    assert sorted(a.status_code for a in answers) in ([201, 201], [201, 202]), [a.text for a in answers]
    assert answers[0].json()["booking_id"] == answers[1].json()["booking_id"]
    again = racer.confirm(event.pk, key="retry-key-0002", via=web2)
    assert again.status_code == 201 and again.json()["booking_id"] == answers[0].json()["booking_id"]
    assert Booking.objects.filter(client_key="retry-key-0002").count() == 1
    provider_key = Booking.objects.get(client_key="retry-key-0002").idempotency_key  # the server's own key
    assert PaymentAttempt.objects.filter(idempotency_key=provider_key).count() == 1


def test_every_minute_schedules_run_once_not_once_per_worker(cluster):
    # given two django-q2 clusters (their scheduler passes start together, every 30 s)
    assert {"worker1", "worker2"} <= set(cluster.refresh()["processes"])
    # and an every-minute schedule that is due
    due = timezone.now() - timedelta(seconds=1)
    schedule = Schedule.objects.create(
        name="cluster-probe", func="ticketing.tasks.holds_expire", schedule_type=Schedule.MINUTES, minutes=1,
        repeats=-1, next_run=due,
    )
    # when the schedulers run (the next pass comes within 30 s)
    assert _eventually(lambda: Task.objects.filter(group="cluster-probe").exists(), timeout=45)
    time.sleep(3)  # the other cluster's pass, a moment later, must find nothing due
    # then it ran once, and the next run is a minute away
    assert Task.objects.filter(group="cluster-probe").count() == 1
    schedule.refresh_from_db()
    assert schedule.next_run == due + timedelta(minutes=1)


def test_100_buyers_racing_for_20_seats_across_both_nodes_never_double_sell(cluster, organizer):
    # given 20 seats
    event = make_event(organizer, rows=2, seats_per_block=5, blocks=2, title="Sold in seconds")
    seats = list(EventSeat.objects.filter(event=event).values_list("id", flat=True))
    assert len(seats) == 20
    results, nodes = [], []

    def buyer_tries(n: int):
        buyer = HttpBuyer(cluster.url)
        try:
            wanted = random.Random(n).sample(seats, k=1 + n % 2)
            hold = buyer.hold(event.pk, wanted)
            confirm = buyer.confirm(event.pk) if hold.status_code == 200 else None
            answer = hold.status_code if hold.status_code == 200 else (hold.status_code, hold.json()["error"])
            results.append((answer, confirm.status_code if confirm else None,
                            confirm.json() if confirm is not None and confirm.status_code == 201 else None))
            nodes.extend(buyer.nodes)
        finally:
            buyer.close()

    # when 100 buyers race for them through the balancer
    with ThreadPoolExecutor(25) as pool:
        list(pool.map(buyer_tries, range(100)))

    # then nobody got an error, both nodes sold, and every seat was sold at most once
    assert len(results) == 100
    # (taken by someone else, busy, or the event sold out meanwhile)
    assert {hold for hold, _, _ in results} <= {200, (409, "seats_unavailable"), (429, "busy"),
                                                 (422, "sale_not_active")}, results
    assert {confirm for _, confirm, _ in results if confirm} <= {201}, results
    assert set(nodes) == {"web1", "web2"}
    paid = [booking for _, _, booking in results if booking]
    sold_in_answers = [seat for booking in paid for seat in booking["seat_ids"]]
    assert len(sold_in_answers) == len(set(sold_in_answers)) <= 20
    assert Booking.objects.filter(event=event, status="paid").count() == len(paid)
    per_seat = BookingSeat.objects.filter(booking__event=event, booking__status="paid").values("event_seat_id")
    assert not per_seat.annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(EventSeat.objects.filter(event=event, status="sold").values_list("id", flat=True)) == set(
        sold_in_answers)
    assert Ticket.objects.filter(booking__event=event).count() == len(sold_in_answers)
    assert len(paid) >= 5  # the race really sold seats


# ---- what PgBouncer's transaction pooling would break, checked against the cluster's PgBouncer


@contextlib.contextmanager
def _django_through_pgbouncer(cluster):
    """The test process's connection goes through the cluster's PgBouncer for a while, configured
    as the nodes are (DB_TRANSACTION_POOLING=1)."""
    saved = dict(connection.settings_dict)
    node = database_config(
        Database.from_url(url_of_the_test_database()).url_via("127.0.0.1", cluster.pgbouncer_port),
        conn_max_age=0, transaction_pooling=True, prepared_statements=False,
    )
    connection.close()
    connection.settings_dict.update({key: node[key] for key in ("HOST", "PORT", "OPTIONS",
                                                                "DISABLE_SERVER_SIDE_CURSORS")})
    try:
        with override_settings(DB_PREPARED_STATEMENTS=False):
            yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@contextlib.contextmanager
def _server_connection_taken(cluster):
    """Another client takes the server connection we just used (PgBouncer hands out the most
    recently used one first) for a transaction, so our next statement runs on another one."""
    params = connection.settings_dict
    with psycopg.connect(host="127.0.0.1", port=cluster.pgbouncer_port, dbname=params["NAME"],
                         user=params["USER"] or "postgres", password=params.get("PASSWORD") or None) as other:
        other.execute("SELECT 1")  # opens a transaction: the server connection is other's until it ends
        yield
        other.rollback()


def test_the_door_scan_statement_is_not_left_prepared_on_a_pooled_server_connection(cluster, event, organizer):
    # given the app behind PgBouncer, configured as the nodes are (no prepared statements)
    def scan_params():
        now = timezone.now()
        return {"nonce": uuid.uuid4().hex, "event_id": event.pk, "ticket_id": 0, "ticket_nonce": 0,
                "window_reason": "", "admitted_at": now, "scanned_at": now, "received_at": now, "gate": "Main",
                "device": "d1", "is_offline": False, "local_result": "", "user_id": organizer.pk, "is_manual": False}

    with _django_through_pgbouncer(cluster):
        for _ in range(3):
            # when a scan runs, and the next one runs on another server connection
            first = _scan_statement_execute(scan_params())
            with _server_connection_taken(cluster):
                second = _scan_statement_execute(scan_params())
            # then both work (a statement prepared on the first server connection would not exist there)
            assert first[:2] == second[:2] == ("invalid", "unknown_ticket")


def test_queryset_iterator_does_not_use_a_cursor_that_outlives_its_transaction(cluster, event):
    # given the app behind PgBouncer, configured as the nodes are (no server-side cursors)
    with _django_through_pgbouncer(cluster):
        for _ in range(3):
            # when a report iterates in chunks, and its server connection is taken between chunks
            rows = EventSeat.objects.filter(event=event).order_by("pk").values_list("pk", flat=True).iterator(
                chunk_size=1)
            first = next(rows)
            with _server_connection_taken(cluster):
                rest = list(rows)
            # then every row arrives (a WITH HOLD cursor would be missing on the next server connection)
            assert len([first, *rest]) == 40


def test_killing_one_app_node_mid_sale_loses_nothing_and_the_balancer_routes_around_it(cluster, organizer):
    # given a sale going on through the balancer: 8 buyers at a time, each confirm with an
    # idempotency key and retried (same key) when the answer is lost
    event = make_event(organizer, rows=10, seats_per_block=10, blocks=2, title="Busy night")
    seats = list(EventSeat.objects.filter(event=event).values_list("id", flat=True))
    log, finals, lock = [], {}, threading.Lock()
    started = time.monotonic()
    stop_at = started + 9
    victim = cluster.pid("web1")

    def record(outcome):
        answered = isinstance(outcome, httpx.Response)
        status = outcome.status_code if answered else "error"
        node = outcome.headers.get("x-evently-node") if answered else None
        with lock:
            log.append((time.monotonic() - started, status, node))
        return status

    def buyer_loop(n: int):
        rng = random.Random(n)
        while time.monotonic() < stop_at:
            try:
                buyer = HttpBuyer(cluster.url, timeout=15)
            except (httpx.TransportError, KeyError, ValueError):
                continue
            try:
                try:
                    held = record(buyer.hold(event.pk, [rng.choice(seats)])) == 200
                except httpx.TransportError as error:
                    record(error)
                    continue
                if not held:
                    continue
                key = uuid.uuid4().hex
                for _ in range(8):
                    try:
                        response = buyer.confirm(event.pk, key=key)
                    except httpx.TransportError as error:
                        record(error)
                        time.sleep(0.3)
                        continue
                    if record(response) in (502, 503, 504):
                        time.sleep(0.3)
                        continue
                    finals[key] = (response.status_code, response.json())
                    break
                else:
                    finals[key] = ("gave up", None)
            finally:
                buyer.close()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(buyer_loop, n) for n in range(8)]
        time.sleep(3)
        killed_at = time.monotonic() - started
        # when node A is killed outright in the middle of it
        os.kill(victim, 9)
        for future in futures:
            future.result()

    # then after the moment of the kill (requests then running on A fail, once), the balancer
    # sent everything to node B: no errors, and sales went on
    failures = [t for t, status, _ in log if status == "error" or (isinstance(status, int) and status >= 500)]
    assert all(killed_at <= t <= killed_at + 3 for t in failures), (killed_at, failures)
    assert len(failures) <= 8, failures  # at most the requests in flight on A when it died
    while_down = [node for t, status, node in log if killed_at + 0.5 < t < killed_at + 2.5 and status in (200, 201)]
    # (node A may already be back within that window: the runner restarts it at once)
    assert while_down and "web2" in while_down, log
    assert sum(1 for t, status, _ in log if t > killed_at + 3 and status in (200, 201)) >= 5
    # and nothing was lost: every answer the buyers got stands, every charge has its seats
    for key, (status, body) in finals.items():
        assert status in (201, 202), (key, status, body)
        assert Booking.objects.get(client_key=key).pk == body["booking_id"]
    for booking in Booking.objects.filter(event=event, status="pending"):
        booking_reconcile(booking.pk)  # what the every-minute reconciliation does
    charged = set(PaymentAttempt.objects.filter(status="succeeded").values_list("idempotency_key", flat=True))
    paid = Booking.objects.filter(event=event, status="paid")
    assert charged >= set(paid.values_list("idempotency_key", flat=True))
    assert {b.idempotency_key for b in Booking.objects.filter(event=event, idempotency_key__in=charged)} == set(
        paid.values_list("idempotency_key", flat=True))
    sold = set(EventSeat.objects.filter(event=event, status="sold").values_list("id", flat=True))
    paid_seats = list(BookingSeat.objects.filter(booking__in=paid).values_list("event_seat_id", flat=True))
    assert sorted(sold) == sorted(paid_seats)
    # and the runner started node A again; the balancer uses it once its checks pass
    assert _eventually(lambda: cluster.pid("web1") != victim, timeout=10)
    with httpx.Client(base_url=cluster.url) as client:
        assert _eventually(lambda: client.get("/healthz").json()["node"] == "web1", timeout=60, interval=0.3)


def test_ctrl_c_stops_every_process_of_the_cluster(cluster):
    processes = cluster.refresh()["processes"]
    # when the runner gets Ctrl-C
    assert cluster.stop() == 0, cluster.log_tail()
    # then every process it started is gone, and the balancer's and PgBouncer's ports are closed
    for process in processes.values():
        with pytest.raises(ProcessLookupError):
            os.kill(process["pid"], 0)
    for url in (cluster.url, f"http://127.0.0.1:{cluster.pgbouncer_port}"):
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=2)
    assert "cluster stopped" in cluster.log_tail()


def _eventually(check, *, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except (httpx.TransportError, OSError, ValueError):
            pass
        time.sleep(interval)
    return False
