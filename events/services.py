"""Event lifecycle writes used by the organizer tools: publish, open the sale now."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from events.exceptions import EventWrongStatus
from events.models import Event, EventStatus


@transaction.atomic
def event_publish(*, event_id: int) -> Event:
    """Draft → published (listed, not yet on sale). Publishing again is a no-op."""
    event = Event.objects.select_for_update().get(pk=event_id)
    if event.status == EventStatus.PUBLISHED:
        return event
    if event.status != EventStatus.DRAFT:
        raise EventWrongStatus(f"“{event.title}” is {event.get_status_display().lower()}; only a draft can be "
                               "published.", status=event.status)
    event.status = EventStatus.PUBLISHED
    event.save(update_fields=["status"])
    return event


@transaction.atomic
def event_open_sale(*, event_id: int) -> Event:
    """Draft or published → on sale from now on (an opening time in the future is moved to now).

    Refuses an event without seat inventory, a finished or cancelled one, or one already over.
    """
    event = Event.objects.select_for_update().get(pk=event_id)
    if event.status == EventStatus.ON_SALE:
        return event
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        raise EventWrongStatus(f"“{event.title}” is {event.get_status_display().lower()}; its sale cannot open.",
                               status=event.status)
    now = timezone.now()
    if event.ends_at <= now:
        raise EventWrongStatus(f"“{event.title}” is over.", status=event.status)
    if not event.seats.exists():
        raise EventWrongStatus(f"“{event.title}” has no seats yet: create its inventory first.",
                               status=event.status)
    event.status = EventStatus.ON_SALE
    if event.sales_open_at is None or event.sales_open_at > now:
        event.sales_open_at = now
    event.save(update_fields=["status", "sales_open_at"])
    return event
