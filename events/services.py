"""Event lifecycle: draft → published → on_sale ⇄ sold_out → finished; cancelled from any state before finished.

Publishing and cancelling are the organizer's decisions; every other transition follows the
clock (sales_open_at, sales_close_at, ends_at) or the seats (the last one sold, one freed):
`events_lifecycle_tick` runs every minute, and ticketing's `event_availability_refresh` right
after a sale or a cancellation commits. Holds and confirms check the sales window themselves
(`Event.is_selling`), so a tick that comes a minute late never sells a seat outside the window.

Events sits below ticketing and never reads seats. What the lifecycle needs to know about them
(does the event have seats at all, is any still free) it asks the `SeatInventory` that ticketing
registers at startup (`seat_inventory_register`, called from `TicketingConfig.ready`). A provider
rather than an argument: the lifecycle runs from several entry points (the tick, publish, open
sale, the admin), and each of them must consult the seats — registered once, none can forget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events.exceptions import EventWrongStatus
from events.models import Event, EventStatus

SCHEDULED_STATUSES = [EventStatus.PUBLISHED, EventStatus.ON_SALE, EventStatus.SOLD_OUT]


@dataclass(frozen=True)
class Transition:
    status: str
    at: datetime


def event_status_due(event: Event, *, at: datetime, has_free_seats: bool | None = None) -> str:
    """The status the clock (and, if given, the seats) asks for now. Pure.

    Draft, finished and cancelled events never move by themselves. `has_free_seats=None` keeps
    on_sale/sold_out as they are.
    """
    if event.status not in SCHEDULED_STATUSES:
        return event.status
    if at >= event.ends_at:
        return EventStatus.FINISHED
    if not event.is_in_sales_window(at):
        return EventStatus.PUBLISHED
    if has_free_seats is None:
        return event.status if event.status != EventStatus.PUBLISHED else EventStatus.ON_SALE
    return EventStatus.ON_SALE if has_free_seats else EventStatus.SOLD_OUT


def event_next_transition(event: Event, *, at: datetime | None = None) -> Transition | None:
    """What the clock will do to this event next, for the admin. Pure."""
    at = at or timezone.now()
    if event.status not in SCHEDULED_STATUSES:
        return None
    if event.status == EventStatus.PUBLISHED and event.sales_open_at and at < event.sales_open_at:
        return Transition(EventStatus.ON_SALE, event.sales_open_at)
    if event.status in (EventStatus.ON_SALE, EventStatus.SOLD_OUT) and event.sales_close_at \
            and at < event.sales_close_at < event.ends_at:
        return Transition(EventStatus.PUBLISHED, event.sales_close_at)
    return Transition(EventStatus.FINISHED, event.ends_at)


@dataclass(frozen=True)
class SeatInventory:
    """What the lifecycle asks the app that sells seats (ticketing registers it)."""

    # Whether the event has any seat inventory (an event without seats cannot go on sale).
    has_seats: Callable[[int], bool]
    # Whether any seat is available or held (a held seat may come back); sold and blocked ones are gone.
    has_free_seats: Callable[[int], bool]


_seat_inventory: SeatInventory | None = None


def seat_inventory_register(inventory: SeatInventory) -> None:
    """Tell the lifecycle how to ask about seats. Without one, events never turn sold out by
    themselves and cannot open their sale (there are no seats to sell)."""
    global _seat_inventory
    _seat_inventory = inventory


def event_has_free_seats(event_id: int) -> bool | None:
    """Whether any seat of the event is still free, or None when no seat inventory is registered."""
    return _seat_inventory.has_free_seats(event_id) if _seat_inventory else None


def event_has_seats(event_id: int) -> bool:
    return _seat_inventory.has_seats(event_id) if _seat_inventory else False


def event_status_refresh(*, event_id: int) -> str:
    """Move the event to the status its clock and seats ask for; returns the status. Safe to run any time.

    The event row is locked first and the seats counted after, so of two refreshes racing after
    two sales the later one counts both: the result never lags behind a committed sale.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status not in SCHEDULED_STATUSES:
            return event.status if event else ""
        now = timezone.now()
        has_free_seats = (
            event_has_free_seats(event_id) if event.is_in_sales_window(now) else None
        )
        status = event_status_due(event, at=now, has_free_seats=has_free_seats)
        if status != event.status:
            Event.objects.filter(pk=event_id).update(status=status)
        return status


def events_lifecycle_tick() -> int:
    """The scheduled sweep: refresh events whose clock has moved them, and sold-out ones. Returns how many changed."""
    now = timezone.now()
    due = Event.objects.filter(status__in=SCHEDULED_STATUSES).filter(
        Q(ends_at__lte=now)
        | Q(status=EventStatus.PUBLISHED) & (Q(sales_open_at__isnull=True) | Q(sales_open_at__lte=now))
        & (Q(sales_close_at__isnull=True) | Q(sales_close_at__gt=now))
        | Q(status__in=[EventStatus.ON_SALE, EventStatus.SOLD_OUT], sales_close_at__lte=now)
        | Q(status=EventStatus.SOLD_OUT)
    )
    changed = 0
    for event_id, status in due.values_list("pk", "status"):
        if event_status_refresh(event_id=event_id) != status:
            changed += 1
    return changed


def event_publish(*, event_id: int) -> str:
    """Draft → published, and on sale at once if its sales window is open; returns the new status.

    Publishing a published (or on-sale) event again is a no-op; a finished or cancelled one
    raises EventWrongStatus.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        if event.status == EventStatus.DRAFT:
            Event.objects.filter(pk=event_id).update(status=EventStatus.PUBLISHED)
        elif event.status not in SCHEDULED_STATUSES:
            raise EventWrongStatus(f"“{event.title}” is {event.get_status_display().lower()}; only a draft can be "
                                   "published.", status=event.status)
    return event_status_refresh(event_id=event_id)


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
    if not event_has_seats(event.pk):
        raise EventWrongStatus(f"“{event.title}” has no seats yet: create its inventory first.",
                               status=event.status)
    event.status = EventStatus.ON_SALE
    if event.sales_open_at is None or event.sales_open_at > now:
        event.sales_open_at = now
    if event.sales_close_at is not None and event.sales_close_at <= now:
        event.sales_close_at = None  # "now" means now: a closing time already past would close it again
    event.save(update_fields=["status", "sales_open_at", "sales_close_at"])
    return event
