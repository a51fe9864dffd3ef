"""The soak (issue 13, "Load without loss"): minutes of mixed traffic, then an audit that nothing was lost.

    make soak                                           # 10 minutes, starts the app like `make run`
    make soak BENCH_ARGS="--minutes 5 --buyers 6 --viewers 300"
    make soak BENCH_URL=http://127.0.0.1:8000           # a running app (its database is found in var/)

At a paced rate the machine sustains (not as fast as it can: the point is what a long sale leaves
behind), on a fresh copy of the demo stadium event, all at once:
- buyers (wrk + bench/soak.lua, --buyers connections, --think-ms between requests): each a new visitor
  holding 1-4 seats, then releasing them, walking away so the hold lapses (the app runs with
  HOLD_TTL_SECONDS=--hold-ttl, 20 s, so lapsed holds are taken again during the run), paying with
  tok_ok or tok_declined (then half the time paying again), cancelling whole bookings or one seat;
  a share of buyers fight over a small list of "hot" seats;
- door devices (wrk + bench/soak_door.lua, logged in as door staff) scanning the tickets just issued:
  new ones (admit, or invalid for a cancelled one), repeated ones (already_admitted) and forged ones
  (invalid);
- --viewers live seat-map websocket clients (bench/viewer_client.py) connected throughout.
RSS of every app process (web, websocket, worker, Postgres, Redis) is sampled every --sample-s.

Afterwards it waits (bounded) for the worker to send the e-mails, pay the refunds and reconcile, then
audits the database: every sold seat in exactly one paid booking, one valid ticket per sold seat, every
booking answered 201 still paid (or cancelled, if its cancel was answered 200), no booking pending past
its expiry, every paid booking's tickets e-mail sent, every admission a valid ticket of a paid booking,
money charged = refunded + kept per booking, and every scan answered as expected. Exit status 2 if any
check fails, 3 if a process group's memory grew (runs of 5 minutes or more; see memory_report). Results:
bench/results/soak-<time>.json (raw wrk logs of the last run in var/bench/soak-last/) and a summary.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import checkin_scan, harness, inventory, sale, viewers  # noqa: E402
from bench.harness import log  # noqa: E402

BUYERS_LUA = Path(__file__).with_name("soak.lua")
DOOR_LUA = Path(__file__).with_name("soak_door.lua")
DEFAULT_FLOWS = "ok=50,declined=12,release=12,expire=10,cancel=8,partial=8"
MEMORY_GROUPS = ("web", "ws", "worker", "postgres", "redis")


# --- what wrk wrote (pure) --------------------------------------------------------------------------------------


@dataclass
class BuyerRequest:
    thread: int
    endpoint: str
    status: int  # 0: no answer
    latency: float
    error: str
    ref: str  # booking id of a confirm answered 201, or of a cancel
    finished: float = 0.0  # seconds on CLOCK_MONOTONIC


@dataclass
class BuyerLog:
    summary: dict
    requests: list[BuyerRequest] = field(default_factory=list)
    flows: list[tuple[str, str]] = field(default_factory=list)  # (flow, outcome)


def parse_buyers(text: str) -> BuyerLog:
    lines = text.splitlines()
    result = BuyerLog(summary=_summary_line(lines[0]))
    for line in lines[1:]:
        if line.startswith("flow,"):
            _, _, name, outcome = line.split(",", 3)
            result.flows.append((name, outcome))
        elif line:
            thread, endpoint, status, latency, finished, error, ref = line.split(",", 6)
            result.requests.append(BuyerRequest(int(thread), endpoint, int(status), int(latency) / 1e6, error, ref,
                                                int(finished) / 1e6))
    return result


@dataclass
class DoorScan:
    thread: int
    kind: str  # new_valid | new_cancelled | repeat | forged
    expected: str
    status: int
    result: str
    reason: str
    latency: float


def parse_door(text: str) -> tuple[dict, list[DoorScan]]:
    lines = text.splitlines()
    scans = []
    for line in lines[1:]:
        if line:
            thread, kind, expected, status, result, reason, latency = line.split(",", 6)
            scans.append(DoorScan(int(thread), kind, expected, int(status), result, reason, int(latency) / 1e6))
    return _summary_line(lines[0]), scans


def _summary_line(line: str) -> dict:
    return {key: int(value) for key, value in (item.split("=") for item in line[2:].split())}


# --- what the traffic says (pure) --------------------------------------------------------------------------------


def operations_report(log_: BuyerLog) -> dict:
    """Buyer flows by kind and how they ended, e.g. {"expire": {"walked_away": 120}}."""
    report: dict[str, dict[str, int]] = {}
    for name, outcome in log_.flows:
        report.setdefault(name, Counter())[outcome] += 1
    return {name: dict(sorted(outcomes.items())) for name, outcomes in sorted(report.items())}


def minutes_report(log_: BuyerLog, *, started: float) -> list[dict]:
    """Per minute of the run: buyer requests answered, bookings paid (201), p99 latency of the answers —
    a soak that slows down or fails as it goes shows here first."""
    minutes: dict[int, list[BuyerRequest]] = {}
    for r in log_.requests:
        if r.status:
            minutes.setdefault(int((r.finished - started) // 60), []).append(r)
    return [{"minute": m + 1, "answered": len(rs), "bookings": sum(1 for r in rs if r.status == 201),
             "p99_ms": harness.percentiles([r.latency for r in rs]).get("p99")}
            for m, rs in sorted(minutes.items()) if m >= 0]


def lapsed_holds_report(log_: BuyerLog) -> dict:
    """Holds of seats whose previous hold a buyer walked away from: answered 200 only if that hold
    really lapsed (by Postgres' clock, with or without the worker's sweep)."""
    holds = [r for r in log_.requests if r.endpoint == "hold" and r.ref.startswith("reheld")]
    return {"holds": len(holds), "seats": sum(int(r.ref[len("reheld"):]) for r in holds),
            "answered_200": sum(1 for r in holds if r.status == 200),
            "refused": dict(Counter(f"{r.status} {r.error}".strip() for r in holds if r.status != 200))}


def requests_report(statuses_by_endpoint: dict[str, list[tuple[int, float, str]]], seconds: float) -> dict:
    """Per endpoint: requests, answered, latency percentiles, statuses and error codes; and the totals.

    `statuses_by_endpoint`: endpoint → [(status, latency_s, error_code)]. 5xx and no answer are errors;
    4xx are answers the buyer was meant to get (409 seat taken, 402 declined), listed by code. A request
    still in flight when wrk stopped (status 0, error "cut_off") is counted apart: it is no failure."""
    endpoints, totals = {}, Counter()
    for endpoint, items in sorted(statuses_by_endpoint.items()):
        statuses = Counter(status for status, _, _ in items)
        endpoints[endpoint] = {
            "requests": len(items),
            "latency_ms": harness.percentiles([latency for status, latency, _ in items if status]),
            "status": {str(code): n for code, n in sorted(statuses.items())},
            "errors": dict(Counter(error for _, _, error in items if error).most_common()),
        }
        totals.update(statuses)
    answered = sum(n for code, n in totals.items() if code)
    cut_off = sum(1 for items in statuses_by_endpoint.values() for status, _, error in items
                  if not status and error == "cut_off")
    return {
        "requests": sum(totals.values()), "answered": answered, "cut_off_at_stop": cut_off,
        "per_second": round(answered / seconds, 1) if seconds else None,
        "by_status": {str(code): n for code, n in sorted(totals.items())},
        "server_errors_5xx": sum(n for code, n in totals.items() if code >= 500),
        "no_response": totals.get(0, 0) - cut_off,
        "endpoints": endpoints,
    }


def buyer_items(log_: BuyerLog) -> dict[str, list[tuple[int, float, str]]]:
    items: dict[str, list] = {}
    for r in log_.requests:
        items.setdefault(r.endpoint, []).append((r.status, r.latency, r.error))
    return items


def door_report(scans: list[DoorScan]) -> dict:
    """Scans by kind and result, and the answers that were not the expected one (a wrong door verdict)."""
    by_kind: dict[str, Counter] = {}
    unexpected = Counter()
    for scan in scans:
        answer = scan.result or f"http_{scan.status}"
        if scan.result == "invalid" and scan.reason:
            answer = f"invalid:{scan.reason}"
        by_kind.setdefault(scan.kind, Counter())[answer] += 1
        if scan.status and not _scan_as_expected(scan):
            unexpected[f"{scan.kind} → {answer}"] += 1
    return {"scans": len(scans), "answered": sum(1 for s in scans if s.status),
            "latency_ms": harness.percentiles([s.latency for s in scans if s.status]),
            "by_kind": {kind: dict(c.most_common()) for kind, c in sorted(by_kind.items())},
            "unexpected": dict(unexpected.most_common()),
            "admitted": sum(1 for s in scans if s.result == "admit")}


def _scan_as_expected(scan: DoorScan) -> bool:
    if scan.result != scan.expected:
        return False
    if scan.kind == "forged":
        return scan.reason == "forged"
    if scan.kind == "new_cancelled":
        return scan.reason in ("cancelled", "refunded")
    return True


def booking_answers(log_: BuyerLog) -> tuple[set[int], set[int], set[int]]:
    """(bookings answered 201, of those the ones whose whole-booking cancel was answered 200, the ones
    whose cancel got no answer: either state is right for those)."""
    paid = {int(r.ref) for r in log_.requests if r.endpoint == "confirm_ok" and r.status == 201 and r.ref}
    cancelled = {int(r.ref) for r in log_.requests if r.endpoint == "cancel" and r.status == 200 and r.ref}
    unknown = {int(r.ref) for r in log_.requests if r.endpoint in ("cancel", "cancel_part") and r.status == 0
               and r.ref}
    return paid, cancelled, unknown


def booking_answer_mismatches(paid: set[int], cancelled: set[int], unknown: set[int],
                              statuses: dict[int, str]) -> dict[int, str]:
    """Bookings whose state in the database is not what the buyer was told: a 201 booking must be
    paid, or cancelled if its cancel was answered 200; booking id → what the database says."""
    wrong = {}
    for booking_id in paid:
        status = statuses.get(booking_id, "missing")
        expected = {"cancelled"} if booking_id in cancelled else {"paid"}
        if booking_id in unknown:
            expected = {"paid", "cancelled"}
        if status not in expected:
            wrong[booking_id] = status
    return wrong


def memory_report(samples: list[dict], *, tolerance_mb: float = 20, tolerance_pct: float = 10) -> dict:
    """RSS per process group over the run: start (first sample), end, max, in MB, and whether it stayed
    flat: the mean private (anonymous) memory per process of the last quarter of samples, times the
    processes at the end, is within max(tolerance_mb, tolerance_pct) of that of the first quarter after
    the first minute (start-up: imports, caches and connections fill then). Private memory, because RSS
    also counts shared pages touched — Postgres' shared buffers fill up to `shared_buffers` as a sale
    touches more rows, which is a cache warming, not a leak.

    `samples`: [{"t": seconds since start, "groups": {group: {"rss_kb", "anon_kb", "processes"}}}].
    """
    report = {}
    groups = sorted({name for s in samples for name in s["groups"]})
    for name in groups:
        series = [(s["t"], s["groups"][name]) for s in samples if name in s["groups"]]
        if not series:
            continue
        rss = [g["rss_kb"] / 1024 for _, g in series]
        anon = [g["anon_kb"] / 1024 for _, g in series]
        settled = [i for i, (t, _) in enumerate(series) if t >= 60]
        if len(settled) < 4:  # a short run: judge it whole
            settled = list(range(len(series)))
        quarter = max(1, len(settled) // 4)
        # per process: a group that opens more of them (Postgres backends for new connections) is not
        # leaking; the growth per process is counted for every process there is at the end
        per_process = [anon[i] / max(1, series[i][1]["processes"]) for i in range(len(series))]
        early = sum(per_process[i] for i in settled[:quarter]) / quarter
        late = sum(per_process[i] for i in settled[-quarter:]) / quarter
        processes = series[-1][1]["processes"]
        growth = (late - early) * processes
        allowed = max(tolerance_mb, early * processes * tolerance_pct / 100)
        report[name] = {
            "rss_mb": {"start": round(rss[0], 1), "end": round(rss[-1], 1), "max": round(max(rss), 1)},
            "anon_mb": {"start": round(anon[0], 1), "end": round(anon[-1], 1), "max": round(max(anon), 1)},
            "processes": {"start": series[0][1]["processes"], "end": series[-1][1]["processes"]},
            "settled_anon_growth_mb": round(growth, 1), "allowed_growth_mb": round(allowed, 1),
            "flat": growth <= allowed,
        }
    return report


def viewers_summary(results: list[dict], *, wanted: int) -> dict:
    """Connected viewers, the ones refused, the ones the server closed during the run, messages each."""
    viewer_rows = [v for r in results for v in r["viewers"]]
    connected = [v for v in viewer_rows if v["connected"]]
    messages = sorted(v["messages"] for v in connected)
    return {"wanted": wanted, "connected": len(connected), "failed": len(viewer_rows) - len(connected),
            "errors": dict(Counter(v["error"] for v in viewer_rows if v["error"])),
            "closed_by_server": dict(Counter(v["closed"] for v in connected if v["closed"])),
            "messages_per_viewer": {"min": messages[0], "median": messages[len(messages) // 2],
                                    "max": messages[-1]} if messages else {},
            "bytes": sum(v["bytes"] for v in connected),
            "by_kind": dict(Counter(v["kind"] for v in connected))}


# --- memory sampling ----------------------------------------------------------------------------------------------


def rss_of(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) in kB from /proc/<pid>/status; (0, 0) for a process that is gone."""
    rss = anon = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1])
    return rss, anon


