"""Issue 18, part 1: every date and time an organizer types or reads is the venue's wall clock,
labelled with its zone, and is what buyers and door staff see. The database keeps UTC."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from checkin.models import DoorAssignment, DoorSchedule
from events.models import CancellationPolicy, Event, PricingTier
from tests.conftest import make_event
from tests.organizer.conftest import PASSWORD, login
from ticketing.models import EventSeat
from ticketing.services import Customer, boxoffice_sell
from ticketing.services.cancellation import cancellation_policy_text
from venues.bookings import venue_booking_request
from venues.localtime import venue_time_at, venue_time_label
from venues.models import Venue, VenueBooking

BERLIN = ZoneInfo("Europe/Berlin")


def event_post(venue, *, day: str, start: str, end: str = "23:00", **extra) -> dict:
    return {
        "venue": venue.pk, "title": "Hamlet", "description": "", "category": "theater", "status": "draft",
        "starts_at_0": day, "starts_at_1": start, "ends_at_0": day, "ends_at_1": end,
        "categories-TOTAL_FORMS": "1", "categories-INITIAL_FORMS": "0",
        "categories-0-name": "Stalls", "categories-0-colour": "#ff0000", "categories-0-price": "30",
        "categories-0-position": "0", "max_seats_per_order": "10", "max_seats_per_email": "20",
        "cancellation_policy-TOTAL_FORMS": "0", "cancellation_policy-INITIAL_FORMS": "0", **extra,
    }


@pytest.fixture
def berlin_event(organizer):
    event = make_event(organizer, title="Hamlet")
    Venue.objects.filter(pk=event.venue_id).update(timezone="Europe/Berlin")
    event.refresh_from_db()
    return event


def move(event, starts_at: datetime) -> Event:
    Event.objects.filter(pk=event.pk).update(starts_at=starts_at, ends_at=starts_at + timedelta(hours=3))
    event.refresh_from_db()
    return event


def set_zone(event, zone: str) -> Event:
    Venue.objects.filter(pk=event.venue_id).update(timezone=zone)
    return Event.objects.select_related("venue").get(pk=event.pk)


# --- the round trip: what the organizer types is what buyers see ------------------------------------

@pytest.mark.parametrize(("day", "utc_hour"), [("2030-03-30", 19), ("2030-03-31", 18)],
                         ids=["winter-time-CET", "summer-time-CEST-after-the-DST-change"])
def test_twenty_hundred_typed_for_a_berlin_venue_is_twenty_hundred_for_buyers(organizer, berlin_event, day, utc_hour):
    # given a Berlin venue (Germany moves its clocks forward in the night of 30/31 March 2030)
    client = login(organizer)
    # when the organizer types 20:00 on either side of the change
    response = client.post(reverse("admin:events_event_add"), event_post(berlin_event.venue, day=day, start="20:00"))
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(title="Hamlet", starts_at__date=day)
    # then the database keeps the UTC instant of 20:00 on the venue's clock
    assert event.starts_at == datetime(*map(int, day.split("-")), utc_hour, tzinfo=UTC)
    # and the buyers' page says 20:00
    event.status = "on_sale"
    event.save(update_fields=["status"])
    page = Client().get(event.get_absolute_url()).content.decode()
    assert ", 20:00</time>" in page
    # and the organizer's form shows 20:00 again, labelled with the zone
    form = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert 'name="starts_at_1" value="20:00:00"' in form
    assert "Venue time (Europe/Berlin)." in form


def test_a_new_york_venue_reads_and_shows_new_york_time(organizer, berlin_event):
    venue = set_zone(berlin_event, "America/New_York").venue
    client = login(organizer)
    client.post(reverse("admin:events_event_add"), event_post(venue, day="2030-12-01", start="20:00", end="23:00"))
    event = Event.objects.get(title="Hamlet", starts_at__gt=berlin_event.starts_at)
    # 20:00 EST is 01:00 UTC the next day
    assert event.starts_at == datetime(2030, 12, 2, 1, tzinfo=UTC)
    listing = client.get(reverse("admin:events_event_changelist")).content.decode()
    assert "2030-12-01 20:00 EST" in listing


def test_the_event_list_shows_the_start_on_the_venues_clock(organizer, berlin_event):
    move(berlin_event, datetime(2030, 12, 1, 18, tzinfo=UTC))
    listing = login(organizer).get(reverse("admin:events_event_changelist")).content.decode()
    assert "Starts (venue time)" in listing
    assert "2030-12-01 19:00 CET" in listing  # not 18:00, the server's UTC


def test_next_scheduled_change_says_what_changes_and_when_in_venue_time(organizer, berlin_event):
    Event.objects.filter(pk=berlin_event.pk).update(
        status="published", sales_open_at=datetime(2030, 6, 1, 8, tzinfo=UTC))
    listing = login(organizer).get(reverse("admin:events_event_changelist")).content.decode()
    assert "Sale opens: 2030-06-01 10:00 CEST" in listing


def test_sales_window_is_typed_in_venue_time(organizer, berlin_event):
    client = login(organizer)
    data = event_post(berlin_event.venue, day="2030-12-01", start="20:00",
                      sales_open_at_0="2030-11-01", sales_open_at_1="10:00")
    client.post(reverse("admin:events_event_add"), data)
    event = Event.objects.get(title="Hamlet", starts_at__date="2030-12-01")
    assert event.sales_open_at == datetime(2030, 11, 1, 9, tzinfo=UTC)


def test_pricing_tier_windows_are_typed_and_shown_in_venue_time(organizer, berlin_event):
    category = berlin_event.categories.get()
    client = login(organizer)
    url = reverse("admin:events_seatcategory_change", args=[category.pk])
    response = client.post(url, {
        "event": berlin_event.pk, "name": "Standard", "colour": "#123456", "price": "40.00", "position": "0",
        "tiers-TOTAL_FORMS": "1", "tiers-INITIAL_FORMS": "0",
        "tiers-0-position": "0", "tiers-0-name": "Early bird", "tiers-0-price": "30.00",
        "tiers-0-available_from_0": "2030-07-01", "tiers-0-available_from_1": "09:00",
        "tiers-0-available_until_0": "2030-07-31", "tiers-0-available_until_1": "23:59",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    tier = PricingTier.objects.get()
    assert (tier.available_from, tier.available_until) == (datetime(2030, 7, 1, 7, tzinfo=UTC),
                                                           datetime(2030, 7, 31, 21, 59, tzinfo=UTC))
    page = client.get(url).content.decode()
    assert 'value="09:00:00"' in page and "Venue time (Europe/Berlin)." in page


def test_door_schedule_is_typed_in_venue_time(organizer, berlin_event):
    organizer.user_permissions.add(*Permission.objects.filter(content_type__app_label="checkin"))
    response = login(organizer).post(reverse("admin:checkin_doorschedule_add"), {
        "event": berlin_event.pk, "doors_open_at_0": "2030-12-01", "doors_open_at_1": "18:30",
        "closes_at_0": "", "closes_at_1": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert DoorSchedule.objects.get().doors_open_at == datetime(2030, 12, 1, 17, 30, tzinfo=UTC)


def test_venue_booking_times_and_clash_message_are_in_venue_time(organizer, berlin_event):
    venue = berlin_event.venue
    first = venue_booking_request(venue=venue, title="Gala", start=datetime(2030, 12, 10, 17, tzinfo=UTC),
                                  end=datetime(2030, 12, 10, 21, tzinfo=UTC), organizer=organizer)
    client = login(organizer)
    response = client.post(reverse("admin:venues_venuebooking_add"), {
        "venue": venue.pk, "event": "", "title": "Launch", "start_0": "2030-12-10", "start_1": "19:00",
        "end_0": "2030-12-10", "end_1": "21:00", "setup_hours": "0", "teardown_hours": "0", "rental_fee": "0",
        "deposit_amount": "0", "add_ons-TOTAL_FORMS": "0", "add_ons-INITIAL_FORMS": "0"})
    page = response.content.decode()
    assert "from 2030-12-10 18:00 CET to 2030-12-10 22:00 CET" in page
    assert f"by booking #{first.pk}" in page
    assert VenueBooking.objects.count() == 1
    listing = client.get(reverse("admin:venues_venuebooking_changelist")).content.decode()
    assert "2030-12-10 18:00 CET" in listing


def test_cancellation_deadline_is_told_on_the_venues_clock(organizer, berlin_event):
    move(berlin_event, datetime(2030, 12, 1, 19, tzinfo=UTC))
    policy = CancellationPolicy.objects.create(event=berlin_event, allows_cancellation=True, deadline_hours=24)
    assert "(2030-11-30 20:00 CET)" in cancellation_policy_text(berlin_event, policy)


def test_check_in_event_picker_shows_venue_time(organizer, berlin_event):
    door = Group.objects.get_or_create(name="Door staff")[0].user_set.create(username="doorkeeper")
    door.set_password(PASSWORD)
    door.save()
    DoorAssignment.objects.create(user=door, event=berlin_event)
    move(berlin_event, datetime(2030, 12, 1, 19, tzinfo=UTC))
    page = login(door).get("/checkin/").content.decode()
    assert "Hamlet · Sun 01 Dec 20:00 CET" in page


def test_booking_csv_times_carry_the_venue_offset(organizer, berlin_event):
    seat_ids = list(EventSeat.objects.filter(event=berlin_event).order_by("id").values_list("id", flat=True)[:1])
    booking = boxoffice_sell(event_id=berlin_event.pk, seat_ids=seat_ids, method="cash", sold_by=organizer,
                             customer=Customer(name="Ada", email="ada@example.com", phone=""))
    rows = list(csv.reader(io.StringIO(b"".join(login(organizer).get(
        reverse("admin:events_event_bookings_csv", args=[berlin_event.pk])).streaming_content).decode())))
    created = datetime.fromisoformat(rows[1][rows[0].index("created_at")])
    assert created == booking.created_at
    assert created.utcoffset() == booking.created_at.astimezone(BERLIN).utcoffset()


def test_labels_read_like_the_wall_clock():
    moment = venue_time_at("Europe/Berlin", 2030, 7, 1, 20, 0)
    assert venue_time_label(moment, "Europe/Berlin") == "2030-07-01 20:00 CEST"
    assert venue_time_label(moment, "Asia/Dubai") == "2030-07-01 22:00 Asia/Dubai"  # "+04" is no name
    assert venue_time_label(None, "Europe/Berlin") == "—"


def test_the_event_page_lists_each_categorys_tiers_in_venue_time(organizer, berlin_event):
    category = berlin_event.categories.get()
    PricingTier.objects.create(category=category, name="Early bird", price="30.00", quota=10,
                               available_until=datetime(2030, 7, 31, 21, 59, tzinfo=UTC))
    page = login(organizer).get(reverse("admin:events_event_change", args=[berlin_event.pk])).content.decode()
    assert "Early bird 30.00, 0/10 used, until 2030-07-31 23:59 CEST · " in page
    assert f'/admin/events/seatcategory/{category.pk}/change/#tiers-group">edit tiers</a>' in page
