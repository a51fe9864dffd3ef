"""The buyer's event page: the event with its live seat map, the cart and the prices selling now.

Served at /events/<id>/ (named `event_detail`); the catalogue around it is events' (`events.views`).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
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
        "categories": {c.pk: {"name": c.name, "colour": c.colour, "price": str(current[c.pk]["price"]),
                              "tier": current[c.pk]["tier"]}
                       for c in categories},
        "cart_url": f"/api/events/{event.pk}/cart", "best_url": "/api/seats/best",
        "cart": cart, "expires_at": min((seat["held_until"] for seat in cart), default=None),
        "checkout_url": f"/events/{event.pk}/checkout/", "is_on_sale": event.is_selling(timezone.now()),
    }
    areas_data = {  # general admission (static/js/areas.js)
        "event_id": event.pk, "version": version, "max_places": event.max_seats_per_order,
        "currency": page_data["currency"], "checkout_url": page_data["checkout_url"],
        "is_on_sale": page_data["is_on_sale"], "areas": areas,
        "expires_at": min(filter(None, [page_data["expires_at"], *(a["my_expires_at"] for a in areas)]), default=None),
    }
    if is_overview:  # sections coloured by price: the colour of the category selling at the section's lowest price
        colour_by_price = {str(current[c.pk]["price"]): c.colour for c in reversed(categories)}
        for section in seat_map["sections"]:
            section["colour"] = colour_by_price.get(str(section["price_min"]), "#9ca3af")
    seat_map["available_text"] = f"{seat_map['available']:,}"
    seat_map["total_text"] = f"{seat_map['total']:,}"
    details = event_details(event, categories, seat_map)
    # Sold out means no seat and no standing place left (a GA-only event has no seats at all).
    details["is_sold_out"] = details["is_sold_out"] and not any(area["available"] > 0 for area in areas)
    return render(request, "events/event_detail.html", {
        "event": event, "details": details,
        "categories": [{"category": c, "price": seatmap.money(current[c.pk]["price"]), "tier": current[c.pk]["tier"],
                        "left": details["seats_left"].get(c.pk)}
                       for c in categories],
        "cancellation_policy": cancellation_policy_text(event),
        "map": event.venue.map_meta, "seat_map": seat_map, "is_overview": is_overview, "page_data": page_data,
        "areas": areas, "areas_data": areas_data, "is_ga_only": is_ga_only,
        "best_quantities": range(1, min(event.max_seats_per_order, 10) + 1),
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
def event_details(event: Event, categories: list, seat_map: dict) -> dict:
    """What the page head shows besides the title: cover image, category, age limit, the venue's address
    with a map link, seats left per category, and whether it is sold out."""
    venue = event.venue
    address = ", ".join(part for part in (venue.address, venue.city) if part)
    if venue.latitude is not None:
        map_url = f"https://www.openstreetmap.org/?mlat={venue.latitude}&mlon={venue.longitude}#map=17/{venue.latitude}/{venue.longitude}"
    else:
        map_url = "https://www.openstreetmap.org/search?" + urlencode({"query": f"{venue.name}, {address}"})
    left = selectors.category_seats_left(event_id=event.pk)
    return {
        "image_url": event.cover_image.url if event.cover_image else static(f"events/img/{event.category}.svg"),
        "category": event.get_category_display(), "age": event.age_restriction, "address": address,
        "map_url": map_url, "seats_left": left, "is_sold_out": seat_map["available"] == 0,
    }
