"""Server-rendered buyer pages."""

from django.http import Http404
from django.shortcuts import render

from events import selectors
from events.models import Event
from events.pricing import categories_current_price


def home(request):
    page = request.GET.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    events, has_next = selectors.event_list(page=page)
    return render(request, "events/home.html", {"events": events, "page": page, "has_next": has_next})


def event_detail(request, event_id: int):
    event = (
        Event.objects.select_related("venue").filter(pk=event_id, status__in=selectors.PUBLIC_STATUSES).first()
    )
    if event is None:
        raise Http404("No such event.")
    categories = list(event.categories.all())
    current = categories_current_price(categories)
    for category in categories:  # the price a seat costs now: the active pricing tier's
        category.current_price = current[category.pk]["price"]
        category.current_tier = current[category.pk]["tier"]
    from ticketing.services.cancellation import cancellation_policy_text

    return render(request, "events/event_detail.html", {"event": event, "categories": categories,
                                                        "cancellation_policy": cancellation_policy_text(event)})
