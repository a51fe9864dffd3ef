"""Discovery fixtures: venues at real coordinates and small public events with exactly the words, dates and
prices a test needs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from events.models import Event, EventStatus, SeatCategory
from ticketing.services import event_inventory_create
from venues.models import Venue
from venues.services import venue_build_from_template


def make_venue(name="Spree Hall", *, city="Berlin", latitude=52.5200, longitude=13.4050,
               timezone_name="Europe/Berlin", seats=2) -> Venue:
    venue = Venue.objects.create(name=name, city=city, latitude=latitude, longitude=longitude,
                                 timezone=timezone_name)
    venue_build_from_template(venue=venue, template="conference",
                              params={"rows": 1, "seats_per_block": seats, "blocks": 1})
    return venue


def make_listed_event(organizer, venue: Venue, title: str, *, description="", category="concert",
                      starts_at: datetime | None = None, days=10, price="30.00", status=EventStatus.ON_SALE,
                      with_seats=True) -> Event:
    starts_at = starts_at or timezone.now() + timedelta(days=days)
    event = Event.objects.create(organizer=organizer, venue=venue, title=title, description=description,
                                 category=category, status=status, starts_at=starts_at,
                                 ends_at=starts_at + timedelta(hours=2),
                                 sales_open_at=timezone.now() - timedelta(days=1))
    category_row = SeatCategory.objects.create(event=event, name="Standard", price=Decimal(price))
    if with_seats:
        event_inventory_create(event=event, section_categories={s.pk: category_row.pk for s in venue.sections.all()})
    return event


@pytest.fixture
def organizer(db):
    """Without a password: hashing one costs more than everything else a discovery test does."""
    from django.contrib.auth.models import User

    return User.objects.create(username="org", is_staff=True)


@pytest.fixture
def hall(db):
    return make_venue()


@pytest.fixture
def listed(organizer, hall):
    """listed("Title", description=..., ...) → an on-sale event at the Berlin hall (or `venue=`)."""

    def create(title, venue=None, **kwargs):
        return make_listed_event(organizer, venue or hall, title, **kwargs)

    return create


def search(client, query: str = "", status: int = 200) -> dict:
    response = client.get("/api/events" + (f"?{query}" if query else ""))
    assert response.status_code == status, response.content
    return response.json()


def titles(client, query: str = "") -> list[str]:
    return [result["title"] for result in search(client, query)["results"]]
