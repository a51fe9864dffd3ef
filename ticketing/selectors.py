"""Reads of seat state: the seat map and what changed since a cursor."""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from events.models import Event
from ticketing.broadcast import seat_changes_cursor
from ticketing.exceptions import EventNotFound
from ticketing.models import SeatStatus
from ticketing.seat_state import free_seat_sql, live_hold_sql, seat_is_free, seat_public_state
from ticketing.services.areas import area_changes_since, event_areas
from ticketing.services.cancellation import cancellation_policy_as_dict, cancellation_policy_text
from ticketing.services.pricing import categories_current_price


def seat_changes_since(*, event_id: int, since: int, section_id: int | None = None) -> dict:
    """Seats changed by transactions from `since` on, with their current public status.

    Every change stamps its seats with its transaction id. Any transaction not yet visible
    when a cursor was taken has an id >= that snapshot's xmin, so asking `since=cursor` later
    can miss nothing, however commits interleave — and no writer ever waits on a shared
    counter. Seats may come twice; applying a status is idempotent. `reset` tells a client
    whose cursor is from another database to reload the whole map. With `section_id`, only
    that section's seats (what a zoomed-in section page needs after a reconnect).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            "       pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
        )
        version, horizon = cursor.fetchone()
        if since > horizon:
            return {"version": version, "changes": [], "reset": True}
        if section_id is None:
            cursor.execute(
                "SELECT id, status, held_until, booking_id FROM ticketing_eventseat "
                " WHERE event_id = %s AND version >= %s ORDER BY id",
                [event_id, since],
            )
        else:
            cursor.execute(
                "SELECT es.id, es.status, es.held_until, es.booking_id FROM ticketing_eventseat es "
                "  JOIN venues_seat s ON s.id = es.seat_id "
                " WHERE es.event_id = %s AND es.version >= %s AND s.section_id = %s ORDER BY es.id",
                [event_id, since, section_id],
            )
        now = timezone.now()
        changes = [seat_public_state(row, now=now) for row in cursor.fetchall()]
    # General-admission areas changed meanwhile (issue 15): {"area_id", "available"}, after the seats.
    changes += area_changes_since(event_id=event_id, since=since)
    return {"version": version, "changes": changes}


def event_live_snapshot(*, event_id: int) -> dict | None:
    """Everything a websocket process mirrors of an event's seats, or None if buyers may not see it.

    `cursor` is taken before the seats are read (see seat_changes_since); `seats` are rows
    (id, section_id, status, held_until, booking_id); `sections` every section of the venue, in
    venue order. One query for 50,000 seats, once per event and websocket process.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.venue_id FROM events_event e WHERE e.id = %s AND e.status <> 'draft'", [event_id])
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute("SELECT id FROM venues_section WHERE venue_id = %s ORDER BY position, id", [row[0]])
        sections = [section_id for (section_id,) in cursor.fetchall()]
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        version = cursor.fetchone()[0]
        cursor.execute(
            "SELECT es.id, s.section_id, es.status, es.held_until, es.booking_id "
            "  FROM ticketing_eventseat es JOIN venues_seat s ON s.id = es.seat_id "
            " WHERE es.event_id = %s",
            [event_id],
        )
        seats = cursor.fetchall()
    return {"cursor": version, "sections": sections, "seats": seats}


def event_live_refresh(*, event_id: int, since: int, seat_ids: list[int]) -> tuple[int, list[tuple]]:
    """(cursor, rows): the current state of seats changed from `since` on or listed in `seat_ids`.

    Rows are (id, status, held_until, booking_id). What a websocket process reads every couple of
    seconds to heal its mirror: `since` brings changes whose messages were lost, `seat_ids` (the
    seats that messages touched meanwhile) fixes any that arrived out of order.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        version = cursor.fetchone()[0]
        cursor.execute(
            # Two index scans (event + version, primary key) rather than one OR over the event's seats.
            "SELECT id, status, held_until, booking_id FROM ticketing_eventseat WHERE event_id = %s AND version >= %s "
            "UNION "
            "SELECT id, status, held_until, booking_id FROM ticketing_eventseat WHERE event_id = %s AND id = ANY(%s)",
            [event_id, since, event_id, seat_ids],
        )
        return version, cursor.fetchall()


def event_layout(*, event: Event, owner: str | None = None, section_id: int | None = None) -> dict:
    """The whole seat map of an event: sections → rows → seats, with status and price.

    One query for the seats; assembled in Python in venue order. `my_holds` lists the asking
    buyer's live holds so a reloaded page can restore its cart. With `section_id`, only that
    section's seats (and holds) — how large venues load a section on zoom.
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
            " WHERE es.event_id = %s " + ("AND s.section_id = %s " if section_id is not None else "") +
            " ORDER BY sec.position, sec.id, s.id",
            [event.pk] if section_id is None else [event.pk, section_id],
        )
        rows = cursor.fetchall()
    current_rows: dict[tuple[int, str], list] = {}
    for (seat_id, status, held_until, booking_id, category_id, hold_owner, section_id, section_name, outline,
         row_label, number, x, y, is_wheelchair, is_companion, is_restricted_view) in rows:
        if seat_is_free(status=status, held_until=held_until, booking_id=booking_id, now=now):
            status = SeatStatus.AVAILABLE
        section = sections.get(section_id)
        if section is None:
            # Django reads jsonb as text on raw cursors (it parses JSONField values itself).
            outline = json.loads(outline) if isinstance(outline, str) else outline
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
    areas = event_areas(event_id=event.pk, owner=owner)
    my_areas = [{"area_id": area["id"], "quantity": area["held_by_me"]} for area in areas if area["held_by_me"]]
    for area in areas:
        if area["my_expires_at"] is not None:
            hold_expires_at = min(filter(None, (hold_expires_at, area["my_expires_at"])))
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
        # General admission (issue 15): areas sold by quantity, drawn as shapes beside the sections.
        "areas": [{"id": area["id"], "name": area["name"], "capacity": area["capacity"], "available": area["available"],
                   "price": price_by_category[area["category"]], "category": area["category"],
                   "outline": area["outline"]} for area in areas],
        "version": version,
        "my_holds": my_holds,
        "my_areas": my_areas,
        "hold_expires_at": hold_expires_at.isoformat() if hold_expires_at else None,
    }


