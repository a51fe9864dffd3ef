"""Issue 18, part 3: the dashboard as the admin's home, the guided event setup (creating an event
books its venue, refused on overlap; door staff; review and open sale) and the admin's polish."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth.models import Permission, User
from django.urls import reverse

from checkin.models import DoorAssignment
from events.models import Event
from tests.conftest import make_event
from tests.organizer.conftest import login
from ticketing.models import EventSeat
from ticketing.services import Customer, boxoffice_sell
from venues.bookings import venue_booking_request
from venues.models import VenueBooking


def add_event(client, venue, *, title="Gala", day="2030-12-10", start="19:00", end="22:00", setup="4", teardown="2"):
    return client.post(reverse("admin:events_event_add"), {
        "venue": venue.pk, "title": title, "description": "", "category": "concert", "status": "draft",
        "starts_at_0": day, "starts_at_1": start, "ends_at_0": day, "ends_at_1": end,
        "setup_hours": setup, "teardown_hours": teardown,
        "categories-TOTAL_FORMS": "1", "categories-INITIAL_FORMS": "0",
        "categories-0-name": "Stalls", "categories-0-colour": "#ff0000", "categories-0-price": "30",
        "categories-0-position": "0", "max_seats_per_order": "10", "max_seats_per_email": "20",
        "cancellation_policy-TOTAL_FORMS": "0", "cancellation_policy-INITIAL_FORMS": "0",
    })


# --- creating an event books its venue --------------------------------------------------------------

def test_creating_an_event_books_its_venue_with_setup_and_teardown(organizer):
    venue = make_event(organizer).venue
    response = add_event(login(organizer), venue)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(title="Gala")
    booking = VenueBooking.objects.get(event=event)
    assert (booking.venue, booking.organizer, booking.setup_hours, booking.teardown_hours) == (
        venue, organizer, 4, 2)
    # 19:00–22:00 Berlin (CET) is 18:00–21:00 UTC; padded 14:00–23:00 UTC
    assert (booking.blocked_from, booking.blocked_until) == (datetime(2030, 12, 10, 14, tzinfo=UTC),
                                                           datetime(2030, 12, 10, 23, tzinfo=UTC))


def test_an_overlapping_event_is_refused_with_the_clash_named_and_nothing_saved(organizer, rival):
    venue = make_event(organizer).venue
    venue_booking_request(venue=venue, title="Rival Rave", start=datetime(2030, 12, 10, 10, tzinfo=UTC),
                          end=datetime(2030, 12, 10, 15, tzinfo=UTC), organizer=rival)
    response = add_event(login(organizer), venue)
    page = response.content.decode()
    assert response.status_code == 200
    # another organizer's booking is only "booked", in the venue's time
    assert "is already booked from 2030-12-10 11:00 CET to 2030-12-10 16:00 CET" in page
    assert "Rival Rave" not in page
    assert not Event.objects.filter(title="Gala").exists()
    assert VenueBooking.objects.count() == 1


# --- door staff and review -------------------------------------------------------------------------

def test_door_staff_step_assigns_existing_logins_and_creates_a_new_one(organizer, door):
    organizer.user_permissions.add(*Permission.objects.filter(content_type__app_label="checkin"))  # as the demo
    event = make_event(organizer)
    response = login(organizer).post(reverse("admin:checkin_event_doorstaff", args=[event.pk]), {
        "staff": [door.pk], "new_username": "gate-b", "new_password": "long-enough-pw"})
    assert response["Location"] == reverse("admin:checkin_event_review", args=[event.pk])
    new = User.objects.get(username="gate-b")
    assert (new.is_staff, list(new.groups.values_list("name", flat=True))) == (False, ["Door staff"])
    assert set(DoorAssignment.objects.filter(event=event).values_list("user__username", flat=True)) == {
        "door", "gate-b"}


def test_a_door_login_with_a_bad_name_or_weak_password_is_refused_and_nothing_created(organizer):
    organizer.user_permissions.add(*Permission.objects.filter(content_type__app_label="checkin"))
    event = make_event(organizer)
    client = login(organizer)
    url = reverse("admin:checkin_event_doorstaff", args=[event.pk])
    bad_name = client.post(url, {"new_username": "gate b<script>", "new_password": "long-enough-pw"})
    weak = client.post(url, {"new_username": "gate-b", "new_password": "1234567890"})
    assert [bad_name.status_code, weak.status_code] == [200, 200]
    assert "This password is entirely numeric." in weak.content.decode()
    assert not User.objects.filter(username__startswith="gate").exists()
    assert DoorAssignment.objects.count() == 0


def test_review_lists_what_is_missing_and_opens_the_sale(organizer):
    event = make_event(organizer, status="draft")
    client = login(organizer)
    page = client.get(reverse("admin:checkin_event_review", args=[event.pk])).content.decode()
    assert "⚠ Door staff" in page and "✔ Seats created" in page and "40 seats, 0 blocked" in page
    client.post(reverse("admin:checkin_event_review", args=[event.pk]), {"action": "open_sale"})
    event.refresh_from_db()
    assert event.status == "on_sale"


def test_another_organizer_gets_not_found_for_the_setup_steps(organizer, rival):
    event = make_event(organizer)
    client = login(rival)
    urls = [reverse("admin:checkin_event_doorstaff", args=[event.pk]),
            reverse("admin:checkin_event_review", args=[event.pk])]
    assert [client.get(url).status_code for url in urls] == [404, 404]
    assert client.post(urls[1], {"action": "open_sale"}).status_code == 404
    assert client.post(urls[0], {"new_username": "mallory", "new_password": "long-enough-pw"}).status_code == 404
    assert not User.objects.filter(username="mallory").exists()


# --- dashboard -------------------------------------------------------------------------------------

def test_dashboard_shows_the_organizers_events_with_sales_and_a_door_staff_warning(organizer, rival):
    event = make_event(organizer, title="Org Gala")
    make_event(rival, title="Rival Rave")
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True)[:2])
    boxoffice_sell(event_id=event.pk, seat_ids=seat_ids, method="cash", sold_by=organizer,
                   customer=Customer(name="Ada", email="ada@example.com", phone=""))
    page = login(organizer).get(reverse("admin:index")).content.decode()
    assert "Your upcoming events" in page and "Org Gala" in page and "Rival Rave" not in page
    assert "<strong>2</strong> of 40 seats sold" in page and "€80.00" in page
    assert "<strong>2</strong> tickets sold today" in page
    assert "no door staff assigned" in page
    DoorAssignment.objects.create(user=User.objects.create_user("gate"), event=event)
    assert "no door staff assigned" not in login(organizer).get(reverse("admin:index")).content.decode()


def test_superuser_dashboard_shows_everyone_and_thousands_separators(superuser, organizer, rival):
    make_event(organizer, title="Org Gala", rows=30, seats_per_block=20, blocks=2)  # 1,200 seats
    make_event(rival, title="Rival Rave")
    page = login(superuser).get(reverse("admin:index")).content.decode()
    assert "Upcoming events (all organizers)" in page and "Org Gala" in page and "Rival Rave" in page
    assert "0 / 1,200" in page


# --- polish ----------------------------------------------------------------------------------------

def test_the_admin_speaks_in_the_projects_name(organizer):
    page = login(organizer).get(reverse("admin:index")).content.decode()
    assert "Evently <span class=\"brand-sub\">back office</span>" in page
    assert "Django administration" not in page


def test_plurals_read_right(organizer):
    page = login(organizer).get(reverse("admin:index")).content.decode()
    assert "Waitlist entries" in page
    assert "entrys" not in page.lower() and "policys" not in page.lower()


def test_booking_csv_keeps_phone_numbers_readable_and_defuses_formulas(organizer):
    event = make_event(organizer)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True)[:2])
    boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[:1], method="cash", sold_by=organizer,
                   customer=Customer(name="=HYPERLINK(\"x\")", email="a@example.com", phone="+49 30 1234-567"))
    boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[1:], method="cash", sold_by=organizer,
                   customer=Customer(name="Bo", email="b@example.com", phone="+1+cmd|' /C calc'!A0"))
    response = login(organizer).get(reverse("admin:events_event_bookings_csv", args=[event.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    phones = {row["customer_email"]: row["customer_phone"] for row in rows}
    names = {row["customer_email"]: row["customer_name"] for row in rows}
    assert phones == {"a@example.com": "+49 30 1234-567", "b@example.com": "'+1+cmd|' /C calc'!A0"}
    assert names["a@example.com"] == "'=HYPERLINK(\"x\")"
    assert Decimal(rows[0]["total"]) == Decimal("40.00")


def test_venue_form_has_facility_checkboxes_and_a_stage_label_not_raw_json(organizer):
    venue = make_event(organizer).venue
    page = login(organizer).get(reverse("admin:venues_venue_change", args=[venue.pk])).content.decode()
    assert 'name="facility_list"' in page and 'name="stage_label"' in page
    assert 'name="facilities"' not in page and 'name="map_meta"' not in page
