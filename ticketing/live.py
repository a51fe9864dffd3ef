"""Live seat maps in the websocket processes: one mirror per watched event, one message per topic and interval.

Web processes publish each event's seat changes on a Redis channel (`ticketing.broadcast`). Here,
in every process that serves websockets, one `LiveHub` per event loop:

- subscribes (one Redis connection) to the channels of the events its viewers watch;
- keeps an `EventFeed` per watched event: a mirror of its seats — section, status, hold expiry —
  loaded once from Postgres (one query), kept current by the published changes, and healed every
  couple of seconds by a catch-up query (changes since its cursor, plus the seats that messages
  touched meanwhile): a message lost by Redis pub/sub or overtaken by an older one from another
  web process is corrected within one catch-up period;
- derives from the mirror what each subscription ("topic") shows: every change of the event, one
  section's changes, or per-section availability counts (available ↔ not flips counted as they
  happen; holds that lapse are counted free at their expiry time, as the seat map shows them);
- sends each topic at most once per interval, serialised and framed once for all its subscribers.
  Intervals adapt: 50 ms for a quiet topic, longer when it changes fast or when sending takes more
  than a fifth of a core, so a viewer's message rate is bounded whatever the sale's rate;
- drops a subscriber whose connection is not keeping up instead of queueing for it; it reconnects
  and catches up with `changes?since=` (docs/api.md).

Nothing here runs in the web process's request threads.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import logging
import struct
import time
import weakref
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Protocol

import orjson
import redis.asyncio as redis
from django.conf import settings
from django.db import close_old_connections, connection

from ticketing.broadcast import live_channel
from ticketing.selectors import event_live_refresh, event_live_snapshot

logger = logging.getLogger(__name__)

# Seat topics: a quiet topic is sent at most every 50 ms; one that changes fast waits longer (linearly
# up to its rush interval at RUSH_CHANGES_PER_SECOND): fewer, larger messages. A section's changes stay
# on screen within a fifth of a second (at most 10 messages a second); the whole event's stream, every
# change of a venue, is the one that may wait a quarter of a second.
SEATS_QUIET_INTERVAL = 0.05
SECTION_RUSH_INTERVAL = 0.1
EVENT_RUSH_INTERVAL = 0.25
QUIET_CHANGES_PER_SECOND = 20
RUSH_CHANGES_PER_SECOND = 200
# Section counts: at most twice a second (overview pages show counts at most a second old).
COUNTS_INTERVAL = 0.5
# Under load every interval stretches: when sending takes more than TARGET_BUSY of a core (CPU time
# of the sending thread), intervals grow in proportion, up to ×LOAD_FACTOR_MAX and never beyond
# SEATS_MAX_INTERVAL / COUNTS_MAX_INTERVAL. A viewer then gets fewer, larger messages; the process's
# cost stays bounded whatever the sale's rate and however many viewers it holds.
TARGET_BUSY = 0.2
LOAD_FACTOR_MAX = 5.0
SEATS_MAX_INTERVAL = 0.5
COUNTS_MAX_INTERVAL = 1.0
# Catch-up from Postgres: every REFRESH_ACTIVE seconds while messages arrive, else every REFRESH_IDLE.
REFRESH_ACTIVE = 2.0
REFRESH_IDLE = 15.0
# A feed without subscribers is kept this long (reconnecting viewers find it warm), then dropped.
FEED_LINGER = 30.0
# A subscriber that has had unsent bytes at every delivery for this long is dropped too.
STALL_SECONDS = 10.0


class LiveNotFound(Exception):
    """No such event for buyers, or no such section in its venue."""


class Subscriber(Protocol):
    def live_deliver(self, text: str, frame: bytes) -> Awaitable | None:
        """Send `text` (or the same message already framed, `frame`); an awaitable if it must be awaited."""


def websocket_text_frame(text: str) -> bytes:
    """`text` as one unmasked WebSocket text frame (RFC 6455 §5.2): what a server writes, the same bytes for
    every viewer. Uncompressed frames are valid with or without permessage-deflate (RSV1 clear)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


def _until(held_until) -> float | None:
    if held_until is None:
        return None
    if isinstance(held_until, str):
        return datetime.fromisoformat(held_until).timestamp()
    return held_until.timestamp()


