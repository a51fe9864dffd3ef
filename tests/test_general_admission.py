"""General admission (issue 15): standing areas sold by quantity beside numbered seats, same guarantees."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import PricingTier, SeatCategory
from ticketing.broadcast import seat_changes_cursor
from ticketing.exceptions import InsufficientCapacity, NoHeldSeats, SeatsBusy, WaitlistSeatsAvailable
from ticketing.models import (
    AreaHold,
    Booking,
    BookingPlace,
    EventArea,
    EventSeat,
    Ticket,
    WaitlistEntry,
    WaitlistStatus,
)
from ticketing.reports import event_report
from ticketing.services import Customer, booking_confirm, boxoffice_sell, event_inventory_create, seat_hold
from ticketing.services.areas import area_blocked_set, area_hold, area_holds_expire, area_release
from ticketing.services.tickets import event_public_keys
from ticketing.services.waitlist import waitlist_claim, waitlist_join
from ticketing.tokens import claimed_area_id, token_verify_any
from venues.generators import club, stadium
from venues.models import Section

from .conftest import Buyer, make_event
from .organizer.conftest import organizers_group

ADA = Customer("Ada Lovelace", "ada@example.com")


def add_area(event, *, name="Standing floor", places=60, price="25.00") -> Section:
    """Give the event's venue a general-admission section and the event an area of it (own category)."""
    section = Section.objects.create(venue=event.venue, name=name, position=99, is_general_admission=True,
                                     capacity=places, outline=[[0, 0], [100, 0], [100, 50], [0, 50]])
    category = SeatCategory.objects.create(event=event, name=name, price=Decimal(price), colour="#059669")
    event_inventory_create(event=event, section_categories={section.pk: category.pk})
    return section


@pytest.fixture
def mixed_event(organizer):
    """40 seats at €40 and a standing floor of 60 places at €25."""
    event = make_event(organizer)
    event.standing = add_area(event)
    return event


def area_of(event) -> EventArea:
    return EventArea.objects.get(event=event, section=event.standing)


def held_rows_total(event) -> int:
    return sum(AreaHold.objects.filter(event=event).values_list("quantity", flat=True))


def area_hold_json(buyer, event, quantity, area_id=None):
    return buyer.post_json("/api/areas/hold", {"event_id": event.pk, "area_id": area_id or event.standing.pk,
                                               "quantity": quantity})


# --- model and templates ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_inventory_creates_one_counter_per_area_with_the_sections_capacity(mixed_event):
    area = area_of(mixed_event)
    assert (area.capacity, area.held, area.sold, area.blocked) == (60, 0, 0, 0)
    assert EventSeat.objects.filter(event=mixed_event).count() == 40  # the seats are untouched


def test_stadium_template_can_have_a_standing_floor_beside_its_stands():
    layout = stadium(sections_per_side=1, end_sections=1, rows_per_section=2, seats_per_row=3,
                     standing_places=2500)
    floor = [section for section in layout.sections if section.is_general_admission]
    assert [(section.name, section.places, section.seats) for section in floor] == [("Standing floor", 2500, [])]
    assert layout.capacity == 4 * 2 * 3 + 2500
    assert len(floor[0].outline) == 4


def test_club_template_is_general_admission_only():
    layout = club(floor_places=900, front_places=200, balcony_places=0)
    assert [(section.name, section.places, len(section.seats)) for section in layout.sections] == [
        ("Front of stage", 200, 0), ("Main floor", 900, 0)]
    assert layout.capacity == 1100


# --- the layout ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_layout_lists_areas_beside_unchanged_seat_sections(mixed_event):
    buyer = Buyer()
    layout = buyer.get(f"/api/events/{mixed_event.pk}/layout").json()

    assert [area["id"] for area in layout["areas"]] == [mixed_event.standing.pk]
    area = layout["areas"][0]
    assert {key: area[key] for key in ("id", "name", "capacity", "available", "price")} == {
        "id": mixed_event.standing.pk, "name": "Standing floor", "capacity": 60, "available": 60, "price": "25.00"}
    assert area["category"] == area_of(mixed_event).category_id
    assert all(section["rows"] for section in layout["sections"])  # no empty seat section for the area
    assert layout["my_areas"] == []


