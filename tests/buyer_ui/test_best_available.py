"""Issue 17, part 3: best available (`POST /api/seats/best`) and the single-seat rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from events.models import PricingTier
from tests.conftest import Buyer, seat_statuses
from tests.test_races import run_together
from ticketing.models import Booking, EventSeat
from ticketing.services import seat_hold
from ticketing.services.best_seats import seats_best_hold


def best(buyer, event, **body):
    return buyer.post_json("/api/seats/best", {"event_id": event.pk, **body})


def seats_of(seat_ids):
    """(section, row, number) of each seat, in seat-number order."""
    rows = EventSeat.objects.filter(pk__in=seat_ids).values_list("seat__section__name", "seat__row_label",
                                                                  "seat__number")
    return sorted(rows, key=lambda seat: seat[2])


def row_seat_ids(event, section, row):
    return list(EventSeat.objects.filter(event=event, seat__section__name=section, seat__row_label=row)
                .order_by("seat__number").values_list("id", flat=True))


def assert_adjacent_in_one_row(seat_ids, quantity):
    seats = seats_of(seat_ids)
    assert len(seats) == quantity
    assert len({(section, row) for section, row, _ in seats}) == 1
    numbers = [number for _, _, number in seats]
    assert numbers == list(range(numbers[0], numbers[0] + quantity))


@pytest.mark.django_db
def test_best_available_holds_the_centre_of_the_front_row(theater_event):
    buyer = Buyer()
    response = best(buyer, theater_event, quantity=2)
    assert response.status_code == 200, response.content
    body = response.json()
    assert_adjacent_in_one_row(body["seat_ids"], 2)
    assert seats_of(body["seat_ids"]) == [("Orchestra", "A", 6), ("Orchestra", "A", 7)]
    # the same answer as a manual hold: seats, expiry, the prices fixed
    assert set(body) == {"seat_ids", "expires_at", "seats"}
    assert [seat["price"] for seat in body["seats"]] == ["45.00", "45.00"]
    statuses = seat_statuses(theater_event)
    assert [statuses[seat_id] for seat_id in body["seat_ids"]] == ["held", "held"]


@pytest.mark.django_db
def test_next_best_available_goes_beside_the_first(theater_event):
    first = best(Buyer(), theater_event, quantity=2).json()["seat_ids"]
    second = best(Buyer(), theater_event, quantity=2).json()["seat_ids"]
    assert not set(first) & set(second)
    assert_adjacent_in_one_row(second, 2)
    assert seats_of(second)[0][:2] == ("Orchestra", "A")


@pytest.mark.django_db
def test_best_available_honours_category_price_ceiling_and_section(theater_event):
    # a category by name
    by_name = best(Buyer(), theater_event, quantity=3, category="Balcony").json()["seat_ids"]
    assert {section for section, _, _ in seats_of(by_name)} == {"Balcony"}
    # a price ceiling: only categories selling at most €35 now
    cheap = best(Buyer(), theater_event, quantity=2, max_price="35").json()["seat_ids"]
    assert {section for section, _, _ in seats_of(cheap)} == {"Mezzanine"}
    # a section
    mezzanine = theater_event.venue.sections.get(name="Mezzanine")
    in_section = best(Buyer(), theater_event, quantity=4, section_id=mezzanine.pk).json()["seat_ids"]
    assert_adjacent_in_one_row(in_section, 4)
    assert {section for section, _, _ in seats_of(in_section)} == {"Mezzanine"}


@pytest.mark.django_db
def test_best_available_leaves_out_wheelchair_and_companion_spaces(theater_event):
    special = set(EventSeat.objects.filter(event=theater_event, seat__is_wheelchair=True).values_list("id", flat=True))
    special |= set(EventSeat.objects.filter(event=theater_event, seat__is_companion=True).values_list("id", flat=True))
    assert special
    held = set()
    for _ in range(12):
        response = best(Buyer(), theater_event, quantity=8)
        if response.status_code != 200:
            break
        held |= set(response.json()["seat_ids"])
    assert held and not held & special


@pytest.mark.django_db
def test_no_row_with_enough_seats_together_is_a_409_with_the_largest_block(theater_event):
    # given a balcony whose rows have at most 3 seats together (every 4th seat sold)
    for row in ("A", "B"):
        ids = row_seat_ids(theater_event, "Balcony", row)
        EventSeat.objects.filter(pk__in=ids[3::4]).update(status="sold")
    before = seat_statuses(theater_event)
    response = best(Buyer(), theater_event, quantity=4, category="Balcony")
    assert response.status_code == 409
    body = response.json()
    assert (body["error"], body["largest_block"], body["quantity"]) == ("no_adjacent_seats", 3, 4)
    assert "the most together is 3" in body["message"]
    assert seat_statuses(theater_event) == before  # nothing held


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, -1, 101, "2", 2.5, None])
def test_bad_quantities_are_a_400_and_hold_nothing(theater_event, quantity):
    response = best(Buyer(), theater_event, quantity=quantity)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not EventSeat.objects.filter(event=theater_event, status="held").exists()


@pytest.mark.django_db
def test_more_than_the_order_limit_is_refused(theater_event):
    theater_event.max_seats_per_order = 4
    theater_event.save()
    response = best(Buyer(), theater_event, quantity=5)
    assert (response.status_code, response.json()["error"]) == (422, "order_limit_exceeded")
    assert not EventSeat.objects.filter(event=theater_event, status="held").exists()


@pytest.mark.django_db
def test_unknown_event_and_missing_csrf_are_refused(theater_event):
    assert best(Buyer(), theater_event, quantity=2, event_id=999999).status_code == 404
    anonymous = Buyer()
    response = anonymous.post("/api/seats/best", {"event_id": theater_event.pk, "quantity": 2},
                              content_type="application/json")
    assert response.status_code == 403


@pytest.mark.django_db
def test_best_available_never_strands_a_single_seat(theater_event):
    # given Orchestra row A with seats 1-5 and 8-12 sold: seats 6 and 7 free... and seat 4-8 pattern
    ids = row_seat_ids(theater_event, "Orchestra", "A")
    EventSeat.objects.filter(event=theater_event).exclude(pk__in=ids).update(status="sold")
    EventSeat.objects.filter(pk__in=ids[:3] + ids[6:]).update(status="sold")  # free: seats 4, 5, 6
    # when two seats are asked for, the block must not leave seat 4 or 6 alone
    response = best(Buyer(), theater_event, quantity=2)
    assert response.status_code == 409
    # unless the organizer switched the rule off
    theater_event.single_seat_rule = False
    theater_event.save()
    response = best(Buyer(), theater_event, quantity=2)
    assert response.status_code == 200
    assert_adjacent_in_one_row(response.json()["seat_ids"], 2)


@pytest.mark.django_db(transaction=True)
def test_best_available_is_all_or_nothing_under_a_race(theater_event):
    # given only the Balcony's row A free, and more buyers each asking for 3 together than it can seat
    row = row_seat_ids(theater_event, "Balcony", "A")
    EventSeat.objects.filter(event=theater_event).exclude(pk__in=row).update(status="sold")
    theater_event.single_seat_rule = False
    theater_event.save()
    racers = len(row) // 3 + 3

    def ask(index):
        return seats_best_hold(event_id=theater_event.pk, quantity=3, owner=f"racer-{index}")

    results = run_together(racers, ask)
    # then each buyer got 3 adjacent seats held for them alone, or no_adjacent_seats and nothing
    held = []
    for index, result in enumerate(results):
        if isinstance(result, Exception):
            assert result.code == "no_adjacent_seats", result
            assert not EventSeat.objects.filter(hold_owner=f"racer-{index}").exists()
            continue
        assert_adjacent_in_one_row(result.seat_ids, 3)
        owners = set(EventSeat.objects.filter(pk__in=result.seat_ids).values_list("hold_owner", flat=True))
        assert owners == {f"racer-{index}"}
        held += result.seat_ids
    # no seat went twice, and those turned away really had no 3 free seats together left
    assert len(held) == len(set(held)) >= 3
    free = [seat_id not in set(held) for seat_id in row]
    assert "TTT" not in "".join("T" if is_free else "-" for is_free in free)


# --- the single-seat rule at checkout ---------------------------------------------------------------

@pytest.mark.django_db
def test_paying_for_seats_that_strand_one_seat_is_refused(theater_event):
    # given a buyer holding seats 1 and 3 of a row (seat 2 free between them)
    ids = row_seat_ids(theater_event, "Mezzanine", "A")
    buyer = Buyer()
    assert buyer.hold(theater_event, [ids[0], ids[2]]).status_code == 200
    # when they pay
    response = buyer.confirm(theater_event)
    # then the rule refuses it, naming the seat, and nothing is booked
    assert response.status_code == 422
    assert response.json()["error"] == "single_seat_gap"
    assert response.json()["seat_id"] == ids[1]
    assert "Mezzanine, row A, seat 2 would be left empty on its own" in response.json()["message"]
    assert not Booking.objects.exists()
    # and the checkout page sends them back to the map with the same message
    page = buyer.get(f"/events/{theater_event.pk}/checkout/", follow=True).content.decode()
    assert "seat 2 would be left empty on its own" in page


@pytest.mark.django_db
def test_a_seat_alone_next_to_a_sold_seat_is_refused_and_filling_it_passes(theater_event):
    ids = row_seat_ids(theater_event, "Mezzanine", "A")
    EventSeat.objects.filter(pk=ids[3]).update(status="sold")
    buyer = Buyer()
    assert buyer.hold(theater_event, [ids[1]]).status_code == 200  # seat 3 alone between seat 2 and sold seat 4
    assert buyer.confirm(theater_event).status_code == 422
    assert buyer.hold(theater_event, [ids[2]]).status_code == 200
    assert buyer.confirm(theater_event).status_code == 201


@pytest.mark.django_db
def test_gaps_others_left_and_events_without_the_rule_pass(theater_event):
    ids = row_seat_ids(theater_event, "Mezzanine", "A")
    # a gap between two other people's seats is not this buyer's
    seat_hold(event_id=theater_event.pk, seat_ids=[ids[0], ids[2]], owner="someone-else")
    buyer = Buyer()
    assert buyer.hold(theater_event, [ids[6]]).status_code == 200
    assert buyer.confirm(theater_event).status_code == 201
    # with the rule off, a buyer may leave a gap
    theater_event.single_seat_rule = False
    theater_event.save()
    other = Buyer()
    assert other.hold(theater_event, [ids[8], ids[10]]).status_code == 200
    assert other.confirm(theater_event).status_code == 201


@pytest.mark.django_db
def test_best_available_respects_a_tier_price_ceiling(theater_event):
    mezzanine = theater_event.categories.get(name="Mezzanine")
    PricingTier.objects.create(category=mezzanine, name="Late", price=Decimal("39.00"), position=0)
    response = best(Buyer(), theater_event, quantity=2, max_price="35.00")
    assert {section for section, _, _ in seats_of(response.json()["seat_ids"])} == {"Balcony"}