class Topic:
    """What one kind of page subscribes to: its subscribers and what is still to be sent to them."""

    __slots__ = ("kind", "section_id", "subscribers", "pending", "last_sent", "added", "rate", "oldest")

    def __init__(self, kind: str, section_id: int | None = None):
        self.kind = kind  # "event" | "section" | "counts"
        self.section_id = section_id
        self.subscribers: set[Subscriber] = set()
        self.pending: dict[int, dict] = {}  # seat_id → change; for counts: section_id → None
        self.last_sent = 0.0
        self.added = 0  # changes since the last rate update
        self.rate = 0.0  # changes per second (smoothed)
        self.oldest: float | None = None  # when the oldest pending change was committed (epoch seconds)

    def interval(self, load_factor: float) -> float:
        if self.kind == "counts":
            return min(COUNTS_MAX_INTERVAL, COUNTS_INTERVAL * load_factor)
        rush = (self.rate - QUIET_CHANGES_PER_SECOND) / (RUSH_CHANGES_PER_SECOND - QUIET_CHANGES_PER_SECOND)
        longest = SECTION_RUSH_INTERVAL if self.kind == "section" else EVENT_RUSH_INTERVAL
        base = SEATS_QUIET_INTERVAL + (longest - SEATS_QUIET_INTERVAL) * min(1.0, max(0.0, rush))
        return min(SEATS_MAX_INTERVAL, base * load_factor)


