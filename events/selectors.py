"""Reads for the event catalogue.

The catalogue's sales figures — free seats and the cheapest price selling now — belong to the
app that sells seats: ticketing registers a `SalesFigures` function at startup
(`sales_figures_register`, from `TicketingConfig.ready`); events never reads seats itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models.functions import Now

from events.models import Event, EventStatus

PUBLIC_STATUSES = [EventStatus.PUBLISHED, EventStatus.ON_SALE, EventStatus.SOLD_OUT]
PAGE_SIZE = 20


@dataclass(frozen=True)
class SalesFigure:
    available_seats: int  # seats a buyer could hold now (expired holds count)
    min_price: Decimal | None  # the cheapest seat selling now (the active pricing tier's, not the base price)


# events → {event id: SalesFigure}; events left out have no seats (0, None).
SalesFigures = Callable[[list[Event]], dict[int, SalesFigure]]
_sales_figures: SalesFigures | None = None


def sales_figures_register(figures: SalesFigures) -> None:
    global _sales_figures
    _sales_figures = figures


def event_list(*, page: int = 1, category: str | None = None, city: str | None = None) -> tuple[list[dict], bool]:
    """Upcoming public events, soonest first, with their lowest price and free seat count.

    Returns one page of results and whether another page follows.
    """
    events = (
        Event.objects.filter(status__in=PUBLIC_STATUSES, ends_at__gt=Now())
        .select_related("venue")
        .order_by("starts_at", "id")
    )
    if category:
        events = events.filter(category=category)
    if city:
        events = events.filter(venue__city__iexact=city)
    offset = (page - 1) * PAGE_SIZE
    rows = list(events[offset: offset + PAGE_SIZE + 1])
    page_events = rows[:PAGE_SIZE]
    figures = _sales_figures(page_events) if _sales_figures and page_events else {}
    for event in page_events:
        figure = figures.get(event.pk, SalesFigure(0, None))
        event.available_seats, event.min_price = figure.available_seats, figure.min_price
    return [event_summary(event) for event in page_events], len(rows) > PAGE_SIZE


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
