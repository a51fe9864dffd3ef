"""Issue 17 in a real browser: prices that hold across tier changes, the card form, best available,
the phone layout and self-service after the purchase (Chromium via Playwright, served ASGI app)."""

from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from events.models import PricingTier
from tests.buyer_ui.conftest import artifact_path, axe_scan, fill_customer, pay_with
from tests.buyer_ui.test_browser import (  # noqa: F401
    DESKTOP,
    DOCS_IMG,
    MINE,
    PHONE,
    open_event,
    orchestra_front_row,
    seat,
)
from tests.conftest import seat_statuses
from ticketing.models import Booking, EventSeat

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_cart_checkout_and_charge_agree_across_a_tier_change(asgi_server, browser, theater_event):
    # given an Early Bird of 2 Orchestra seats at €35 (the category costs €45)
    orchestra = theater_event.categories.get(name="Orchestra")
    PricingTier.objects.create(category=orchestra, name="Early Bird", price=Decimal("35.00"), quota=2, position=0)
    front = orchestra_front_row(theater_event)[3:6]
    context, page = open_event(browser, asgi_server, theater_event)
    legend = page.locator(f'.legend li[data-category="{orchestra.pk}"]')
    expect(legend).to_contain_text("€35 (Early Bird)")
    # when the buyer picks three seats, one at a time
    for seat_id in front:
        seat(page, seat_id).click()
        expect(seat(page, seat_id)).to_have_class(MINE)
    # then the cart prices each seat as its hold did: two Early Bird, then the category price
    expect(page.locator("#cart-list li .cart-price")).to_have_text(["€35", "€35", "€45"])
    expect(page.locator("#cart-total")).to_have_text("€115")
    # and the legend re-priced live: the Early Bird is gone
    expect(legend).to_contain_text("€45")
    expect(legend).not_to_contain_text("Early Bird")
    # when they check out, the checkout shows the same total and the charge is that total
    page.click("#checkout-link")
    expect(page.locator("#checkout-total")).to_have_text("€115")
    fill_customer(page)
    pay_with(page)
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    booking = Booking.objects.get()
    assert (booking.status, booking.total) == ("paid", Decimal("115.00"))
    expect(page.locator("#booking-total")).to_have_text("€115")
    context.close()


def hold_and_open_checkout(browser, server, event, *, viewport=DESKTOP, seats=1):
    context, page = open_event(browser, server, event, viewport=viewport)
    for seat_id in orchestra_front_row(event)[:seats]:
        seat(page, seat_id).click()
        expect(seat(page, seat_id)).to_have_class(MINE)
    page.click("#checkout-link")
    page.wait_for_selector("#pay-button")
    return context, page


def test_card_form_checks_number_expiry_cvc_holder_and_terms_before_paying(asgi_server, browser, theater_event):
    context, page = hold_and_open_checkout(browser, asgi_server, theater_event)
    fill_customer(page)
    # when the buyer types a Visa number with a typo, an expired date, a short code, no name, no terms
    page.fill("#card-number", "4242424242424241")
    expect(page.locator("#card-brand")).to_have_text("Visa")
    expect(page.locator("#card-number")).to_have_value("4242 4242 4242 4241")
    pay_with(page, "4242 4242 4242 4241", expiry="01 / 20", cvc="12", holder="", terms=False)
    # then each field says what is wrong, beside it, and nothing was sent
    expect(page.locator("#card-number-error")).to_have_text("This card number is not valid. Please check it.")
    expect(page.locator("#card-expiry-error")).to_have_text("This card has expired.")
    expect(page.locator("#card-cvc-error")).to_have_text("The security code has 3 digits.")
    expect(page.locator("#card-holder-error")).to_have_text("Enter the name as it appears on the card.")
    expect(page.locator("#id_terms-error")).to_contain_text("Please accept the terms")
    expect(page.locator("#card-number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#card-number")).to_be_focused()
    assert Booking.objects.count() == 0
    assert axe_scan(page) == []
    # and an Amex number asks for a 4-digit code
    page.fill("#card-number", "3782 822463 10005")
    expect(page.locator("#card-brand")).to_have_text("Amex")
    page.fill("#card-cvc", "123")
    page.locator("#card-cvc").blur()
    expect(page.locator("#card-cvc-error")).to_have_text("The security code has 4 digits.")
    context.close()