class EventFeed:
    """The mirror of one event's seats in this process, and the topics its viewers subscribe to."""

    def __init__(self, hub: LiveHub, event_id: int):
        self.hub = hub
        self.event_id = event_id
        self.channel = live_channel(event_id)
        self.loaded: asyncio.Future = asyncio.get_running_loop().create_future()
        self.sections: list[int] = []
        self.section_of: dict[int, int] = {}
        # seat_id → (status, until, counts_as_seat, counts_as_free). `until` is the epoch second a hold
        # lapses (None: no hold, or a pending payment's, which never lapses on its own). The two flags are
        # what the counts below include for this seat: recomputed on a change, flipped at expiry.
        self.seats: dict[int, tuple] = {}
        self.seat_count: dict[int, int] = {}
        self.available: dict[int, int] = {}
        self.expiries: list[tuple[float, int]] = []
        self.cursor = 0  # `since` of the next catch-up
        self.version = 0  # what messages carry: the catch-up cursor before the last (see refresh)
        self.touched: set[int] = set()
        self.buffered: list[bytes] | None = []  # messages that arrive while the mirror loads
        self.refreshing = False
        self.reload_due = False
        self.last_refresh = time.monotonic()
        self.traffic = False  # a message arrived since the last catch-up
        self.event_topic = Topic("event")
        self.section_topics: dict[int, Topic] = {}
        self.counts_topic = Topic("counts")
        self.counts_text: str | None = None  # the full counts, serialised once for every new overview viewer
        self.empty_since: float | None = time.monotonic()
        self.committed_at: float | None = None  # of the message being applied (its oldest change)

    # --- loading and healing -----------------------------------------------------------------------

    async def load(self) -> None:
        try:
            snapshot = await self.hub.run_db(event_live_snapshot, event_id=self.event_id)
        except Exception as error:  # noqa: BLE001 - the viewers' connects fail and are retried by them
            logger.exception("live seat map of event %s could not be loaded", self.event_id)
            self.loaded.set_exception(error)
            return
        if snapshot is None:
            self.loaded.set_exception(LiveNotFound())
            return
        self._rebuild(snapshot)
        # Messages that came while the snapshot was read may be older or newer than it: rather than
        # guess, their seats are read again by the first catch-up, right away.
        for message in self.buffered or []:
            self.touched.update(change["seat_id"] for change in orjson.loads(message)["changes"] if "seat_id" in change)
        self.buffered = None
        self.last_refresh = 0.0 if self.touched else time.monotonic()
        self.traffic = bool(self.touched)
        self.loaded.set_result(True)

    def _rebuild(self, snapshot: dict) -> None:
        now = time.time()
        self.sections = snapshot["sections"]
        self.section_of, self.seats, self.expiries = {}, {}, []
        self.seat_count = dict.fromkeys(self.sections, 0)
        self.available = dict.fromkeys(self.sections, 0)
        for seat_id, section_id, status, held_until, booking_id in snapshot["seats"]:
            self.section_of[seat_id] = section_id
            until = _until(held_until) if status == "held" and booking_id is None else None
            counted_seat = status != "blocked"
            counted_free = status == "available" or (until is not None and until <= now)
            self.seats[seat_id] = (status, until, counted_seat, counted_free)
            self.seat_count[section_id] = self.seat_count.get(section_id, 0) + counted_seat
            self.available[section_id] = self.available.get(section_id, 0) + counted_free
            if until is not None and not counted_free:
                self.expiries.append((until, seat_id))
        heapq.heapify(self.expiries)
        self.cursor = self.version = snapshot["cursor"]
        self.counts_text = None

    def refresh_due(self, now: float) -> bool:
        if self.refreshing or self.buffered is not None:
            return False
        return now - self.last_refresh >= (REFRESH_ACTIVE if self.traffic or self.touched else REFRESH_IDLE)

    async def refresh(self) -> None:
        """Catch up from Postgres: seats changed since our cursor, and every seat a message touched."""
        self.refreshing = True
        touched, self.touched = self.touched, set()
        self.traffic = False
        self.last_refresh = time.monotonic()
        try:
            if self.reload_due:  # seats we never heard of: the inventory was made anew
                snapshot = await self.hub.run_db(event_live_snapshot, event_id=self.event_id)
                if snapshot is not None:
                    self.reload_due = False
                    self._rebuild(snapshot)
                return
            cursor, rows = await self.hub.run_db(event_live_refresh, event_id=self.event_id, since=self.cursor,
                                                 seat_ids=sorted(touched))
        except Exception:  # noqa: BLE001 - the next catch-up tries again
            logger.exception("catch-up of event %s failed", self.event_id)
            self.touched |= touched
            return
        finally:
            self.refreshing = False
        now = time.time()
        for seat_id, status, held_until, booking_id in rows:
            if seat_id in self.touched:
                continue  # a message during the query may be newer than the row: read it next time
            until = _until(held_until) if status == "held" and booking_id is None else None
            self._apply(seat_id, status, until, None, now)
        if len(self.expiries) > 2 * len(self.seats) + 1000:  # sold and released holds leave stale entries
            self.expiries = [(seat[1], seat_id) for seat_id, seat in self.seats.items()
                             if seat[1] is not None and not seat[3]]
            heapq.heapify(self.expiries)
        # A stale message that overtook a newer one was published before this read and is healed now.
        # One more could still arrive late; that is why messages carry the cursor before this one.
        self.version, self.cursor = self.cursor, cursor
        self.hub.wake.set()

    # --- changes --------------------------------------------------------------------------------------

    def on_message(self, data: bytes) -> None:
        if self.buffered is not None:
            self.buffered.append(data)
            return
        self.traffic = True
        now = time.time()
        message = orjson.loads(data)
        self.committed_at = message.get("at") or now
        if "sent" in message:  # how long the web process took to publish it, and Redis to bring it
            self.hub.ages.append((time.monotonic(), "publish", message["sent"] - self.committed_at))
            self.hub.ages.append((time.monotonic(), "redis", now - message["sent"]))
        for change in message["changes"]:
            if "area_id" in change:  # a general-admission area's places left: passed on as it is
                self._area_changed(change, now)
                continue
            seat_id = change["seat_id"]
            self.touched.add(seat_id)
            status = change["status"]
            until = _until(change.get("held_until")) if status == "held" else None
            self._apply(seat_id, status, until, change, now)
        self.committed_at = None

    def _apply(self, seat_id: int, status: str, until: float | None, change: dict | None, now: float) -> None:
        """Put one seat's new state into the mirror, the counts, and the topics that show it (if it shows)."""
        old = self.seats.get(seat_id)
        if old is None:  # a seat we never heard of: the inventory was made anew
            self.reload_due = True
            if change is not None and self.event_topic.subscribers:
                self.event_topic.pending[seat_id] = change
                self.event_topic.added += 1
            return
        section_id = self.section_of[seat_id]
        counted_seat = status != "blocked"
        counted_free = status == "available" or (until is not None and until <= now)
        if counted_seat != old[2] or counted_free != old[3]:
            self.seat_count[section_id] += counted_seat - old[2]
            self.available[section_id] += counted_free - old[3]
            self._mark(self.counts_topic, now)
            self.counts_topic.pending[section_id] = None
            self.counts_text = None
        self.seats[seat_id] = (status, until, counted_seat, counted_free)
        if until is not None and not counted_free:
            heapq.heappush(self.expiries, (until, seat_id))
        # What a page shows: a lapsed hold is available. A change that shows the same is not sent.
        was_free = old[0] == "available" or (old[1] is not None and old[1] <= now)
        if (counted_free and was_free) or (not counted_free and not was_free and (old[0], old[1]) == (status, until)):
            return
        if change is None:
            change = {"seat_id": seat_id, "status": "available" if counted_free else status}
            if until is not None and not counted_free:
                change["held_until"] = datetime.fromtimestamp(until, tz=UTC).isoformat()
        for topic in (self.event_topic, self.section_topics.get(section_id)):
            if topic is not None and topic.subscribers:
                self._mark(topic, now)
                topic.pending[seat_id] = change
                topic.added += 1

    def _area_changed(self, change: dict, now: float) -> None:
        """An area's availability goes to the whole-event topic and every section topic (the standing
        floor shows beside any zoomed-in section); keyed by the negated area id beside the seat ids."""
        for topic in (self.event_topic, *self.section_topics.values()):
            if topic.subscribers:
                self._mark(topic, now)
                topic.pending[-change["area_id"]] = change
                topic.added += 1

    def _mark(self, topic: Topic, now: float) -> None:
        """Remember when the oldest change a topic will send was committed (the delivery-age figures)."""
        if not topic.pending:
            topic.oldest = self.committed_at or now

    def expire_holds(self, now: float) -> None:
        """Holds that lapsed are free from their expiry on (pages turn them available on their own)."""
        while self.expiries and self.expiries[0][0] <= now:
            until, seat_id = heapq.heappop(self.expiries)
            seat = self.seats.get(seat_id)
            if seat is not None and seat[0] == "held" and seat[1] == until and not seat[3]:
                self.seats[seat_id] = (seat[0], seat[1], seat[2], True)
                section_id = self.section_of[seat_id]
                self.available[section_id] += 1
                self.counts_topic.pending[section_id] = None
                self.counts_text = None

    # --- messages -------------------------------------------------------------------------------------

    def topics(self):
        yield self.event_topic
        yield from self.section_topics.values()
        yield self.counts_topic

    def counts_message(self, section_ids) -> str:
        return orjson.dumps({"version": self.version, "sections": [
            {"section_id": section_id, "available": self.available.get(section_id, 0),
             "seats": self.seat_count.get(section_id, 0)} for section_id in section_ids]}).decode()

    def full_counts(self) -> str:
        if self.counts_text is None:
            self.counts_text = self.counts_message(self.sections)
        return self.counts_text

    def message(self, topic: Topic) -> str:
        if topic.kind == "counts":
            text = self.counts_message([s for s in self.sections if s in topic.pending])
        else:
            text = orjson.dumps({"version": self.version,
                                 "changes": [topic.pending[seat_id] for seat_id in sorted(topic.pending)]}).decode()
        topic.pending = {}
        return text

    def subscriber_count(self) -> int:
        return sum(len(topic.subscribers) for topic in self.topics())


