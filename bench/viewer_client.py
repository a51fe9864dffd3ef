"""One process of live seat-map viewers for bench/viewers.py; several run side by side to reach thousands.

    python -m bench.viewer_client CONFIG.json     (started by bench/viewers.py, not by hand)

Protocol on stdin/stdout with the orchestrator: the client opens its websockets (a bounded number of
handshakes at a time, within a deadline), prints `READY <connected> <failed>`, waits for
`GO <stop_at>` (a time.monotonic() value: the same clock in every process), keeps receiving until
stop_at, writes its observations to the output file and prints `DONE`.

Per message it does as little as possible, so that the client is not what limits the measurement: a
regular expression looks for the marker seats (or the marker section) and only those messages are
parsed. It also measures its own event-loop lag: a lagging client delays what it timestamps, and the
report says so.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus


@dataclass
class Viewer:
    kind: str  # event | section | overview
    path: str
    section: int | None = None
    connected: bool = False
    error: str = ""
    closed: str = ""  # why the server closed it during the run
    messages: int = 0
    bytes: int = 0
    arrivals: list = field(default_factory=list)  # [seat_id, status, t] for marker seats
    counts: list = field(default_factory=list)  # [t, available] of the quiet section (overview)
    foreign: int = 0  # marker changes of other sections on a section stream: the filter is not applied

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "path"}


class Client:
    def __init__(self, config: dict):
        self.config = config
        self.markers = {int(seat): int(section) for seat, section in config["marker_sections"].items()}
        self.quiet = int(config["quiet_section"])
        self.marker_re = re.compile(r'"seat_id":\s*(?:' + "|".join(map(str, self.markers)) + r")\b")
        self.quiet_re = re.compile(r'"(?:section_id|id)":\s*' + str(self.quiet) + r"\b")
        self.viewers = [Viewer(**spec) for spec in config["viewers"]]
        self.window = (float("inf"), float("inf"))
        self.lags: list[float] = []
        self.handshakes = asyncio.Semaphore(config.get("handshakes_at_once", 50))

    async def run(self) -> None:
        tasks = [asyncio.create_task(self.watch(viewer)) for viewer in self.viewers]
        await self.wait_connected(deadline=time.monotonic() + self.config["connect_timeout"])
        connected = sum(v.connected for v in self.viewers)
        print(f"READY {connected} {len(self.viewers) - connected}", flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        stop_at = float(line.split()[1]) if line.startswith("GO") else time.monotonic()
        self.window = (time.monotonic(), stop_at)
        lag = asyncio.create_task(self.measure_lag(stop_at))
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, lag, return_exceptions=True)

    async def wait_connected(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if all(v.connected or v.error for v in self.viewers):
                return
            await asyncio.sleep(0.2)

    async def watch(self, viewer: Viewer) -> None:
        url = self.config["ws_url"] + viewer.path
        try:
            async with self.handshakes:
                ws = await connect(url, origin=self.config["origin"], open_timeout=self.config["connect_timeout"],
                                   ping_interval=None, close_timeout=1, max_size=None, max_queue=None, proxy=None,
                                   compression=self.config.get("compression"))
            viewer.connected = True
        except InvalidStatus as error:
            viewer.error = f"http_{error.response.status_code}"
            return
        except Exception as error:  # noqa: BLE001 - every failure is a result
            viewer.error = type(error).__name__
            return
        try:
            async for message in ws:
                self.on_message(viewer, message, time.monotonic())
            viewer.closed = f"{ws.close_code} {ws.close_reason}".strip()
        except ConnectionClosed as closed:
            viewer.closed = f"{closed.rcvd.code if closed.rcvd else 'no close frame'}"
        finally:
            if getattr(ws, "transport", None):
                ws.transport.abort()  # no closing handshakes with thousands of sockets at the end

    def on_message(self, viewer: Viewer, message: str | bytes, now: float) -> None:
        if self.window[0] <= now <= self.window[1]:
            viewer.messages += 1
            viewer.bytes += len(message)
        text = message if isinstance(message, str) else message.decode()
        if viewer.kind == "overview":
            if self.quiet_re.search(text):
                self.on_counts(viewer, json.loads(text), now)
        elif self.marker_re.search(text):
            self.on_changes(viewer, json.loads(text), now)

    def on_changes(self, viewer: Viewer, data: dict, now: float) -> None:
        for change in data.get("changes", []):
            section = self.markers.get(change.get("seat_id"))
            if section is None:
                continue
            if viewer.section is not None and section != viewer.section:
                viewer.foreign += 1
            viewer.arrivals.append([change["seat_id"], change.get("status"), now])

    def on_counts(self, viewer: Viewer, data: dict, now: float) -> None:
        for section in data.get("sections", []):
            if section.get("section_id", section.get("id")) == self.quiet:
                viewer.counts.append([now, section.get("available")])

    async def measure_lag(self, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            started = time.monotonic()
            await asyncio.sleep(0.1)
            self.lags.append(time.monotonic() - started - 0.1)

    def result(self) -> dict:
        lags = sorted(self.lags) or [0.0]
        return {
            "viewers": [v.as_dict() for v in self.viewers],
            "errors": dict(Counter(v.error for v in self.viewers if v.error)),
            "loop_lag_ms": {"p50": round(lags[len(lags) // 2] * 1000, 1),
                            "p99": round(lags[min(len(lags) - 1, int(len(lags) * 0.99))] * 1000, 1),
                            "max": round(lags[-1] * 1000, 1)},
        }


def main() -> None:
    with open(sys.argv[1]) as file:
        config = json.load(file)
    client = Client(config)
    try:
        import uvloop  # uvicorn[standard] brings it: less client CPU per message

        uvloop.run(client.run())
    except ImportError:
        asyncio.run(client.run())
    with open(config["output"], "w") as file:
        json.dump(client.result(), file)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
