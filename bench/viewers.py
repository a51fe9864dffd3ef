"""Live seat-map viewers during the sale (issue 19): delivery latency per view type, and what they cost the sale.

    make bench-viewers                                          # 1,000 viewers + 32 buyers, and 0 viewers
    make bench-viewers BENCH_ARGS="--viewers 1000,5000 --per-client 1000"
    make bench-viewers BENCH_ARGS="--viewers 1000 --buyers 0"   # marker holds only, no sale
    make bench-viewers BENCH_ARGS="--mix overview=0.5,section=0.5"

N websocket viewers (asyncio + `websockets`, in --per-client sized processes) watch a fresh copy of the
stadium event while wrk plays the sale (bench/sale.lua). View types:
  event     /ws/events/{id}/seats                 every seat change of the event (today's stream)
  section   /ws/events/{id}/seats?section={sid}   the changes of one section
  overview  /ws/events/{id}/sections              per-section availability counts
--mix chooses the split; by default half overview / half section when the server accepts /sections, else
all `event`. A view type the server refuses (handshake rejected or closed) is reported as unsupported.

Markers: every --interval (0.3 s) a probe holds one marker seat and records the time just before the hold
request; each viewer timestamps the arrival of that seat's "held" change. Markers alternate between busy
sections (the sale sells there too) and one quiet section that the sale leaves alone. After a cycle of 8
holds the probe releases the busy ones, pauses 1 s, and uses the next set of busy marker seats (a seat
comes back only every 4 cycles, long after the 5-second miss limit); quiet markers stay held to the end.
Delivery, per view type:
  event / section: the first "held" change of the marker seat after its hold started;
  overview: the first counts message after the hold started whose quiet-section count is ≤ A − j for the
            window's j-th quiet hold (A: the quiet section's count before the first; only marker holds
            change it and none is released, so the count only falls, and such a count can only reflect
            the hold — never a sale, never an older message). No transient value has to be seen.
Also reported for event / section: delivery after the hold's HTTP answer (what the live path itself adds).
Reported: delivery p50/p90/p99 per view type, deliveries missing after 5 s, messages and bytes per viewer
per second, bookings/s with viewers vs without, CPU per process group (viewers' clients included), and
the clients' own event-loop lag (when it is high, the client — not the server — is the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, inventory, sale  # noqa: E402
from bench.harness import log  # noqa: E402

MISS_AFTER_S = 5.0
HOLDS_PER_CYCLE = 8
MARKER_SETS = 4  # cycles before a busy marker seat is used again
QUIET_MARKERS = 600  # quiet markers are never reused within a window (600 × 0.6 s: 6 minutes)
VIEW_TYPES = ("event", "section", "overview")


# --- which seats are markers -------------------------------------------------------------------------------------


@dataclass
class MarkerPlan:
    """Marker seats per cycle (alternating quiet / busy sections) and the quiet section's full count A."""

    quiet_section: int
    busy_sections: list[int]
    cycles: list[list[int]]  # MARKER_SETS lists of busy seat ids, in hold order
    section_of: dict[int, int]
    quiet_available: int
    excluded: frozenset[int]  # seats the buyers leave alone: the quiet section and every marker
    quiet_pool: list[int] = field(default_factory=list)  # quiet markers, each used once per window

    def cycle(self, index: int) -> list[int]:
        """This cycle's markers: quiet and busy alternating (quiet ones never repeat; busy ones every 4 cycles)."""
        busy = self.cycles[index % len(self.cycles)]
        per_cycle = len(busy)
        quiet = self.quiet_pool[index * per_cycle:(index + 1) * per_cycle]
        if len(quiet) < per_cycle:  # the quiet pool is used up (a very long window): busy markers only
            return busy
        return [seat for pair in zip(quiet, busy, strict=True) for seat in pair]