class LiveHub:
    """Everything live in one event loop (one per websocket process; tests get one per loop)."""

    def __init__(self):
        self.feeds: dict[int, EventFeed] = {}
        self.channels: dict[str, EventFeed] = {}
        self.wake = asyncio.Event()
        self._connected = asyncio.Event()
        self._redis_lock = asyncio.Lock()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-db")
        self._redis = None
        self._pubsub = None
        self._background: set[asyncio.Task] = set()
        self._released = False
        self._tasks = [asyncio.create_task(self._reader(), name="live-reader"),
                       asyncio.create_task(self._flusher(), name="live-flusher")]
        self.load_factor = 1.0
        self._window_started = time.monotonic()
        self._window_busy = 0.0
        self.stats = {"deliveries": 0, "messages": 0, "dropped_slow": 0, "refreshes": 0}
        # (monotonic time, topic kind, seconds from the oldest change's commit to its message leaving): how
        # late this process sends what it sends, whatever the viewers' own machines do (GET /ws/health)
        self.ages: collections.deque = collections.deque(maxlen=200_000)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._background.discard)

    # --- subscriptions ---------------------------------------------------------------------------------

    async def topic(self, *, event_id: int, kind: str, section_id: int | None = None) -> tuple[EventFeed, Topic]:
        """The feed and topic a page subscribes to (the feed loaded first); LiveNotFound for a bad id."""
        feed = self.feeds.get(event_id)
        if feed is None:
            feed = self.feeds[event_id] = EventFeed(self, event_id)
            self.channels[feed.channel] = feed
            try:
                await self._subscribe(feed.channel)  # before the snapshot is read: no change falls in between
            except Exception as error:  # noqa: BLE001 - Redis is down: refuse, the page polls meanwhile
                feed.loaded.set_exception(error)
            else:
                self._spawn(feed.load())
        try:
            await asyncio.shield(feed.loaded)
        except Exception:
            if self.feeds.get(event_id) is feed:
                self._drop_feed(feed)
            raise
        if kind == "event":
            return feed, feed.event_topic
        if kind == "counts":
            return feed, feed.counts_topic
        if section_id not in feed.seat_count:
            raise LiveNotFound()
        topic = feed.section_topics.get(section_id)
        if topic is None:
            topic = feed.section_topics[section_id] = Topic("section", section_id)
        return feed, topic

    def join(self, feed: EventFeed, topic: Topic, subscriber: Subscriber) -> None:
        topic.subscribers.add(subscriber)
        feed.empty_since = None

    def leave(self, feed: EventFeed, topic: Topic, subscriber: Subscriber) -> None:
        topic.subscribers.discard(subscriber)
        if not topic.subscribers and topic.kind == "section" and feed.section_topics.get(topic.section_id) is topic:
            del feed.section_topics[topic.section_id]
        if feed.subscriber_count() == 0 and feed.empty_since is None:
            feed.empty_since = time.monotonic()

    def subscriber_count(self) -> int:
        return sum(feed.subscriber_count() for feed in self.feeds.values())

    def age_report(self, seconds: float) -> dict:
        """Per topic kind, over the last `seconds`: p50/p90/p99/max ms from commit to the message leaving."""
        horizon = time.monotonic() - seconds
        by_kind: dict[str, list[float]] = {}
        for at, kind, age in self.ages:
            if at >= horizon:
                by_kind.setdefault(kind, []).append(age)
        report = {}
        for kind, ages in by_kind.items():
            ages.sort()
            report[kind] = {f"p{p}": round(ages[min(len(ages) - 1, len(ages) * p // 100)] * 1000, 1)
                            for p in (50, 90, 99)}
            report[kind].update(max=round(ages[-1] * 1000, 1), messages=len(ages))
        return report

    # --- Redis ---------------------------------------------------------------------------------------------

    async def _ensure_pubsub(self):
        async with self._redis_lock:
            if self._pubsub is None:
                self._redis = redis.Redis.from_url(settings.REDIS_URL, health_check_interval=15)
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                if self.channels:
                    await pubsub.subscribe(*self.channels)
                self._pubsub = pubsub
                self._connected.set()
            return self._pubsub

    async def _subscribe(self, channel: str) -> None:
        pubsub = await self._ensure_pubsub()
        await pubsub.subscribe(channel)

    def _drop_feed(self, feed: EventFeed) -> None:
        self.feeds.pop(feed.event_id, None)
        self.channels.pop(feed.channel, None)
        if self._pubsub is not None:
            self._spawn(self._unsubscribe(self._pubsub, feed.channel))

    @staticmethod
    async def _unsubscribe(pubsub, channel: str) -> None:
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe(channel)

    async def _reader(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._connected.wait()
                pubsub = await self._ensure_pubsub()
                if not pubsub.subscribed:
                    await asyncio.sleep(0.1)
                    continue
                message = await pubsub.get_message(timeout=1.0)
                backoff = 0.2
                if message is None or message["type"] != "message":
                    continue
                feed = self.channels.get(message["channel"].decode())
                if feed is not None:
                    feed.on_message(message["data"])
                    self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - reconnect; catch-ups fill in what was missed
                logger.warning("live seat maps: the Redis subscription failed; reconnecting", exc_info=True)
                await self._close_redis()
                await asyncio.sleep(backoff)
                backoff = min(5.0, backoff * 2)
                for feed in self.feeds.values():  # messages may have been lost meanwhile
                    feed.last_refresh = 0.0
                if self.channels:
                    with contextlib.suppress(Exception):
                        await self._ensure_pubsub()

    async def _close_redis(self) -> None:
        async with self._redis_lock:
            pubsub, client, self._pubsub, self._redis = self._pubsub, self._redis, None, None
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
            if client is not None:
                await client.aclose()

    # --- sending -------------------------------------------------------------------------------------------

    async def _flusher(self) -> None:
        try:
            while True:
                try:
                    self.wake.clear()
                    wait = await self._flush_due()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await self.wake.wait()
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - keep serving the other feeds
                    logger.exception("live seat maps: flush failed")
                    await asyncio.sleep(0.1)
        finally:  # the loop is ending (asyncio.run cancels what is left): let go of Redis and Postgres
            await self._release()

    async def _flush_due(self) -> float:
        """Send every topic whose interval has passed; seconds until the next one is due."""
        now = time.monotonic()
        self._update_load(now)
        wait = 0.25
        for feed in list(self.feeds.values()):
            if feed.buffered is not None:
                continue
            if feed.empty_since is not None and now - feed.empty_since > FEED_LINGER:
                self._drop_feed(feed)
                continue
            if feed.refresh_due(now):
                self.stats["refreshes"] += 1
                self._spawn(feed.refresh())
            feed.expire_holds(time.time())
            for topic in list(feed.topics()):
                if not topic.pending:
                    continue
                if not topic.subscribers:
                    topic.pending = {}
                    continue
                due = topic.last_sent + topic.interval(self.load_factor)
                if due > now:
                    wait = min(wait, due - now)
                    continue
                topic.last_sent = now
                if topic.oldest is not None:
                    self.ages.append((now, topic.kind, time.time() - topic.oldest))
                    topic.oldest = None
                await self._send(topic, feed.message(topic))
        return max(0.005, wait)

    async def _send(self, topic: Topic, text: str) -> None:
        started = time.thread_time()
        frame = websocket_text_frame(text)
        subscribers = list(topic.subscribers)
        for subscriber in subscribers:
            try:
                pending = subscriber.live_deliver(text, frame)
                if pending is not None:
                    await pending
            except Exception:  # noqa: BLE001 - one broken connection must not stop the others
                logger.debug("live delivery failed", exc_info=True)
        self._window_busy += time.thread_time() - started
        self.stats["messages"] += 1
        self.stats["deliveries"] += len(subscribers)

    def _update_load(self, now: float) -> None:
        elapsed = now - self._window_started
        if elapsed < 1.0:
            return
        wanted = min(LOAD_FACTOR_MAX, max(1.0, self._window_busy / elapsed / TARGET_BUSY))
        self.load_factor = max(1.0, 0.5 * self.load_factor + 0.5 * wanted)
        for feed in self.feeds.values():
            for topic in feed.topics():
                topic.rate = 0.5 * topic.rate + 0.5 * topic.added / elapsed
                topic.added = 0
        self._window_started, self._window_busy = now, 0.0

    # --- database --------------------------------------------------------------------------------------

    async def run_db(self, function, **kwargs):
        """Run a selector on this hub's own thread (one database connection per websocket process)."""
        return await asyncio.get_running_loop().run_in_executor(self._db, lambda: _db_call(function, kwargs))

    async def close(self) -> None:
        for task in [*self._tasks, *self._background]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        await self._release()

    async def _release(self) -> None:
        if self._released:
            return
        self._released = True
        _hubs.pop(asyncio.get_running_loop(), None)
        await self._close_redis()
        with contextlib.suppress(Exception):
            await asyncio.get_running_loop().run_in_executor(self._db, connection.close)
        self._db.shutdown(wait=False)


def _db_call(function, kwargs):
    close_old_connections()  # a broken or too-old connection is replaced, as after a request
    try:
        return function(**kwargs)
    finally:
        if not settings.DATABASES["default"].get("CONN_MAX_AGE"):
            connection.close()


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def live_hub() -> LiveHub:
    """This event loop's hub, started on first use."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LiveHub()
    return hub


def live_hub_if_running() -> LiveHub | None:
    try:
        return _hubs.get(asyncio.get_running_loop())
    except RuntimeError:
        return None