def memory_sample(groups: harness.ProcessGroups, started: float) -> dict:
    table = harness.process_table()
    sample = {"t": round(time.monotonic() - started, 1), "groups": {}}
    for name in MEMORY_GROUPS:
        processes = harness.descendants_of(groups.roots.get(name, []), table)
        if not processes:
            continue
        sizes = [rss_of(p.pid) for p in processes]
        sample["groups"][name] = {"rss_kb": sum(s[0] for s in sizes), "anon_kb": sum(s[1] for s in sizes),
                                  "processes": len(processes)}
    return sample


class MemorySampler(threading.Thread):
    """Samples RSS per group every `every` seconds until stopped (and once more at the stop)."""

    def __init__(self, groups: harness.ProcessGroups, every: float):
        super().__init__(daemon=True)
        self.groups, self.every = groups, every
        self.samples: list[dict] = []
        self.started = time.monotonic()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append(memory_sample(self.groups, self.started))
            self._stop_event.wait(self.every)

    def stop(self) -> list[dict]:
        self._stop_event.set()
        self.join(10)
        self.samples.append(memory_sample(self.groups, self.started))
        return self.samples


# --- the audit -------------------------------------------------------------------------------------------------

SOAK_CHECKS = {
    "bookings pending past their expiry": """
        SELECT count(*) FROM {Booking} WHERE event_id = %(event)s AND status = 'pending' AND expires_at < now()""",
    "paid bookings whose tickets e-mail is not sent": """
        SELECT count(*) FROM {Booking} b WHERE b.event_id = %(event)s AND b.status = 'paid'
           AND NOT EXISTS (SELECT 1 FROM {OutgoingEmail} o WHERE o.key = 'booking-tickets:' || b.id
                            AND o.sent_at IS NOT NULL)""",
    "admissions of a ticket that is not valid in a paid booking": """
        SELECT count(*) FROM {Admission} a JOIN {Ticket} t ON t.id = a.ticket_id
          JOIN {Booking} b ON b.id = t.booking_id JOIN {BookingSeat} bs ON bs.id = t.booking_seat_id
         WHERE a.event_id = %(event)s AND (t.status <> 'valid' OR b.status <> 'paid' OR NOT bs.is_active)""",
    "refunds recorded but not paid out": """
        SELECT count(*) FROM {Cancellation} c JOIN {Booking} b ON b.id = c.booking_id
         WHERE b.event_id = %(event)s AND c.refund > 0 AND c.refund_reference = ''""",
    # per booking with a succeeded charge: charged = refunded + kept, kept = seats still sold + fees
    "bookings whose money does not match (charged ≠ refunded + seats still sold + fees)": """
        SELECT count(*) FROM {Booking} b JOIN {PaymentAttempt} p ON p.idempotency_key = b.idempotency_key
         WHERE b.event_id = %(event)s AND p.status = 'succeeded'
           AND (p.refunded_amount <> COALESCE((SELECT sum(c.refund) FROM {Cancellation} c
                                                 WHERE c.booking_id = b.id), 0)
                OR p.amount - p.refunded_amount <>
                   CASE WHEN b.status = 'paid' THEN COALESCE((SELECT sum(bs.price) FROM {BookingSeat} bs
                                                                WHERE bs.booking_id = b.id AND bs.is_active), 0)
                        ELSE 0 END
                   + COALESCE((SELECT sum(c.fee) FROM {Cancellation} c WHERE c.booking_id = b.id), 0))""",
    "paid bookings without a succeeded charge": """
        SELECT count(*) FROM {Booking} b WHERE b.event_id = %(event)s AND b.status = 'paid'
           AND NOT EXISTS (SELECT 1 FROM {PaymentAttempt} p WHERE p.idempotency_key = b.idempotency_key
                            AND p.status = 'succeeded')""",
}

