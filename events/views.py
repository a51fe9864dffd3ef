"""The catalogue page (the home page). The event page with its seat map is ticketing's (`ticketing.views`)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.shortcuts import render
from django.utils.formats import date_format

from events import seatmap, selectors


def home(request):
    page = request.GET.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    events, has_next = selectors.event_list(page=page)
    for event in events:
        event["starts_local"] = _local_time_text(event["starts_at"], event["venue"]["timezone"])
        event["min_price_text"] = seatmap.money(event["min_price"]) if event["min_price"] is not None else None
    return render(request, "events/home.html", {"events": events, "page": page, "has_next": has_next})


def _local_time_text(iso: str, timezone_name: str) -> str:
    """'Thu 3 Dec 2026, 19:00' in the venue's time zone: what the ticket will say."""
    local = datetime.fromisoformat(iso).astimezone(ZoneInfo(timezone_name))
    return date_format(local, "D j M Y, H:i")