@pytest.mark.django_db
def test_layout_tells_a_returning_buyer_their_places_and_expiry(mixed_event):
    buyer = Buyer()
    hold = area_hold_json(buyer, mixed_event, 3).json()

    layout = buyer.get(f"/api/events/{mixed_event.pk}/layout").json()

    assert layout["my_areas"] == [{"area_id": mixed_event.standing.pk, "quantity": 3}]
    assert layout["hold_expires_at"] == hold["expires_at"]
    assert layout["areas"][0]["available"] == 57


# --- holds ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_hold_answers_the_buyers_places_and_their_expiry(mixed_event):
    buyer = Buyer()
    response = area_hold_json(buyer, mixed_event, 4)

    assert response.status_code == 200
    body = response.json()
    assert (body["area_id"], body["quantity"], body["available"]) == (mixed_event.standing.pk, 4, 56)
    assert body["expires_at"]
    area = area_of(mixed_event)
    assert (area.held, area.sold) == (4, 0)
    assert held_rows_total(mixed_event) == 4


@pytest.mark.django_db
def test_hold_sets_the_total_so_a_repeat_changes_nothing_and_a_lower_number_gives_places_back(mixed_event):
    buyer = Buyer()
    area_hold_json(buyer, mixed_event, 5)
    area_hold_json(buyer, mixed_event, 5)
    assert area_of(mixed_event).held == 5

    response = area_hold_json(buyer, mixed_event, 2)

    assert response.json()["quantity"] == 2
    assert area_of(mixed_event).held == 2
    assert held_rows_total(mixed_event) == 2


@pytest.mark.django_db
def test_places_share_the_carts_expiry_with_seats(mixed_event):
    seat_ids = list(EventSeat.objects.filter(event=mixed_event).order_by("id").values_list("id", flat=True))
    seats = seat_hold(event_id=mixed_event.pk, seat_ids=seat_ids[:2], owner="buyer-1")

    places = area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=3, owner="buyer-1")

    assert places.expires_at == seats.expires_at


@pytest.mark.django_db
def test_more_than_available_is_409_with_what_is_available_and_nothing_is_held(mixed_event):
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=10, owner="other")
    EventArea.objects.filter(pk=area_of(mixed_event).pk).update(sold=47)  # 3 places left
    buyer = Buyer()

    response = area_hold_json(buyer, mixed_event, 4)

    assert response.status_code == 409
    assert response.json()["error"] == "insufficient_capacity"
    assert response.json()["available"] == 3
    area = area_of(mixed_event)
    assert (area.held, area.sold) == (10, 47)
    assert not AreaHold.objects.exclude(owner="other").exists()


@pytest.mark.django_db
def test_bad_input_is_refused_with_a_json_error_and_nothing_written(mixed_event, other_event):
    other_area = add_area(other_event, name="Other floor")
    seated_section = mixed_event.venue.sections.filter(is_general_admission=False).first()
    buyer = Buyer()
    cases = [
        ({"quantity": 0}, 400, None),
        ({"quantity": -2}, 400, None),
        ({"quantity": 10**9}, 400, None),
        ({"quantity": "3"}, 400, None),
        ({"quantity": 2.5}, 400, None),
        ({"quantity": 11}, 422, "order_limit_exceeded"),  # within reason, beyond the event's per-order limit
        ({"quantity": 2, "area_id": other_area.pk}, 404, "area_not_found"),
        ({"quantity": 2, "area_id": seated_section.pk}, 400, "not_an_area"),
        ({"quantity": 2, "area_id": 2**62}, 404, "area_not_found"),
        ({"quantity": 2, "event_id": 2**62}, 404, "event_not_found"),
    ]
    for change, status, code in cases:
        payload = {"event_id": mixed_event.pk, "area_id": mixed_event.standing.pk, **change}
        response = buyer.post_json("/api/areas/hold", payload)
        assert response.status_code == status, (change, response.content)
        assert "error" in response.json() and "message" in response.json()
        if code:
            assert response.json()["error"] == code
    assert not AreaHold.objects.exists()
    assert area_of(mixed_event).held == 0
    assert buyer.post_json("/api/areas/release", {"event_id": mixed_event.pk,
                                                  "area_id": seated_section.pk}).status_code == 400