SOAK_COUNTS = {
    "bookings": "SELECT count(*) FROM {Booking} WHERE event_id = %(event)s",
    "cancelled_bookings": "SELECT count(*) FROM {Booking} WHERE event_id = %(event)s AND status = 'cancelled'",
    "cancellations": """SELECT count(*) FROM {Cancellation} c JOIN {Booking} b ON b.id = c.booking_id
                         WHERE b.event_id = %(event)s""",
    "cancelled_tickets": """SELECT count(*) FROM {Ticket} t JOIN {Booking} b ON b.id = t.booking_id
                             WHERE b.event_id = %(event)s AND t.status = 'cancelled'""",
    "admissions": "SELECT count(*) FROM {Admission} WHERE event_id = %(event)s",
    "scans_logged": "SELECT count(*) FROM {Scan} WHERE event_id = %(event)s",
    "tickets_emails_sent": """SELECT count(*) FROM {OutgoingEmail} o
                                 JOIN {Booking} b ON o.key = 'booking-tickets:' || b.id
                               WHERE b.event_id = %(event)s AND o.sent_at IS NOT NULL""",
    "expired_holds_left_held": """SELECT count(*) FROM {EventSeat} WHERE event_id = %(event)s AND status = 'held'
                                   AND held_until < now()""",
}

