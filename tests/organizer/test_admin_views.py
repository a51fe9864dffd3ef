"""The organizer tools through the admin, with real logins: who sees what, and what each page does."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Event, EventStatus, SeatCategory
from tests.conftest import Buyer, make_event, seat_statuses
from tests.organizer.conftest import at, login
from tests.sales.conftest import buy
from ticketing.models import Booking, BoxOfficeSale, EventSeat
from ticketing.services import Customer, boxoffice_sell, seat_hold
from venues.bookings import venue_booking_request
from venues.models import Seat, Venue, VenueBooking, VenueBookingStatus
from venues.services import venue_build_from_template


@pytest.fixture
def org_event(organizer):
    return make_event(organizer, title="Org Gala")


@pytest.fixture
def venue_booking(organizer, org_event):
    return venue_booking_request(venue=org_event.venue, title="Org Gala", start=at(10, 18), end=at(10, 22),
                                 organizer=organizer, deposit_amount=Decimal("100.00"))


def event_pages(event) -> list[str]:
    return [reverse("admin:events_event_change", args=[event.pk]),
            reverse("admin:events_event_inventory", args=[event.pk]),
            reverse("admin:events_event_seatmap", args=[event.pk]),
            reverse("admin:events_event_report", args=[event.pk]),
            reverse("admin:events_event_bookings_csv", args=[event.pk]),
            reverse("admin:events_event_attendees_csv", args=[event.pk])]


# --- the permission matrix ----------------------------------------------------------------------

def test_organizer_opens_every_page_of_their_own_event(organizer, org_event):
    client = login(organizer)
    assert [client.get(url).status_code for url in event_pages(org_event)] == [200] * 6


def test_another_organizer_gets_not_found_for_every_page_of_the_event(rival, org_event):
    client = login(rival)
    responses = [client.get(url) for url in event_pages(org_event)]
    # Django's own change view answers "doesn't exist" with a redirect to the admin index
    assert [response.status_code for response in responses] == [302, 404, 404, 404, 404, 404]
    assert responses[0]["Location"] == reverse("admin:index")


def test_superuser_opens_every_page_of_any_event(superuser, org_event):
    client = login(superuser)
    assert [client.get(url).status_code for url in event_pages(org_event)] == [200] * 6


@pytest.mark.parametrize("role", ["door", "anonymous"])
def test_door_staff_and_strangers_are_sent_to_the_admin_login(role, door, org_event, venue_booking):
    client = login(door) if role == "door" else __import__("django.test", fromlist=["Client"]).Client()
    urls = [*event_pages(org_event), reverse("admin:index"), reverse("admin:ticketing_booking_changelist"),
            reverse("admin:venues_venuebooking_change", args=[venue_booking.pk])]
    responses = [client.get(url) for url in urls]
    assert [response.status_code for response in responses] == [302] * len(urls)
    assert all(response["Location"].startswith("/admin/login/") for response in responses)


def test_event_list_shows_only_the_organizers_own_events(organizer, rival, org_event):
    make_event(rival, title="Rival Rave")
    own = login(organizer).get(reverse("admin:events_event_changelist")).content.decode()
    assert "Org Gala" in own and "Rival Rave" not in own
    everything = login(rival).get(reverse("admin:events_event_changelist")).content.decode()
    assert "Rival Rave" in everything and "Org Gala" not in everything


def test_bookings_list_shows_only_the_organizers_own_bookings(organizer, rival, org_event):
    seat = EventSeat.objects.filter(event=org_event).first()
    booking = boxoffice_sell(event_id=org_event.pk, seat_ids=[seat.pk], customer=Customer("Ada", "ada@example.com"),
                             method="cash", sold_by=organizer)
    assert booking.reference in login(organizer).get(reverse("admin:ticketing_booking_changelist")).content.decode()
    assert booking.reference not in login(rival).get(reverse("admin:ticketing_booking_changelist")).content.decode()
    assert login(rival).get(reverse("admin:ticketing_booking_change", args=[booking.pk])).status_code == 302


def test_venue_bookings_are_scoped_to_their_organizer(organizer, rival, venue_booking):
    url = reverse("admin:venues_venuebooking_change", args=[venue_booking.pk])
    assert login(organizer).get(url).status_code == 200
    assert login(rival).get(url).status_code == 302  # Django's "doesn't exist" redirect to the index
    assert login(rival).get(reverse("admin:venues_venuebooking_invoice", args=[venue_booking.pk])).status_code == 404
    assert login(rival).post(reverse("admin:venues_venuebooking_deposit", args=[venue_booking.pk]),
                             {"payment_token": "tok_ok"}).status_code == 404
    venue_booking.refresh_from_db()
    assert venue_booking.status == VenueBookingStatus.REQUESTED


def test_another_organizer_cannot_block_seats_of_the_event(rival, org_event):
    seat_id = EventSeat.objects.filter(event=org_event).values_list("id", flat=True).first()
    response = login(rival).post(reverse("admin:events_event_seatmap", args=[org_event.pk]),
                                 {"action": "block", "seat_ids": str(seat_id)})
    assert response.status_code == 404
    assert set(seat_statuses(org_event).values()) == {"available"}


# --- venues from templates ----------------------------------------------------------------------

def template_post(**extra):
    return {"name": "Neue Halle", "city": "Leipzig", "address": "", "timezone": "Europe/Berlin",
            "template": "conference", "conference__rows": "3", "conference__seats_per_block": "4",
            "conference__blocks": "2", **extra}


def test_preview_draws_the_seat_map_and_saves_nothing(organizer):
    response = login(organizer).post(reverse("admin:venues_venue_add"), template_post(_preview="Preview"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "24 seats in 2 sections (nothing saved yet)" in body
    assert body.count("<circle") == 24
    assert Venue.objects.count() == 0


def test_saving_a_template_venue_creates_its_seats(organizer):
    response = login(organizer).post(reverse("admin:venues_venue_add"), template_post(_save="Save"))
    venue = Venue.objects.get(name="Neue Halle")
    assert response.status_code == 302
    assert (venue.capacity, Seat.objects.filter(venue=venue).count(), venue.venue_type) == (24, 24, "conference")


def test_bad_template_parameters_show_an_error_and_save_nothing(organizer):
    response = login(organizer).post(reverse("admin:venues_venue_add"),
                                     template_post(conference__rows="0", _save="Save"))
    assert response.status_code == 200
    assert "A conference hall needs at least one row" in response.content.decode()
    assert Venue.objects.count() == 0


def test_stadium_preview_stays_small(organizer):
    response = login(organizer).post(reverse("admin:venues_venue_add"), template_post(
        template="stadium", stadium__sections_per_side="12", stadium__end_sections="8",
        stadium__rows_per_section="50", stadium__seats_per_row="25", _preview="Preview"))
    assert "50000 seats in 40 sections" in response.content.decode()
    assert len(response.content) < 200_000


def test_regeneration_is_refused_in_the_admin_while_seats_are_sold(organizer, org_event):
    seat = EventSeat.objects.filter(event=org_event).first()
    boxoffice_sell(event_id=org_event.pk, seat_ids=[seat.pk], customer=Customer("Ada", "ada@example.com"),
                   method="comp", sold_by=organizer)
    client = login(organizer)
    response = client.post(reverse("admin:venues_venue_regenerate", args=[org_event.venue_id]),
                           {"template": "conference", "conference__rows": "2", "_save": "Regenerate"}, follow=True)
    assert "cannot be regenerated while tickets depend on them" in response.content.decode()
    assert Seat.objects.filter(venue=org_event.venue).count() == 40


def test_accessibility_flags_are_set_from_the_venue_seat_map(organizer, org_event):
    seat_ids = list(Seat.objects.filter(venue=org_event.venue).order_by("id").values_list("id", flat=True)[:3])
    client = login(organizer)
    response = client.post(reverse("admin:venues_venue_seats", args=[org_event.venue_id]),
                           {"action": "is_wheelchair", "seat_ids": ",".join(map(str, seat_ids))})
    assert response.status_code == 302
    assert Seat.objects.filter(pk__in=seat_ids, is_wheelchair=True).count() == 3


# --- events: inventory, actions, seat map -------------------------------------------------------

def test_event_created_in_the_admin_belongs_to_the_organizer_and_goes_to_the_seat_step(organizer, venue):
    venue_build_from_template(venue=venue, template="conference", params={"rows": 2, "seats_per_block": 5,
                                                                          "blocks": 2})
    client = login(organizer)
    response = client.post(reverse("admin:events_event_add"), {
        "venue": venue.pk, "title": "New Show", "description": "", "category": "concert", "status": "draft",
        "starts_at_0": "2030-12-10", "starts_at_1": "19:00", "ends_at_0": "2030-12-10", "ends_at_1": "22:00",
        "categories-TOTAL_FORMS": "2", "categories-INITIAL_FORMS": "0",
        "categories-0-name": "Left", "categories-0-colour": "#ff0000", "categories-0-price": "30",
        "categories-0-position": "0",
        "categories-1-name": "Right", "categories-1-colour": "#0000ff", "categories-1-price": "20",
        "categories-1-position": "1",
        "max_seats_per_order": "10", "max_seats_per_email": "20",
        "cancellation_policy-TOTAL_FORMS": "0", "cancellation_policy-INITIAL_FORMS": "0",
    })
    event = Event.objects.get(title="New Show")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:events_event_inventory", args=[event.pk])
    assert event.organizer == organizer
    # the mapping step pre-selects categories named like the sections
    page = client.get(response["Location"]).content.decode()
    left, right = event.venue.sections.order_by("position")
    categories = {c.name: c.pk for c in event.categories.all()}
    response = client.post(response["Location"], {f"section_{left.pk}": categories["Left"],
                                                  f"section_{right.pk}": categories["Right"]})
    assert "Left (10 seats)" in page
    assert response.status_code == 302
    prices = dict(EventSeat.objects.filter(event=event).values_list("seat__section__name", "category__price")
                  .distinct())
    assert prices == {"Left": Decimal("30.00"), "Right": Decimal("20.00")}


def test_publish_and_open_sale_actions(organizer):
    draft = make_event(organizer, status=EventStatus.DRAFT, title="Draft Show")
    draft.sales_open_at = timezone.now() + timedelta(days=3)  # published now, on sale later…
    draft.save()
    client = login(organizer)
    changelist = reverse("admin:events_event_changelist")
    client.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == EventStatus.PUBLISHED
    client.post(changelist, {"action": "open_sale_now", "_selected_action": [draft.pk]})  # …unless opened now
    draft.refresh_from_db()
    assert draft.status == EventStatus.ON_SALE
    assert draft.sales_open_at <= timezone.now()


def test_blocking_from_the_seat_map_and_refusal_message(organizer, org_event):
    seat_ids = list(EventSeat.objects.filter(event=org_event).order_by("id").values_list("id", flat=True)[:3])
    seat_hold(event_id=org_event.pk, seat_ids=[seat_ids[2]], owner="online")
    client = login(organizer)
    url = reverse("admin:events_event_seatmap", args=[org_event.pk])
    client.post(url, {"action": "block", "seat_ids": f"{seat_ids[0]},{seat_ids[1]}"})
    refused = client.post(url, {"action": "block", "seat_ids": f"{seat_ids[2]}"}, follow=True)
    statuses = seat_statuses(org_event)
    assert [statuses[seat_id] for seat_id in seat_ids] == ["blocked", "blocked", "held"]
    assert "Only available seats can be blocked. Refused: Left row A seat 3 (held)." in refused.content.decode()


def test_box_office_sale_from_the_seat_map_records_the_seller(organizer, org_event):
    seat_ids = list(EventSeat.objects.filter(event=org_event).order_by("id").values_list("id", flat=True)[:2])
    response = login(organizer).post(reverse("admin:events_event_seatmap", args=[org_event.pk]), {
        "action": "sell", "seat_ids": ",".join(map(str, seat_ids)), "customer_name": "Grace Hopper",
        "customer_email": "grace@example.com", "customer_phone": "", "method": "cash"}, follow=True)
    booking = Booking.objects.get(customer_email="grace@example.com")
    assert "Sold 2 seat(s) to Grace Hopper: booking" in response.content.decode()
    assert (booking.status, booking.total) == ("paid", Decimal("80.00"))
    assert BoxOfficeSale.objects.get(booking=booking).sold_by == organizer


def test_box_office_sale_without_customer_email_sells_nothing(organizer, org_event):
    seat_id = EventSeat.objects.filter(event=org_event).values_list("id", flat=True).first()
    response = login(organizer).post(reverse("admin:events_event_seatmap", args=[org_event.pk]), {
        "action": "sell", "seat_ids": str(seat_id), "customer_name": "Grace", "customer_email": "", "method": "cash"})
    assert response.status_code == 200
    assert Booking.objects.count() == 0


@pytest.mark.slow
def test_stadium_inventory_is_created_in_one_step_quickly(organizer):
    # given a 50,000-seat stadium and an event with two categories
    venue = Venue.objects.create(name="Stadium", city="Munich")
    venue_build_from_template(venue=venue, template="stadium", params={
        "sections_per_side": 12, "end_sections": 8, "rows_per_section": 50, "seats_per_row": 25})
    event = Event.objects.create(organizer=organizer, venue=venue, title="Final", starts_at=at(10, 18),
                                 ends_at=at(10, 21))
    long_side = SeatCategory.objects.create(event=event, name="Long side", price=Decimal("120"))
    ends = SeatCategory.objects.create(event=event, name="Ends", price=Decimal("65"))
    data = {f"section_{section.pk}": (long_side if section.name[0] in "13" else ends).pk
            for section in venue.sections.all()}
    # when the organizer submits the mapping step
    started = time.perf_counter()
    response = login(organizer).post(reverse("admin:events_event_inventory", args=[event.pk]), data)
    elapsed = time.perf_counter() - started
    # then all 50,000 seats exist, in well under the budget (measured ~0.5–1 s on the 2-core dev box)
    assert response.status_code == 302
    assert EventSeat.objects.filter(event=event).count() == 50_000
    print(f"\nstadium inventory via the admin: {elapsed:.2f} s")
    assert elapsed < 10
    # and the seat map opens on the section overview, then one section at a time
    client = login(organizer)
    overview = client.get(reverse("admin:events_event_seatmap", args=[event.pk])).content.decode()
    assert overview.count('<a href="?section=') == 2 * 40  # a block on the drawing and a row in the table
    assert "seatmap-data" not in overview
    section = venue.sections.order_by("position").first()
    one_section = client.get(reverse("admin:events_event_seatmap", args=[event.pk]) + f"?section={section.pk}")
    assert one_section.context["seat_count"] == 1250
    assert client.get(reverse("admin:events_event_report", args=[event.pk])).context["report"].totals["total"] \
        == 50_000


# --- reports ------------------------------------------------------------------------------------

def test_report_matches_the_bookings(organizer, org_event, buyer):
    seat_ids = list(EventSeat.objects.filter(event=org_event).order_by("id").values_list("id", flat=True))
    boxoffice_sell(event_id=org_event.pk, seat_ids=seat_ids[:3], customer=Customer("Ada", "ada@example.com"),
                   method="cash", sold_by=organizer)
    boxoffice_sell(event_id=org_event.pk, seat_ids=seat_ids[3:4], customer=Customer("Bob", "bob@example.com"),
                   method="comp", sold_by=organizer)
    buyer.hold(org_event, seat_ids[4:6])
    assert buyer.confirm(org_event).status_code == 201
    buyer.hold(org_event, seat_ids[6:7])  # a live hold without a booking
    from ticketing.services import seats_block

    seats_block(event_id=org_event.pk, seat_ids=seat_ids[7:9])
    from ticketing.reports import event_report

    report = event_report(event=org_event)
    assert report.totals == {"sold": 6, "held": 1, "blocked": 2, "available": 31, "total": 40}
    assert report.revenue == Decimal("200.00")  # 3 × 40 cash + 0 comp + 2 × 40 online
    assert report.categories[0]["revenue"] == Decimal("200.00")
    assert report.conversion == {"paid": 1, "attempts": 1, "holding_now": 1, "rate": 50.0}
    assert sum(count for _, count, _ in report.sales_by_day) == 6
    page = login(organizer).get(reverse("admin:events_event_report", args=[org_event.pk])).content.decode()
    assert "€200.00" in page and "<svg" in page and "6 / 40" in page


def test_csv_exports_list_bookings_and_attendees(organizer, org_event):
    seat_ids = list(EventSeat.objects.filter(event=org_event).order_by("id").values_list("id", flat=True))
    booking = boxoffice_sell(event_id=org_event.pk, seat_ids=seat_ids[:2],
                             customer=Customer("=HYPERLINK(1)", "ada@example.com"), method="cash", sold_by=organizer)
    client = login(organizer)
    bookings = list(csv.reader(io.StringIO(b"".join(client.get(
        reverse("admin:events_event_bookings_csv", args=[org_event.pk])).streaming_content).decode())))
    attendees = list(csv.reader(io.StringIO(b"".join(client.get(
        reverse("admin:events_event_attendees_csv", args=[org_event.pk])).streaming_content).decode())))
    assert bookings[1][:8] == [booking.reference, "paid", "box office", "'=HYPERLINK(1)", "ada@example.com", "",
                               "2", "80.00"]
    assert [row[3:6] for row in attendees[1:]] == [["Left", "A", "1"], ["Left", "A", "2"]]


# --- venue bookings in the admin ----------------------------------------------------------------

def booking_post(venue, **extra):
    return {"venue": venue.pk, "event": "", "title": "Launch", "start_0": "2030-12-10", "start_1": "18:00",
            "end_0": "2030-12-10", "end_1": "22:00", "setup_hours": "4", "teardown_hours": "2",
            "rental_fee": "1000", "deposit_amount": "250", "add_ons-TOTAL_FORMS": "1", "add_ons-INITIAL_FORMS": "0",
            "add_ons-0-type": "catering", "add_ons-0-description": "Buffet", "add_ons-0-cost": "500", **extra}


def test_venue_booking_added_in_the_admin_with_an_add_on(organizer, venue):
    response = login(organizer).post(reverse("admin:venues_venuebooking_add"), booking_post(venue))
    booking = VenueBooking.objects.get()
    assert response.status_code == 302
    assert (booking.organizer, booking.status, booking.add_ons_total, booking.invoice_total) == (
        organizer, VenueBookingStatus.REQUESTED, Decimal("500.00"), Decimal("1500.00"))


def test_overlapping_venue_booking_form_names_the_clash(organizer, venue):
    # the organizer's own clashing booking is named (another organizer's is not: tests/trust)
    first = venue_booking_request(venue=venue, title="Gala", start=at(10, 8), end=at(10, 12), teardown_hours=3,
                                  organizer=organizer)
    response = login(organizer).post(reverse("admin:venues_venuebooking_add"), booking_post(venue))
    assert response.status_code == 200
    assert f"by booking #{first.pk} “Gala”" in response.content.decode()
    assert VenueBooking.objects.count() == 1


def test_deposit_page_confirms_and_invoice_downloads(organizer, venue_booking):
    client = login(organizer)
    client.post(reverse("admin:venues_venuebooking_deposit", args=[venue_booking.pk]), {"payment_token": "tok_ok"})
    venue_booking.refresh_from_db()
    assert venue_booking.status == VenueBookingStatus.CONFIRMED
    pdf = client.get(reverse("admin:venues_venuebooking_invoice", args=[venue_booking.pk]))
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")


def test_calendar_shows_own_bookings_by_name_and_others_as_booked(organizer, rival, venue_booking):
    venue_booking_request(venue=venue_booking.venue, title="Rival Secret", start=at(20, 18), end=at(20, 22),
                          organizer=rival)
    page = login(organizer).get(reverse("admin:venues_venue_calendar", args=[venue_booking.venue_id])
                                + "?month=2030-12").content.decode()
    assert "Org Gala" in page
    assert "Rival Secret" not in page and ">Booked<" in page


def test_nonsense_seat_ids_and_sections_are_refused_without_errors(organizer, org_event):
    client = login(organizer)
    url = reverse("admin:events_event_seatmap", args=[org_event.pk])
    huge = str(2**70)
    assert client.get(url + f"?section={huge}").status_code == 200
    refused = client.post(url, {"action": "block", "seat_ids": f"{huge},abc,-3"}, follow=True)
    assert "Select seats first." in refused.content.decode()
    unknown = client.post(url, {"action": "block", "seat_ids": "999999"}, follow=True)
    assert "Some of these seats do not belong to this event." in unknown.content.decode()
    assert set(seat_statuses(org_event).values()) == {"available"}


def test_declined_deposit_shows_the_reason_and_keeps_the_booking_requested(organizer, venue_booking):
    response = login(organizer).post(reverse("admin:venues_venuebooking_deposit", args=[venue_booking.pk]),
                                     {"payment_token": "tok_declined"})
    assert "The deposit payment was declined; the booking stays requested." in response.content.decode()
    venue_booking.refresh_from_db()
    assert (venue_booking.status, venue_booking.deposit_payment_reference) == (VenueBookingStatus.REQUESTED, "")


def test_huge_ids_in_admin_urls_are_not_found(organizer):
    client = login(organizer)
    huge = 2**70
    assert client.get(reverse("admin:events_event_report", args=[huge])).status_code == 404
    assert client.get(reverse("admin:venues_venue_calendar", args=[huge])).status_code == 404
    assert client.get(reverse("admin:venues_venuebooking_invoice", args=[huge])).status_code == 404


@pytest.mark.django_db
def test_the_report_writes_money_and_counts_with_thousands_separators(organizer):
    """Issue 18: "€12,131.80", not "€12131.80"."""
    show = make_event(organizer, title="Gala", price="1500.00")
    buy(Buyer(), show, list(EventSeat.objects.filter(event=show).order_by("id").values_list("id", flat=True))[:2])

    report = login(organizer).get(reverse("admin:events_event_report", args=[show.pk])).content.decode()

    assert "€3,000.00" in report and "€1,500.00" in report
