"""In-process cost of one booking (session, hold 2 seats, confirm), without HTTP or a load generator.

Drives the full Django stack (middleware, API, services) through the test client, one new buyer per
booking, and prints CPU-ms per booking in this process and the SQL statements each request sends.
A quick way to see what a change to the hot path saves; `make bench` measures the real thing.

    DATABASE_URL=… REDIS_URL=… python bench/inproc.py [--bookings 300] [--event-id 2] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")
os.environ.setdefault("EVENTLY_LOCAL", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def free_seats(event_id: int, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM ticketing_eventseat WHERE event_id = %s AND status = 'available' "
                       "ORDER BY id LIMIT %s", [event_id, count])
        return [row[0] for row in cursor.fetchall()]


# One client, as one server has one handler (a new Client loads the middleware again, which for
# whitenoise means scanning every static file); its cookies are cleared so every booking is a new buyer.
client = Client(enforce_csrf_checks=True)


def book(event_id: int, seats: list[int], n: int, capture: dict | None = None) -> None:
    client.cookies.clear()
    steps = []
    with CaptureQueriesContext(connection) as q:
        response = client.get("/api/session")
    steps.append(("session", response.status_code, len(q.captured_queries), q.captured_queries))
    token = response.json()["csrf_token"]
    with CaptureQueriesContext(connection) as q:
        response = client.post("/api/seats/hold", json.dumps({"event_id": event_id, "seat_ids": seats}),
                               content_type="application/json", HTTP_X_CSRFTOKEN=token)
    steps.append(("hold", response.status_code, len(q.captured_queries), q.captured_queries))
    with CaptureQueriesContext(connection) as q:
        response = client.post("/api/bookings/confirm", json.dumps({
            "event_id": event_id, "payment_token": "tok_ok",
            "customer": {"name": "Bench Buyer", "email": f"buyer{n}-{time.time_ns()}@example.com"}}),
            content_type="application/json", HTTP_X_CSRFTOKEN=token)
    steps.append(("confirm", response.status_code, len(q.captured_queries), q.captured_queries))
    if capture is not None:
        for name, status, count, queries in steps:
            capture.setdefault(name, []).append((status, count, queries))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--event-id", type=int, default=2)
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    seats = free_seats(args.event_id, 2 * (args.bookings + 1))
    capture: dict = {}
    book(args.event_id, seats[:2], 0, capture)  # warm up, and show the statements of one booking
    for name, runs in capture.items():
        status, count, queries = runs[0]
        print(f"{name:8} status {status}  {count} statements")
        if args.show_sql:
            for query in queries:
                print("    ", query["sql"][:160].replace("\n", " "))
    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits for Postgres
        profiler.enable()
    backend = _postgres_backend_pid()
    started_cpu, started, started_pg = time.process_time(), time.perf_counter(), _process_cpu(backend)
    for n in range(1, args.bookings):
        book(args.event_id, seats[2 * n:2 * n + 2], n)
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    postgres_cpu = _process_cpu(backend) - started_pg if _postgres_backend_pid() == backend else None
    if profiler:
        import pstats
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(70)
    done = args.bookings - 1
    postgres_ms = None if postgres_cpu is None else round(1000 * postgres_cpu / done, 2)
    print(json.dumps({"bookings": done, "cpu_ms_per_booking": round(1000 * cpu / done, 2),
                      "postgres_cpu_ms_per_booking": postgres_ms,
                      "wall_ms_per_booking": round(1000 * wall / done, 2)}))


def _postgres_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process on this machine (the embedded Postgres's backend)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    Counter()
    main()