MONEY_SQL = """
SELECT COALESCE(sum(p.amount), 0), COALESCE(sum(p.refunded_amount), 0)
  FROM {Booking} b JOIN {PaymentAttempt} p ON p.idempotency_key = b.idempotency_key
 WHERE b.event_id = %(event)s AND p.status = 'succeeded'"""

KEPT_SQL = """
SELECT COALESCE((SELECT sum(bs.price) FROM {BookingSeat} bs JOIN {Booking} b ON b.id = bs.booking_id
                  WHERE b.event_id = %(event)s AND b.status = 'paid' AND bs.is_active), 0),
       COALESCE((SELECT sum(c.fee) FROM {Cancellation} c JOIN {Booking} b ON b.id = c.booking_id
                  WHERE b.event_id = %(event)s), 0)"""


def _soak_tables() -> dict[str, str]:
    from checkin.models import Admission, Scan
    from evently.models import PaymentAttempt
    from ticketing.models import Booking, BookingSeat, Cancellation, EventSeat, OutgoingEmail, Ticket

    return {m.__name__: m._meta.db_table for m in (Admission, Scan, PaymentAttempt, Booking, BookingSeat,
                                                   Cancellation, EventSeat, OutgoingEmail, Ticket)}


def _query_counts(queries: dict[str, str], event_id: int) -> dict[str, int]:
    from django.db import connection

    tables = _soak_tables()
    result = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql.format(**tables), {"event": event_id})
            result[name] = cursor.fetchone()[0]
    return result


