"""The buyer's way in: the home page by city and the search results page.

Both are plain server-rendered pages that work without JavaScript (GET forms, links, a POST form for
the city); static/js/search.js only adds instant results to the home page's search box. The data
comes from the same search as `GET /api/events` (events.search).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from events.models import EventCategory
from events.personalization import category_affinity, category_boosts
from events.search import (
    PUBLIC_STATUSES,
    SORTS,
    InvalidSearch,
    SearchParams,
    event_search,
    search_params_parse,
)
from events.seatmap import money

CITY_SESSION_KEY = "city"
RADIUS_CHOICES = (5, 10, 25, 50, 100, 250)
SORT_LABELS = {"relevance": "Best match", "date": "Date", "price": "Lowest price", "distance": "Distance",
               "trending": "Trending"}


HOME_CACHE_SECONDS = 60


def _cached(name: str, compute):
    """The home page's lists change slowly: kept in the cache for a minute, and recomputed at once when an
    event is added (the newest event id is part of the key)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM events_event")
        newest = cursor.fetchone()[0]
    key = f"discovery:{name}:{newest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, HOME_CACHE_SECONDS)
    return value


def cities_with_events() -> list[str]:
    """Cities that have an upcoming public event, A–Z: what the city chooser offers."""
    return _cached("cities", _cities_with_events)


def _cities_with_events() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT DISTINCT venue.city FROM venues_venue venue
             WHERE EXISTS (SELECT 1 FROM events_event event WHERE event.venue_id = venue.id
                              AND event.status = ANY(%s) AND event.ends_at > now())
             ORDER BY venue.city""", [list(PUBLIC_STATUSES)])
        return [row[0] for row in cursor.fetchall()]


def category_counts(*, city: str) -> dict[str, int]:
    """Upcoming public events per category, in `city` (all cities when empty)."""
    city_key = hashlib.sha1(city.lower().encode()).hexdigest()[:16]  # cache keys: no spaces
    return _cached(f"categories:{city_key}", lambda: _category_counts(city))


def _category_counts(city: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT event.category, count(*) FROM events_event event JOIN venues_venue venue ON venue.id = event.venue_id
             WHERE event.status = ANY(%s) AND event.ends_at > now() AND (%s = '' OR lower(venue.city) = lower(%s))
             GROUP BY event.category""", [list(PUBLIC_STATUSES), city, city])
        return dict(cursor.fetchall())


def chosen_city(request, cities: list[str]) -> str:
    city = request.session.get(CITY_SESSION_KEY, "")
    return city if city in cities else ""


def home(request):
    cities = cities_with_events()
    city = chosen_city(request, cities)
    trending = event_search(params=SearchParams(city=city, sort="trending", only_trending=True, page_size=6))
    upcoming = event_search(params=SearchParams(city=city, sort="date", page_size=8))
    affinity = category_affinity(request)
    favourites = sorted(affinity, key=lambda category: -affinity[category])[:2]
    for_you = event_search(params=SearchParams(city=city, categories=tuple(favourites), sort="date", page_size=4)) \
        if favourites else None
    counts = category_counts(city=city)
    labels = dict(EventCategory.choices)
    return render(request, "events/home.html", {
        "cities": cities, "city": city,
        "trending": _cards(trending.results), "upcoming": _cards(upcoming.results),
        "upcoming_total": f"{upcoming.total}{'+' if upcoming.total_is_capped else ''}",
        "for_you": _cards(for_you.results) if for_you else [],
        "for_you_label": " and ".join(labels[category].lower() for category in favourites),
        "categories": [{"value": value, "label": label, "count": counts[value],
                        "url": "/search/?" + urlencode({"category": value, **({"city": city} if city else {})})}
                       for value, label in EventCategory.choices if counts.get(value)],
        "all_url": "/search/?" + urlencode({"city": city} if city else {}),
    })


@require_POST
def city_choose(request):
    """Remember the visitor's city in the session ("" = all cities) and go back."""
    city = request.POST.get("city", "")
    request.session[CITY_SESSION_KEY] = city if city in cities_with_events() else ""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    return redirect(target)


def search(request):
    """The search results page: the filters as a plain GET form, result cards, pages. Bad input → 400 with
    the message next to the form, never an error page."""
    cities = cities_with_events()
    error = None
    try:
        params = search_params_parse(request.GET)
    except InvalidSearch as invalid:
        error = {"param": invalid.extra["param"], "message": invalid.message}
        params = None
    page = None
    if params is not None:
        boosts = category_boosts(request) if params.sort == "relevance" else None
        page = event_search(params=params, boosts=boosts)
    form = request.GET
    selected_categories = {name.strip().lower() for value in form.getlist("category") for name in value.split(",")}
    context = {
        "error": error, "page": page, "params": params,
        "results": _cards(page.results) if page else [],
        "form": {
            "q": form.get("q", ""), "city": form.get("city", ""), "date_from": form.get("date_from", ""),
            "date_to": form.get("date_to", ""), "price_min": form.get("price_min", ""),
            "price_max": form.get("price_max", ""), "available": form.get("available", "") in ("1", "on", "true"),
            "near": form.get("near", ""), "radius_km": form.get("radius_km", ""),
            "sort": params.sort if params else form.get("sort", ""),
        },
        "categories": [{"value": value, "label": label, "checked": value in selected_categories}
                       for value, label in EventCategory.choices],
        "cities": cities,
        "radius_choices": RADIUS_CHOICES,
        "sorts": [{"value": value, "label": SORT_LABELS[value]} for value in SORTS],
        "pagination": _pagination(request, page) if page else None,
    }
    return render(request, "events/search.html", context, status=400 if error else 200)


def _cards(results: list[dict]) -> list[dict]:
    """Results with what a card shows: the local date and time, the price in words, the availability badge."""
    for result in results:
        local = datetime.fromisoformat(result["starts_at"]).astimezone(ZoneInfo(result["venue"]["timezone"]))
        result["starts_local"] = date_format(local, "D j M Y, H:i T")  # the venue's time, with its zone
        result["price_text"] = _price_text(result)
        seats = result["available_seats"]
        result["availability_text"] = {
            "sold_out": "Sold out", "few_left": f"Only {seats} seat{'s' if seats != 1 else ''} left"
        }.get(result["availability"], "")
        result["category_label"] = EventCategory(result["category"]).label
    return results


def _price_text(result: dict) -> str:
    if result["min_price"] is None:
        return ""
    if result["max_price"] in (None, result["min_price"]):
        return money(result["min_price"])
    return f"from {money(result['min_price'])}"


def _pagination(request, page) -> dict:
    params = page.params

    def url(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    last = page.pages
    numbers = sorted({1, last, *range(max(1, params.page - 2), min(last, params.page + 2) + 1)})
    links, previous_number = [], 0
    for number in numbers:
        if number - previous_number > 1:
            links.append({"gap": True})
        links.append({"number": number, "url": url(number), "current": number == params.page})
        previous_number = number
    return {
        "links": links if last > 1 else [],
        "previous": url(params.page - 1) if params.page > 1 else None,
        "next": url(params.page + 1) if page.has_next else None,
        "first_shown": (params.page - 1) * params.page_size + 1 if page.results else 0,
        "last_shown": (params.page - 1) * params.page_size + len(page.results),
    }
