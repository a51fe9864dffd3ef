"""Issue 17, part 1: every price a buyer sees is the price the server fixed (or sells now), so the
cart, the checkout and the charge agree even when a pricing tier runs out mid-selection."""

from __future__ import annotations

from decimal import Decimal

from events.models import PricingTier
from tests.conftest import Buyer
from ticketing.models import EventSeat


def early_bird(event, *, quota=2, price="25.00", category=None) -> PricingTier:
    category = category or event.categories.order_by("position", "id").first()
    return PricingTier.objects.create(category=category, name="Early Bird", price=Decimal(price), quota=quota,
                                      position=0)


def test_hold_answer_carries_the_price_fixed_for_each_seat(buyer, event, seat_ids):
    # given an Early Bird of 2 seats at €25 on the €40 category
    early_bird(event)
    # when one hold takes three seats
    response = buyer.hold(event, seat_ids[:3])
    # then the answer prices each seat as the hold fixed it: two Early Bird, one at the category price
    assert response.status_code == 200
    assert response.json()["seats"] == [{"seat_id": seat_ids[0], "price": "25.00"},
                                         {"seat_id": seat_ids[1], "price": "25.00"},
                                         {"seat_id": seat_ids[2], "price": "40.00"}]


def test_hold_answer_keeps_the_price_of_a_seat_already_held(buyer, event, seat_ids):
    # given a seat held at the Early Bird price, whose quota is now used up
    early_bird(event, quota=1)
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    # when the buyer holds it again with another seat
    response = buyer.hold(event, seat_ids[:2])
    # then the first keeps €25 and the new one costs €40
    assert [seat["price"] for seat in response.json()["seats"]] == ["25.00", "40.00"]


def test_cart_lists_hold_prices_total_and_the_price_selling_now(buyer, event, seat_ids):
    # given three seats held one by one across the end of a 2-seat Early Bird
    early_bird(event)
    for seat_id in seat_ids[:3]:
        assert buyer.hold(event, [seat_id]).status_code == 200
    # when the page asks for the cart
    cart = buyer.get(f"/api/events/{event.pk}/cart").json()
    # then it shows what the confirm will charge, and the category now sells at its own price
    assert [seat["price"] for seat in cart["seats"]] == ["25.00", "25.00", "40.00"]
    assert cart["total"] == "90.00"
    assert cart["expires_at"] is not None
    assert [(c["name"], c["price"], c["tier"]) for c in cart["categories"]] == [("Standard", "40.00", None)]
    # and the charge is exactly the cart's total
    confirmed = buyer.confirm(event)
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["total"] == cart["total"]


def test_cart_of_a_buyer_holding_nothing_is_empty_with_current_prices(event):
    early_bird(event)
    cart = Buyer().get(f"/api/events/{event.pk}/cart").json()
    assert (cart["seats"], cart["total"], cart["expires_at"]) == ([], "0", None)
    assert cart["categories"][0]["price"] == "25.00"
    assert cart["categories"][0]["tier"]["remaining"] == 2


def test_cart_of_an_unknown_event_is_a_json_404(buyer):
    response = buyer.get("/api/events/999999/cart")
    assert response.status_code == 404
    assert response.json()["error"] == "event_not_found"


def test_waitlist_form_shows_the_price_selling_now(buyer, event):
    early_bird(event)
    page = buyer.get(f"/events/{event.pk}/waitlist/").content.decode()
    assert "Standard (€25, Early Bird)" in page
    assert "€40" not in page


def test_stadium_overview_shows_the_price_selling_now(stadium_event):
    # given an Early Bird at €99 on the €120 long side
    long_side = stadium_event.categories.get(name="Long side")
    early_bird(stadium_event, price="99.00", quota=100, category=long_side)
    # when a buyer opens the overview
    page = Buyer().get(f"/events/{stadium_event.pk}/").content.decode()
    sections = Buyer().get(f"/api/events/{stadium_event.pk}/sections").json()["sections"]
    # then the long-side sections are priced at the Early Bird price
    section_101 = next(section for section in sections if section["name"] == "101")
    assert (section_101["price_min"], section_101["price_max"]) == ("99.00", "99.00")
    assert 'data-prices="€99"' in page
    assert not EventSeat.objects.filter(event=stadium_event, status="held").exists()