def work_left(event_id: int) -> dict[str, int]:
    """What the worker and reconciliation still owe the event: the audit waits for it (bounded)."""
    checks = _query_counts({name: SOAK_CHECKS[name] for name in (
        "bookings pending past their expiry", "paid bookings whose tickets e-mail is not sent",
        "refunds recorded but not paid out")}, event_id)
    return {name: n for name, n in checks.items() if n}


def wait_for_worker(event_id: int, timeout: float) -> dict:
    started = time.monotonic()
    left = work_left(event_id)
    while left and time.monotonic() - started < timeout:
        time.sleep(2)
        left = work_left(event_id)
    return {"waited_s": round(time.monotonic() - started, 1), "left": left}


def money(event_id: int) -> dict:
    from django.db import connection

    tables = _soak_tables()
    with connection.cursor() as cursor:
        cursor.execute(MONEY_SQL.format(**tables), {"event": event_id})
        charged, refunded = cursor.fetchone()
        cursor.execute(KEPT_SQL.format(**tables), {"event": event_id})
        seats, fees = cursor.fetchone()
    return {"charged": str(charged), "refunded": str(refunded), "kept": str(charged - refunded),
            "kept_for_seats_sold": str(seats), "kept_as_cancellation_fees": str(fees),
            "balanced": charged - refunded == seats + fees}


def soak_audit(event_id: int, *, buyers: BuyerLog, door: dict, in_flight_slack: int, doors_in_flight: int) -> dict:
    """The sale's own audit (bench/inventory.py) plus the soak's: every answer the buyers and the door got
    is what the database says, nothing is owed, the money balances."""
    from ticketing.models import Booking

    paid, cancelled, unknown = booking_answers(buyers)
    # a partial cancel keeps the booking paid; a whole one whose answer was lost may have happened
    sale_audit = inventory.audit(event_id, confirmed_201=len(paid - cancelled - unknown),
                                 in_flight_slack=in_flight_slack + len(unknown & paid))
    checks = dict(sale_audit["checks"])
    statuses = dict(Booking.objects.filter(pk__in=paid).values_list("pk", "status"))
    wrong = booking_answer_mismatches(paid, cancelled, unknown, statuses)
    checks["bookings answered 201 that are not paid (or cancelled, as answered)"] = len(wrong)
    checks.update(_query_counts(SOAK_CHECKS, event_id))
    counts = {**sale_audit["counts"], **_query_counts(SOAK_COUNTS, event_id)}
    checks["door answers other than expected"] = sum(door["unexpected"].values())
    # every admit the door saw is one admission; admissions beyond them: scans cut off in flight
    checks["admits answered but not recorded"] = max(0, door["admitted"] - counts["admissions"])
    checks[f"admissions beyond the admits answered + scans in flight ({doors_in_flight})"] = max(
        0, counts["admissions"] - door["admitted"] - doors_in_flight)
    lapsed = lapsed_holds_report(buyers)
    checks["holds of lapsed seats refused (a hold outlived its expiry)"] = sum(
        n for answer, n in lapsed["refused"].items() if answer.startswith("409"))
    balance = money(event_id)
    checks["money: charged ≠ refunded + kept (event total)"] = 0 if balance["balanced"] else 1
    failed = {name: value for name, value in checks.items() if value}
    return {"passed": not failed, "failed": failed, "checks": checks, "counts": counts, "money": balance,
            "bookings_answered_201": len(paid), "cancels_answered_200": len(cancelled),
            "wrong_bookings": dict(list(wrong.items())[:20])}


# --- running it ---------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """The seats: each buyer thread's own, the hot list everyone fights for, the viewers' markers."""

    slices: list[list[int]]
    hot: list[int]
    markers: viewers.MarkerPlan


