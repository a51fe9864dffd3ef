"""The sale benchmark (issue 11): N concurrent new buyers book 2 seats each as fast as they can.

    make bench                                        # starts the app like `make run`, 32 buyers, 20 s
    make bench BENCH_ARGS="--buyers 64 --seconds 30 --web-workers 4"
    make bench BENCH_URL=http://127.0.0.1:8000        # a running app (its database is found in var/)
    make bench-flat                                   # sell out a whole 50,000-seat stadium

wrk (C, ~0.1 ms of CPU per booking) plays the buyers with bench/sale.lua: every booking is a new visitor
(session, hold, confirm with `tok_ok` and an e-mail of its own) on a fresh copy of the demo stadium event,
each wrk thread with its own disjoint slice of free seats. Reports bookings/s, p50/p90/p99 per endpoint,
statuses and error codes per endpoint, CPU-ms per booking per process group (web, worker, Postgres,
Redis, wrk), then audits the database (every sold seat in exactly one paid booking, tickets = sold seats,
paid bookings = confirms answered 201) and exits non-zero if an invariant is broken.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # `python bench/sale.py` as well as `python -m bench.sale`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, inventory  # noqa: E402
from bench.harness import log  # noqa: E402

LUA_SCRIPT = Path(__file__).with_name("sale.lua")
WRK_LUA_PATH = f"{Path(__file__).parent}/?.lua;;"  # the scripts' shared module, bench/wrk_common.lua
ENDPOINTS = ("session", "hold", "confirm")


class AppDied(RuntimeError):
    """The app under test went away during a run: its figures would be garbage."""


@dataclass
class Record:
    """One request as wrk's Lua script saw it (times in seconds on CLOCK_MONOTONIC, like time.monotonic())."""

    thread: int
    endpoint: str
    status: int  # 0: no answer (connection reset / still in flight at a thread's stop)
    latency: float
    finished: float
    error: str


@dataclass
class WrkRun:
    records: list[Record]
    duration_s: float
    started: float
    cpu_s: float
    summary: dict
    threads_out_of_seats: int
    cpu: dict = field(default_factory=dict)

    def confirms_201(self) -> list[Record]:
        return [r for r in self.records if r.endpoint == "confirm" and r.status == 201]


# --- driving wrk ----------------------------------------------------------------------------------------------