@pytest.mark.django_db
def test_release_returns_exactly_the_buyers_places(mixed_event):
    first, second = Buyer(), Buyer()
    area_hold_json(first, mixed_event, 4)
    area_hold_json(second, mixed_event, 3)

    response = first.post_json("/api/areas/release", {"event_id": mixed_event.pk, "area_id": mixed_event.standing.pk})

    assert response.status_code == 200
    assert response.json()["released"] == 4
    assert area_of(mixed_event).held == 3
    assert held_rows_total(mixed_event) == 3


@pytest.mark.django_db
def test_an_expired_hold_is_available_at_once_and_the_sweep_returns_exactly_what_it_held(mixed_event):
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=5, owner="late")
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=2, owner="on-time")
    AreaHold.objects.filter(owner="late").update(held_until=timezone.now() - timedelta(seconds=1))
    buyer = Buyer()

    # before any sweep: buyers see the lapsed places as free
    assert buyer.get(f"/api/events/{mixed_event.pk}/layout").json()["areas"][0]["available"] == 58
    since = seat_changes_cursor()

    assert area_holds_expire() == 5

    area = area_of(mixed_event)
    assert area.held == 2 == held_rows_total(mixed_event)
    changes = buyer.get(f"/api/events/{mixed_event.pk}/seats/changes?since={since}").json()["changes"]
    assert {"area_id": mixed_event.standing.pk, "available": 58} in changes
    assert area_holds_expire() == 0  # safe to run twice


@pytest.mark.django_db
def test_a_hold_reclaims_expired_places_before_the_sweep(mixed_event):
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=10, owner="late")
    EventArea.objects.filter(pk=area_of(mixed_event).pk).update(sold=50)  # none left but the late buyer's
    AreaHold.objects.filter(owner="late").update(held_until=timezone.now() - timedelta(seconds=1))

    hold = area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=10, owner="next")

    assert hold.quantity == 10
    area = area_of(mixed_event)
    assert (area.held, area.sold) == (10, 50)
    assert list(AreaHold.objects.values_list("owner", "quantity")) == [("next", 10)]


@pytest.mark.django_db
def test_the_order_limit_counts_seats_and_places_together(mixed_event):
    mixed_event.max_seats_per_order = 5
    mixed_event.save(update_fields=["max_seats_per_order"])
    seat_ids = list(EventSeat.objects.filter(event=mixed_event).order_by("id").values_list("id", flat=True))
    buyer = Buyer()
    assert buyer.hold(mixed_event, seat_ids[:2]).status_code == 200

    assert area_hold_json(buyer, mixed_event, 4).json()["error"] == "order_limit_exceeded"
    assert area_hold_json(buyer, mixed_event, 3).status_code == 200
    assert buyer.hold(mixed_event, seat_ids[2:3]).json()["error"] == "order_limit_exceeded"
    assert area_of(mixed_event).held == 3


