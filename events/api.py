"""Event catalogue endpoints: search with filters, sort, near-me and pages (docs/api.md)."""

from ninja import Query, Router, Schema
from pydantic import Field

from events.personalization import category_boosts
from events.search import SearchPage, event_search, search_params_parse

router = Router(tags=["events"])


class EventSearchQuery(Schema):
    """For the OpenAPI document only: parameters are read and checked by events.search.search_params_parse,
    so every bad value gets its own stable error code."""

    q: str | None = Field(None, description="Words to find in title, description, venue and city.")
    category: list[str] | None = Field(None, description="One or more categories (repeat, or comma-separated).")
    city: str | None = None
    date_from: str | None = Field(None, description="YYYY-MM-DD, the local date at the venue (or in `tz`).")
    date_to: str | None = Field(None, description="YYYY-MM-DD, inclusive.")
    tz: str | None = Field(None, description="Time zone for the dates, e.g. Europe/London; default: each venue's.")
    price_min: str | None = Field(None, description="Lowest “from” price (the cheapest seat selling now).")
    price_max: str | None = None
    available: str | None = Field(None, description="1: only events with seats available.")
    near: str | None = Field(None, description="latitude,longitude in degrees.")
    radius_km: str | None = Field(None, description="With near; default 50.")
    sort: str | None = Field(None, description="relevance (default with q), date (default), price, distance, "
                                               "trending.")
    page: str | None = None
    page_size: str | None = Field(None, description="1–100, default 20.")


@router.get("/events")
def event_list(request, query: Query[EventSearchQuery]):
    params = search_params_parse(request.GET)
    page = event_search(params=params, boosts=category_boosts(request) if params.sort == "relevance" else None)
    return search_page_json(request, page)


def search_page_json(request, page: SearchPage) -> dict:
    params = page.params

    def page_url(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return f"{request.path}?{query.urlencode()}"

    return {
        "results": page.results,
        "total": page.total,
        "total_is_capped": page.total_is_capped,
        "page": params.page,
        "page_size": params.page_size,
        "pages": page.pages,
        "sort": params.sort,
        "next": page_url(params.page + 1) if page.has_next else None,
        "previous": page_url(params.page - 1) if params.page > 1 else None,
        "corrections": page.corrections,
        "matched_any_word": page.matched_any_word,
    }
