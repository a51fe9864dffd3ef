"""The buyer's event page: the event with its live seat map, the cart and the prices selling now.

Served at /events/<id>/ (named `event_detail`); the catalogue around it is events' (`events.views`).
"""

from django.conf import settings
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils import timezone

from events import seatmap
from events.models import Event
from events.selectors import PUBLIC_STATUSES
from ticketing import selectors
from ticketing.buyer import buyer_id_if_known
from ticketing.services.areas import event_areas
from ticketing.services.cancellation import cancellation_policy_text
from ticketing.services.pricing import categories_current_price


def event_detail(request, event_id: int):
    """The event with its seat map: every seat for small venues, a section overview for large ones."""
    event = (
        Event.objects.select_related("venue").filter(pk=event_id, status__in=PUBLIC_STATUSES).first()
    )
    if event is None:
        raise Http404("No such event.")
    owner = buyer_id_if_known(request)
    get_token(request)  # the page's script sends the csrftoken cookie back on holds
    is_overview = event.venue.capacity > seatmap.FULL_MAP_MAX_SEATS
    if is_overview:
        version, summaries = selectors.event_section_summaries_cached(event=event)
        seat_map = seatmap.overview_map(summaries)
    else:
        layout = selectors.event_layout(event=event, owner=owner)
        version = layout["version"]
        seat_map = seatmap.full_map(layout)
    cart = selectors.seats_held_by(event_id=event.pk, owner=owner or "")
    for seat in cart:
        seat["price_text"] = seatmap.money(seat["price"])
    categories = list(event.categories.all())
    current = categories_current_price(categories)  # what a seat costs now: the active pricing tier's
    areas = _page_areas(event.pk, owner, current)
    is_ga_only = bool(areas) and seat_map["total"] == 0 and not seat_map["sections"]
    page_data = {
        "event_id": event.pk, "version": version, "mode": "overview" if is_overview else "full",
        "hold_ttl_seconds": settings.HOLD_TTL_SECONDS, "max_seats": event.max_seats_per_order,
        "currency": seatmap.CURRENCY_SYMBOLS.get(settings.CURRENCY, settings.CURRENCY + " "),
        "categories": {c.pk: {"name": c.name, "colour": c.colour, "price": str(current[c.pk]["price"])}
                       for c in categories},
        "cart": cart, "expires_at": min((seat["held_until"] for seat in cart), default=None),
        "checkout_url": f"/events/{event.pk}/checkout/", "is_on_sale": event.is_selling(timezone.now()),
    }
    areas_data = {  # general admission (static/js/areas.js)
        "event_id": event.pk, "version": version, "max_places": event.max_seats_per_order,
        "currency": page_data["currency"], "checkout_url": page_data["checkout_url"],
        "is_on_sale": page_data["is_on_sale"], "areas": areas,
        "expires_at": min(filter(None, [page_data["expires_at"], *(a["my_expires_at"] for a in areas)]), default=None),
    }
    seat_map["available_text"] = f"{seat_map['available']:,}"
    seat_map["total_text"] = f"{seat_map['total']:,}"
    return render(request, "events/event_detail.html", {
        "event": event,
        "categories": [{"category": c, "price": seatmap.money(current[c.pk]["price"]), "tier": current[c.pk]["tier"]}
                       for c in categories],
        "cancellation_policy": cancellation_policy_text(event),
        "map": event.venue.map_meta, "seat_map": seat_map, "is_overview": is_overview, "page_data": page_data,
        "areas": areas, "areas_data": areas_data, "is_ga_only": is_ga_only,
        "cart": cart, "legend": [
            {"status": status, "word": word, "mark": seatmap.STATUS_MARKS[status]}
            for status, word in seatmap.STATUS_WORDS.items()
        ],
    })


def _page_areas(event_id: int, owner: str | None, current: dict) -> list[dict]:
    """The event's general-admission areas for the page: price now, places left, the buyer's places, the shape."""
    areas = event_areas(event_id=event_id, owner=owner)
    for area in areas:
        price = current[area["category"]]["price"]
        xs = [point[0] for point in area["outline"]] or [0]
        ys = [point[1] for point in area["outline"]] or [0]
        area.update({
            "price": str(price), "price_text": seatmap.money(price),
            "points": " ".join(f"{x},{y}" for x, y in area["outline"]),
            "centre_x": round((min(xs) + max(xs)) / 2, 1), "centre_y": round((min(ys) + max(ys)) / 2, 1),
            "my_expires_at": area["my_expires_at"].isoformat() if area["my_expires_at"] else None,
        })
    return areas
