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
    page_data = {
        "event_id": event.pk, "version": version, "mode": "overview" if is_overview else "full",
        "hold_ttl_seconds": settings.HOLD_TTL_SECONDS, "max_seats": event.max_seats_per_order,
        "currency": seatmap.CURRENCY_SYMBOLS.get(settings.CURRENCY, settings.CURRENCY + " "),
        "categories": {c.pk: {"name": c.name, "colour": c.colour, "price": str(current[c.pk]["price"]),
                              "tier": current[c.pk]["tier"]}
                       for c in categories},
        "cart_url": f"/api/events/{event.pk}/cart",
        "cart": cart, "expires_at": min((seat["held_until"] for seat in cart), default=None),
        "checkout_url": f"/events/{event.pk}/checkout/", "is_on_sale": event.is_selling(timezone.now()),
    }
    seat_map["available_text"] = f"{seat_map['available']:,}"
    seat_map["total_text"] = f"{seat_map['total']:,}"
    return render(request, "events/event_detail.html", {
        "event": event,
        "categories": [{"category": c, "price": seatmap.money(current[c.pk]["price"]), "tier": current[c.pk]["tier"]}
                       for c in categories],
        "cancellation_policy": cancellation_policy_text(event),
        "map": event.venue.map_meta, "seat_map": seat_map, "is_overview": is_overview, "page_data": page_data,
        "cart": cart, "legend": [
            {"status": status, "word": word, "mark": seatmap.STATUS_MARKS[status]}
            for status, word in seatmap.STATUS_WORDS.items()
        ],
    })