@pytest.mark.parametrize(("card", "expected"), [
    ("4000 0000 0000 0002", "Your card was declined. Your seats are still held"),
    ("4000 0000 0000 9995", "Your card was declined (insufficient funds). Your seats are still held"),
])
def test_declining_test_cards_keep_the_seats_and_say_why(asgi_server, browser, theater_event, card, expected):
    context, page = hold_and_open_checkout(browser, asgi_server, theater_event)
    fill_customer(page)
    pay_with(page, card)
    expect(page.locator("#id_card-error")).to_contain_text(expected)
    expect(page.locator("#pay-button")).to_be_enabled()
    assert Booking.objects.get().status == "failed"
    assert seat_statuses(theater_event)[orchestra_front_row(theater_event)[0]] == "held"
    context.close()


def test_a_card_that_times_out_leaves_the_payment_pending(asgi_server, browser, theater_event):
    context, page = hold_and_open_checkout(browser, asgi_server, theater_event)
    fill_customer(page)
    pay_with(page, "4000 0000 0000 0119")
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    expect(page.locator("h1")).to_have_text("Your payment is being processed")
    expect(page.locator("#download-tickets")).to_have_count(0)
    assert Booking.objects.get().status == "pending"
    context.close()


def test_paying_shows_the_amount_disables_the_button_and_confirms_with_links(asgi_server, browser, theater_event):
    context, page = hold_and_open_checkout(browser, asgi_server, theater_event, seats=2)
    expect(page.locator("#pay-button")).to_have_text("Pay €90")
    expect(page.locator("#demo-cards")).to_contain_text("4242 4242 4242 4242")
    expect(page.locator("#checkout-policy")).not_to_be_empty()
    fill_customer(page)
    page.route("**/checkout/", lambda route: (page.wait_for_timeout(400), route.continue_()))
    pay_with(page)
    # while paying, the button says so and cannot be pressed again
    expect(page.locator("#pay-button")).to_be_disabled()
    expect(page.locator("#pay-button")).to_have_text("Paying €90…")
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    booking = Booking.objects.get()
    assert booking.status == "paid" and Booking.objects.count() == 1
    # then the confirmation offers the tickets, the calendar and managing the booking, and says where the e-mail went
    expect(page.locator("#download-tickets")).to_have_attribute("href", f"/api/bookings/{booking.pk}/tickets.pdf")
    expect(page.locator("#email-sent-to")).to_contain_text("ada@example.com")
    expect(page.locator("#manage-booking")).to_have_attribute("href", "/my-bookings/")
    calendar = page.request.get(asgi_server.url + page.locator("#add-to-calendar").get_attribute("href"))
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert f"Booking {booking.reference}" in calendar.text()
    pdf = page.request.get(asgi_server.url + f"/api/bookings/{booking.pk}/tickets.pdf")
    assert pdf.body()[:4] == b"%PDF"
    assert axe_scan(page) == []
    context.close()


