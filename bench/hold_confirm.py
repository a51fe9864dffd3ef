"""Load a running Evently server with buyers who hold two seats and pay for them.

    make run                                   # in one terminal
    .venv/bin/python bench/hold_confirm.py --clients 32 --seconds 20

Each client plays buyer after buyer: a new session (cookie + CSRF token), two free seats from a
shared, shuffled pool of the event's available seats (so seats are not fought over unless
--contention is set), a hold and a confirm with the fake provider's `tok_ok`.
Writes JSON with holds/s, bookings/s, p50/p99 latencies and error counts to bench/results/.
The load generator shares the machine's cores with the server: numbers are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)


async def pick_event(client: httpx.AsyncClient, event_id: int | None) -> int:
    if event_id:
        return event_id
    # The demo's stadium; the catalogue's hundreds of small events come first by date.
    events = (await client.get("/api/events", params={"q": "Championship Final"})).json()["results"]
    events = events or (await client.get("/api/events", params={"page_size": 100})).json()["results"]
    return max(events, key=lambda e: e["available_seats"])["id"]


async def buyer(base_url: str, event_id: int, pool: list[int], deadline: float, stats: dict, contention: float,
                hot: list[int]) -> None:
    """One connection playing many buyers in turn: each booking is a new session, as in a real sale."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while time.monotonic() < deadline:
            client.cookies.clear()
            token = (await client.get("/api/session")).json()["csrf_token"]
            headers = {"X-CSRFToken": token, "Referer": base_url}
            if contention and random.random() < contention:
                seats = random.sample(hot, 2)
            elif len(pool) >= 2:
                seats = [pool.pop(), pool.pop()]
            else:
                stats["errors"]["pool_exhausted"] += 1
                return
            started = time.monotonic()
            held = await client.post("/api/seats/hold", json={"event_id": event_id, "seat_ids": seats},
                                     headers=headers)
            stats["hold_latency"].append(time.monotonic() - started)
            if held.status_code != 200:
                stats["errors"][f"hold_{held.json().get('error', held.status_code)}"] += 1
                continue
            stats["holds"] += 1
            started = time.monotonic()
            confirmed = await client.post("/api/bookings/confirm", headers=headers, json={
                "event_id": event_id, "payment_token": "tok_ok", "idempotency_key": f"bench-{token[:24]}",
                "customer": {"name": "Bench Buyer", "email": f"bench-{token[:12].lower()}@example.com"}})
            stats["confirm_latency"].append(time.monotonic() - started)
            if confirmed.status_code == 201:
                stats["bookings"] += 1
            else:
                stats["errors"][f"confirm_{confirmed.json().get('error', confirmed.status_code)}"] += 1
                await client.post("/api/seats/release", json={"event_id": event_id, "seat_ids": seats},
                                  headers=headers)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--event", type=int, default=None, help="event id (default: the one with most free seats)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--contention", type=float, default=0.0,
                        help="share of attempts that go for the same 200 hot seats (0..1)")
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    async with httpx.AsyncClient(base_url=args.url, timeout=60) as client:
        event_id = await pick_event(client, args.event)
        layout = (await client.get(f"/api/events/{event_id}/layout")).json()
    pool = [seat["id"] for s in layout["sections"] for r in s["rows"] for seat in r["seats"]
            if seat["status"] == "available"]
    random.shuffle(pool)
    hot = pool[-200:]
    stats = {"holds": 0, "bookings": 0, "hold_latency": [], "confirm_latency": [], "errors": Counter()}
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(*(buyer(args.url, event_id, pool, deadline, stats, args.contention, hot)
                           for _ in range(args.clients)))
    elapsed = time.monotonic() - started
    result = {
        "benchmark": "hold_confirm", "label": args.label, "url": args.url, "event_id": event_id,
        "clients": args.clients, "seconds": round(elapsed, 2), "contention": args.contention,
        "holds_per_s": round(stats["holds"] / elapsed, 1), "bookings_per_s": round(stats["bookings"] / elapsed, 1),
        "hold_ms": {"p50": percentile(stats["hold_latency"], 0.5), "p99": percentile(stats["hold_latency"], 0.99)},
        "confirm_ms": {"p50": percentile(stats["confirm_latency"], 0.5),
                       "p99": percentile(stats["confirm_latency"], 0.99)},
        "mean_hold_ms": round(statistics.mean(stats["hold_latency"]) * 1000, 2) if stats["hold_latency"] else None,
        "errors": dict(stats["errors"]),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"hold_confirm-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