# --- confirm -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_confirm_sells_seats_and_places_with_a_signed_ticket_per_admission(mixed_event):
    seat_ids = list(EventSeat.objects.filter(event=mixed_event).order_by("id").values_list("id", flat=True))
    buyer = Buyer()
    buyer.hold(mixed_event, seat_ids[:2])
    area_hold_json(buyer, mixed_event, 3)

    response = buyer.confirm(mixed_event)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "155.00"  # 2 × 40 + 3 × 25
    assert sorted(ticket["seat_id"] for ticket in body["tickets"] if "seat_id" in ticket) == seat_ids[:2]
    place_tickets = [ticket for ticket in body["tickets"] if "area_id" in ticket]
    assert [ticket["area_id"] for ticket in place_tickets] == [mixed_event.standing.pk] * 3
    keys = event_public_keys(mixed_event.pk)
    claims = [token_verify_any(ticket["token"], keys, event_id=mixed_event.pk) for ticket in place_tickets]
    assert {claimed_area_id(claim) for claim in claims} == {mixed_event.standing.pk}
    assert len({ticket["token"] for ticket in place_tickets}) == 3
    area = area_of(mixed_event)
    assert (area.held, area.sold) == (0, 3)
    assert not AreaHold.objects.exists()
    assert Ticket.objects.filter(booking_place__isnull=False).count() == 3
    detail = buyer.get(f"/api/bookings/{body['booking_id']}").json()
    assert sorted(ticket.get("area_id", 0) for ticket in detail["tickets"]) == [0, 0] + [mixed_event.standing.pk] * 3


@pytest.mark.django_db
def test_a_general_admission_only_cart_confirms(organizer):
    event = make_event(organizer, rows=1, seats_per_block=1, blocks=1)
    event.standing = add_area(event, places=10)
    buyer = Buyer()
    area_hold_json(buyer, event, 2)

    response = buyer.confirm(event)

    assert response.status_code == 201, response.content
    assert [ticket["area_id"] for ticket in response.json()["tickets"]] == [event.standing.pk] * 2
    assert area_of(event).sold == 2


@pytest.mark.django_db
def test_a_declined_payment_sells_neither_seats_nor_places_and_keeps_the_cart(mixed_event):
    seat_ids = list(EventSeat.objects.filter(event=mixed_event).order_by("id").values_list("id", flat=True))
    buyer = Buyer()
    buyer.hold(mixed_event, seat_ids[:2])
    area_hold_json(buyer, mixed_event, 3)

    response = buyer.confirm(mixed_event, token="tok_declined")

    assert response.status_code == 402
    area = area_of(mixed_event)
    assert (area.held, area.sold) == (3, 0)
    assert held_rows_total(mixed_event) == 3
    assert not AreaHold.objects.filter(booking__isnull=False).exists()
    assert not BookingPlace.objects.filter(is_active=True).exists()
    assert EventSeat.objects.filter(pk__in=seat_ids[:2], status="held", booking__isnull=True).count() == 2
    assert not Ticket.objects.exists()
    assert buyer.confirm(mixed_event).status_code == 201  # the kept cart sells on the next try
    assert area_of(mixed_event).sold == 3


@pytest.mark.django_db
def test_an_expired_mixed_cart_sells_nothing(mixed_event):
    seat_ids = list(EventSeat.objects.filter(event=mixed_event).order_by("id").values_list("id", flat=True))
    seat_hold(event_id=mixed_event.pk, seat_ids=seat_ids[:2], owner="buyer-1")
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=3, owner="buyer-1")
    past = timezone.now() - timedelta(seconds=1)
    EventSeat.objects.filter(pk__in=seat_ids[:2]).update(held_until=past)
    AreaHold.objects.update(held_until=past)

    with pytest.raises(NoHeldSeats):
        booking_confirm(event_id=mixed_event.pk, owner="buyer-1", customer=ADA, payment_token="tok_ok")

    assert not Booking.objects.exists()
    assert area_of(mixed_event).sold == 0


@pytest.mark.django_db
def test_when_the_places_are_gone_the_whole_cart_is_gone_with_them(mixed_event):
    """Seats and places share one expiry: one part cannot lapse while the other sells."""
    seat_ids = list(EventSeat.objects.filter(event=mixed_event).order_by("id").values_list("id", flat=True))
    seat_hold(event_id=mixed_event.pk, seat_ids=seat_ids[:2], owner="buyer-1")
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=3, owner="buyer-1")
    held_until = {until for until in EventSeat.objects.filter(pk__in=seat_ids[:2]).values_list("held_until", flat=True)}
    held_until |= set(AreaHold.objects.values_list("held_until", flat=True))

    assert len(held_until) == 1


