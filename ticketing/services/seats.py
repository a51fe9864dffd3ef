"""Seat holds and releases, and the change stamps clients catch up with.

Each change is one conditional UPDATE inside one short transaction, stamped and broadcast after commit.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from events.models import Event, EventStatus
from ticketing.broadcast import seat_changes_publish_on_commit
from ticketing.exceptions import (
    EventNotFound,
    SaleNotActive,
    SeatsBusy,
    SeatsUnavailable,
    UnknownSeats,
)
from ticketing.models import SeatStatus
from ticketing.services.limits import order_limit_check
from ticketing.services.pricing import seat_prices_fix


@dataclass(frozen=True)
class Hold:
    seat_ids: list[int]
    expires_at: datetime


# --- seat versions -----------------------------------------------------------------------------

# Set `version = STAMP` in the same UPDATE that changes a seat's state; see _seat_changes_record.
STAMP_SQL = "pg_current_xact_id()::text::bigint"
STAMP = RawSQL(STAMP_SQL, [])


def _seat_changes_record(cursor, *, event_id: int, seat_ids: list[int]) -> int:
    """Stamp the changed seats with this transaction's id and broadcast them after commit.

    Call it in the same transaction as any seat state change (hot paths stamp inline with
    `version = STAMP` and call `seat_changes_publish_on_commit` themselves). The stamp is the transaction id
    (`pg_current_xact_id()`), so writers share no counter row and never wait for each other;
    `ticketing.selectors.seat_changes_since` explains why a snapshot's xmin is then a safe cursor.
    Returns the stamp.
    """
    cursor.execute(
        "UPDATE ticketing_eventseat SET version = pg_current_xact_id()::text::bigint WHERE id = ANY(%s) "
        "RETURNING id, status, held_until, booking_id, version",
        [list(seat_ids)],
    )
    rows = cursor.fetchall()
    changes = sorted((seat_change_row_to_dict(row[:4]) for row in rows), key=lambda change: change["seat_id"])
    seat_changes_publish_on_commit(event_id, changes)
    return rows[0][4] if rows else 0


def seat_change_row_to_dict(row) -> dict:
    """(id, status, held_until, booking_id) → what clients see; shared with the selectors."""
    seat_id, status, held_until, booking_id = row
    if status == SeatStatus.HELD and booking_id is None and held_until <= timezone.now():
        return {"seat_id": seat_id, "status": SeatStatus.AVAILABLE}
    change = {"seat_id": seat_id, "status": status}
    if status == SeatStatus.HELD and booking_id is None:
        change["held_until"] = held_until.isoformat()
    return change


# --- holds -------------------------------------------------------------------------------------

def _event_on_sale(event_id: int) -> Event:
    try:
        event = Event.objects.only(
            "id", "status", "sales_open_at", "sales_close_at", "ends_at", "max_seats_per_order",
            "max_seats_per_email", "starts_at"
        ).get(pk=event_id)
    except Event.DoesNotExist:
        raise EventNotFound() from None
    now = timezone.now()
    if (
        event.status != EventStatus.ON_SALE
        or (event.sales_open_at and now < event.sales_open_at)
        or (event.sales_close_at and now >= event.sales_close_at)
    ):
        raise SaleNotActive()
    return event


# The price (and pricing tier) is fixed here, per seat, except for seats this owner already holds.
HOLD_SQL = f"""
UPDATE ticketing_eventseat es
   SET status = 'held', hold_owner = %(owner)s, held_until = %(until)s, booking_id = NULL, version = {STAMP_SQL},
       price = CASE WHEN es.status = 'held' AND es.hold_owner = %(owner)s AND es.held_until > now()
                         AND es.price IS NOT NULL THEN es.price ELSE picked.price END,
       tier_id = CASE WHEN es.status = 'held' AND es.hold_owner = %(owner)s AND es.held_until > now()
                           AND es.price IS NOT NULL THEN es.tier_id ELSE picked.tier_id END
  FROM unnest(%(seat_ids)s::bigint[], %(prices)s::numeric[], %(tier_ids)s::bigint[]) AS picked(id, price, tier_id)
 WHERE es.id = picked.id AND es.event_id = %(event_id)s
   AND (es.status = 'available'
        OR (es.status = 'held' AND es.booking_id IS NULL AND (es.held_until <= now() OR es.hold_owner = %(owner)s)))
