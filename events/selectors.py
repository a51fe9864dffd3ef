"""Reads for the event catalogue."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Now

from events.models import Event, EventStatus

PUBLIC_STATUSES = [EventStatus.PUBLISHED, EventStatus.ON_SALE, EventStatus.SOLD_OUT]
PAGE_SIZE = 20


def event_list(*, page: int = 1, category: str | None = None, city: str | None = None) -> tuple[list[dict], bool]:
    """Upcoming public events, soonest first, with their lowest price and free seat count.

    Returns one page of results and whether another page follows.
    """
    events = (
        Event.objects.filter(status__in=PUBLIC_STATUSES, ends_at__gt=Now())
        .select_related("venue")
        .annotate(available_seats=_available_seats())
        .order_by("starts_at", "id")
    )
    if category:
        events = events.filter(category=category)
    if city:
        events = events.filter(venue__city__iexact=city)
    offset = (page - 1) * PAGE_SIZE
    rows = list(events[offset: offset + PAGE_SIZE + 1])
    page_events = rows[:PAGE_SIZE]
    _attach_min_price(page_events)
    return [event_summary(event) for event in page_events], len(rows) > PAGE_SIZE


def _attach_min_price(events: list[Event]) -> None:
    """`min_price`: the cheapest seat each event sells now (the active pricing tier's, not the base price)."""
    from events.models import SeatCategory
    from events.pricing import categories_current_price

    categories = list(SeatCategory.objects.filter(event__in=events))
    current = categories_current_price(categories)
    cheapest: dict[int, object] = {}
    for category in categories:
        price = current[category.pk]["price"]
        cheapest[category.event_id] = min(price, cheapest.get(category.event_id, price))
    for event in events:
        event.min_price = cheapest.get(event.pk)


def _available_seats():
    """Seats a buyer could hold now (expired holds count), as a correlated subquery."""
    from ticketing.models import EventSeat

    free = (
        EventSeat.objects.filter(event=OuterRef("pk"))
        .filter(Q(status="available") | Q(status="held", booking__isnull=True, held_until__lte=Now()))
        .order_by()
        .values("event")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(free, output_field=IntegerField()), 0)


def event_summary(event: Event) -> dict:
    return {
        "id": event.pk,
        "title": event.title,
        "category": event.category,
        "starts_at": event.starts_at.isoformat(),
        "status": event.status,
        "venue": {"id": event.venue_id, "name": event.venue.name, "city": event.venue.city,
                  "timezone": event.venue.timezone},
        "min_price": str(event.min_price) if event.min_price is not None else None,
        "available_seats": event.available_seats,
    }
