"""Door check-in under load (issue 11: scan p99 < 20 ms with 4 door devices scanning back to back).

    make bench-checkin
    make bench-checkin BENCH_ARGS="--clients 1 4 16 --seconds 10"

Creates a "[bench] check-in" event with --tickets paid tickets (through the real hold/confirm services) and
a door staff user, starts the app like `make run` (or uses BENCH_URL), logs the door user in through the
login form, and runs N door devices, each one keep-alive connection sending `POST /api/checkin/scan`
back to back for T seconds (the first pass admits, later passes are `already_admitted` — the same single
statement either way). CPU per scan per process group is read from /proc around each run. It also times
the service alone (no HTTP) to separate Postgres from the web stack.
Results: bench/results/checkin_scan-<time>.json and stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, inventory, sale  # noqa: E402
from bench.harness import log  # noqa: E402


def setup_data(tickets: int) -> tuple[int, list[str]]:
    """A fresh event with `tickets` paid tickets, doors open, user `bench-door` assigned."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from events.models import Event, EventStatus, SeatCategory
    from ticketing import services
    from ticketing.models import EventSeat, Ticket
    from venues.models import Venue
    from venues.services import venue_build_from_template

    organizer, _ = User.objects.get_or_create(username="bench-organizer")
    venue = Venue.objects.create(name=f"{inventory.BENCH_PREFIX}hall {uuid.uuid4().hex[:6]}", city="Bench")
    venue_build_from_template(venue=venue, template="conference",
                              params={"rows": max(1, tickets // 24 + 1), "seats_per_block": 8, "blocks": 3})
    now = timezone.now()
    event = Event.objects.create(organizer=organizer, venue=venue, title=f"{inventory.BENCH_PREFIX}check-in",
                                 status=EventStatus.ON_SALE, starts_at=now + timedelta(hours=1),
                                 ends_at=now + timedelta(hours=4), sales_open_at=now - timedelta(days=1))
    category = SeatCategory.objects.create(event=event, name="Standard", price="10.00")
    services.event_inventory_create(event=event, section_categories={s.pk: category.pk for s in venue.sections.all()})
    door_staff_for(event)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))[:tickets]
    for start in range(0, len(seat_ids), 10):
        owner = uuid.uuid4().hex
        services.seat_hold(event_id=event.pk, seat_ids=seat_ids[start:start + 10], owner=owner)
        services.booking_confirm(event_id=event.pk, owner=owner, payment_token="tok_ok",
                                 customer=services.Customer("Bench", f"door{start}@{inventory.BENCH_EMAIL_DOMAIN}", ""))
    tokens = list(Ticket.objects.filter(booking__event=event).order_by("id").values_list("token", flat=True))
    return event.pk, tokens


def door_staff_for(event) -> None:
    """User `bench-door` (password `bench-door-pw`, group Door staff) assigned to `event`, doors open now."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from checkin.models import DoorAssignment, DoorSchedule

    door, _ = User.objects.get_or_create(username="bench-door")
    door.set_password("bench-door-pw")
    door.save()
    door.groups.add(Group.objects.get_or_create(name="Door staff")[0])
    DoorSchedule.objects.update_or_create(event=event, defaults={"doors_open_at": timezone.now() - timedelta(hours=1)})
    DoorAssignment.objects.get_or_create(user=door, event=event)


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


def log_in(url: str) -> tuple[str, str]:
    """(sessionid, csrftoken) for bench-door, through the real login form."""
    import httpx

    with httpx.Client(base_url=url) as client:
        page = client.get("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post("/accounts/login/", data={"username": "bench-door", "password": "bench-door-pw",
                                                         "csrfmiddlewaretoken": csrf, "next": "/checkin/"})
        assert response.status_code == 302, response.text[:300]
        client.get("/api/session")
        return client.cookies["sessionid"], client.cookies["csrftoken"]


async def door_client(url, cookies, event_id, tokens, offset, stop_at, timings, results):
    """One door device: one keep-alive connection, one scan after another."""
    port = harness.url_port(url)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sessionid, csrftoken = cookies
    index = offset
    while time.monotonic() < stop_at:
        body = json.dumps({"token": tokens[index % len(tokens)], "nonce": uuid.uuid4().hex, "gate": "bench",
                           "device": f"bench-{offset}", "event_id": event_id}).encode()
        request = (f"POST /api/checkin/scan HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                   f"Cookie: sessionid={sessionid}; csrftoken={csrftoken}\r\nX-CSRFToken: {csrftoken}\r\n"
                   f"Origin: {url}\r\nReferer: {url}/checkin/\r\n\r\n").encode() + body
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


async def load(url, cookies, event_id, tokens, clients, seconds) -> dict:
    timings: list[float] = []
    results: dict[str, int] = {}
    stop_at = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(door_client(url, cookies, event_id, tokens, offset * (len(tokens) // clients), stop_at,
                                       timings, results) for offset in range(clients)))
    elapsed = time.perf_counter() - started
    return {**summary(timings, len(timings), elapsed), "results": results}


def measured_load(url, cookies, event_id, tokens, clients, seconds, groups) -> dict:
    """One run of `clients` door devices, with CPU per scan per process group (the client is this process)."""
    meter = harness.CpuMeter(groups)
    meter.start()
    run = asyncio.run(load(url, cookies, event_id, tokens, clients, seconds))
    meter.stop()
    cpu = meter.report(per=run["requests"])
    cpu["ms_per_scan"] = {name: g.pop("ms_per_booking") for name, g in cpu["groups"].items()}
    cpu["server_ms_per_scan"] = cpu.pop("server_ms_per_booking")
    return {"clients": clients, **run, "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sale.add_app_arguments(parser)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--service-scans", type=int, default=2000)
    args = parser.parse_args(argv)
    with harness.services(url=args.url) as env:
        url, groups, app = sale.start_or_find_app(args, env)
        try:
            if not args.keep_events:
                inventory.purge_bench_events(files_under=None if args.url else harness.BENCH_VAR_DIR)
            event_id, tokens = setup_data(args.tickets)
            log(f"bench event {event_id}: {len(tokens)} tickets")
            if groups.roots.get("worker"):
                harness.wait_worker_idle(timeout=180)  # the tickets' PDFs and e-mails, before measuring
            cookies = log_in(url)
            asyncio.run(load(url, cookies, event_id, tokens, 4, 2))  # warm-up: connections, caches
            runs = []
            for clients in args.clients:
                runs.append(measured_load(url, cookies, event_id, tokens, clients, args.seconds, groups))
                log(f"{clients} door devices: {json.dumps({k: v for k, v in runs[-1].items() if k != 'cpu'})}")
            service = service_latency(event_id, tokens, args.service_scans)
            log(f"service only: {json.dumps(service)}")
            result = harness.result_envelope("checkin_scan", {
                "url": url, "started_app": app is not None, **(app.settings.as_dict() if app else {}),
                "tickets": len(tokens), "seconds_per_run": args.seconds, "event_id": event_id})
        finally:
            if app:
                app.stop()
    result.update({"http": runs, "service_only": service})
    harness.write_result("checkin_scan", result)
    for run in runs:
        print(f"{run['clients']:>3} door devices: {run.get('per_second')} scans/s, p50 {run.get('p50_ms')} ms, "
              f"p99 {run.get('p99_ms')} ms, server CPU {run['cpu']['server_ms_per_scan']} ms/scan, {run['results']}")
    print(f"service only: p50 {service['p50_ms']} ms, p99 {service['p99_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
