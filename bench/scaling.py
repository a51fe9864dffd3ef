"""Scaling curve (issue 11): bookings/s by concurrent buyers and by web processes, in one JSON.

    make bench-scaling
    make bench-scaling BENCH_ARGS="--buyers 1,4,16,32,64 --web-workers-list 1,2,3,4 --seconds 15"

For each web-process count the app is restarted (like `make run` with WEB_WORKERS=n); at the default
count (--web-workers, 2 as in `make run`) every buyer count is run, at the others only --at-buyers (32).
Every point sells a fresh copy of the stadium event, so no point pays for the bookings of another.
Against a running app (BENCH_URL) only the buyers sweep runs: its process count is not ours to change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, inventory, sale  # noqa: E402
from bench.harness import log  # noqa: E402


def int_list(text: str) -> list[int]:
    return [int(item) for item in text.split(",") if item.strip()]


def point_summary(report: dict, *, web_workers: int | None) -> dict:
    """The figures of one point that the curve needs; the full report stays in `runs`."""
    endpoints, cpu = report["endpoints"], report.get("cpu") or {}
    return {
        "web_workers": web_workers, "buyers": report["buyers"], "bookings_per_s": report["bookings_per_s"],
        **{f"{name}_ms": {k: endpoints[name]["latency_ms"].get(k) for k in ("p50", "p99")}
           for name in ("hold", "confirm")},
        "errors": {name: {k: endpoints[name][k] for k in ("4xx", "5xx", "no_response") if endpoints[name][k]}
                   for name in sale.ENDPOINTS},
        "server_ms_per_booking": cpu.get("server_ms_per_booking"),
        "cpu_ms_per_booking": {name: g["ms_per_booking"] for name, g in (cpu.get("groups") or {}).items()},
        "other_load_cores": cpu.get("other_load_cores"),
        "audit_passed": report["audit"]["passed"],
    }


def run_points(*, url: str, groups, web_workers: int | None, buyer_counts: list[int], args) -> list[dict]:
    points = []
    for buyers in buyer_counts:
        event = inventory.create_bench_event()
        log(f"point: {web_workers or '?'} web processes, {buyers} buyers (event {event.pk})")
        report = sale.sale_benchmark(url=url, event_id=event.pk, buyers=buyers, seconds=args.seconds,
                                     warmup=args.warmup, groups=groups, drain_timeout=args.drain_timeout)
        print(sale.summary_text(report), flush=True)
        points.append({"summary": point_summary(report, web_workers=web_workers), "report": report})
    return points


def table_text(points: list[dict]) -> str:
    lines = ["web  buyers  bookings/s  hold p50/p99 ms   confirm p50/p99 ms  server CPU ms/booking  audit"]
    for point in points:
        s = point["summary"]
        hold, confirm = s["hold_ms"], s["confirm_ms"]
        lines.append(f"{s['web_workers'] or '?'!s:>3}  {s['buyers']:>6}  {s['bookings_per_s']:>10}  "
                     f"{hold['p50']!s:>7}/{hold['p99']!s:<8} {confirm['p50']!s:>8}/{confirm['p99']!s:<9} "
                     f"{s['server_ms_per_booking']!s:>21}  {'ok' if s['audit_passed'] else 'FAILED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sale.add_app_arguments(parser)
    parser.add_argument("--buyers", type=int_list, default=[1, 4, 16, 32, 64])
    parser.add_argument("--web-workers-list", type=int_list, default=[1, 2, 3, 4])
    parser.add_argument("--at-buyers", type=int, default=32, help="buyers for the web-process sweep")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--drain-timeout", type=float, default=30,
                        help="after each point, wait this long for the worker's backlog (measured)")
    args = parser.parse_args(argv)
    harness.wrk_path()
    harness.raise_open_files_limit()
    points = []
    with harness.services(url=args.url) as env:
        if not args.keep_events:
            inventory.purge_bench_events(files_under=None if args.url else harness.BENCH_VAR_DIR)
        if args.url:
            groups = harness.app_process_groups(port=harness.url_port(args.url))
            points += run_points(url=args.url.rstrip("/"), groups=groups, web_workers=None,
                                 buyer_counts=args.buyers, args=args)
        else:
            for workers in args.web_workers_list:
                buyer_counts = args.buyers if workers == args.web_workers else [args.at_buyers]
                settings = sale.app_settings(args)
                settings.web_workers = workers
                with harness.App(settings, env) as app:
                    groups = harness.app_process_groups(app_pid=app.process.pid)
                    points += run_points(url=app.url, groups=groups, web_workers=workers,
                                         buyer_counts=buyer_counts, args=args)
        result = harness.result_envelope("scaling", {
            "url": args.url, "started_app": not args.url, "web_threads": args.web_threads,
            "q_workers": args.q_workers, "default_web_workers": args.web_workers, "seconds": args.seconds,
            "warmup": args.warmup})
    result["curve"] = [point["summary"] for point in points]
    result["runs"] = [point["report"] for point in points]
    harness.write_result("scaling", result)
    print(table_text(points))
    return 0 if all(point["summary"]["audit_passed"] for point in points) else 2


if __name__ == "__main__":
    sys.exit(main())