RETURNING es.id
"""

# Holds, releases and expiries are not worth an fsync each: a hold lost in a crash only frees a
# seat (the buyer's confirm then fails cleanly with no_held_seats); it can never sell one twice.
# Bookings and payments keep synchronous commits.
RELAXED_COMMIT_SQL = "SET LOCAL synchronous_commit = off"

# A buyer waits at most this long for a seat row another transaction holds, then gets `busy`
# (429, retry) instead of a request that hangs while a stampede queues up.


@contextlib.contextmanager
def lock_wait_bounded(cursor):
    """Bound lock waits in this transaction; a timeout becomes SeatsBusy (429)."""
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{settings.SEAT_LOCK_TIMEOUT_MS}ms"])
    try:
        yield
    except OperationalError as error:
        if isinstance(error.__cause__, psycopg.errors.LockNotAvailable):
            raise SeatsBusy() from error
        raise


def seat_hold(*, event_id: int, seat_ids: list[int], owner: str) -> Hold:
    """Hold all of `seat_ids` for `owner`, or none of them.

    The owner's seats for one event share one expiry (the first hold's), so adding a seat never
    extends the countdown. Raises SeatsUnavailable (with the taken ids), UnknownSeats,
    OrderLimitExceeded (the event's per-order limit) or SaleNotActive; on any error nothing is held. Each
    newly held seat gets the price of its category's active pricing tier, kept until it is sold.
    """
    seat_ids = sorted(set(seat_ids))
    event = _event_on_sale(event_id)
    with transaction.atomic(), connection.cursor() as cursor, lock_wait_bounded(cursor):
        cursor.execute(RELAXED_COMMIT_SQL)
        # One owner's holds on one event run one at a time, so two tabs cannot race the limit.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"hold:{event_id}:{owner}"])
        cursor.execute(
            "SELECT COALESCE(min(held_until), now() + make_interval(secs => %s)), "
            "       count(*) FILTER (WHERE NOT (id = ANY(%s))) "
            "  FROM ticketing_eventseat "
            " WHERE event_id = %s AND hold_owner = %s AND status = 'held' AND booking_id IS NULL "
            "   AND held_until > now()",
            [settings.HOLD_TTL_SECONDS, seat_ids, event_id, owner],
        )
        until, already_held = cursor.fetchone()
        # The event's per-order limit is the hold limit (MAX_SEATS_PER_HOLD only sets new events' default).
        order_limit_check(event=event, seats=already_held + len(seat_ids))
        prices, tier_ids = seat_prices_fix(cursor, event_id=event_id, owner=owner, seat_ids=seat_ids)
        cursor.execute(HOLD_SQL, {"owner": owner, "until": until, "event_id": event_id, "seat_ids": seat_ids,
                                  "prices": prices, "tier_ids": tier_ids})
        held = sorted(row[0] for row in cursor.fetchall())
        if len(held) != len(seat_ids):
            missing = sorted(set(seat_ids) - set(held))
            cursor.execute(
                "SELECT id FROM ticketing_eventseat WHERE event_id = %s AND id = ANY(%s)", [event_id, missing]
            )
            known = {row[0] for row in cursor.fetchall()}
            if len(known) != len(missing):
                raise UnknownSeats(seat_ids=sorted(set(missing) - known))
            raise SeatsUnavailable(seat_ids=missing)  # leaving atomic() rolls the partial hold back
        seat_changes_publish_on_commit(event_id, _held(held, until))
    return Hold(seat_ids=held, expires_at=until)


def seat_release(*, event_id: int, seat_ids: list[int], owner: str) -> list[int]:
    """Release the owner's own holds among `seat_ids`; others' seats are left alone. Returns what was released.

    Raises EventNotFound for an event that does not exist."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RELAXED_COMMIT_SQL)
        cursor.execute(
            f"UPDATE ticketing_eventseat SET status = 'available', hold_owner = '', held_until = NULL, "
            f"       version = {STAMP_SQL} "
            " WHERE event_id = %s AND id = ANY(%s) AND hold_owner = %s AND status = 'held' AND booking_id IS NULL "
            "RETURNING id",
            [event_id, sorted(set(seat_ids)), owner],
        )
        released = sorted(row[0] for row in cursor.fetchall())
        if not released and not Event.objects.filter(pk=event_id).exists():  # only checked when nothing matched
            raise EventNotFound()
        _seats_freed(cursor, event_id=event_id, seat_ids=released)
    return released


def _available(seat_ids: list[int]) -> list[dict]:
    return [{"seat_id": seat_id, "status": SeatStatus.AVAILABLE} for seat_id in seat_ids]


def _held(seat_ids: list[int], held_until: datetime) -> list[dict]:
    return [{"seat_id": seat_id, "status": SeatStatus.HELD, "held_until": held_until.isoformat()}
            for seat_id in seat_ids]


def holds_expire() -> int:
    """Turn expired holds back into available seats, one short transaction per event.

    Expired holds already count as available to buyers; this makes it visible (broadcast) and
    is where freed seats will be offered to a waitlist. Safe to run twice or concurrently.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT event_id FROM ticketing_eventseat "
            " WHERE status = 'held' AND booking_id IS NULL AND held_until <= now()"
        )
        event_ids = [row[0] for row in cursor.fetchall()]
    released_total = 0
    for event_id in event_ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RELAXED_COMMIT_SQL)
            cursor.execute(
                f"UPDATE ticketing_eventseat SET status = 'available', hold_owner = '', held_until = NULL, "
                f"       version = {STAMP_SQL} "
                " WHERE event_id = %s AND status = 'held' AND booking_id IS NULL AND held_until <= now() "
                "RETURNING id",
                [event_id],
            )
            released = sorted(row[0] for row in cursor.fetchall())
            _seats_freed(cursor, event_id=event_id, seat_ids=released)
            released_total += len(released)
    return released_total


def _seats_freed(cursor, *, event_id: int, seat_ids: list[int]) -> None:
    """Seats this transaction just made available: the waitlist gets them first, then pages hear of it.

    Call it right after the UPDATE that freed them (their rows are locked). In the common case,
    nobody waits: one EXISTS query, and the seats are announced as available.
    """
    from ticketing.services.waitlist import waitlist_offer_freed

    if not seat_ids:
        return
    if waitlist_offer_freed(cursor, event_id=event_id, seat_ids=seat_ids):
        _seat_changes_record(cursor, event_id=event_id, seat_ids=seat_ids)  # some are now held for an offer
    else:
        seat_changes_publish_on_commit(event_id, _available(seat_ids))
