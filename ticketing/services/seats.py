"""Seat holds, releases and expiry.

Each change is one conditional UPDATE inside one short transaction; `ticketing.seat_state`
stamps, publishes and hands freed seats to the waitlist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from evently.prepared import prepared_cursor
from events.models import Event
from ticketing.exceptions import (
    EventNotFound,
    SaleNotActive,
    SeatsUnavailable,
    UnknownSeats,
)
from ticketing.seat_state import (
    EXPIRED_HOLD_SQL,
    LIVE_HOLD_SQL,
    RELAXED_COMMIT_SQL,
    STAMP_SQL,
    free_seat_sql,
    held_changes,
    live_hold_sql,
    lock_wait_bounded,
    seats_free,
    seats_publish,
)
from ticketing.services.carts import cart_expiry, cart_places
from ticketing.services.limits import order_limit_check
from ticketing.services.pricing import seat_prices_fix


@dataclass(frozen=True)
class Hold:
    seat_ids: list[int]
    expires_at: datetime
    # The price fixed for each held seat (what the cart shows and the confirm charges).
    prices: dict[int, Decimal] = field(default_factory=dict)


# --- holds -------------------------------------------------------------------------------------

EVENT_SALE_FIELDS = ("status", "sales_open_at", "sales_close_at", "starts_at", "ends_at", "max_seats_per_order",
                     "max_seats_per_email")


def event_selling(event_id: int) -> Event:
    """The event, if buyers may hold and buy now (`Event.is_selling`); raises EventNotFound or SaleNotActive.

    Read with one plain statement (every hold and confirm asks): only the fields the sale needs, and
    whether the event has general-admission areas (`event.has_areas`: carts may then hold places).
    """
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(EVENT_SALE_FIELDS)}, "
                       "       EXISTS (SELECT 1 FROM ticketing_eventarea area WHERE area.event_id = e.id) "
                       "  FROM events_event e WHERE id = %s", [event_id])
        row = cursor.fetchone()
    if row is None:
        raise EventNotFound()
    event = Event(pk=event_id, **dict(zip(EVENT_SALE_FIELDS, row[:-1], strict=True)))
    event.has_areas = row[-1]
    event._state.adding = False
    if not event.is_selling(timezone.now()):
        raise SaleNotActive()
    return event


OWN_LIVE_HOLD = f"({live_hold_sql('es')} AND es.hold_owner = %(owner)s)"

# The price (and pricing tier) is fixed here, per seat, except for seats this owner already holds.
HOLD_SQL = f"""
UPDATE ticketing_eventseat es
   SET status = 'held', hold_owner = %(owner)s, held_until = %(until)s, booking_id = NULL, version = {STAMP_SQL},
       price = CASE WHEN {OWN_LIVE_HOLD} AND es.price IS NOT NULL THEN es.price ELSE picked.price END,
       tier_id = CASE WHEN {OWN_LIVE_HOLD} AND es.price IS NOT NULL THEN es.tier_id ELSE picked.tier_id END
  FROM unnest(%(seat_ids)s::bigint[], %(prices)s::numeric[], %(tier_ids)s::bigint[]) AS picked(id, price, tier_id)
 WHERE es.id = picked.id AND es.event_id = %(event_id)s
   AND ({free_seat_sql("es")} OR {OWN_LIVE_HOLD})
RETURNING es.id, es.price
"""

def seat_hold(*, event_id: int, seat_ids: list[int], owner: str) -> Hold:
    """Hold all of `seat_ids` for `owner`, or none of them.

    The owner's seats for one event share one expiry (the first hold's), so adding a seat never
    extends the countdown. Raises SeatsUnavailable (with the taken ids), UnknownSeats,
    OrderLimitExceeded (the event's per-order limit) or SaleNotActive; on any error nothing is held. Each
    newly held seat gets the price of its category's active pricing tier, kept until it is sold.
    """
    seat_ids = sorted(set(seat_ids))
    event = event_selling(event_id)
    # One owner's holds on one event run one at a time, so two tabs cannot race the limit.
    with transaction.atomic(), prepared_cursor() as cursor, \
            lock_wait_bounded(cursor, relaxed_commit=True, one_at_a_time=f"hold:{event_id}:{owner}"):
        cursor.execute(
            "SELECT COALESCE(min(held_until), now() + make_interval(secs => %s)), "
            "       count(*) FILTER (WHERE NOT (id = ANY(%s))) "
            "  FROM ticketing_eventseat "
            f" WHERE event_id = %s AND hold_owner = %s AND {LIVE_HOLD_SQL}",
            [settings.HOLD_TTL_SECONDS, seat_ids, event_id, owner],
        )
        until, already_held = cursor.fetchone()
        if event.has_areas:  # general admission: the cart's places count too and share its expiry
            places, places_until = cart_places(cursor, event_id=event_id, owner=owner)
            already_held += places
            until = cart_expiry(until, places_until)
        # The event's per-order limit is the hold limit (MAX_SEATS_PER_HOLD only sets new events' default).
        order_limit_check(event=event, seats=already_held + len(seat_ids))
        prices, tier_ids = seat_prices_fix(cursor, event_id=event_id, owner=owner, seat_ids=seat_ids)
        cursor.execute(HOLD_SQL, {"owner": owner, "until": until, "event_id": event_id, "seat_ids": seat_ids,
                                  "prices": prices, "tier_ids": tier_ids})
        held_prices = dict(cursor.fetchall())
        held = sorted(held_prices)
        if len(held) != len(seat_ids):
            missing = sorted(set(seat_ids) - set(held))
            cursor.execute(
                "SELECT id FROM ticketing_eventseat WHERE event_id = %s AND id = ANY(%s)", [event_id, missing]
            )
            known = {row[0] for row in cursor.fetchall()}
            if len(known) != len(missing):
                raise UnknownSeats(seat_ids=sorted(set(missing) - known))
            raise SeatsUnavailable(seat_ids=missing)  # leaving atomic() rolls the partial hold back
        seats_publish(event_id, held_changes(held, until))
    return Hold(seat_ids=held, expires_at=until, prices=held_prices)


def seat_release(*, event_id: int, seat_ids: list[int], owner: str) -> list[int]:
    """Release the owner's own holds among `seat_ids`; others' seats are left alone. Returns what was released.

    Raises EventNotFound for an event that does not exist."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RELAXED_COMMIT_SQL)
        released = seats_free(
            cursor, event_id=event_id,
            where="id = ANY(%s) AND hold_owner = %s AND status = 'held' AND booking_id IS NULL",
            params=[sorted(set(seat_ids)), owner],
        )
    if not released and not Event.objects.filter(pk=event_id).exists():  # only checked when nothing matched
        raise EventNotFound()
    return released


def holds_expire() -> int:
    """Turn expired holds back into available seats, one short transaction per event.

    Expired holds already count as available to buyers; this makes it visible (broadcast) and
    offers the seats to the waitlist. Safe to run twice or concurrently.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT event_id FROM ticketing_eventseat "
            f" WHERE {EXPIRED_HOLD_SQL}"
        )
        event_ids = [row[0] for row in cursor.fetchall()]
    released_total = 0
    for event_id in event_ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RELAXED_COMMIT_SQL)
            released = seats_free(
                cursor, event_id=event_id, where=EXPIRED_HOLD_SQL,
                params=[],
            )
            released_total += len(released)
    return released_total