@pytest.mark.django_db
def test_the_email_limit_counts_places(mixed_event):
    mixed_event.max_seats_per_email = 4
    mixed_event.save(update_fields=["max_seats_per_email"])
    first, second = Buyer(), Buyer()
    area_hold_json(first, mixed_event, 3)
    assert first.confirm(mixed_event).status_code == 201
    area_hold_json(second, mixed_event, 2)

    response = second.confirm(mixed_event)  # same e-mail: 3 + 2 > 4

    assert response.status_code == 422
    assert response.json()["error"] == "email_limit_exceeded"
    assert area_of(mixed_event).sold == 3


@pytest.mark.django_db
def test_a_tier_quota_counts_places_and_the_rest_pay_the_next_tier(mixed_event):
    category = area_of(mixed_event).category
    PricingTier.objects.create(category=category, name="Early Bird", price=Decimal("15.00"), quota=4, position=0)
    first, second = Buyer(), Buyer()
    area_hold_json(first, mixed_event, 3)
    area_hold_json(second, mixed_event, 3)  # 1 early bird left, then the category's price

    assert first.confirm(mixed_event).json()["total"] == "45.00"
    assert second.confirm(mixed_event).json()["total"] == "65.00"  # 15 + 2 × 25
    assert BookingPlace.objects.filter(tier__name="Early Bird", is_active=True).count() == 4


# --- live ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_changes_since_carry_the_areas_availability(mixed_event):
    buyer = Buyer()
    since = buyer.get(f"/api/events/{mixed_event.pk}/layout").json()["version"]

    area_hold_json(buyer, mixed_event, 5)

    changes = buyer.get(f"/api/events/{mixed_event.pk}/seats/changes?since={since}").json()["changes"]
    assert [change for change in changes if "area_id" in change] == [
        {"area_id": mixed_event.standing.pk, "available": 55}]


