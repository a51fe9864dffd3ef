"""The catalogue's sales figures per event: free seats and the cheapest price selling now.

Registered with `events.selectors` (`TicketingConfig.ready`), which lists events without
reading seats itself.
"""

from __future__ import annotations

from django.db import connection

from events.models import Event, SeatCategory
from events.selectors import SalesFigure
from ticketing.seat_state import FREE_SEAT_SQL
from ticketing.services.pricing import categories_current_price


def event_sales_figures(events: list[Event]) -> dict[int, SalesFigure]:
    """{event id: SalesFigure} for `events`: seats a buyer could hold now (expired holds count) and the
    cheapest seat's current price (the active pricing tier's; None without categories). Two queries."""
    event_ids = [event.pk for event in events]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT event_id, count(*) FROM ticketing_eventseat WHERE event_id = ANY(%s) AND {FREE_SEAT_SQL} "
            " GROUP BY event_id",
            [event_ids],
        )
        available = dict(cursor.fetchall())
    categories = list(SeatCategory.objects.filter(event_id__in=event_ids))
    current = categories_current_price(categories)
    cheapest: dict[int, object] = {}
    for category in categories:
        price = current[category.pk]["price"]
        cheapest[category.event_id] = min(price, cheapest.get(category.event_id, price))
    return {event_id: SalesFigure(available.get(event_id, 0), cheapest.get(event_id)) for event_id in event_ids}