def seat_plan(event_id: int, *, buyers: int, hot: int, per_buyer: int, seed: int = 13) -> Plan:
    markers = viewers.marker_plan(event_id, 4)
    free = [s for s in inventory.free_seat_ids(event_id) if s not in markers.excluded]
    rng = random.Random(seed)
    hot_seats = sorted(rng.sample(free, min(hot, len(free) // 10)))
    rest = [s for s in free if s not in set(hot_seats)]
    slices = [s[:per_buyer] for s in sale.seat_slices(rest, buyers)]
    return Plan(slices=slices, hot=hot_seats, markers=markers)


def start_wrk(script: Path, *, url: str, threads: int, seconds: float, env: dict) -> subprocess.Popen:
    command = [harness.wrk_path(), f"-t{threads}", f"-c{threads}", f"-d{max(1, round(seconds))}s", "--timeout=15s",
               "-s", str(script), url]
    return subprocess.Popen(command, env={**os.environ, "LUA_PATH": sale.WRK_LUA_PATH, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def finish_wrk(process: subprocess.Popen, out: Path, *, seconds: float) -> tuple[str, float]:
    cpu_s = harness.wait_child(process, timeout=seconds + 90, interrupt=lambda elapsed: elapsed > seconds + 20)
    output = process.stdout.read().decode(errors="replace")
    if not out.exists():
        raise RuntimeError(f"wrk wrote no results (exit {process.returncode}):\n{output}")
    return out.read_text(), cpu_s


def run_soak(args, *, url: str, ws_url: str, groups: harness.ProcessGroups) -> dict:
    event = sale.fresh_event(args)
    checkin_scan.door_staff_for(event)
    plan = seat_plan(event.pk, buyers=args.buyers, hot=args.hot_seats, per_buyer=args.seats_per_buyer)
    seconds = args.minutes * 60
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        tmp = Path(tmp)
        (tmp / "seats").write_text("\n".join(",".join(map(str, s)) for s in plan.slices) + "\n")
        (tmp / "hot").write_text(",".join(map(str, plan.hot)) + "\n")
        (tmp / "tokens").write_text("")
        common = {"BENCH_EVENT": str(event.pk), "BENCH_RUN": run_id, "BENCH_ORIGIN": url,
                  "BENCH_TOKENS": str(tmp / "tokens")}
        specs = viewers.viewer_specs(args.viewers, args.mix, event.pk, plan.markers)
        clients = viewers.ViewerClients(url=url, ws_url=ws_url, specs=specs, plan=plan.markers,
                                        per_client=args.per_client, tmp=tmp, connect_timeout=60,
                                        compression="deflate") if args.viewers else None
        buyers = door = None
        try:
            connected = clients.wait_ready(timeout=90) if clients else (0, 0)
            log(f"viewers connected: {connected[0]}, failed: {connected[1]}")
            sessionid, csrftoken = checkin_scan.log_in(url)
            window_groups = harness.ProcessGroups(
                roots={**groups.roots, **({"viewers": clients.pids} if clients else {})}, notes=groups.notes)
            sampler = MemorySampler(groups, args.sample_s)
            meter = harness.CpuMeter(window_groups)
            log(f"soak: {args.minutes:g} min, {args.buyers} buyers (think {args.think_ms} ms), {args.doors} door "
                f"devices, {args.viewers} viewers, holds lapse after {args.hold_ttl} s; event {event.pk}")
            sampler.start()
            meter.start()
            if clients:
                clients.go(stop_at=time.monotonic() + seconds + 5)
            buyers = start_wrk(BUYERS_LUA, url=url, threads=args.buyers, seconds=seconds, env={
                **common, "BENCH_SEATS": str(tmp / "seats"), "BENCH_HOT": str(tmp / "hot"),
                "BENCH_OUT": str(tmp / "buyers.out"), "BENCH_THINK_MS": str(args.think_ms),
                "BENCH_HOLD_TTL_MS": str(args.hold_ttl * 1000), "BENCH_HOT_SHARE": str(args.hot_share),
                "BENCH_FLOWS": args.flows})
            door = start_wrk(DOOR_LUA, url=url, threads=args.doors, seconds=seconds, env={
                **common, "BENCH_OUT": str(tmp / "door.out"), "BENCH_COOKIE": f"sessionid={sessionid}; "
                f"csrftoken={csrftoken}", "BENCH_CSRF": csrftoken, "BENCH_DEVICES": str(args.doors),
                "BENCH_THINK_MS": str(args.door_think_ms)}) if args.doors else None
            progress = threading.Thread(target=_progress, args=(tmp / "tokens", seconds, sampler), daemon=True)
            progress.start()
            buyers_text, buyers_cpu = finish_wrk(buyers, tmp / "buyers.out", seconds=seconds)
            door_text, door_cpu = (finish_wrk(door, tmp / "door.out", seconds=seconds) if door
                                   else ("# duration_us=0", 0.0))
            _keep_raw(tmp)
            meter.stop()
            viewer_results = clients.collect(timeout=60) if clients else []
            if groups.dead_roots():
                raise sale.AppDied(f"processes of {', '.join(groups.dead_roots())} ended during the soak")
        finally:
            for process in (buyers, door):  # a failure above must not leave a load generator running
                if process and process.returncode is None:
                    process.kill()
                    harness.wait_child(process, timeout=10)
            if clients:
                clients.stop()
    buyer_log = parse_buyers(buyers_text)
    door_summary, scans = parse_door(door_text)
    window = meter.wall
    log("traffic done; waiting for in-flight work, the worker (e-mails, refunds) and reconciliation")
    inventory.wait_until_settled(event.pk)
    worker = wait_for_worker(event.pk, timeout=args.drain_timeout)
    samples = sampler.stop()
    doors = door_report(scans)
    report = {
        "event_id": event.pk,
        "window_s": round(window, 1),
        "operations": operations_report(buyer_log),
        "lapsed_holds_taken_again": lapsed_holds_report(buyer_log),
        "by_minute": minutes_report(buyer_log, started=meter.started),
        "buyers": requests_report(buyer_items(buyer_log), window),
        "door": {**doors, "requests": requests_report(
            {"scan": [(s.status, s.latency, s.reason if s.status >= 400 else "") for s in scans]}, window)},
        "viewers": viewers_summary(viewer_results, wanted=args.viewers) if viewer_results else {"wanted": 0},
        "wrk": {"buyers": {**buyer_log.summary, "cpu_s": round(buyers_cpu, 2)},
                "door": {**door_summary, "cpu_s": round(door_cpu, 2)}},
        "cpu": meter.report(per=0, extra={"loadgen": buyers_cpu + door_cpu}),
        "worker_after_traffic": worker,
        "memory": memory_report(samples),
        "memory_samples": samples,
    }
    report["requests_served"] = report["buyers"]["answered"] + report["door"]["answered"]
    report["audit"] = soak_audit(event.pk, buyers=buyer_log, door=doors, in_flight_slack=args.buyers,
                                 doors_in_flight=args.doors)
    return report


def _keep_raw(tmp: Path) -> None:
    """What wrk wrote and the tokens issued, kept in var/bench/soak-last/ for a look after a failed audit."""
    keep = harness.BENCH_VAR_DIR / "soak-last"
    keep.mkdir(parents=True, exist_ok=True)
    for name in ("buyers.out", "door.out", "tokens"):
        with contextlib.suppress(OSError):
            (keep / name).write_bytes((tmp / name).read_bytes())


def _progress(tokens: Path, seconds: float, sampler: MemorySampler) -> None:
    """A line a minute, so that a person watching knows it is alive."""
    started = time.monotonic()
    while time.monotonic() - started < seconds - 1:
        time.sleep(min(60, max(1, seconds - (time.monotonic() - started))))
        with contextlib.suppress(OSError):
            issued = sum(1 for _ in tokens.open())
            last = sampler.samples[-1]["groups"] if sampler.samples else {}
            rss = ", ".join(f"{name} {g['rss_kb'] // 1024} MB" for name, g in last.items())
            log(f"{(time.monotonic() - started) / 60:.1f} min: {issued} tickets issued; RSS {rss}")


def summary_text(result: dict) -> str:
    ops = result["operations"]
    buyers, door, audit = result["buyers"], result["door"], result["audit"]
    lines = [f"soak: {result['window_s'] / 60:.1f} min, {result['requests_served']} requests served "
             f"({buyers['answered']} buyer, {door['answered']} door; {buyers['per_second']} buyer requests/s), "
             f"5xx: {buyers['server_errors_5xx'] + door['requests']['server_errors_5xx']}, "
             f"no answer: {buyers['no_response'] + door['requests']['no_response']} "
             f"(+ {buyers['cut_off_at_stop']} in flight when the load stopped)"]
    lines.append("  buyer flows: " + "; ".join(
        f"{name} {sum(o.values())} ({', '.join(f'{k} {v}' for k, v in o.items())})" for name, o in ops.items()))
    lapsed = result["lapsed_holds_taken_again"]
    refused = f", refused {lapsed['refused']}" if lapsed["refused"] else ""
    lines.append(f"  holds of seats whose hold had lapsed: {lapsed['holds']} ({lapsed['seats']} seats), "
                 f"{lapsed['answered_200']} answered 200{refused}")
    lines.append(f"  buyer requests by status: {buyers['by_status']}")
    lines.append("  per minute (answered / bookings / p99 ms): " + ", ".join(
        f"{m['answered']}/{m['bookings']}/{m['p99_ms']}" for m in result["by_minute"]))
    for name, e in buyers["endpoints"].items():
        errors = f"  {e['errors']}" if e["errors"] else ""
        lines.append(f"    {name:17} {e['requests']:6}  p50 {e['latency_ms'].get('p50', '-')} ms  "
                     f"p99 {e['latency_ms'].get('p99', '-')} ms  {e['status']}{errors}")
    lines.append(f"  door: {door['scans']} scans, p50 {door['latency_ms'].get('p50', '-')} ms, "
                 f"p99 {door['latency_ms'].get('p99', '-')} ms: {door['by_kind']}")
    viewers_ = result["viewers"]
    if viewers_.get("wanted"):
        lines.append(f"  viewers: {viewers_['connected']}/{viewers_['wanted']} connected, closed by the server: "
                     f"{viewers_['closed_by_server'] or 'none'}, messages per viewer {viewers_['messages_per_viewer']}")
    lines.append("  memory (RSS MB start → end, max; flat?): " + "; ".join(
        f"{name} {m['rss_mb']['start']} → {m['rss_mb']['end']} (max {m['rss_mb']['max']}, "
        f"{'flat' if m['flat'] else 'GREW ' + str(m['settled_anon_growth_mb']) + ' MB'})"
        for name, m in result["memory"].items()))
    cpu = result["cpu"]
    lines.append("  CPU cores: " + ", ".join(f"{n} {g['cores']}" for n, g in cpu["groups"].items())
                 + f"; other load on the machine {cpu['other_load_cores']}")
    lines.append(f"  worker after the traffic: {result['worker_after_traffic']}")
    lines.append(f"  money: charged {audit['money']['charged']} = refunded {audit['money']['refunded']} + kept "
                 f"{audit['money']['kept']} (seats {audit['money']['kept_for_seats_sold']} + fees "
                 f"{audit['money']['kept_as_cancellation_fees']})")
    lines.append(f"  counts: {audit['counts']}")
    lines.append(f"  audit: {'passed' if audit['passed'] else 'FAILED ' + str(audit['failed'])} "
                 f"({len(audit['checks'])} checks)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sale.add_app_arguments(parser)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--buyers", type=int, default=8, help="buyer connections (one buyer at a time each)")
    parser.add_argument("--think-ms", type=int, default=300, help="a buyer's pause before each request (×0.5–1.5)")
    parser.add_argument("--flows", default=DEFAULT_FLOWS, help=f"buyer flows and weights (default {DEFAULT_FLOWS})")
    parser.add_argument("--hot-share", type=float, default=0.05, help="share of buyers after the hot seats")
    parser.add_argument("--hot-seats", type=int, default=200)
    parser.add_argument("--seats-per-buyer", type=int, default=3000)
    parser.add_argument("--hold-ttl", type=int, default=20,
                        help="HOLD_TTL_SECONDS of the app it starts (with --url: the running app's, so that "
                             "lapsed seats are retried after it)")
    parser.add_argument("--doors", type=int, default=2, help="door devices scanning")
    parser.add_argument("--door-think-ms", type=int, default=250)
    parser.add_argument("--viewers", type=int, default=300)
    parser.add_argument("--mix", type=viewers.parse_mix,
                        default=viewers.parse_mix("overview=0.4,section=0.4,event=0.2"))
    parser.add_argument("--ws-url", default=os.environ.get("BENCH_WS_URL") or None,
                        help="where viewers connect (default: the app's port + 1, as make run serves them)")
    parser.add_argument("--per-client", type=int, default=500, help="viewers per client process")
    parser.add_argument("--sample-s", type=float, default=10, help="seconds between memory samples")
    parser.add_argument("--drain-timeout", type=float, default=240,
                        help="after the traffic, wait this long for e-mails, refunds and reconciliation")
    args = parser.parse_args(argv)
    harness.wrk_path()
    harness.raise_open_files_limit()
    with harness.services(url=args.url) as env:
        if not args.url:
            # the soak's own app: holds lapse during the run; its viewers all come from 127.0.0.1
            args.extra_env = {"HOLD_TTL_SECONDS": str(args.hold_ttl), "WS_WORKERS": "1",
                              "WS_PORT": str(args.port + 1), "LIVE_MAX_SOCKETS_PER_CLIENT": "0"}
        url, groups, app = sale.start_or_find_app(args, env)
        # make run serves websockets on the port after the HTTP one (WS_WORKERS, WS_PORT)
        port = harness.url_port(url) or args.port
        ws_url = (args.ws_url or "ws" + url[len("http"):].rsplit(":", 1)[0] + f":{port + 1}").rstrip("/")
        try:
            result = harness.result_envelope("soak", {
                "url": url, "ws_url": ws_url, "started_app": app is not None,
                **(app.settings.as_dict() if app else {}), "minutes": args.minutes, "buyers": args.buyers,
                "think_ms": args.think_ms, "flows": args.flows, "hot_share": args.hot_share,
                "hot_seats": args.hot_seats, "hold_ttl_s": args.hold_ttl, "doors": args.doors,
                "door_think_ms": args.door_think_ms, "viewers": args.viewers, "mix": args.mix})
            result.update(run_soak(args, url=url, ws_url=ws_url, groups=groups))
        finally:
            if app:
                app.stop()
    harness.write_result("soak", result)
    print(summary_text(result))
    return exit_status(result, minutes=args.minutes)


def exit_status(result: dict, *, minutes: float) -> int:
    """2: the audit failed; 3: memory grew (judged only on runs of 5 minutes or more: a shorter one is
    mostly start-up); 0 otherwise."""
    if not result["audit"]["passed"]:
        return 2
    if minutes >= 5 and not all(group["flat"] for group in result["memory"].values()):
        return 3
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
