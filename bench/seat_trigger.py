"""What the seat-count trigger (ticketing migration 0010) costs the booking hot path, and what a fold costs.

    make bench-trigger                                    # the bench's embedded Postgres (var/bench)

On a fresh 2,000-seat event in the search bench's database, one connection runs a booking's three seat
statements as the services do — hold (available → held), reserve for the pending booking (no status
change), sell (held → sold) — then puts the seats back, over and over; in alternating blocks the trigger
is disabled (ALTER TABLE … DISABLE TRIGGER) and enabled. Commits are asynchronous so the figures are the
statements' own work, not the disk's. Reports the median and mean time of each statement with and without
the trigger, the difference per booking, Postgres's own account of the trigger (EXPLAIN ANALYZE), and how
long folding the deltas of 1,000 bookings takes. Writes bench/results/seat_trigger.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from bench.search import RESULTS

TRIGGERS = ("ticketing_eventseat_counts_insert", "ticketing_eventseat_counts_update",
            "ticketing_eventseat_counts_delete")
STATEMENTS = {
    "hold": "UPDATE ticketing_eventseat SET status = 'held', hold_owner = 'bench', "
            "held_until = now() + interval '10 minutes', version = pg_current_xact_id()::text::bigint "
            "WHERE event_id = %s AND id = ANY(%s) AND status = 'available' RETURNING id",
    "reserve": "UPDATE ticketing_eventseat SET held_until = now() + interval '15 minutes', "
               "version = pg_current_xact_id()::text::bigint WHERE event_id = %s AND id = ANY(%s) RETURNING id",
    "sell": "UPDATE ticketing_eventseat SET status = 'sold', held_until = NULL, "
            "version = pg_current_xact_id()::text::bigint WHERE event_id = %s AND id = ANY(%s) RETURNING id",
}
RESET = ("UPDATE ticketing_eventseat SET status = 'available', hold_owner = '', held_until = NULL "
         "WHERE event_id = %s AND id = ANY(%s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=3000, help="bookings per mode (trigger on / off)")
    parser.add_argument("--output", default=str(RESULTS / "seat_trigger.json"))
    args = parser.parse_args()

    from bench import harness
    from bench.search import _bench_database
    from evently.embedded import embedded_services

    with embedded_services(harness.BENCH_VAR_DIR) as env:
        os.environ.update(env)
        os.environ["DATABASE_URL"] = _bench_database(env["DATABASE_URL"])
        harness.django_setup()
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        _measure(args)


def _measure(args) -> None:
    from django.db import connection

    from events.summary import seat_counts_fold

    event_id, seat_ids = _fresh_event()
    pairs = [seat_ids[index:index + 2] for index in range(0, len(seat_ids) - 1, 2)]
    timings = {mode: {name: [] for name in STATEMENTS} for mode in ("off", "on")}
    blocks = 10
    per_block = max(1, args.bookings // blocks)
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        seat_counts_fold()
        for block in range(blocks * 2):
            mode = ("off", "on")[block % 2]
            cursor.execute(f"ALTER TABLE ticketing_eventseat {'ENABLE' if mode == 'on' else 'DISABLE'} TRIGGER "
                           + f", {'ENABLE' if mode == 'on' else 'DISABLE'} TRIGGER ".join(TRIGGERS))
            for index in range(per_block):
                pair = pairs[(block * per_block + index) % len(pairs)]
                for name, sql in STATEMENTS.items():
                    started = time.perf_counter()
                    cursor.execute(sql, [event_id, pair])
                    timings[mode][name].append(time.perf_counter() - started)
                cursor.execute(RESET, [event_id, pair])
        cursor.execute("ALTER TABLE ticketing_eventseat ENABLE TRIGGER " + ", ENABLE TRIGGER ".join(TRIGGERS))
        cursor.execute("DELETE FROM events_seatcountchange")
        explained = {}
        for name, sql in STATEMENTS.items():
            cursor.execute("BEGIN")
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, [event_id, pairs[0]])
            plan = cursor.fetchone()[0][0]
            explained[name] = {"statement_ms": round(plan["Execution Time"], 3),
                               "trigger_ms": round(sum(t["Time"] for t in plan.get("Triggers", [])), 3)}
            cursor.execute("ROLLBACK")
        for pair in pairs[:1000]:  # deltas of 1,000 bookings waiting for the next fold
            for sql in STATEMENTS.values():
                cursor.execute(sql, [event_id, pair])
        cursor.execute("SELECT count(*) FROM events_seatcountchange")
        pending = cursor.fetchone()[0]
    started = time.perf_counter()
    seat_counts_fold()
    fold_ms = (time.perf_counter() - started) * 1000
    with connection.cursor() as cursor:
        cursor.execute("SELECT sold_seats FROM events_eventsummary WHERE event_id = %s", [event_id])
        sold = cursor.fetchone()[0]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "bookings_per_mode": per_block * blocks,
        "statements_ms": {
            name: {mode: {"median": _ms(statistics.median(timings[mode][name])),
                          "mean": _ms(statistics.fmean(timings[mode][name]))} for mode in ("off", "on")}
            for name in STATEMENTS},
        "per_booking_extra_ms": {
            "median": _ms(sum(statistics.median(timings["on"][n]) - statistics.median(timings["off"][n])
                              for n in STATEMENTS)),
            "mean": _ms(sum(statistics.fmean(timings["on"][n]) - statistics.fmean(timings["off"][n])
                            for n in STATEMENTS))},
        "explain_analyze": explained,
        "fold": {"pending_rows": pending, "ms": round(fold_ms, 1), "sold_after_fold": sold},
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _fresh_event() -> tuple[int, list[int]]:
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.utils import timezone

    from events.models import Event, EventStatus, SeatCategory
    from ticketing.models import EventSeat
    from ticketing.services import event_inventory_create
    from venues.models import Venue
    from venues.services import venue_build_from_template

    venue = Venue.objects.create(name=f"Trigger bench {time.time():.0f}", city="Bench", latitude=52.5,
                                 longitude=13.4)
    venue_build_from_template(venue=venue, template="conference",
                              params={"rows": 25, "seats_per_block": 20, "blocks": 4})
    organizer, _ = User.objects.get_or_create(username="bench-organizer")
    starts = timezone.now() + timedelta(days=30)
    event = Event.objects.create(organizer=organizer, venue=venue, title="Trigger bench", status=EventStatus.DRAFT,
                                 starts_at=starts, ends_at=starts + timedelta(hours=2))
    category = SeatCategory.objects.create(event=event, name="Standard", price=Decimal("10"))
    event_inventory_create(event=event, section_categories={s.pk: category.pk for s in venue.sections.all()})
    return event.pk, list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))


if __name__ == "__main__":
    main()
