"""Seat state: the one home of what every seat transition shares.

A seat is `available`, `held` (by `hold_owner` until `held_until`; with `booking_id` set a pending
payment reserves it), `sold` or `blocked`. Every service that changes a seat — hold, release,
expiry, reserve, sell, payment failure, cancel, block, unblock, box office, waitlist offer /
leave / claim, inventory — does it with one conditional UPDATE in a short transaction and uses
this module for the steps they all share:

- **the free-seat rule** (`FREE_SEAT_SQL`, `seat_is_free`): available, or an expired hold that no
  pending booking reserves — free to every buyer at once, before any sweeper runs;
- **the version stamp** (`STAMP_SQL`): the UPDATE sets `version` to its transaction id, so pages
  can ask `changes?since=` for what they missed (`ticketing.selectors.seat_changes_since`);
- **publishing after commit** (`seats_publish`): the change goes to the event's live seat maps
  only once it is durable;
- **freed seats** (`seats_free`): the waitlist is offered them before the public sees them free.

Nothing here calls anything outside Postgres while seat rows are locked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import OperationalError
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ticketing.broadcast import seat_changes_publish_on_commit
from ticketing.exceptions import SeatsBusy
from ticketing.models import SeatStatus

# --- the free-seat rule ----------------------------------------------------------------------------


def free_seat_sql(alias: str = "") -> str:
    """SQL true for a seat any buyer may take now: available, or an expired hold no payment reserves."""
    p = f"{alias}." if alias else ""
    return f"({p}status = 'available' OR {expired_hold_sql(alias)})"


def live_hold_sql(alias: str = "") -> str:
    """SQL true for a hold still running that no pending booking has taken over yet (a buyer's cart)."""
    p = f"{alias}." if alias else ""
    return f"({p}status = 'held' AND {p}booking_id IS NULL AND {p}held_until > now())"


def expired_hold_sql(alias: str = "") -> str:
    """SQL true for a hold whose time is over (free already; the sweep makes it `available`)."""
    p = f"{alias}." if alias else ""
    return f"({p}status = 'held' AND {p}booking_id IS NULL AND {p}held_until <= now())"


# A seat takes a place (of its pricing tier's quota, of an order limit) while sold, reserved by a
# pending booking, or held and not expired.
TAKES_A_PLACE_SQL = "(status = 'sold' OR (status = 'held' AND (booking_id IS NOT NULL OR held_until > now())))"

FREE_SEAT_SQL = free_seat_sql()
LIVE_HOLD_SQL = live_hold_sql()
EXPIRED_HOLD_SQL = expired_hold_sql()


def seat_is_free(*, status: str, held_until: datetime | None, booking_id: int | None, now: datetime) -> bool:
    """The free-seat rule in Python, for rows already read (same rule as FREE_SEAT_SQL)."""
    return status == SeatStatus.AVAILABLE or (
        status == SeatStatus.HELD and booking_id is None and held_until is not None and held_until <= now
    )


def seat_public_state(row, *, now: datetime | None = None) -> dict:
    """(id, status, held_until, booking_id) → what pages see: an expired hold is `available`."""
    seat_id, status, held_until, booking_id = row
    if seat_is_free(status=status, held_until=held_until, booking_id=booking_id, now=now or timezone.now()):
        return {"seat_id": seat_id, "status": SeatStatus.AVAILABLE}
    change = {"seat_id": seat_id, "status": status}
    if status == SeatStatus.HELD and booking_id is None:
        change["held_until"] = held_until.isoformat()
    return change


# --- the version stamp -----------------------------------------------------------------------------

# Put `version = STAMP_SQL` in every UPDATE that changes a seat's state.
STAMP_SQL = "pg_current_xact_id()::text::bigint"
STAMP = RawSQL(STAMP_SQL, [])


# --- transactions that change seats ----------------------------------------------------------------

# Holds, releases and expiries are not worth an fsync each: a hold lost in a crash only frees a
# seat (the buyer's confirm then fails cleanly with no_held_seats); it can never sell one twice.
# Bookings and payments keep synchronous commits.
RELAXED_COMMIT_SQL = "SET LOCAL synchronous_commit = off"


@contextlib.contextmanager
def lock_wait_bounded(cursor, *, relaxed_commit: bool = False, one_at_a_time: str | None = None):
    """Bound lock waits in this transaction; a timeout becomes SeatsBusy (429, retry).

    A buyer waits at most SEAT_LOCK_TIMEOUT_MS for a seat row another transaction holds instead
    of a request that hangs while a stampede queues up. In the same round trip: `relaxed_commit`
    commits without waiting for the disk (see RELAXED_COMMIT_SQL), and `one_at_a_time` takes an
    advisory lock on that key until commit, so requests sharing the key run one after another.
    """
    cursor.execute(
        "SELECT set_config('lock_timeout', %s, true), "
        "       CASE WHEN %s THEN set_config('synchronous_commit', 'off', true) END, "
        "       CASE WHEN %s::text IS NOT NULL THEN pg_advisory_xact_lock(hashtextextended(%s, 0))::text END",
        [f"{settings.SEAT_LOCK_TIMEOUT_MS}ms", relaxed_commit, one_at_a_time, one_at_a_time],
    )
    try:
        yield
    except OperationalError as error:
        if isinstance(error.__cause__, psycopg.errors.LockNotAvailable):
            raise SeatsBusy() from error
        raise


# --- publishing ------------------------------------------------------------------------------------


def seats_publish(event_id: int, changes: list[dict]) -> None:
    """Send `changes` to the event's live seat maps once this transaction commits (never before)."""
    seat_changes_publish_on_commit(event_id, changes)


def held_changes(seat_ids: list[int], held_until: datetime) -> list[dict]:
    return [{"seat_id": seat_id, "status": SeatStatus.HELD, "held_until": held_until.isoformat()}
            for seat_id in seat_ids]


def status_changes(seat_ids: list[int], status: str) -> list[dict]:
    return [{"seat_id": seat_id, "status": status} for seat_id in seat_ids]


def seats_changed(cursor, *, event_id: int, seat_ids: list[int]) -> None:
    """Stamp `seat_ids` with this transaction and publish their state after commit.

    For paths that changed seats without stamping inline, or whose new state is easiest read
    back (a waitlist offer, a block). Hot paths stamp in their own UPDATE and call
    `seats_publish` with the states they know.
    """
    if not seat_ids:
        return
    cursor.execute(
        f"UPDATE ticketing_eventseat SET version = {STAMP_SQL} WHERE id = ANY(%s) "
        "RETURNING id, status, held_until, booking_id",
        [sorted(seat_ids)],
    )
    now = timezone.now()
    changes = sorted((seat_public_state(row, now=now) for row in cursor.fetchall()), key=lambda c: c["seat_id"])
    seats_publish(event_id, changes)


# --- freed seats: the waitlist first, then the public ---------------------------------------------

# (cursor, event_id, seat_ids) → the ids it took (held for someone waiting). Registered by the
# waitlist (`TicketingConfig.ready`): it sits above this module, since making an offer is itself a
# seat transition that uses this module.
FreedSeatsClaimer = Callable[..., list[int]]
_freed_seats_claimers: list[FreedSeatsClaimer] = []


def freed_seats_claimer_register(claimer: FreedSeatsClaimer) -> None:
    if claimer not in _freed_seats_claimers:
        _freed_seats_claimers.append(claimer)


def seats_free(cursor, *, event_id: int, where: str, params: list) -> list[int]:
    """Make the event's seats matching `where` available, offer them to the waitlist, publish.

    The one way seats become available again (release, expiry, failed or expired payment,
    cancellation, unblock, leaving a waitlist offer). `where` is an SQL condition on
    `ticketing_eventseat` beyond `event_id` (with %s placeholders for `params`). In the same
    transaction: one UPDATE that frees and stamps them (their rows stay locked until commit), the
    waitlist's claim on them, then the announcement after commit. Returns the freed ids, sorted.
    """
    cursor.execute(
        "UPDATE ticketing_eventseat SET status = 'available', hold_owner = '', held_until = NULL, booking_id = NULL, "
        f"       version = {STAMP_SQL} "
        f" WHERE event_id = %s AND ({where}) RETURNING id",
        [event_id, *params],
    )
    freed = sorted(row[0] for row in cursor.fetchall())
    if not freed:
        return freed
    claimed: set[int] = set()
    for claimer in _freed_seats_claimers:
        claimed.update(claimer(cursor, event_id=event_id, seat_ids=[s for s in freed if s not in claimed]))
    if claimed:
        seats_changed(cursor, event_id=event_id, seat_ids=sorted(claimed))
    seats_publish(event_id, status_changes([s for s in freed if s not in claimed], SeatStatus.AVAILABLE))
    return freed
