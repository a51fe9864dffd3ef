"""Seat changes leave the web process: after commit, off the request, one Redis PUBLISH per event and tick.

A request never waits for Redis: `seat_changes_publish_on_commit` hands the change to a publisher
thread (one per process) once the transaction has committed. The thread publishes an event's
queued changes as one message on the event's Redis channel (`live_channel`), at most once per
PUBLISH_MIN_GAP_SECONDS per event: the first change after a quiet spell leaves at once, a rush
is coalesced. That is all the web process does for live seat maps: no serialisation per viewer,
no section look-ups, no database query.

The websocket processes (`ticketing.live`) subscribe to the channels of the events their viewers
watch, keep a mirror of those events' seats, split the changes by section, count availability and
send each subscription one message per interval, serialised once (docs/architecture.md).

Redis pub/sub delivers at most once: a message lost while a websocket process reconnects is
healed by that process's periodic catch-up from Postgres, never by the web process.
"""

from __future__ import annotations

import logging
import threading
import time

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

PUBLISH_MIN_GAP_SECONDS = 0.02


def live_channel(event_id: int) -> str:
    """The Redis pub/sub channel of an event's seat changes (web processes → websocket processes)."""
    return f"{settings.LIVE_CHANNEL_PREFIX}:seats:{event_id}"


def seat_changes_publish_on_commit(event_id: int, changes: list[dict]) -> None:
    """Queue `changes` ([{"seat_id", "status", "held_until"?}]) for the event's live maps once this commits."""
    if changes:
        transaction.on_commit(lambda: _publisher.submit(event_id, changes))


def seat_changes_cursor() -> int:
    """The oldest transaction that may still be running: the `version` clients send back as `since`.

    See `ticketing.selectors.seat_changes_since` for why this cursor can never skip a change.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


class _SeatChangePublisher:
    """One thread per process; `submit` costs the request thread a lock and a few dict writes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._pending: dict[int, dict[int, dict]] = {}
        self._since: dict[int, float] = {}
        self._last_sent: dict[int, float] = {}
        self._thread: threading.Thread | None = None
        self._sending = False
        self.published = 0  # messages, for tests and the benchmark
        self._last_error_logged = 0.0

    def submit(self, event_id: int, changes: list[dict]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="seat-change-publisher", daemon=True)
                self._thread.start()
            # Within one process, later commits come later: the last status per seat wins.
            pending = self._pending.get(event_id)
            if pending is None:
                pending = self._pending[event_id] = {}
                self._since[event_id] = time.time()  # the oldest change's commit, for the hub's latency figures
            for change in changes:  # a seat's change, or a general-admission area's ({"area_id", "available"})
                pending[change["seat_id"] if "seat_id" in change else ("area", change["area_id"])] = change
            self._wakeup.notify()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far is published (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending and not self._sending:
                    return
            time.sleep(0.005)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending:
                    self._wakeup.wait()
                now = time.monotonic()
                # Events whose last message left more than the gap ago go now; the others wait their turn.
                due = {event_id: changes for event_id, changes in self._pending.items()
                       if now - self._last_sent.get(event_id, 0.0) >= PUBLISH_MIN_GAP_SECONDS}
                if not due:
                    wait = min(self._last_sent[event_id] + PUBLISH_MIN_GAP_SECONDS for event_id in self._pending)
                    self._wakeup.wait(max(0.001, wait - now))
                    continue
                for event_id in due:
                    del self._pending[event_id]
                    self._last_sent[event_id] = now
                since = {event_id: self._since.pop(event_id) for event_id in due}
                self._sending = True
            try:
                self._publish(due, since)
            finally:
                with self._lock:
                    self._sending = False
                    if len(self._last_sent) > 1000:  # forget events that went quiet
                        horizon = time.monotonic() - 60
                        self._last_sent = {e: t for e, t in self._last_sent.items() if t > horizon}

    def _publish(self, batch: dict[int, dict[int, dict]], since: dict[int, float]) -> None:
        try:
            client = cache.raw_client()
            with client.pipeline(transaction=False) as pipe:
                for event_id, changes in batch.items():
                    pipe.publish(live_channel(event_id), orjson.dumps(
                        {"at": since[event_id], "sent": time.time(), "changes": list(changes.values())}))
                pipe.execute()
            self.published += len(batch)
        except Exception:  # noqa: BLE001 - the websocket processes' catch-up heals a lost message
            now = time.monotonic()
            if now - self._last_error_logged > 10:  # Redis down: say so every 10 s, not 50 times a second
                self._last_error_logged = now
                logger.exception("seat changes for events %s could not be published", sorted(batch))


_publisher = _SeatChangePublisher()


def seat_changes_flush(timeout: float = 5.0) -> None:
    _publisher.flush(timeout)