def test_checkout_on_a_phone_puts_the_summary_and_countdown_above_the_form(asgi_server, browser, theater_event):
    context, page = hold_and_open_checkout(browser, asgi_server, theater_event, viewport=PHONE)
    summary = page.locator(".checkout-summary").bounding_box()
    form = page.locator("#checkout-form").bounding_box()
    assert summary["y"] + summary["height"] <= form["y"]
    assert page.locator("#checkout-countdown").bounding_box()["y"] < PHONE["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_scan(page) == []
    context.close()


def test_best_available_on_the_map_holds_adjacent_seats_into_the_cart(asgi_server, browser, theater_event):
    context, page = open_event(browser, asgi_server, theater_event)
    page.select_option("#best-quantity", "3")
    page.click("#best-button")
    expect(page.locator("#cart-list li")).to_have_count(3)
    expect(page.locator("#cart-list li .cart-seat")).to_have_text(
        ["Orchestra, row A, seat 5", "Orchestra, row A, seat 6", "Orchestra, row A, seat 7"])
    expect(page.locator("#cart-total")).to_have_text("€135")
    expect(page.locator("#seatmap .seat.is-mine")).to_have_count(3)
    assert axe_scan(page) == []
    context.close()


def test_best_available_says_how_many_are_together_when_no_row_fits(asgi_server, browser, theater_event):
    theater_event.max_seats_per_order = 10
    theater_event.save()
    EventSeat.objects.filter(event=theater_event).exclude(seat__section__name="Balcony").update(status="sold")
    for row in ("A", "B"):
        ids = list(EventSeat.objects.filter(event=theater_event, seat__section__name="Balcony", seat__row_label=row)
                   .order_by("seat__number").values_list("id", flat=True))
        EventSeat.objects.filter(pk__in=ids[4::5]).update(status="sold")
    context, page = open_event(browser, asgi_server, theater_event)
    page.select_option("#best-quantity", "6")
    page.click("#best-button")
    expect(page.locator("#map-error")).to_have_text("No row has 6 seats together right now; the most together is 4.")
    expect(page.locator("#cart-list li")).to_have_count(0)
    context.close()


def test_a_pick_that_strands_one_seat_is_refused_at_checkout_with_a_clear_message(asgi_server, browser, theater_event):
    front = orchestra_front_row(theater_event)
    context, page = open_event(browser, asgi_server, theater_event)
    seat(page, front[0]).click()
    expect(seat(page, front[0])).to_have_class(MINE)
    seat(page, front[2]).click()
    expect(seat(page, front[2])).to_have_class(MINE)
    page.click("#checkout-link")
    page.wait_for_url(re.compile(rf"/events/{theater_event.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        "Orchestra, row A, seat 2 would be left empty on its own between taken seats.")
    # filling the gap lets them pay
    page.wait_for_selector('#seatmap[data-ready="true"]')
    seat(page, front[1]).click()
    expect(seat(page, front[1])).to_have_class(MINE)
    page.click("#checkout-link")
    page.wait_for_selector("#pay-button")
    expect(page.locator("#checkout-total")).to_have_text("€135")
    context.close()


# --- phones -----------------------------------------------------------------------------------------

def test_on_a_phone_the_map_is_above_the_fold_and_the_cart_bar_never_covers_it(asgi_server, browser, theater_event):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{asgi_server.url}/events/{theater_event.pk}/")
    page.wait_for_selector('#seatmap[data-ready="true"]')
    frame = page.locator(".seatmap-frame").bounding_box()
    # the map starts in the first screen and keyboard instructions are hidden on a touch screen
    assert frame["y"] < PHONE["height"] * 0.55
    expect(page.locator(".keyboard-help").first).to_be_hidden()
    # when the buyer taps seats (zooming in first, as a phone does)
    page.click("#zoom-in")
    page.click("#zoom-in")
    tapped = []
    for seat_id in orchestra_front_row(theater_event)[4:7]:
        node = seat(page, seat_id)
        box = node.bounding_box()
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        # what a finger there touches is the seat itself, nothing laid over the map
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.seat')?.dataset.id", list(centre))
        assert hit == str(seat_id)
        page.touchscreen.tap(*centre)
        expect(node).to_have_class(MINE)
        tapped.append(seat_id)
    # then a compact bar right below the map says what is held, without overlapping the map
    expect(page.locator("#cart-bar-text")).to_have_text("3 seats · €135")
    bar = page.locator("#cart-bar").bounding_box()
    frame = page.locator(".seatmap-frame").bounding_box()
    assert bar["y"] >= frame["y"] + frame["height"]
    for seat_id in tapped:
        box = seat(page, seat_id).bounding_box()
        assert box["y"] + box["height"] <= bar["y"] or box["y"] >= bar["y"] + bar["height"]
    # a tap on the bar expands the seat list; Checkout is one tap away
    page.locator("#cart-bar-toggle").tap()
    expect(page.locator("#cart-bar-details li")).to_have_count(3)
    expect(page.locator("#cart-bar-toggle")).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_scan(page) == []
    page.locator("#cart-bar-checkout").tap()
    page.wait_for_selector("#pay-button")
    context.close()


# --- large venues and accessible seating ------------------------------------------------------------

def test_stadium_overview_colours_sections_by_price_with_scarcity_and_tooltips(asgi_server, browser, stadium_event):
    context, page = open_event(browser, asgi_server, stadium_event)
    long_side = page.locator('.area[data-name="101"] polygon.area-price')
    goals = page.locator('.area[data-name="201"] polygon.area-price')
    assert long_side.get_attribute("style") == "fill: #dc2626"
    assert goals.get_attribute("style") == "fill: #7c3aed"
    # the legend names the prices, and a section's tooltip its price and seats left
    expect(page.locator(".legend").first).to_contain_text("Long side €120")
    page.locator('.area[data-name="101"]').hover()
    expect(page.locator("#map-tooltip")).to_have_text("Section 101: 500 of 500 seats available, €120")
    assert axe_scan(page) == []
    context.close()


def test_seat_hover_shows_seat_row_price_and_category(asgi_server, browser, theater_event):
    context, page = open_event(browser, asgi_server, theater_event)
    seat(page, orchestra_front_row(theater_event)[2]).hover()
    expect(page.locator("#map-tooltip")).to_have_text("Orchestra, row A, seat 3, €45 · Orchestra · available")
    context.close()


def test_accessible_seating_filter_confirmation_and_companion_seat(asgi_server, browser, theater_event):
    wheelchair = EventSeat.objects.filter(event=theater_event, seat__is_wheelchair=True).order_by("seat__number")[0]
    place = wheelchair.seat
    companion = EventSeat.objects.get(event=theater_event, seat__is_companion=True, seat__section=place.section,
                                      seat__row_label=place.row_label, seat__number=place.number + 1)
    context, page = open_event(browser, asgi_server, theater_event)
    # the filter brings wheelchair and companion spaces forward
    page.check("#access-filter")
    expect(page.locator("#seatmap")).to_have_class(re.compile(r"\bshow-access\b"))
    expect(page.locator(".seat.is-access")).to_have_count(4)
    # picking a wheelchair space asks first; saying no holds nothing
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    seat(page, wheelchair.pk).click()
    expect(page.locator("#cart-list li")).to_have_count(0)
    assert "is a wheelchair space" in messages[0]
    # saying yes holds it and offers the companion seat beside it
    page.once("dialog", lambda dialog: dialog.accept())
    seat(page, wheelchair.pk).click()
    expect(seat(page, wheelchair.pk)).to_have_class(MINE)
    page.click("#add-companion")
    expect(seat(page, companion.pk)).to_have_class(MINE)
    expect(page.locator("#cart-list li")).to_have_count(2)
    context.close()


# --- after the purchase -----------------------------------------------------------------------------

def test_per_seat_cancellation_in_my_bookings(asgi_server, browser, theater_event):
    context, page = hold_and_open_checkout(browser, asgi_server, theater_event, seats=3)
    fill_customer(page)
    pay_with(page)
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    page.click("#manage-booking")
    expect(page.locator(".seat-cancel")).to_have_count(3)
    assert axe_scan(page) == []
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel this seat: Orchestra, row A, seat 2, refund 45.00 EUR").click()
    expect(page.locator(".messages")).to_contain_text("One seat of booking")
    expect(page.locator(".seat-cancel")).to_have_count(2)
    statuses = seat_statuses(theater_event)
    assert [statuses[seat_id] for seat_id in orchestra_front_row(theater_event)[:3]] == ["sold", "available", "sold"]
    context.close()


# --- screenshots for docs/buyer-ui.md (UPDATE_DOCS_SCREENSHOTS=1 writes them into docs/img) ---------------

def save_screenshot(locator_or_page, name):
    path = artifact_path(name)
    locator_or_page.screenshot(path=str(path))
    assert path.stat().st_size > 5_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        locator_or_page.screenshot(path=str(DOCS_IMG / name))


def test_screenshots_of_checkout_stadium_overview_and_phone_map(asgi_server, browser, theater_event, stadium_event):
    # the checkout, desktop, with the card filled in
    context, page = hold_and_open_checkout(browser, asgi_server, theater_event, seats=2)
    fill_customer(page)
    page.fill("#card-number", "4242 4242 4242 4242")
    page.fill("#card-expiry", "12 / 34")
    page.fill("#card-cvc", "123")
    page.fill("#card-holder", "Ada Lovelace")
    page.check("#id_terms")
    save_screenshot(page.locator(".checkout-layout"), "checkout.png")
    context.close()
    # the stadium overview, coloured by price
    context, page = open_event(browser, asgi_server, stadium_event)
    save_screenshot(page.locator(".buy-layout"), "stadium-overview.png")
    context.close()
    # the phone map with the cart bar
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{asgi_server.url}/events/{theater_event.pk}/")
    page.wait_for_selector('#seatmap[data-ready="true"]')
    page.select_option("#best-quantity", "2")
    page.click("#best-button")
    expect(page.locator("#cart-bar")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, "phone-map.png")
    context.close()