def marker_plan(event_id: int, busy_count: int) -> MarkerPlan:
    """The last section of the venue is the quiet one; the first `busy_count` are the busy ones."""
    from ticketing.models import EventSeat

    rows = list(EventSeat.objects.filter(event_id=event_id, status="available")
                .order_by("seat__section__position", "seat__section_id", "id").values_list("id", "seat__section_id"))
    by_section: dict[int, list[int]] = {}
    for seat_id, section_id in rows:
        by_section.setdefault(section_id, []).append(seat_id)
    sections = list(by_section)
    quiet, busy = sections[-1], sections[:max(1, min(busy_count, len(sections) - 1))]
    per_cycle = HOLDS_PER_CYCLE // 2  # quiet and busy markers alternate
    quiet_pool = by_section[quiet][:QUIET_MARKERS]
    # busy markers from the middle of each busy section, none used twice within MARKER_SETS cycles
    busy_pool = {s: by_section[s][len(by_section[s]) // 2:][:per_cycle * MARKER_SETS] for s in busy}
    cycles = []
    for index in range(MARKER_SETS):
        cycles.append([busy_pool[busy[(index * per_cycle + j) % len(busy)]][index * per_cycle + j]
                       for j in range(per_cycle)])
    markers = {seat for cycle in cycles for seat in cycle} | set(quiet_pool)
    section_of = {seat: section for seat, section in rows if seat in markers}
    return MarkerPlan(quiet_section=quiet, busy_sections=busy, cycles=cycles, section_of=section_of,
                      quiet_available=len(by_section[quiet]), excluded=frozenset(set(by_section[quiet]) | markers),
                      quiet_pool=quiet_pool)


# --- the probe ---------------------------------------------------------------------------------------------------


@dataclass
class MarkerHold:
    seat: int
    section: int
    cycle: int
    quiet_index: int | None  # j: the j-th hold in the quiet section in this window (1-based)
    started: float  # just before the hold request
    status: int = 0
    answered: float = 0.0


@dataclass
class ProbeLog:
    holds: list[MarkerHold] = field(default_factory=list)
    releases: list[float] = field(default_factory=list)  # when each cycle's release was answered
    errors: list[str] = field(default_factory=list)
    headers: dict = field(default_factory=dict)  # the current probe buyer's CSRF headers
    quiet_holds: int = 0  # quiet-section holds so far in the window


async def marker_probe(url: str, event_id: int, plan: MarkerPlan, *, until: float, interval: float) -> ProbeLog:
    """Cycles of HOLDS_PER_CYCLE marker holds, one every `interval`, then one release; a new buyer per cycle
    (the hold rate limit and the per-buyer seat limit apply to the probe too)."""
    import httpx

    probe = ProbeLog()
    cycle = 0
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while time.monotonic() < until:
            held = await _marker_cycle(client, url, event_id, plan, cycle, until=until, interval=interval,
                                       probe=probe)
            held = [seat for seat in held if plan.section_of[seat] != plan.quiet_section]  # quiet ones stay held
            if held:
                await _probe_post(client, probe, "release", "/api/seats/release",
                                  {"event_id": event_id, "seat_ids": held}, probe.headers)
            probe.releases.append(time.monotonic())
            cycle += 1
            await asyncio.sleep(1.0)
    return probe


async def _marker_cycle(client, url, event_id, plan, cycle, *, until, interval, probe) -> list[int]:
    """One cycle's holds by a new buyer; returns the seats held. Errors are logged, never raised: an
    overloaded server is a result, not a reason to stop measuring."""
    import httpx

    client.cookies.clear()
    try:
        token = (await client.get("/api/session")).json()["csrf_token"]
    except (httpx.HTTPError, ValueError, KeyError) as error:
        probe.errors.append(f"session {type(error).__name__}")
        await asyncio.sleep(interval)
        return []
    probe.headers = {"X-CSRFToken": token, "Origin": url, "Referer": f"{url}/events/{event_id}/"}
    held = []
    for seat in plan.cycle(cycle):
        if time.monotonic() >= until:
            break
        quiet = plan.section_of[seat] == plan.quiet_section
        probe.quiet_holds += quiet  # quiet holds stay held to the end: the quiet count only falls
        hold = MarkerHold(seat, plan.section_of[seat], cycle, probe.quiet_holds if quiet else None, time.monotonic())
        hold.status = await _probe_post(client, probe, "hold", "/api/seats/hold",
                                        {"event_id": event_id, "seat_ids": [seat]}, probe.headers)
        hold.answered = time.monotonic()
        probe.holds.append(hold)
        if hold.status == 200:
            held.append(seat)
        await asyncio.sleep(max(0.0, hold.started + interval - time.monotonic()))
    return held


async def _probe_post(client, probe: ProbeLog, what: str, path: str, body: dict, headers: dict) -> int:
    import httpx

    try:
        response = await client.post(path, json=body, headers=headers)
    except httpx.HTTPError as error:
        probe.errors.append(f"{what} {type(error).__name__}")
        return 0
    if response.status_code != 200:
        probe.errors.append(f"{what} {response.status_code} {response.text[:80]}")
    return response.status_code


# --- viewer client processes ------------------------------------------------------------------------------------


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for item in text.split(","):
        kind, _, share = item.partition("=")
        if kind.strip() not in VIEW_TYPES:
            raise argparse.ArgumentTypeError(f"unknown view type {kind!r}: use {', '.join(VIEW_TYPES)}")
        mix[kind.strip()] = float(share or 1)
    total = sum(mix.values())
    return {kind: share / total for kind, share in mix.items()}


def viewer_specs(count: int, mix: dict[str, float], event_id: int, plan: MarkerPlan) -> list[dict]:
    """Viewers per view type; section viewers spread over the busy sections and the quiet one."""
    specs, sections = [], [*plan.busy_sections, plan.quiet_section]
    kinds = list(mix)
    for index, kind in enumerate(kinds):
        n = count - len(specs) if index == len(kinds) - 1 else round(count * mix[kind])
        for i in range(n):
            if kind == "event":
                specs.append({"kind": kind, "path": f"/ws/events/{event_id}/seats"})
            elif kind == "section":
                section = sections[i % len(sections)]
                specs.append({"kind": kind, "section": section,
                              "path": f"/ws/events/{event_id}/seats?section={section}"})
            else:
                specs.append({"kind": kind, "path": f"/ws/events/{event_id}/sections"})
    return specs


class ViewerClients:
    """The client processes: started, connected (bounded), told when to stop, their results collected."""

    def __init__(self, *, url: str, ws_url: str, specs: list[dict], plan: MarkerPlan, per_client: int, tmp: Path,
                 connect_timeout: float, compression: str | None):
        self.processes: list[subprocess.Popen] = []
        self.outputs: list[Path] = []
        self.cpu_s: list[float] = []
        for index in range(0, len(specs), per_client):
            output, config = tmp / f"viewers-{index}.json", tmp / f"config-{index}.json"
            config.write_text(json.dumps({
                "ws_url": ws_url, "origin": url, "viewers": specs[index:index + per_client],
                "marker_sections": {str(k): v for k, v in plan.section_of.items()},
                "quiet_section": plan.quiet_section, "connect_timeout": connect_timeout,
                "compression": compression, "output": str(output)}))
            self.outputs.append(output)
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bench.viewer_client", str(config)], cwd=harness.BASE_DIR,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def wait_ready(self, timeout: float) -> tuple[int, int]:
        """(connected, failed) once every client reported READY (bounded)."""
        connected = failed = 0
        for line in self._lines("READY", timeout):
            connected, failed = connected + int(line.split()[1]), failed + int(line.split()[2])
        return connected, failed

    def go(self, stop_at: float) -> None:
        for process in self.processes:
            process.stdin.write(f"GO {stop_at}\n")
            process.stdin.flush()

    def collect(self, timeout: float) -> list[dict]:
        list(self._lines("DONE", timeout))
        self.cpu_s = [harness.wait_child(p, timeout=10) for p in self.processes]
        return [json.loads(path.read_text()) for path in self.outputs if path.exists()]

    def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()
                harness.wait_child(process, timeout=10)

    def _lines(self, prefix: str, timeout: float):
        deadline = time.monotonic() + timeout
        for process in self.processes:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    break
                line = process.stdout.readline()
                if not line or line.startswith(prefix):
                    if line:
                        yield line
                    break
        if time.monotonic() >= deadline:
            log(f"viewer clients: not all reported {prefix} within {timeout:.0f}s")


# --- delivery analysis --------------------------------------------------------------------------------------------


def seat_deliveries(viewer: dict, holds: list[MarkerHold]) -> list[float | None]:
    return [latency for _, latency in seat_delivery_pairs(viewer, holds)]


def seat_delivery_pairs(viewer: dict, holds: list[MarkerHold]) -> list[tuple[MarkerHold, float | None]]:
    """Per expected marker hold: seconds until this viewer got the seat's "held" change (None: never).

    An arrival counts for a hold if it comes after the hold started and before the same seat's next hold.
    """
    arrivals: dict[int, list[float]] = {}
    for seat, status, at in viewer["arrivals"]:
        if status == "held":
            arrivals.setdefault(seat, []).append(at)
    for times in arrivals.values():
        times.sort()
    starts: dict[int, list[float]] = {}
    for hold in holds:
        starts.setdefault(hold.seat, []).append(hold.started)
    result = []
    for hold in holds:
        if viewer["kind"] == "section" and hold.section != viewer["section"]:
            continue
        times, later = arrivals.get(hold.seat, []), starts[hold.seat]
        limit = next((t for t in later if t > hold.started), float("inf"))
        index = bisect.bisect_left(times, hold.started)
        result.append((hold, times[index] - hold.started if index < len(times) and times[index] < limit else None))
    return result


def count_deliveries(viewer: dict, holds: list[MarkerHold], plan: MarkerPlan) -> list[float | None]:
    return [latency for _, latency in count_delivery_pairs(viewer, holds, plan)]


def count_delivery_pairs(viewer: dict, holds: list[MarkerHold],
                         plan: MarkerPlan) -> list[tuple[MarkerHold, float | None]]:
    """Per quiet-section marker hold: seconds until this overview viewer saw a count reflecting it.

    Quiet markers are never released within the window, so the quiet section's count only falls: the
    first count ≤ A − j received after the j-th hold started can only come from that hold (or a later one).
    """
    counts = sorted(viewer["counts"])
    times = [at for at, _ in counts]
    full = plan.quiet_available
    result = []
    for hold in holds:
        if hold.quiet_index is None:
            continue
        start = bisect.bisect_left(times, hold.started)
        seen = next((at for at, available in counts[start:]
                     if available is not None and available <= full - hold.quiet_index), None)
        result.append((hold, seen - hold.started if seen is not None else None))
    return result


def after_answer(pairs: list[tuple[MarkerHold, float | None]]) -> list[float]:
    """Per delivered marker: seconds from the hold's HTTP answer to the arrival (negative: the push came first).

    What the live path adds to a change, without the hold request's own time on a loaded server."""
    return [latency - (hold.answered - hold.started) for hold, latency in pairs if latency is not None]


def seat_deliveries_after_answer(viewer: dict, holds: list[MarkerHold]) -> list[float]:
    return after_answer(seat_delivery_pairs(viewer, holds))


def missed_by_all(pairs: list[tuple[MarkerHold, float | None]], *, window_start: float) -> list[dict]:
    """Marker holds that no viewer of a kind saw within 5 s: a lost message (or a stalled server), not a
    slow client."""
    seen: dict[int, bool] = {}
    holds = {}
    for hold, latency in pairs:
        holds[id(hold)] = hold
        seen[id(hold)] = seen.get(id(hold), False) or (latency is not None and latency <= MISS_AFTER_S)
    return [{"seat": hold.seat, "section": hold.section, "at_s": round(hold.started - window_start, 2),
             "answered_after_ms": round((hold.answered - hold.started) * 1000, 1)}
            for key, ok in seen.items() if not ok for hold in [holds[key]]]


def delivery_report(latencies: list[float | None]) -> dict:
    delivered = [x for x in latencies if x is not None]
    return {"expected": len(latencies), **harness.percentiles(delivered),
            "not_within_5s": sum(1 for x in latencies if x is None or x > MISS_AFTER_S),
            "never": sum(1 for x in latencies if x is None)}


def viewers_report(results: list[dict], probe: ProbeLog, plan: MarkerPlan, *, window: tuple[float, float]) -> dict:
    viewers = [v for result in results for v in result["viewers"]]
    holds = [h for h in probe.holds if h.status == 200 and h.started < window[1]]
    seconds = window[1] - window[0]
    report = {}
    for kind in VIEW_TYPES:
        mine = [v for v in viewers if v["kind"] == kind]
        if not mine:
            continue
        connected = [v for v in mine if v["connected"]]
        entry = {
            "viewers": len(mine), "connected": len(connected),
            "connect_errors": dict(sorted({e: sum(1 for v in mine if v["error"] == e)
                                          for e in {v["error"] for v in mine if v["error"]}}.items())),
            "closed_by_server": sum(1 for v in connected if v["closed"]),
            "messages_per_viewer_per_s": round(sum(v["messages"] for v in connected)
                                               / max(1, len(connected)) / seconds, 2),
            "bytes_per_viewer_per_s": round(sum(v["bytes"] for v in connected) / max(1, len(connected)) / seconds),
        }
        entry["supported"] = bool(connected) and entry["closed_by_server"] < len(connected)
        if kind == "overview":
            pairs = [p for v in connected for p in count_delivery_pairs(v, holds, plan)]
        else:
            pairs = [p for v in connected for p in seat_delivery_pairs(v, holds)]
        entry["delivery_ms"] = delivery_report([latency for _, latency in pairs])
        entry["after_hold_answer_ms"] = harness.percentiles(after_answer(pairs))
        entry["holds_missed_by_every_viewer"] = missed_by_all(pairs, window_start=window[0])
        if kind == "section":
            foreign = sum(v["foreign"] for v in connected)
            entry["other_sections_changes_received"] = foreign
            entry["section_filter_applied"] = foreign == 0
            for label, sections in (("busy", set(plan.busy_sections)), ("quiet", {plan.quiet_section})):
                part = [v for v in connected if v["section"] in sections]
                entry[f"delivery_ms_{label}_sections"] = delivery_report(
                    [x for v in part for x in seat_deliveries(v, holds)])
        report[kind] = entry
    report["client_loop_lag_ms"] = [result["loop_lag_ms"] for result in results]
    return report


# --- one scenario ----------------------------------------------------------------------------------------------------


@dataclass
class Scenario:
    viewers: int
    buyers: int
    mix: dict[str, float]


def run_scenario(scenario: Scenario, *, url: str, groups: harness.ProcessGroups, args) -> dict:
    """A fresh event, the viewers connected, then sale + markers for args.seconds; audit at the end."""
    event = inventory.create_bench_event()
    plan = marker_plan(event.pk, args.sections)
    log(f"scenario: {scenario.viewers} viewers {scenario.mix}, {scenario.buyers} buyers (event {event.pk})")
    specs = viewer_specs(scenario.viewers, scenario.mix, event.pk, plan)
    with tempfile.TemporaryDirectory(prefix="bench-viewers-") as tmp:
        clients = ViewerClients(url=url, ws_url=args.ws_url, specs=specs, plan=plan, per_client=args.per_client,
                                tmp=Path(tmp),
                                connect_timeout=args.connect_timeout, compression=args.compression)
        try:
            connect_started = time.monotonic()
            connected, failed = clients.wait_ready(timeout=args.connect_timeout + 30)
            connect_s = time.monotonic() - connect_started
            log(f"viewers connected: {connected}, failed: {failed} in {connect_s:.1f}s")
            if groups.roots.get("worker"):
                harness.wait_worker_idle()  # the last scenario's PDFs and e-mails
            window_groups = harness.ProcessGroups(roots={**groups.roots, "viewers": clients.pids}, notes=groups.notes)
            sale_seats = [s for s in inventory.free_seat_ids(event.pk) if s not in plan.excluded]
            start = time.monotonic()
            clients.go(stop_at=start + args.seconds + MISS_AFTER_S + 1)
            run, probe, cpu = asyncio.run(_window(url, event.pk, plan, scenario, window_groups, sale_seats, args))
            server_age = ws_server_age(args, seconds=time.monotonic() - start)
            results = clients.collect(timeout=MISS_AFTER_S + 60)
        finally:
            clients.stop()
    window = (start, start + args.seconds)
    report = {"viewers": scenario.viewers, "mix": scenario.mix, "buyers": scenario.buyers, "event_id": event.pk,
              "connect": {"connected": connected, "failed": failed, "seconds": round(connect_s, 1),
                          "viewer_processes": len(clients.processes)},
              "delivery": viewers_report(results, probe, plan, window=window),
              "markers": {"holds": len(probe.holds), "ok": sum(h.status == 200 for h in probe.holds),
                          "hold_answer_ms": harness.percentiles([h.answered - h.started for h in probe.holds]),
                          "errors": dict(Counter(e.split(" {")[0][:60] for e in probe.errors))},
              "cpu": cpu, "server_age_ms": server_age}
    report["client_limit_suspected"] = client_limited(report, processes=len(clients.processes))
    report["fan_out_cost"] = fan_out_cost(results, cpu, viewers=scenario.viewers, seconds=args.seconds)
    if run:
        report["sale"] = sale.run_report(run, buyers=scenario.buyers)
        inventory.wait_until_settled(event.pk)
        report["sale"]["audit"] = inventory.audit(event.pk, confirmed_201=len(run.confirms_201()),
                                                  in_flight_slack=scenario.buyers)
    return report


def ws_server_age(args, *, seconds: float) -> dict | None:
    """How late a websocket-only server sent its messages (commit → message leaving, per topic kind), from its
    `GET /ws/health?seconds=` — the server's own figure, which no client delay can inflate. One process only
    (`--ws-workers 1`): with more, the balancer-less port gives one process's view."""
    if not (args.ws_workers or args.ws_url_given):
        return None
    http = "http" + args.ws_url[len("ws"):]
    try:
        with urllib.request.urlopen(f"{http}/ws/health?seconds={seconds:.0f}", timeout=5) as response:
            return json.loads(response.read()).get("age_ms")
    except (OSError, ValueError) as error:
        log(f"no /ws/health from {http}: {error}")
        return None


def fan_out_cost(results: list[dict], cpu: dict, *, viewers: int, seconds: float) -> dict:
    """What the viewers cost the server: cores per 1,000 viewers and CPU per message delivered, for the web
    processes and, when websockets run in processes of their own (--ws-workers), for those.

    The web figures include the sale's own cost; the ws figures are the viewers' alone. The markers-only
    scenario (--buyers 0) isolates the fan-out of a one-server layout."""
    messages = sum(v["messages"] for result in results for v in result["viewers"])
    report = {"messages_delivered_per_s": round(messages / seconds, 1)}
    for group in ("web", "ws"):
        used = (cpu.get("groups") or {}).get(group) or {}
        if used:
            report[f"{group}_cores_per_1000_viewers"] = round(used["cores"] * 1000 / viewers, 3) if viewers else None
            report[f"{group}_us_per_message"] = round(used["cpu_s"] * 1e6 / messages, 1) if messages else None
    return report


def client_limited(report: dict, *, processes: int) -> bool:
    """Are the viewers' own processes what delays the timestamps? Their event loop lags (p99 > 100 ms) or
    one of them is near a full core."""
    lags = [lag["p99"] for lag in report["delivery"]["client_loop_lag_ms"]]
    cores = (report["cpu"].get("groups", {}).get("viewers") or {}).get("cores", 0)
    return any(lag > 100 for lag in lags) or (processes and cores / processes > 0.8)


async def _window(url, event_id, plan, scenario, groups, sale_seats, args):
    """Markers and the sale side by side; CPU per group over the window."""
    until = time.monotonic() + args.seconds
    probe_task = asyncio.create_task(marker_probe(url, event_id, plan, until=until, interval=args.interval))
    run = None
    if scenario.buyers:
        run = await asyncio.to_thread(sale.run_wrk, url=url, event_id=event_id, groups=groups, seconds=args.seconds,
                                      slices=sale.seat_slices(sale_seats, scenario.buyers))
        cpu = run.cpu
    else:
        meter = harness.CpuMeter(groups)
        meter.start()
        await asyncio.sleep(max(0.0, until - time.monotonic()))
        meter.stop()
        cpu = meter.report(per=0)
    probe = await probe_task
    return run, probe, cpu


def detect_mix(url: str, ws_url: str, event_id: int) -> dict[str, float]:
    """Half overview / half section if the server accepts /sections, else today's whole-event stream."""
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    try:
        with connect(ws_url + f"/ws/events/{event_id}/sections", origin=url, open_timeout=5,
                     proxy=None) as ws:
            try:
                ws.recv(timeout=0.5)
            except TimeoutError:
                pass
        return {"overview": 0.5, "section": 0.5}
    except (WebSocketException, OSError, TimeoutError) as error:  # refused, closed, 404: not supported
        log(f"/ws/events/{{id}}/sections not supported ({type(error).__name__}): viewers use the whole-event stream")
        return {"event": 1.0}


# --- summary and command line ------------------------------------------------------------------------------------


def summary_text(result: dict) -> str:
    lines = []
    baseline = result.get("baseline")
    if baseline:
        lines.append(f"no viewers: {baseline['bookings_per_s']} bookings/s")
    for scenario in result["scenarios"]:
        if "error" in scenario:
            lines.append(f"{scenario['viewers']} viewers: FAILED {scenario['error']}")
            continue
        head = f"{scenario['viewers']} viewers ({scenario['connect']['connected']} connected), " \
               f"{scenario['buyers']} buyers"
        if scenario.get("sale"):
            head += f": {scenario['sale']['bookings_per_s']} bookings/s"
            if baseline and baseline["bookings_per_s"]:
                share = round(100 * scenario["sale"]["bookings_per_s"] / baseline["bookings_per_s"])
                head += f" ({share}% of no viewers)"
        lines.append(head)
        for kind in VIEW_TYPES:
            entry = scenario["delivery"].get(kind)
            if entry:
                d = entry["delivery_ms"]
                flags = ("" if entry["supported"] else "  (NOT SUPPORTED by the server)") + (
                    "  (section filter NOT applied)" if entry.get("section_filter_applied") is False else "")
                lines.append(f"  {kind:8} delivery p50/p90/p99 {d.get('p50')}/{d.get('p90')}/{d.get('p99')} ms, "
                             f"not within 5 s {d['not_within_5s']} of {d['expected']}, "
                             f"{entry['messages_per_viewer_per_s']} msgs/viewer/s{flags}")
        cpu = scenario["cpu"].get("groups", {})
        lines.append("  CPU cores: " + ", ".join(f"{name} {g['cores']}" for name, g in cpu.items()))
        cost = scenario["fan_out_cost"]
        lines.append(f"  fan-out: {cost['messages_delivered_per_s']} messages/s delivered, " + "; ".join(
            f"{group} {cost[f'{group}_cores_per_1000_viewers']} cores per 1,000 viewers, "
            f"{cost[f'{group}_us_per_message']} µs of {group} CPU per message"
            for group in ("ws", "web") if f"{group}_cores_per_1000_viewers" in cost))
        stages = {"publish": "web process, commit → published", "redis": "Redis, published → at the ws server"}
        for kind, age in (scenario.get("server_age_ms") or {}).items():
            what = stages.get(kind, f"{kind} messages, oldest change's commit → message leaving the ws server")
            lines.append(f"  {what}: p50/p90/p99 {age['p50']}/{age['p90']}/{age['p99']} ms ({age['messages']})")
        for kind in VIEW_TYPES:
            after = scenario["delivery"].get(kind, {}).get("after_hold_answer_ms")
            if after and after.get("count"):
                lines.append(f"  {kind} delivery after the hold's answer p50/p90/p99 "
                             f"{after['p50']}/{after['p90']}/{after['p99']} ms")
        lags = [lag["p99"] for lag in scenario["delivery"]["client_loop_lag_ms"]]
        lines.append(f"  viewer clients' event-loop lag p99 (ms): {lags}"
                     f"{'  — the CLIENT may be the limit' if scenario['client_limit_suspected'] else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sale.add_app_arguments(parser)
    parser.add_argument("--viewers", type=lambda t: [int(x) for x in t.split(",")], default=[1000])
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--mix", type=parse_mix, default=None, help="e.g. overview=0.5,section=0.5 (default: auto)")
    parser.add_argument("--sections", type=int, default=4, help="busy sections with section viewers and markers")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between marker holds")
    parser.add_argument("--per-client", type=int, default=1000, help="viewers per client process")
    parser.add_argument("--connect-timeout", type=float, default=120)
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate",
                        help="permessage-deflate like browsers (default) or none")
    parser.add_argument("--no-baseline", action="store_true", help="skip the sale without viewers")
    parser.add_argument("--ws-workers", type=int, default=int(os.environ.get("WS_WORKERS") or 1),
                        help="websocket processes of their own (WS_WORKERS, default 1 as in make run); "
                             "0: one port, the web processes (uvicorn) serve them")
    parser.add_argument("--ws-url", default=os.environ.get("BENCH_WS_URL") or None,
                        help="where viewers connect (default: the app's URL, or its WS port with --ws-workers)")
    args = parser.parse_args(argv)
    args.compression = None if args.compression == "none" else args.compression
    harness.wrk_path()
    harness.raise_open_files_limit()
    with harness.services(url=args.url) as env:
        if not args.url:
            args.extra_env = ({"WS_WORKERS": str(args.ws_workers), "WS_PORT": str(args.port + 1)} if args.ws_workers
                              else {"WEB_SERVER": "uvicorn"})  # one port: only uvicorn serves both
        url, groups, app = sale.start_or_find_app(args, env)
        args.ws_url_given = bool(args.ws_url)
        args.ws_url = (args.ws_url or ("ws" + url[len("http"):].rsplit(":", 1)[0] + f":{args.port + 1}"
                                       if args.ws_workers and not args.url else "ws" + url[len("http"):])).rstrip("/")
        try:
            first = sale.fresh_event(args)
            mix = args.mix or detect_mix(url, args.ws_url, first.pk)
            result = harness.result_envelope("viewers", {
                "url": url, "started_app": app is not None, **(app.settings.as_dict() if app else {}),
                "viewers": args.viewers, "buyers": args.buyers, "mix": mix, "seconds": args.seconds,
                "interval": args.interval, "per_client": args.per_client, "compression": args.compression,
                "busy_sections": args.sections, "ws_workers": args.ws_workers, "ws_url": args.ws_url})
            if args.buyers and not args.no_baseline:
                log("baseline: the sale without viewers")
                result["baseline"] = sale.sale_benchmark(url=url, event_id=first.pk, buyers=args.buyers,
                                                         seconds=args.seconds, warmup=3, groups=groups,
                                                         drain_timeout=30)
            result["scenarios"] = []
            for count in args.viewers:
                try:
                    result["scenarios"].append(run_scenario(Scenario(count, args.buyers, mix), url=url,
                                                            groups=groups, args=args))
                except Exception as error:  # noqa: BLE001 - keep the other scenarios' results
                    log(f"scenario with {count} viewers failed: {error!r}")
                    result["scenarios"].append({"viewers": count, "error": repr(error)})
        finally:
            if app:
                app.stop()
    harness.write_result("viewers", result)
    print(summary_text(result))
    audits = [result.get("baseline", {}).get("audit")] + [s.get("sale", {}).get("audit") for s in result["scenarios"]]
    failed = any("error" in s for s in result["scenarios"])
    return 0 if all(a["passed"] for a in audits if a) and not failed else 2


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
