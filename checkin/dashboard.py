"""The organizer's dashboard, the admin's home page (issue 18): their upcoming events with sold /
capacity, revenue, today's sales, check-in progress, door staff, and links to each event's pages.

It reads every app (events, ticketing's seats and bookings, check-in's door staff and admissions),
so it lives in the top layer. A few aggregate queries for the whole page, not a query per event
per figure; superusers see every organizer's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from checkin.models import Admission, DoorAssignment
from events.models import Event, EventStatus
from ticketing.models import Booking, BookingSeat, BookingStatus, EventSeat
from venues.localtime import venue_time_label, zone_of

DASHBOARD_EVENTS = 30


@dataclass
class DashboardEvent:
    event: Event
    starts_at_label: str
    sold: int
    capacity: int
    revenue: Decimal
    sold_today: int
    admitted: int
    door_staff: int

    @property
    def sold_percent(self) -> int:
        return round(100 * self.sold / self.capacity) if self.capacity else 0

    @property
    def admitted_percent(self) -> int:
        return round(100 * self.admitted / self.sold) if self.sold else 0

    @property
    def needs_door_staff(self) -> bool:
        return self.door_staff == 0 and self.event.status not in (EventStatus.CANCELLED, EventStatus.FINISHED)

    @property
    def needs_seats(self) -> bool:
        return self.capacity == 0


def organizer_dashboard(*, user, now: datetime | None = None) -> dict:
    """The dashboard's figures for `user`: their events that have not ended more than a day ago
    (every organizer's for a superuser), soonest first, and totals over them."""
    now = now or timezone.now()
    events = Event.objects.filter(ends_at__gte=now - timedelta(days=1)).select_related("venue", "organizer")
    if not user.is_superuser:
        events = events.filter(organizer=user)
    events = list(events.order_by("starts_at", "id")[:DASHBOARD_EVENTS])
    ids = [event.pk for event in events]
    seats = dict((row["event_id"], row) for row in EventSeat.objects.filter(event_id__in=ids).values("event_id")
                 .annotate(capacity=Count("id"), sold=Count("id", filter=Q(status="sold"))))
    money = {row["event_id"]: row["kept"] or Decimal("0") for row in Booking.objects.filter(
        event_id__in=ids, status__in=[BookingStatus.PAID, BookingStatus.CANCELLED]).values("event_id")
        .annotate(kept=Sum(F("total") - F("refund_amount")))}
    admitted = dict(Admission.objects.filter(event_id__in=ids).values("event_id").annotate(n=Count("ticket"))
                    .values_list("event_id", "n"))
    direct = dict(DoorAssignment.objects.filter(event_id__in=ids).values("event_id").annotate(n=Count("id"))
                  .values_list("event_id", "n"))
    by_venue = dict(DoorAssignment.objects.filter(venue_id__in={e.venue_id for e in events}).values("venue_id")
                    .annotate(n=Count("id")).values_list("venue_id", "n"))
    rows = []
    for event in events:
        # "Today" is the venue's day: a sale at 00:30 in Berlin belongs to that Berlin day.
        zone = zone_of(event.venue)
        today_start = datetime.combine(now.astimezone(zone).date(), time.min, zone)
        sold_today = BookingSeat.objects.filter(booking__event=event, booking__paid_at__gte=today_start,
                                                is_active=True).count()
        counts = seats.get(event.pk, {"capacity": 0, "sold": 0})
        rows.append(DashboardEvent(
            event=event, starts_at_label=venue_time_label(event.starts_at, event.venue, "%a %d %b %Y, %H:%M"),
            sold=counts["sold"], capacity=counts["capacity"], revenue=money.get(event.pk, Decimal("0")),
            sold_today=sold_today, admitted=admitted.get(event.pk, 0),
            door_staff=direct.get(event.pk, 0) + by_venue.get(event.venue_id, 0)))
    return {
        "events": rows,
        "totals": {"sold": sum(r.sold for r in rows), "capacity": sum(r.capacity for r in rows),
                   "revenue": sum((r.revenue for r in rows), Decimal("0")),
                   "sold_today": sum(r.sold_today for r in rows)},
        "warnings": [row for row in rows if row.needs_door_staff or row.needs_seats],
        "is_everyone": user.is_superuser,
    }
