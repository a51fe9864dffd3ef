"""Event catalogue endpoints."""

from ninja import Query, Router, Schema
from pydantic import Field

from events import selectors
from events.models import EventCategory

router = Router(tags=["events"])


class EventListQuery(Schema):
    page: int = Field(1, ge=1, le=10_000)
    category: EventCategory | None = None
    city: str | None = Field(None, max_length=100)


@router.get("/events")
def event_list(request, query: Query[EventListQuery]):
    results, has_next = selectors.event_list(page=query.page, category=query.category, city=query.city)
    next_url = None
    if has_next:
        params = request.GET.copy()
        params["page"] = str(query.page + 1)
        next_url = f"{request.path}?{params.urlencode()}"
    return {"results": results, "next": next_url}
