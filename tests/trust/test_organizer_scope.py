"""Organizers see and change only their own — each hole the review found, closed.

Organizer and rival are staff in the "Organizers" group (all venues/events/ticketing permissions),
as the demo makes them; the scope comes from evently.admin.OrganizerScopedAdmin, not permissions.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from checkin.models import DoorSchedule
from events.models import SeatCategory
from tests.conftest import Buyer, make_event
from tests.organizer.conftest import at, login, make_organizer
from ticketing.models import Booking, Ticket, TicketTransfer
from venues.bookings import venue_booking_request, venue_bookings_expire
from venues.models import Venue, VenueBooking

pytestmark = pytest.mark.django_db


def with_checkin(user):
    """The Organizers group also manages check-in for its events (as the demo's organizer does)."""
    user.groups.get().permissions.add(*Permission.objects.filter(content_type__app_label="checkin"))
    return user


@pytest.fixture
def organizer(db):
    return with_checkin(make_organizer("org"))


@pytest.fixture
def rival(organizer):
    return with_checkin(make_organizer("rival"))


@pytest.fixture
def org_event(organizer):
    return make_event(organizer, title="Org Gala")


@pytest.fixture
def rival_event(rival):
    return make_event(rival, title="Rival Night")


def admin_url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


# --- door schedules ------------------------------------------------------------------------------------

def test_a_rival_cannot_create_a_door_schedule_for_my_event(rival, org_event, rival_event):
    response = login(rival).post(admin_url("checkin_doorschedule_add"),
                                 {"event": org_event.pk, "doors_open_at_0": "2099-01-01", "doors_open_at_1": "18:00"})
    assert response.status_code == 200  # the form again: not a valid choice
    assert "Select a valid choice" in response.content.decode()
    assert not DoorSchedule.objects.exists()


def test_a_rival_cannot_overwrite_my_door_schedule(rival, org_event, rival_event):
    mine = DoorSchedule.objects.create(event=org_event, doors_open_at=org_event.starts_at - timedelta(hours=1))
    client = login(rival)
    client.post(admin_url("checkin_doorschedule_add"),
                {"event": org_event.pk, "doors_open_at_0": "2099-01-01", "doors_open_at_1": "18:00"})
    response = client.post(admin_url("checkin_doorschedule_change", org_event.pk),
                           {"event": org_event.pk, "doors_open_at_0": "2099-01-01", "doors_open_at_1": "18:00"})
    assert response.status_code in (302, 403, 404)
    assert DoorSchedule.objects.get(pk=org_event.pk).doors_open_at == mine.doors_open_at


# --- seat categories -------------------------------------------------------------------------------------

def test_a_rival_cannot_add_a_seat_category_to_my_event(rival, org_event, rival_event):
    response = login(rival).post(admin_url("events_seatcategory_add"), {
        "event": org_event.pk, "name": "Rival VIP", "colour": "#ff0000", "price": "1.00", "position": "0",
        "tiers-TOTAL_FORMS": "0", "tiers-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert not SeatCategory.objects.filter(name="Rival VIP").exists()


def test_a_rival_cannot_move_their_category_onto_my_event(rival, org_event, rival_event):
    category = rival_event.categories.get()
    response = login(rival).post(admin_url("events_seatcategory_change", category.pk), {
        "event": org_event.pk, "name": category.name, "colour": "#ff0000", "price": "1.00", "position": "0",
        "tiers-TOTAL_FORMS": "0", "tiers-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    category.refresh_from_db()
    assert category.event_id == rival_event.pk
    assert list(org_event.categories.values_list("name", flat=True)) == ["Standard"]


def test_the_category_form_offers_only_my_events(rival, org_event, rival_event):
    page = login(rival).get(admin_url("events_seatcategory_add")).content.decode()
    assert "Rival Night" in page and "Org Gala" not in page


# --- transfers, bookings, check-in logs -----------------------------------------------------------------------

@pytest.fixture
def transferred(org_event):
    buyer = Buyer()
    seat = org_event.seats.order_by("id").values_list("id", flat=True)[0]
    assert buyer.hold(org_event, [seat]).status_code == 200
    ticket = buyer.confirm(org_event).json()["tickets"][0]
    assert buyer.post_json(f"/api/tickets/{ticket['id']}/transfer",
                           {"name": "Grace Hopper", "email": "grace@example.com"}).status_code == 201
    return TicketTransfer.objects.get()


def test_a_rival_sees_no_transfers_of_my_events(rival, rival_event, transferred):
    page = login(rival).get(admin_url("ticketing_tickettransfer_changelist")).content.decode()
    assert "grace@example.com" not in page and "Grace Hopper" not in page
    assert login(rival).get(admin_url("ticketing_tickettransfer_change", transferred.pk)).status_code == 302


def test_i_see_the_transfers_of_my_events(organizer, transferred):
    page = login(organizer).get(admin_url("ticketing_tickettransfer_changelist")).content.decode()
    assert "grace@example.com" in page


def test_the_booking_admin_is_read_only_with_no_ticket_dropdowns(organizer, transferred):
    booking = Booking.objects.get()
    ticket = Ticket.objects.get(transferred_from__isnull=False)
    client = login(organizer)
    page = client.get(admin_url("ticketing_booking_change", booking.pk)).content.decode()
    assert "<select" not in page and 'name="tickets-0-nonce"' not in page
    response = client.post(admin_url("ticketing_booking_change", booking.pk), {
        "tickets-TOTAL_FORMS": "2", "tickets-INITIAL_FORMS": "2", "tickets-0-id": ticket.pk,
        "tickets-0-nonce": "1", "tickets-0-admitted_at_0": "2030-01-01", "tickets-0-admitted_at_1": "10:00"})
    assert response.status_code == 403
    ticket_after = Ticket.objects.get(pk=ticket.pk)
    assert (ticket_after.nonce, ticket_after.admitted_at) == (ticket.nonce, None)


def test_check_in_filters_offer_only_my_events(organizer, rival, org_event, rival_event):
    for name in ("checkin_admission_changelist", "checkin_scan_changelist"):
        page = login(rival).get(admin_url(name)).content.decode()
        assert "Org Gala" not in page, name


# --- venues ------------------------------------------------------------------------------------------

@pytest.fixture
def platform_venue(db):
    return Venue.objects.create(name="City Arena", city="Berlin")


@pytest.mark.parametrize("view", ["change", "delete", "regenerate"])
def test_organizers_cannot_change_a_shared_platform_venue(organizer, platform_venue, view):
    client = login(organizer)
    url = {"change": admin_url("venues_venue_change", platform_venue.pk),
           "delete": admin_url("venues_venue_delete", platform_venue.pk),
           "regenerate": admin_url("venues_venue_regenerate", platform_venue.pk)}[view]
    body = {"name": "Mine now", "city": "X", "post": "yes", "template": "conference", "rows": "1",
            "seats_per_block": "1", "blocks": "1"}
    assert client.post(url, body).status_code == 403
    assert Venue.objects.filter(pk=platform_venue.pk, name="City Arena").exists()


def test_organizers_still_see_shared_venues_and_their_seat_maps(organizer, platform_venue):
    client = login(organizer)
    assert "City Arena" in client.get(admin_url("venues_venue_changelist")).content.decode()
    assert client.get(admin_url("venues_venue_seats", platform_venue.pk)).status_code == 200
    assert client.post(admin_url("venues_venue_seats", platform_venue.pk),
                       {"action": "is_wheelchair", "seat_ids": "1"}).status_code == 403


def test_a_rival_cannot_change_my_venue(rival, org_event):
    response = login(rival).post(admin_url("venues_venue_regenerate", org_event.venue_id),
                                 {"template": "conference", "rows": "1", "seats_per_block": "1", "blocks": "1"})
    assert response.status_code == 403
    assert org_event.seats.count() == 40


def test_regenerating_my_venue_is_refused_while_a_rival_sells_there(organizer, rival, org_event):
    make_event(rival, title="Rival at my venue").venue  # noqa: B018 - a venue of its own
    rival_there = make_event(rival, title="Rival in my hall")
    type(rival_there).objects.filter(pk=rival_there.pk).update(venue=org_event.venue)
    response = login(organizer).post(admin_url("venues_venue_regenerate", org_event.venue_id),
                                     {"template": "conference", "rows": "1", "seats_per_block": "1", "blocks": "1"},
                                     follow=True)
    assert "Other organizers have coming events at this venue" in response.content.decode()
    assert org_event.seats.count() == 40


# --- venue bookings ----------------------------------------------------------------------------------------

def booking_post(venue, **extra):
    return {"venue": venue.pk, "event": "", "title": "Rival launch", "start_0": "2030-12-10", "start_1": "18:00",
            "end_0": "2030-12-10", "end_1": "22:00", "setup_hours": "0", "teardown_hours": "0",
            "rental_fee": "0", "deposit_amount": "0", "add_ons-TOTAL_FORMS": "0", "add_ons-INITIAL_FORMS": "0",
            **extra}


def test_a_clash_does_not_reveal_another_organizers_booking(organizer, rival, platform_venue):
    venue_booking_request(venue=platform_venue, title="Secret product launch", start=at(10, 17), end=at(10, 23),
                          organizer=organizer)
    page = login(rival).post(admin_url("venues_venuebooking_add"), booking_post(platform_venue)).content.decode()
    assert "already booked" in page
    assert "Secret product launch" not in page
    assert VenueBooking.objects.count() == 1


def test_the_clash_error_of_the_service_names_only_own_bookings(organizer, rival, platform_venue):
    from venues.exceptions import VenueBookingConflict

    venue_booking_request(venue=platform_venue, title="Secret product launch", start=at(10, 17), end=at(10, 23),
                          organizer=organizer)
    with pytest.raises(VenueBookingConflict) as refused:
        venue_booking_request(venue=platform_venue, title="Mine", start=at(10, 18), end=at(10, 19), organizer=rival)
    assert "Secret" not in refused.value.message and "conflicting_booking" not in refused.value.extra


def test_an_unpaid_booking_request_expires_and_frees_the_venue(organizer, rival, platform_venue, settings):
    settings.VENUE_BOOKING_REQUEST_TTL_HOURS = 72
    hold = venue_booking_request(venue=platform_venue, title="Maybe", start=at(20, 18), end=at(20, 22),
                                 organizer=organizer, deposit_amount=Decimal("100"))
    assert venue_bookings_expire() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        assert venue_bookings_expire() == 1
    hold.refresh_from_db()
    assert hold.status == "expired"
    # the venue is free again
    venue_booking_request(venue=platform_venue, title="Rival's night", start=at(20, 18), end=at(20, 22),
                          organizer=rival)


def test_a_paid_request_does_not_expire(organizer, platform_venue):
    from venues.bookings import venue_booking_pay_deposit

    booking = venue_booking_request(venue=platform_venue, title="Sure", start=at(21, 18), end=at(21, 22),
                                    organizer=organizer, deposit_amount=Decimal("100"))
    venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        assert venue_bookings_expire() == 0


def test_every_organizer_facing_admin_uses_the_one_scope_mixin():
    from django.contrib import admin

    from evently.admin import OrganizerScopedAdmin, SuperuserOnlyAdmin

    ours = {model._meta.app_label for model in admin.site._registry} & {"venues", "events", "ticketing", "checkin"}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in ours:
            assert isinstance(model_admin, OrganizerScopedAdmin | SuperuserOnlyAdmin), model
    assert Group  # organizers are a group with model permissions; the mixin scopes their rows