def event_for_buyers(event_id: int) -> Event:
    """An event buyers may see (not a draft), or EventNotFound."""
    try:
        return Event.objects.select_related("venue").exclude(status="draft").get(pk=event_id)
    except Event.DoesNotExist:
        raise EventNotFound() from None


SECTION_SUMMARY_CACHE_SECONDS = 2


def event_section_summaries_cached(*, event: Event) -> tuple[int, list[dict]]:
    """(cursor, event_section_summaries), shared for a couple of seconds.

    Counting 50,000 seats costs tens of milliseconds; when a big sale opens, thousands of
    buyers load the overview at once and share one count. The counts may be two seconds old;
    the cursor stored with them was taken before they were counted, so `changes?since=cursor`
    brings a page up to date. Keyed by the event's creation time too, so a recreated database
    never sees another event's counts.
    """
    key = f"sections:{event.pk}:{event.created_at.timestamp()}"
    cached = cache.get(key)
    if cached is None:
        cached = (seat_changes_cursor(), event_section_summaries(event=event))
        cache.set(key, cached, SECTION_SUMMARY_CACHE_SECONDS)
    return cached


def event_section_summaries(*, event: Event) -> list[dict]:
    """Per section, in venue order: seat count, seats a buyer could hold now, and the price range.

    What the overview of a large venue draws instead of every seat; one grouped query.
    """
    # The price selling now (the active pricing tier's), not the category's base price.
    prices = {category_id: current["price"]
              for category_id, current in categories_current_price(list(event.categories.all())).items()}
    # Grouped by (section, category) so the prices join happens on a few dozen rows, not 50,000.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.section_id, es.category_id, count(*), count(*) FILTER (WHERE " + free_seat_sql("es") + ") "
            "  FROM ticketing_eventseat es "
            "  JOIN venues_seat s ON s.id = es.seat_id "
            " WHERE es.event_id = %s AND es.status <> 'blocked' "
            " GROUP BY s.section_id, es.category_id",
            [event.pk],
        )
        counts: dict[int, tuple] = {}
        for section_id, category_id, seats, available in cursor.fetchall():
            total, free, low, high = counts.get(section_id, (0, 0, None, None))
            price = prices[category_id]
            counts[section_id] = (total + seats, free + available, price if low is None else min(low, price),
                                  price if high is None else max(high, price))
    summaries = []
    # General-admission areas are not seat sections: the page draws them itself (issue 15).
    for section in event.venue.sections.filter(is_general_admission=False).order_by("position", "id").only(
            "id", "name", "outline"):
        seats, available, price_min, price_max = counts.get(section.pk, (0, 0, None, None))
        summaries.append({
            "id": section.pk, "section_id": section.pk, "name": section.name, "outline": section.outline,
            "seats": seats,
            "available": available, "price_min": str(price_min) if price_min is not None else None,
            "price_max": str(price_max) if price_max is not None else None,
        })
    return summaries


def seats_held_by(*, event_id: int, owner: str) -> list[dict]:
    """The buyer's live holds on an event (not yet in a booking), with labels and prices, in venue order."""
    if not owner:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT es.id, sec.name, s.row_label, s.number, c.id, c.name, COALESCE(es.price, c.price), es.held_until "
            "  FROM ticketing_eventseat es "
            "  JOIN venues_seat s ON s.id = es.seat_id "
            "  JOIN venues_section sec ON sec.id = s.section_id "
            "  JOIN events_seatcategory c ON c.id = es.category_id "
            f" WHERE es.event_id = %s AND es.hold_owner = %s AND {live_hold_sql('es')} "
            " ORDER BY sec.position, sec.id, s.id",
            [event_id, owner],
        )
        rows = cursor.fetchall()
    return [
        {"id": seat_id, "label": f"{section}, row {row_label}, seat {number}", "section": section,
         "row": row_label, "number": number, "category": category_id, "category_name": category_name,
         "price": str(price), "held_until": held_until.isoformat()}
        for seat_id, section, row_label, number, category_id, category_name, price, held_until in rows
    ]