# --- the stampede --------------------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_hundred_buyers_racing_for_the_last_fifty_places_never_oversell(mixed_event):
    area = area_of(mixed_event)
    EventArea.objects.filter(pk=area.pk).update(sold=10)  # 50 places left
    rng = random.Random(15)
    quantities = [rng.randint(1, 4) for _ in range(200)]
    threads_count = 40  # 200 buyers on 40 connections (the test database allows ~100)
    barrier = threading.Barrier(threads_count)
    outcomes: list = [None] * 200

    def buyer(index):
        owner = f"buyer-{index}"
        try:
            area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=quantities[index],
                      owner=owner)
            booking = booking_confirm(event_id=mixed_event.pk, owner=owner, payment_token="tok_ok",
                                      customer=Customer(f"Buyer {index}", f"b{index}@example.com"))
            outcomes[index] = booking.status
        except (InsufficientCapacity, SeatsBusy) as error:
            outcomes[index] = error.code

    def runner(first):
        try:
            barrier.wait()
            for index in range(first, 200, threads_count):
                buyer(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert None not in outcomes
    area.refresh_from_db()
    paid = [index for index, outcome in enumerate(outcomes) if outcome == "paid"]
    sold_places = sum(quantities[index] for index in paid)
    assert area.sold - 10 == sold_places <= 50
    assert sold_places >= 47  # the last places go to someone asking for few enough
    assert area.held == 0 and not AreaHold.objects.exists()
    assert Ticket.objects.filter(booking_place__event_area=area, status="valid").count() == sold_places
    assert BookingPlace.objects.filter(event_area=area, is_active=True).count() == sold_places


# --- after the sale ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_place_ticket_transfers_with_a_new_token_for_the_same_area(mixed_event):
    buyer = Buyer()
    area_hold_json(buyer, mixed_event, 2)
    ticket = buyer.confirm(mixed_event).json()["tickets"][0]

    response = buyer.post_json(f"/api/tickets/{ticket['id']}/transfer", {"name": "Grace Hopper",
                                                                          "email": "grace@example.com"})

    assert response.status_code == 201, response.content
    new_ticket = Ticket.objects.get(transferred_from_id=ticket["id"])
    assert new_ticket.booking_place_id == Ticket.objects.get(pk=ticket["id"]).booking_place_id
    claims = token_verify_any(new_ticket.token, event_public_keys(mixed_event.pk), event_id=mixed_event.pk)
    assert claimed_area_id(claims) == mixed_event.standing.pk
    assert new_ticket.token != ticket["token"]


@pytest.mark.django_db
def test_the_tickets_pdf_has_the_places(mixed_event):
    buyer = Buyer()
    area_hold_json(buyer, mixed_event, 2)
    booking = buyer.confirm(mixed_event).json()

    response = buyer.get(booking["pdf_url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content]).startswith(b"%PDF")


@pytest.mark.django_db
def test_cancelling_a_mixed_booking_returns_its_seats_and_places_and_refunds_both(mixed_event):
    seat_ids = list(EventSeat.objects.filter(event=mixed_event).order_by("id").values_list("id", flat=True))
    buyer = Buyer()
    buyer.hold(mixed_event, seat_ids[:2])
    area_hold_json(buyer, mixed_event, 3)
    booking = buyer.confirm(mixed_event).json()

    preview = buyer.get(f"/api/bookings/{booking['booking_id']}/cancel-preview").json()
    response = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel", {})

    assert [place["area_id"] for place in preview["places"]] == [mixed_event.standing.pk] * 3
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert Decimal(response.json()["refund"]) + Decimal(response.json()["fee"]) == Decimal("155.00")
    area = area_of(mixed_event)
    assert (area.sold, area.held) == (0, 0)
    assert not BookingPlace.objects.filter(is_active=True).exists()
    assert set(Ticket.objects.filter(booking_id=booking["booking_id"]).values_list("status", flat=True)) == {
        "cancelled"}


@pytest.mark.django_db
def test_a_general_admission_only_booking_can_be_cancelled(organizer):
    event = make_event(organizer, rows=1, seats_per_block=1, blocks=1)
    event.standing = add_area(event, places=10)
    buyer = Buyer()
    area_hold_json(buyer, event, 2)
    booking = buyer.confirm(event).json()

    response = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel", {})

    assert response.status_code == 200, response.content
    assert area_of(event).sold == 0
    assert buyer.get(f"/api/events/{event.pk}/layout").json()["areas"][0]["available"] == 10


# --- the organizer ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_blocking_holds_places_back_from_sale_and_only_free_ones(mixed_event):
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=10, owner="buyer")

    assert area_blocked_set(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, blocked=45) == 5
    with pytest.raises(InsufficientCapacity):
        area_blocked_set(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, blocked=51)
    with pytest.raises(InsufficientCapacity):
        area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=6, owner="other")
    assert area_of(mixed_event).blocked == 45
    assert area_blocked_set(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, blocked=0) == 50


@pytest.mark.django_db
def test_the_event_report_shows_general_admission_sales_beside_seats(mixed_event):
    buyer = Buyer()
    area_hold_json(buyer, mixed_event, 3)
    buyer.confirm(mixed_event)

    report = event_report(event=mixed_event)

    row = [category for category in report.categories if category["name"] == "Standing floor (general admission)"]
    assert [(r["sold"], r["held"], r["available"], r["total"], r["revenue"]) for r in row] == [
        (3, 0, 57, 60, Decimal("75.00"))]
    assert report.totals["sold"] == 3
    assert sum(count for _, count, _ in report.sales_by_day) == 3


@pytest.mark.django_db
def test_the_box_office_sells_places_from_free_then_held_back_ones(mixed_event, organizer):
    area_blocked_set(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, blocked=55)  # 5 free

    booking = boxoffice_sell(event_id=mixed_event.pk, seat_ids=[], places={mixed_event.standing.pk: 8},
                             customer=ADA, method="cash", sold_by=organizer)

    assert booking.total == Decimal("200.00")
    assert Ticket.objects.filter(booking=booking, booking_place__isnull=False).count() == 8
    area = area_of(mixed_event)
    assert (area.sold, area.blocked, area.held) == (8, 52, 0)
    with pytest.raises(InsufficientCapacity):
        boxoffice_sell(event_id=mixed_event.pk, seat_ids=[], places={mixed_event.standing.pk: 53},
                       customer=ADA, method="comp", sold_by=organizer)
    assert area_of(mixed_event).sold == 8


@pytest.mark.django_db
def test_cancelling_some_places_keeps_the_rest_and_their_tickets(mixed_event):
    buyer = Buyer()
    area_hold_json(buyer, mixed_event, 4)
    booking = buyer.confirm(mixed_event).json()

    response = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel",
                               {"places": [{"area_id": mixed_event.standing.pk, "quantity": 3}]})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert area_of(mixed_event).sold == 1
    statuses = sorted(Ticket.objects.filter(booking_id=booking["booking_id"]).values_list("status", flat=True))
    assert statuses == ["cancelled", "cancelled", "cancelled", "valid"]
    too_many = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel",
                               {"places": [{"area_id": mixed_event.standing.pk, "quantity": 2}]})
    assert too_many.status_code == 400
    assert area_of(mixed_event).sold == 1


