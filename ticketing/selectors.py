"""Reads of seat state: the seat map and what changed since a cursor."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from events.models import Event
from events.pricing import categories_current_price
from ticketing.exceptions import EventNotFound
from ticketing.models import SeatStatus
from ticketing.services import seat_change_row_to_dict
from ticketing.services.cancellation import cancellation_policy_as_dict, cancellation_policy_text


def seat_changes_cursor() -> int:
    """The oldest transaction that may still be running: the `version` clients send back as `since`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def seat_changes_since(*, event_id: int, since: int) -> dict:
    """Seats changed by transactions from `since` on, with their current public status.

    Every change stamps its seats with its transaction id. Any transaction not yet visible
    when a cursor was taken has an id >= that snapshot's xmin, so asking `since=cursor` later
    can miss nothing, however commits interleave — and no writer ever waits on a shared
    counter. Seats may come twice; applying a status is idempotent. `reset` tells a client
    whose cursor is from another database to reload the whole map.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            "       pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
        )
        version, horizon = cursor.fetchone()
        if since > horizon:
            return {"version": version, "changes": [], "reset": True}
        cursor.execute(
            "SELECT id, status, held_until, booking_id FROM ticketing_eventseat "
            " WHERE event_id = %s AND version >= %s ORDER BY id",
            [event_id, since],
        )
        changes = [seat_change_row_to_dict(row) for row in cursor.fetchall()]
    return {"version": version, "changes": changes}


def event_layout(*, event: Event, owner: str | None = None) -> dict:
    """The whole seat map of an event: sections → rows → seats, with status and price.

    One query for the seats; assembled in Python in venue order. `my_holds` lists the asking
    buyer's live holds so a reloaded page can restore its cart.
    """
    version = seat_changes_cursor()  # before the seats: see seat_changes_since
    categories = list(event.categories.all())
    current_prices = categories_current_price(categories)  # the active pricing tier's, per category
    price_by_category = {category.pk: str(current_prices[category.pk]["price"]) for category in categories}
    now = timezone.now()
    sections: dict[int, dict] = {}
    my_holds: list[int] = []
    hold_expires_at = None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT es.id, es.status, es.held_until, es.booking_id, es.category_id, es.hold_owner, "
            "       s.section_id, sec.name, sec.outline, s.row_label, s.number, s.x, s.y, "
            "       s.is_wheelchair, s.is_companion, s.is_restricted_view "
            "  FROM ticketing_eventseat es "
            "  JOIN venues_seat s ON s.id = es.seat_id "
            "  JOIN venues_section sec ON sec.id = s.section_id "
            " WHERE es.event_id = %s "
            " ORDER BY sec.position, sec.id, s.id",
            [event.pk],
        )
        rows = cursor.fetchall()
    current_rows: dict[tuple[int, str], list] = {}
    for (seat_id, status, held_until, booking_id, category_id, hold_owner, section_id, section_name, outline,
         row_label, number, x, y, is_wheelchair, is_companion, is_restricted_view) in rows:
        if status == SeatStatus.HELD and booking_id is None and held_until <= now:
            status = SeatStatus.AVAILABLE
        section = sections.get(section_id)
        if section is None:
            section = sections[section_id] = {"id": section_id, "name": section_name, "outline": outline, "rows": []}
        seats = current_rows.get((section_id, row_label))
        if seats is None:
            seats = current_rows[(section_id, row_label)] = []
            section["rows"].append({"label": row_label, "seats": seats})
        seat = {"id": seat_id, "number": number, "x": x, "y": y, "status": status,
                "price": price_by_category[category_id], "category": category_id}
        if is_wheelchair or is_companion or is_restricted_view:
            seat["accessibility"] = [flag for flag, on in (("wheelchair", is_wheelchair), ("companion", is_companion),
                                                           ("restricted_view", is_restricted_view)) if on]
        if status == SeatStatus.HELD and booking_id is None:
            seat["held_until"] = held_until.isoformat()
            if owner and hold_owner == owner:
                my_holds.append(seat_id)
                hold_expires_at = held_until if hold_expires_at is None else min(hold_expires_at, held_until)
        seats.append(seat)
    venue = event.venue
    return {
        "event": {
            "id": event.pk, "title": event.title, "status": event.status, "starts_at": event.starts_at.isoformat(),
            "venue": {"id": venue.pk, "name": venue.name, "city": venue.city, "timezone": venue.timezone},
            "cancellation_policy": cancellation_policy_text(event),
            "cancellation_rules": cancellation_policy_as_dict(event),
            "max_seats_per_order": event.max_seats_per_order,
            "max_seats_per_email": event.max_seats_per_email,
        },
        "categories": [
            {"id": category.pk, "name": category.name, "colour": category.colour,
             "price": price_by_category[category.pk], "tier": current_prices[category.pk]["tier"]}
            for category in categories
        ],
        "map": venue.map_meta,
        "sections": list(sections.values()),
        "version": version,
        "my_holds": my_holds,
        "hold_expires_at": hold_expires_at.isoformat() if hold_expires_at else None,
    }


def event_for_buyers(event_id: int) -> Event:
    """An event buyers may see (not a draft), or EventNotFound."""
    try:
        return Event.objects.select_related("venue").exclude(status="draft").get(pk=event_id)
    except Event.DoesNotExist:
        raise EventNotFound() from None
