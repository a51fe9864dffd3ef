"""Seat-change messages to the event's Channels group: after commit, off the request, coalesced.

A request never waits for Redis: `seat_changes_publish_on_commit` queues the change for a
publisher thread (one per process, with its own event loop and channel-layer connection).
The thread sends an event's queued changes every COALESCE_SECONDS as one message — at a sale
start hundreds of seats change per second, and one message per change per client would
swamp the websocket servers (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from channels.layers import get_channel_layer
from django.db import connection, transaction

logger = logging.getLogger(__name__)

COALESCE_SECONDS = 0.05
IDLE_CLOSE_SECONDS = 1.0


def seat_group_name(event_id: int) -> str:
    return f"event-{event_id}-seats"


def seat_changes_publish_on_commit(event_id: int, changes: list[dict]) -> None:
    if changes:
        transaction.on_commit(lambda: _publisher.submit(event_id, changes))


def seat_changes_cursor() -> int:
    """The oldest transaction that may still be running: the `version` clients send back as `since`.

    See `ticketing.selectors.seat_changes_since` for why this cursor can never skip a change.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def _cursor_after_commit() -> int:
    """A `since` cursor taken after the changes committed (see seat_changes_since); 0 if unknown.

    The publisher thread takes one per message, on its own connection: every change in the
    message was handed over after its commit, so this cursor is later than all of them.
    """
    try:
        return seat_changes_cursor()
    except Exception:  # noqa: BLE001 - without a cursor, clients still get the statuses
        logger.exception("could not read the seat-change cursor")
        connection.close()  # a broken connection is opened afresh next time
        return 0


class _SeatChangePublisher:
    def __init__(self):
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._pending: dict[int, dict[int, dict]] = {}
        self._thread: threading.Thread | None = None
        self._sending = False

    def submit(self, event_id: int, changes: list[dict]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="seat-change-publisher", daemon=True)
                self._thread.start()
            # Within one process, later commits come later: the last status per seat wins.
            pending = self._pending.setdefault(event_id, {})
            for change in changes:
                pending[change["seat_id"]] = change
            self._wakeup.notify()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far is sent (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending and not self._sending:
                    return
            time.sleep(0.01)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while True:
            with self._lock:
                while not self._pending:
                    if not self._wakeup.wait(timeout=IDLE_CLOSE_SECONDS) and not self._pending:
                        # Quiet for a while: give this thread's database connection back (a test
                        # database can then be dropped; an idle server keeps no extra connection).
                        connection.close()
            time.sleep(COALESCE_SECONDS)
            with self._lock:
                batch, self._pending = self._pending, {}
                self._sending = True
            try:
                self._send(loop, layer, batch, _cursor_after_commit())
            finally:
                with self._lock:
                    self._sending = False

    @staticmethod
    def _send(loop, layer, batch: dict[int, dict[int, dict]], version: int) -> None:
        for event_id, changes in batch.items():
            message = {"type": "seat.changes", "version": version,
                       "changes": sorted(changes.values(), key=lambda change: change["seat_id"])}
            try:
                loop.run_until_complete(layer.group_send(seat_group_name(event_id), message))
            except Exception:  # noqa: BLE001 - a lost message costs a client one changes?since= call
                logger.exception("seat broadcast failed for event %s", event_id)


_publisher = _SeatChangePublisher()


def seat_changes_flush(timeout: float = 5.0) -> None:
    _publisher.flush(timeout)