# --- the waitlist ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_freed_places_of_a_sold_out_area_are_offered_to_the_waitlist_first(mixed_event):
    EventArea.objects.filter(pk=area_of(mixed_event).pk).update(sold=57)  # 3 left
    area_hold(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, quantity=3, owner="first")
    entry = WaitlistEntry.objects.create(event=mixed_event, email="wait@example.com", party_size=2,
                                         status=WaitlistStatus.WAITING)

    area_release(event_id=mixed_event.pk, area_id=mixed_event.standing.pk, owner="first")

    entry.refresh_from_db()
    assert entry.status == "offered"
    assert list(AreaHold.objects.values_list("owner", "quantity")) == [(f"waitlist:{entry.pk}", 2)]
    area = area_of(mixed_event)
    assert (area.held, area.sold) == (2, 57)  # the public sees 1 place, the waiting buyer has 2

    claimed = waitlist_claim(entry_id=entry.pk, owner="waiting-buyer")

    assert claimed.status == "claimed"
    booking = booking_confirm(event_id=mixed_event.pk, owner="waiting-buyer", payment_token="tok_ok",
                              customer=Customer("Wait", "wait@example.com"))
    assert booking.status == "paid"
    assert area_of(mixed_event).sold == 59


@pytest.mark.django_db
def test_joining_the_waitlist_is_refused_while_places_are_free(mixed_event):
    EventSeat.objects.filter(event=mixed_event).update(status="sold")

    with pytest.raises(WaitlistSeatsAvailable):
        waitlist_join(event_id=mixed_event.pk, email="w@example.com", party_size=2)


# --- the seat-only hot path is untouched -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_seat_only_event_holds_and_confirms_without_any_general_admission_statement(event, seat_ids):
    with CaptureQueriesContext(connection) as captured:
        seat_hold(event_id=event.pk, seat_ids=seat_ids[:2], owner="buyer-1")
        booking = booking_confirm(event_id=event.pk, owner="buyer-1", customer=ADA, payment_token="tok_ok")

    assert booking.status == "paid"
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "areahold" in sql or "bookingplace" in sql], statements


@pytest.mark.django_db
def test_the_admin_seat_map_sells_places_at_the_box_office(mixed_event, organizer):
    organizer.groups.add(organizers_group())
    client = Client()
    client.force_login(organizer)
    page = client.get(reverse("admin:events_event_seatmap", args=[mixed_event.pk]))
    assert f'name="place_{mixed_event.standing.pk}"' in page.content.decode()

    response = client.post(reverse("admin:events_event_seatmap", args=[mixed_event.pk]), {
        "action": "sell", "seat_ids": "", f"place_{mixed_event.standing.pk}": "3", "customer_name": "Grace Hopper",
        "customer_email": "grace@example.com", "customer_phone": "", "method": "cash"}, follow=True)

    assert "Sold 0 seat(s) and 3 place(s) to Grace Hopper" in response.content.decode()
    assert area_of(mixed_event).sold == 3
    assert Booking.objects.get(customer_email="grace@example.com").total == Decimal("75.00")
