"""Door check-in under load: N concurrent door devices scanning for T seconds.

    make install
    .venv/bin/python -m evently.embedded exec -- .venv/bin/python bench/checkin_scan.py --clients 16 --seconds 10

It creates a bench event with --tickets paid tickets (through the real hold/confirm services) and
a door staff user, starts the production server (uvicorn + the WSGI thread pool, like `make run`),
logs each client in, then every client scans tickets in a loop over one keep-alive connection:
the first pass admits, later passes are `already_admitted` (the same single statement either way).
It also times the service alone (no HTTP) to separate Postgres from the web stack.
Results go to bench/results/checkin_scan-<time>.json and stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")
os.environ.setdefault("EVENTLY_LOCAL", "1")


def setup_data(tickets: int) -> tuple[int, list[str]]:
    """A fresh event with `tickets` paid tickets, doors open, user `bench-door` assigned."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from checkin.models import DoorAssignment, DoorSchedule
    from events.models import Event, EventStatus, SeatCategory
    from ticketing import services
    from ticketing.models import EventSeat, Ticket
    from venues.models import Venue
    from venues.services import venue_build_from_template

    organizer, _ = User.objects.get_or_create(username="bench-organizer")
    door, created = User.objects.get_or_create(username="bench-door")
    door.set_password("bench-door-pw")
    door.save()
    door.groups.add(Group.objects.get_or_create(name="Door staff")[0])
    venue = Venue.objects.create(name=f"Bench hall {uuid.uuid4().hex[:6]}", city="Bench")
    venue_build_from_template(venue=venue, template="conference",
                              params={"rows": max(1, tickets // 24 + 1), "seats_per_block": 8, "blocks": 3})
    now = timezone.now()
    event = Event.objects.create(organizer=organizer, venue=venue, title="Check-in bench", status=EventStatus.ON_SALE,
                                 starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=4),
                                 sales_open_at=now - timedelta(days=1))
    category = SeatCategory.objects.create(event=event, name="Standard", price="10.00")
    services.event_inventory_create(event=event, section_categories={s.pk: category.pk for s in venue.sections.all()})
    DoorSchedule.objects.create(event=event, doors_open_at=now - timedelta(hours=1))
    DoorAssignment.objects.create(user=door, event=event)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))[:tickets]
    for start in range(0, len(seat_ids), 10):
        owner = uuid.uuid4().hex
        services.seat_hold(event_id=event.pk, seat_ids=seat_ids[start:start + 10], owner=owner)
        services.booking_confirm(event_id=event.pk, owner=owner, payment_token="tok_ok",
                                 customer=services.Customer("Bench", "bench@example.com", ""))
    tokens = list(Ticket.objects.filter(booking__event=event).order_by("id").values_list("token", flat=True))
    return event.pk, tokens


def service_latency(event_id: int, tokens: list[str], count: int) -> dict:
    """checkin_scan called directly: signature check + the one statement, no HTTP."""
    from django.contrib.auth.models import User

    from checkin.services import ScanRequest, checkin_scan

    user = User.objects.get(username="bench-door")
    timings = []
    for index in range(count):
        started = time.perf_counter()
        checkin_scan(user=user, request=ScanRequest(token=tokens[index % len(tokens)], nonce=uuid.uuid4().hex,
                                                    gate="bench", device="service", event_id=event_id))
        timings.append((time.perf_counter() - started) * 1000)
    return summary(timings, count)


def summary(timings: list[float], count: int, seconds: float | None = None) -> dict:
    timings = sorted(timings)
    if not timings:
        return {"requests": 0}

    def pct(p):
        return round(timings[min(len(timings) - 1, int(len(timings) * p))], 2)

    result = {"requests": count, "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
              "max_ms": round(timings[-1], 2), "mean_ms": round(statistics.fmean(timings), 2)}
    if seconds:
        result["per_second"] = round(count / seconds, 1)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "WEB_THREADS": str(threads)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "evently.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--no-access-log", "--lifespan", "off", "--log-level", "warning"],
        cwd=BASE_DIR, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("server did not start")


def log_in(port: int) -> tuple[str, str]:
    """(sessionid, csrftoken) for bench-door, through the real login form."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        page = client.get("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post("/accounts/login/", data={"username": "bench-door", "password": "bench-door-pw",
                                                         "csrfmiddlewaretoken": csrf, "next": "/checkin/"})
        assert response.status_code == 302, response.text[:300]
        client.get("/api/session")
        return client.cookies["sessionid"], client.cookies["csrftoken"]


async def door_client(port, cookies, event_id, tokens, offset, stop_at, timings, results):
    """One door device: one keep-alive connection, one scan after another."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sessionid, csrftoken = cookies
    index = offset
    while time.monotonic() < stop_at:
        body = json.dumps({"token": tokens[index % len(tokens)], "nonce": uuid.uuid4().hex, "gate": "bench",
                           "device": f"bench-{offset}", "event_id": event_id}).encode()
        request = (f"POST /api/checkin/scan HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                   f"Cookie: sessionid={sessionid}; csrftoken={csrftoken}\r\nX-CSRFToken: {csrftoken}\r\n"
                   f"Referer: http://127.0.0.1:{port}/checkin/\r\n\r\n").encode() + body
        started = time.perf_counter()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        payload = await reader.readexactly(length)
        timings.append((time.perf_counter() - started) * 1000)
        status = int(head.split(b" ", 2)[1])
        key = json.loads(payload).get("result", f"http_{status}") if status == 200 else f"http_{status}"
        results[key] = results.get(key, 0) + 1
        index += 7
    writer.close()


async def load(port, cookies, event_id, tokens, clients, seconds) -> dict:
    timings: list[float] = []
    results: dict[str, int] = {}
    stop_at = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(door_client(port, cookies, event_id, tokens, offset * (len(tokens) // clients), stop_at,
                                       timings, results) for offset in range(clients)))
    elapsed = time.perf_counter() - started
    return {**summary(timings, len(timings), elapsed), "results": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "8")))
    parser.add_argument("--service-scans", type=int, default=2000)
    args = parser.parse_args()

    event_id, tokens = setup_data(args.tickets)
    print(f"bench event {event_id}: {len(tokens)} tickets", flush=True)
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    try:
        cookies = log_in(port)
        runs = []
        # warm-up: connections, caches, the first admissions
        asyncio.run(load(port, cookies, event_id, tokens, 4, 2))
        for clients in args.clients:
            run = {"clients": clients, **asyncio.run(load(port, cookies, event_id, tokens, clients, args.seconds))}
            print(json.dumps(run), flush=True)
            runs.append(run)
    finally:
        server.terminate()
        server.wait(15)
    service = service_latency(event_id, tokens, args.service_scans)
    print("service only:", json.dumps(service), flush=True)
    report = {
        "benchmark": "checkin_scan",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "server": {"workers": args.workers, "web_threads": args.threads, "stack": "uvicorn + a2wsgi thread pool"},
        "tickets": len(tokens), "seconds_per_run": args.seconds,
        "http": runs, "service_only": service,
    }
    out = BASE_DIR / "bench" / "results" / f"checkin_scan-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