def seat_slices(seat_ids: list[int], threads: int) -> list[list[int]]:
    """Adjacent pairs, dealt round-robin: slices are disjoint (no buyer ever fights another for a seat)
    and every thread runs out at about the same time (a sell-out keeps all buyers busy to the end)."""
    slices: list[list[int]] = [[] for _ in range(threads)]
    for index in range(0, len(seat_ids) - 1, 2):
        slices[(index // 2) % threads].extend(seat_ids[index:index + 2])
    return slices


def run_wrk(*, url: str, event_id: int, slices: list[list[int]], seconds: float, groups=None,
            timeout_s: float = 10) -> WrkRun:
    """One wrk run with len(slices) buyers; CPU of the app's process groups measured around it.

    Ends after `seconds`, or earlier once every thread has used up its seats. Bounded: wrk is
    interrupted (it still reports) and, failing that, killed.
    """
    buyers = len(slices)
    with tempfile.TemporaryDirectory(prefix="bench-sale-") as tmp:
        tmp = Path(tmp)
        (tmp / "seats").write_text("\n".join(",".join(map(str, s)) for s in slices) + "\n")
        env = {**os.environ, "BENCH_SEATS": str(tmp / "seats"), "BENCH_OUT": str(tmp / "out"),
               "BENCH_DONE": str(tmp / "done"), "BENCH_EVENT": str(event_id), "BENCH_RUN": uuid.uuid4().hex[:8],
               "BENCH_ORIGIN": url.rstrip("/"), "LUA_PATH": WRK_LUA_PATH}
        command = [harness.wrk_path(), f"-t{buyers}", f"-c{buyers}", f"-d{max(1, round(seconds))}s",
                   f"--timeout={timeout_s:.0f}s", "-s", str(LUA_SCRIPT), url]
        meter = harness.CpuMeter(groups) if groups else None
        if meter:
            meter.start()
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        done_file = tmp / "done"
        cpu_s = harness.wait_child(
            process, timeout=seconds + 60,
            interrupt=lambda elapsed: elapsed > seconds + 5 or _all_out_of_seats(done_file, buyers))
        if meter:
            meter.stop()
        output = process.stdout.read().decode(errors="replace")
        if not (tmp / "out").exists():
            raise RuntimeError(f"wrk wrote no results (exit {process.returncode}):\n{output}")
        summary, records = parse_wrk_output((tmp / "out").read_text())
        threads_done = len((tmp / "done").read_text().split()) if (tmp / "done").exists() else 0
    run = WrkRun(records=records, duration_s=summary["duration_us"] / 1e6, started=started, cpu_s=cpu_s,
                 summary=summary, threads_out_of_seats=threads_done)
    if meter:
        dead = groups.dead_roots()
        if dead:
            raise AppDied(f"processes of {', '.join(dead)} ended during the run (was the app stopped?)")
        run.cpu = meter.report(per=len(run.confirms_201()), extra={"loadgen": cpu_s})
    return run


def _all_out_of_seats(done_file: Path, buyers: int) -> bool:
    """wrk's main thread sleeps for the whole duration even when every thread has stopped: it is
    interrupted then (on SIGINT wrk reports as usual)."""
    return done_file.exists() and len(done_file.read_text().split()) >= buyers


def parse_wrk_output(text: str) -> tuple[dict, list[Record]]:
    lines = text.splitlines()
    summary = {key: int(value) for key, value in (item.split("=") for item in lines[0][2:].split())}
    records = []
    for line in lines[1:]:
        thread, endpoint, status, latency, finished, error = line.split(",", 5)
        records.append(Record(int(thread), endpoint, int(status), int(latency) / 1e6, int(finished) / 1e6, error))
    return summary, records


# --- what a run says -----------------------------------------------------------------------------------------


def endpoint_report(records: list[Record]) -> dict:
    """Per endpoint: requests, latency percentiles (answered requests), statuses, error codes."""
    report = {}
    for endpoint in ENDPOINTS:
        mine = [r for r in records if r.endpoint == endpoint]
        statuses = Counter(r.status for r in mine)
        report[endpoint] = {
            "requests": len(mine),
            "latency_ms": harness.percentiles([r.latency for r in mine if r.status]),
            "status": {str(code): n for code, n in sorted(statuses.items())},
            "2xx": sum(n for code, n in statuses.items() if 200 <= code < 300),
            "4xx": sum(n for code, n in statuses.items() if 400 <= code < 500),
            "5xx": sum(n for code, n in statuses.items() if code >= 500),
            "409": statuses.get(409, 0),
            "429": statuses.get(429, 0),
            "no_response": statuses.get(0, 0),
            "errors": dict(Counter(r.error for r in mine if r.error).most_common()),
        }
    return report


def timeline(run: WrkRun, bucket_s: float = 1.0) -> list[int]:
    """Confirmed bookings per second of the run: shows warm-up effects, stalls and slow-downs."""
    counts: dict[int, int] = defaultdict(int)
    for record in run.confirms_201():
        counts[int((record.finished - run.started) // bucket_s)] += 1
    return [counts.get(i, 0) for i in range(int(run.duration_s // bucket_s) + 1)]


def decile_rates(run: WrkRun) -> dict:
    """Bookings/s over each tenth of the bookings made (flat-cost check: the last tenth vs the first)."""
    ends = sorted(r.finished for r in run.confirms_201())
    if len(ends) < 20:
        return {}
    bounds = [round(len(ends) * i / 10) for i in range(11)]
    times = [run.started] + ends
    rates = [round((bounds[i + 1] - bounds[i]) / max(1e-6, times[bounds[i + 1]] - times[bounds[i]]), 1)
             for i in range(10)]
    return {"bookings_per_s_by_tenth": rates, "first_10pct": rates[0], "last_10pct": rates[-1],
            "last_vs_first": round(rates[-1] / rates[0], 3) if rates[0] else None,
            # the very last tenth also sees the buyers finish one by one; the 9th is free of that effect
            "ninth_vs_first": round(rates[-2] / rates[0], 3) if rates[0] else None}


def run_report(run: WrkRun, *, buyers: int) -> dict:
    bookings = len(run.confirms_201())
    holds = sum(1 for r in run.records if r.endpoint == "hold" and r.status == 200)
    return {
        "buyers": buyers,
        "duration_s": round(run.duration_s, 2),
        "bookings": bookings,
        "bookings_per_s": round(bookings / run.duration_s, 1) if run.duration_s else 0,
        "holds_per_s": round(holds / run.duration_s, 1) if run.duration_s else 0,
        "requests_per_s": round(len(run.records) / run.duration_s, 1) if run.duration_s else 0,
        "endpoints": endpoint_report(run.records),
        "cpu": run.cpu,
        "bookings_per_second_timeline": timeline(run),
        "threads_out_of_seats": run.threads_out_of_seats,
        "wrk": {**run.summary, "cpu_s": round(run.cpu_s, 3)},
    }


# --- one benchmark: warm-up, timed run, audit -------------------------------------------------------------------


def sale_benchmark(*, url: str, event_id: int, buyers: int, seconds: float, warmup: float, groups=None,
                   exclude: frozenset[int] = frozenset(), sellout: bool = False,
                   warmup_event_id: int | None = None, seats: int | None = None, drain_timeout: float = 120) -> dict:
    """Warm-up (not reported), the timed run on the event's free seats, the audit.

    The warm-up sells seats of `warmup_event_id` if given, else a share of the event's own seats.
    `sellout`: run until every free seat is sold (bounded by `seconds`) and report bookings/s per tenth.
    `exclude`: seats the buyers must leave alone (the viewers' marker seats); `seats`: offer only that many.
    """
    seat_ids = [s for s in inventory.free_seat_ids(event_id) if s not in exclude][:seats]
    background = bool(groups and groups.roots.get("worker") and drain_timeout)
    idle = harness.idle_cores(groups) if background else {}
    confirmed, seat_ids = _warm_up(url=url, event_id=event_id, seat_ids=seat_ids, buyers=buyers, seconds=warmup,
                                   warmup_event_id=warmup_event_id) if warmup else (0, seat_ids)
    worker = harness.wait_worker_idle() if groups and groups.roots.get("worker") else {}
    log(f"timed run: {buyers} buyers, {'sell-out of ' if sellout else ''}{len(seat_ids)} seats, "
        f"at most {seconds:.0f}s")
    run = run_wrk(url=url, event_id=event_id, slices=seat_slices(seat_ids, buyers), seconds=seconds, groups=groups)
    report = run_report(run, buyers=buyers)
    report["worker_queue"] = {**worker, "queue_at_end": harness.worker_queue_size(),
                              "unsent_emails_at_end": harness.unsent_bench_emails()}
    if background:
        _add_backlog(report, groups=groups, idle=idle, timeout=drain_timeout)
    if sellout:
        report["flat_cost"] = {"seats_offered": len(seat_ids), **decile_rates(run)}
    inventory.wait_until_settled(event_id)
    report["audit"] = inventory.audit(event_id, confirmed_201=confirmed + report["bookings"],
                                      in_flight_slack=buyers * (2 if warmup and not warmup_event_id else 1))
    return report


def _warm_up(*, url: str, event_id: int, seat_ids: list[int], buyers: int, seconds: float,
             warmup_event_id: int | None) -> tuple[int, list[int]]:
    """A short untimed sale first, so that connections, caches and imports are warm when timing starts.

    Sells seats of `warmup_event_id`, or a share of the event's own seats; returns the confirms it saw
    answered 201 on the benchmark's event (for the audit) and the seats left for the timed run."""
    log(f"warm-up: {seconds:.0f}s")
    warm_ids = (inventory.free_seat_ids(warmup_event_id) if warmup_event_id
                else seat_ids[:min(len(seat_ids) // 5, buyers * 2 * max(20, int(seconds * 40)))])
    warm = run_wrk(url=url, event_id=warmup_event_id or event_id, slices=seat_slices(warm_ids, buyers),
                   seconds=seconds)
    if warmup_event_id:
        return 0, seat_ids
    return len(warm.confirms_201()), seat_ids[len(warm_ids):]


def _add_backlog(report: dict, *, groups, idle: dict, timeout: float) -> None:
    """The worker's backlog after the window, measured while it drains (see harness.drain_worker)."""
    worker = report["worker_queue"]
    report["after_window"] = harness.drain_worker(
        groups, per=report["bookings"], timeout=timeout, idle=idle,
        backlog_before_window=(worker.get("queue_at_start") or 0) + (worker.get("unsent_emails_at_start") or 0))
    deferred = report["after_window"]["ms_per_booking"].get("worker")
    report["cpu"]["worker_ms_per_booking_incl_backlog"] = None if deferred is None else round(
        (report["cpu"]["groups"]["worker"]["ms_per_booking"] or 0) + deferred, 3)


def summary_text(report: dict) -> str:
    """The few lines a person reads after a run."""
    endpoints = report["endpoints"]
    lines = [f"{report['buyers']} buyers, {report['duration_s']} s: {report['bookings']} bookings = "
             f"{report['bookings_per_s']} bookings/s ({report['requests_per_s']} requests/s)"]
    for name in ENDPOINTS:
        e = endpoints[name]
        latency = e["latency_ms"]
        lines.append(f"  {name:8} p50 {latency.get('p50', '-'):>8} ms  p99 {latency.get('p99', '-'):>8} ms  "
                     f"2xx {e['2xx']}  4xx {e['4xx']} (409: {e['409']}, 429: {e['429']})  5xx {e['5xx']}"
                     f"{'  errors ' + str(e['errors']) if e['errors'] else ''}")
    cpu = report.get("cpu") or {}
    if cpu.get("groups"):
        per = ", ".join(f"{name} {g['ms_per_booking']}" for name, g in cpu["groups"].items()
                        if g["ms_per_booking"] is not None)
        lines.append(f"  CPU ms per booking: {per}; server total {cpu['server_ms_per_booking']} "
                     f"(other load on the machine: {cpu['other_load_cores']} cores)")
        if "worker_ms_per_booking_incl_backlog" in cpu:
            after = report["after_window"]
            total = cpu["worker_ms_per_booking_incl_backlog"]
            how = "extrapolated from the share drained" if after["estimated"] else "drained"
            lines.append(f"  worker incl. the backlog left after the window ({after['backlog_at_start']} tasks and "
                         f"e-mails): " + (f"{total} ms/booking ({how} in {after['seconds']} s)" if total is not None
                                          else f"not measured: nothing drained within {after['seconds']} s"))
    if report.get("flat_cost"):
        flat = report["flat_cost"]
        lines.append(f"  flat cost: first 10% {flat.get('first_10pct')} /s, last 10% {flat.get('last_10pct')} /s "
                     f"(ratio {flat.get('last_vs_first')}), by tenth {flat.get('bookings_per_s_by_tenth')}")
    audit = report["audit"]
    lines.append(f"  audit: {'passed' if audit['passed'] else 'FAILED ' + str(audit['failed'])} "
                 f"({audit['counts']['sold_seats']} sold seats, {audit['counts']['paid_bookings']} paid bookings, "
                 f"{audit['confirmed_201_seen']} confirms answered 201)")
    return "\n".join(lines)


# --- command line ------------------------------------------------------------------------------------------------


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the app is: a running one (--url / BENCH_URL), or one we start like `make run`."""
    parser.add_argument("--url", default=os.environ.get("BENCH_URL") or None,
                        help="a running app (default: start one like `make run`)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", harness.DEFAULT_PORT)))
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", 2)))
    parser.add_argument("--web-threads", type=int, default=int(os.environ.get("WEB_THREADS", 8)))
    parser.add_argument("--q-workers", type=int, default=int(os.environ.get("Q_WORKERS", 2)))
    parser.add_argument("--web-server", choices=["granian", "uvicorn"], default=os.environ.get("WEB_SERVER") or None,
                        help="the HTTP server (default: make run's)")
    parser.add_argument("--keep-events", action="store_true", help="do not delete earlier [bench] events")


def app_settings(args) -> harness.AppSettings:
    return harness.AppSettings(port=args.port, web_workers=args.web_workers, web_threads=args.web_threads,
                               q_workers=args.q_workers,
                               extra_env={**({"WEB_SERVER": args.web_server} if args.web_server else {}),
                                          **(getattr(args, "extra_env", None) or {})})


def start_or_find_app(args, env: dict):
    """(url, groups, app or None): the app under test and its process groups for CPU accounting."""
    if args.url:
        url = args.url.rstrip("/")
        return url, harness.app_process_groups(port=harness.url_port(url)), None
    app = harness.App(app_settings(args), env).start()
    return app.url, harness.app_process_groups(app_pid=app.process.pid), app


def fresh_event(args, **kwargs):
    if not args.keep_events:
        purged = inventory.purge_bench_events(files_under=None if args.url else harness.BENCH_VAR_DIR)
        if purged["events_deleted"]:
            log(f"deleted {purged['events_deleted']} earlier bench event(s) in {purged['seconds']}s")
    event = inventory.create_bench_event(**kwargs)
    log(f"bench event {event.pk}: {event.title} ({event.seats.count()} seats)")
    return event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_app_arguments(parser)
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=None,
                        help="timed window (default 20); with --sellout the upper bound (default 1800)")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--sellout", action="store_true", help="flat-cost mode: sell every seat of the event")
    parser.add_argument("--seats", type=int, default=None,
                        help="offer only the first N free seats (e.g. a shorter sell-out: --sellout --seats 10000)")
    parser.add_argument("--name", default=None, help="result file name (default: sale or sellout)")
    parser.add_argument("--drain-timeout", type=float, default=120,
                        help="after the window, wait this long for the worker's backlog and measure it (0: skip)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (1800 if args.sellout else 20)
    name = args.name or ("sellout" if args.sellout else "sale")
    harness.wrk_path()
    harness.raise_open_files_limit()
    with harness.services(url=args.url) as env:
        url, groups, app = start_or_find_app(args, env)
        try:
            event = fresh_event(args)
            # a sell-out must start warm without selling any of its own seats: warm up on another copy
            warmup_event = inventory.create_bench_event() if args.sellout and args.warmup else None
            result = harness.result_envelope(name, {
                "url": url, "started_app": app is not None, **(app.settings.as_dict() if app else {}),
                "buyers": args.buyers, "seconds": args.seconds, "warmup": args.warmup, "sellout": args.sellout,
                "seats": args.seats,
                "event_id": event.pk, "event": event.title})
            result.update(sale_benchmark(url=url, event_id=event.pk, buyers=args.buyers, seconds=args.seconds,
                                         warmup=args.warmup, groups=groups, sellout=args.sellout,
                                         warmup_event_id=warmup_event.pk if warmup_event else None,
                                         seats=args.seats, drain_timeout=args.drain_timeout))
        finally:
            if app:
                app.stop()
    harness.write_result(name, result)
    print(summary_text(result))
    return 0 if result["audit"]["passed"] else 2


if __name__ == "__main__":
    sys.exit(main())
