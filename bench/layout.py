"""The whole 50,000-seat layout (issue 11): warm time and bytes on the wire, plain, gzip, and 304 by ETag.

    make bench-layout
    make bench-layout BENCH_ARGS="--requests 20 --event 2"

Targets from the issue: warm < 100 ms and < 1 MB on the wire. Each variant is requested once to warm up,
then --requests times one after another on one keep-alive connection (so it is the server's time, not
connection set-up); bytes are the body as transferred (compressed if the server compressed it). For
comparison the section overview and one section's layout are timed the same way. Measures the demo
stadium event as it is (statuses included) unless --event is given.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, inventory, sale  # noqa: E402
from bench.harness import log  # noqa: E402

COMPRESSED = "gzip"  # what the issue asks for; browsers also offer br and zstd


def timed_gets(client, path: str, *, requests: int, headers: dict | None = None) -> dict:
    """One warm-up GET, then `requests` timed GETs: latency percentiles, status, wire bytes, headers."""
    client.get(path, headers=headers)
    timings, response = [], None
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        response.read()
        timings.append(time.perf_counter() - started)
    return {"status": response.status_code, **harness.percentiles(timings, points=(50, 90)),
            "wire_bytes": response.num_bytes_downloaded, "decoded_bytes": len(response.content),
            "content_encoding": response.headers.get("content-encoding"), "etag": response.headers.get("etag"),
            "cache_control": response.headers.get("cache-control")}


def layout_report(url: str, event_id: int, *, requests: int) -> dict:
    import httpx

    layout = f"/api/events/{event_id}/layout"
    with httpx.Client(base_url=url, timeout=60, headers={"Accept-Encoding": "identity"}) as client:
        report = {"plain": timed_gets(client, layout, requests=requests)}
        report["compressed"] = timed_gets(client, layout, requests=requests,
                                          headers={"Accept-Encoding": COMPRESSED})
        etag = report["plain"]["etag"] or report["compressed"]["etag"]
        report["if_none_match"] = (timed_gets(client, layout, requests=requests, headers={
            "If-None-Match": etag, "Accept-Encoding": COMPRESSED}) if etag else {"supported": False})
        sections = client.get(f"/api/events/{event_id}/sections").json()["sections"]
        section_id = sections[0].get("section_id", sections[0].get("id"))
        report["sections_overview"] = timed_gets(client, f"/api/events/{event_id}/sections", requests=requests,
                                                 headers={"Accept-Encoding": COMPRESSED})
        report["one_section_layout"] = timed_gets(client, f"/api/events/{event_id}/sections/{section_id}/layout",
                                                  requests=requests, headers={"Accept-Encoding": COMPRESSED})
    return report


def summary_text(report: dict) -> str:
    lines = []
    for name, entry in report.items():
        if "p50" in entry:
            lines.append(f"{name:20} {entry['status']}  p50 {entry['p50']:>8} ms  p90 {entry['p90']:>8} ms  "
                         f"{entry['wire_bytes']:>10,} bytes on the wire ({entry['content_encoding'] or 'identity'})")
        else:
            lines.append(f"{name:20} not supported by the server")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sale.add_app_arguments(parser)
    parser.add_argument("--event", type=int, default=None, help="event id (default: the demo stadium event)")
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args(argv)
    with harness.services(url=args.url) as env:
        from ticketing.models import EventSeat

        url, _, app = sale.start_or_find_app(args, env)
        try:
            event_id = args.event or inventory.demo_stadium_event().pk
            seats = EventSeat.objects.filter(event_id=event_id).count()
            log(f"layout of event {event_id} ({seats} seats)")
            result = harness.result_envelope("layout", {
                "url": url, "started_app": app is not None, **(app.settings.as_dict() if app else {}),
                "event_id": event_id, "seats": seats, "requests": args.requests})
            result["layout"] = layout_report(url, event_id, requests=args.requests)
        finally:
            if app:
                app.stop()
    harness.write_result("layout", result)
    print(summary_text(result["layout"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