def places_held_by(*, event_id: int, owner: str) -> list[dict]:
    """The buyer's live general-admission places on an event, per area (issue 15), in venue order."""
    if not owner:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sec.id, sec.name, c.id, c.name, sum(hold.quantity)::int, sum(hold.quantity * hold.price), "
            "       min(hold.held_until) "
            "  FROM ticketing_areahold hold "
            "  JOIN ticketing_eventarea area ON area.id = hold.event_area_id "
            "  JOIN venues_section sec ON sec.id = area.section_id "
            "  JOIN events_seatcategory c ON c.id = area.category_id "
            " WHERE hold.event_id = %s AND hold.owner = %s AND hold.booking_id IS NULL AND hold.held_until > now() "
            " GROUP BY sec.id, sec.name, sec.position, c.id, c.name ORDER BY sec.position, sec.id",
            [event_id, owner],
        )
        rows = cursor.fetchall()
    return [
        {"area_id": area_id, "label": f"{name} × {quantity}", "name": name, "quantity": quantity,
         "category": category_id, "category_name": category_name, "price": str(total),
         "held_until": held_until.isoformat()}
        for area_id, name, category_id, category_name, quantity, total, held_until in rows
    ]


def event_for_buyers_or_none(event_id: int, *, statuses) -> Event | None:
    return Event.objects.select_related("venue").filter(pk=event_id, status__in=statuses).first()


def booking_seats(*, booking_id: int) -> list[dict]:
    """A booking's active seats with labels and prices, in venue order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT es.id, sec.name, s.row_label, s.number, c.name, bs.price "
            "  FROM ticketing_bookingseat bs "
            "  JOIN ticketing_eventseat es ON es.id = bs.event_seat_id "
            "  JOIN venues_seat s ON s.id = es.seat_id "
            "  JOIN venues_section sec ON sec.id = s.section_id "
            "  JOIN events_seatcategory c ON c.id = es.category_id "
            " WHERE bs.booking_id = %s AND bs.is_active "
            " ORDER BY sec.position, sec.id, s.id",
            [booking_id],
        )
        rows = cursor.fetchall()
    return [
        {"id": seat_id, "label": f"{section}, row {row_label}, seat {number}", "category_name": category_name,
         "price": str(price)}
        for seat_id, section, row_label, number, category_name, price in rows
    ]


def booking_places(*, booking_id: int) -> list[dict]:
    """A booking's active general-admission places, one line per area (issue 15), like `booking_seats`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sec.id, sec.name, c.name, count(*)::int, sum(place.price) "
            "  FROM ticketing_bookingplace place "
            "  JOIN ticketing_eventarea area ON area.id = place.event_area_id "
            "  JOIN venues_section sec ON sec.id = area.section_id "
            "  JOIN events_seatcategory c ON c.id = area.category_id "
            " WHERE place.booking_id = %s AND place.is_active "
            " GROUP BY sec.id, sec.name, sec.position, c.name ORDER BY sec.position, sec.id",
            [booking_id],
        )
        rows = cursor.fetchall()
    return [
        {"area_id": area_id, "label": f"{name} × {quantity} (general admission)", "category_name": category_name,
         "quantity": quantity, "price": str(total)}
        for area_id, name, category_name, quantity, total in rows
    ]
def categories_selling_now(*, event: Event) -> list[dict]:
    """Each category with the price a seat costs now (its active pricing tier's) and that tier, in order."""
    categories = list(event.categories.all())
    current = categories_current_price(categories)
    return [{"id": category.pk, "name": category.name, "colour": category.colour,
             "price": str(current[category.pk]["price"]), "tier": current[category.pk]["tier"]}
            for category in categories]


def buyer_cart(*, event: Event, owner: str) -> dict:
    """The buyer's cart as the server fixed it: held seats with their hold-time prices, the total, the
    shared expiry, and what each category costs now (for the legend and the next pick)."""
    seats = seats_held_by(event_id=event.pk, owner=owner)
    total = sum((Decimal(seat["price"]) for seat in seats), Decimal("0"))
    return {"seats": seats, "total": str(total),
            "expires_at": min((seat["held_until"] for seat in seats), default=None),
            "categories": categories_selling_now(event=event)}


CATEGORY_SEATS_LEFT_CACHE_SECONDS = 2


def category_seats_left(*, event_id: int) -> dict[int, int]:
    """Seats a buyer could hold now, per category id (the free-seat rule); shared for a couple of seconds
    like the section summaries (one grouped count; the event page's legend shows it)."""
    key = f"category-seats-left:{event_id}"
    cached = cache.get(key)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT category_id, count(*) FILTER (WHERE {free_seat_sql()}) FROM ticketing_eventseat "
                " WHERE event_id = %s GROUP BY category_id", [event_id])
            cached = dict(cursor.fetchall())
        cache.set(key, cached, CATEGORY_SEATS_LEFT_CACHE_SECONDS)
    return cached
