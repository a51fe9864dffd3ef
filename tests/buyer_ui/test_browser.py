"""The buyer's path in a real browser (Chromium via Playwright) against the served ASGI app.

Each test commits its data (transaction=True) so the uvicorn subprocess sees it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.buyer_ui.conftest import artifact_path, axe_scan, fill_customer, pay_with
from tests.conftest import Buyer, seat_statuses
from ticketing.models import Booking, EventSeat, Voucher

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def open_event(browser, server, event, *, viewport=DESKTOP, has_websocket=True, is_touch=False):
    context = browser.new_context(viewport=viewport, has_touch=is_touch)
    if not has_websocket:
        context.add_init_script("delete window.WebSocket;")
    page = context.new_page()
    page.goto(f"{server.url}/events/{event.pk}/")
    page.wait_for_selector('#seatmap[data-ready="true"]')
    if has_websocket:
        page.wait_for_selector('#live-state[data-state="live"]')
    return context, page


def seat(page, seat_id):
    return page.locator(f'.seat[data-id="{seat_id}"]')


def orchestra_front_row(event) -> list[int]:
    return list(EventSeat.objects.filter(event=event, seat__section__name="Orchestra", seat__row_label="A")
                .order_by("seat__number").values_list("id", flat=True))


MINE = re.compile(r"\bis-mine\b")
HELD = re.compile(r"\bis-held\b")
AVAILABLE = re.compile(r"\bis-available\b")


def test_buyer_picks_two_seats_pays_and_sees_them_confirmed(asgi_server, browser, theater_event):
    # given the theater's event page
    first, second = orchestra_front_row(theater_event)[4:6]
    context, page = open_event(browser, asgi_server, theater_event)
    # when the buyer picks two seats
    seat(page, first).click()
    expect(seat(page, first)).to_have_class(MINE)
    seat(page, second).click()
    expect(seat(page, second)).to_have_class(MINE)
    # then the cart lists them with category and price, and a countdown
    expect(page.locator("#cart-list li")).to_have_count(2)
    expect(page.locator("#cart-list li").first).to_contain_text("Orchestra, row A, seat 5")
    expect(page.locator("#cart-list li").first).to_contain_text("€45")
    expect(page.locator("#cart-total")).to_have_text("€90")
    expect(page.locator("#cart-timer")).to_have_text(re.compile(r"^(10:00|9:5\d)$"))
    # when they check out and pay
    page.click("#checkout-link")
    expect(page.locator("#checkout-total")).to_have_text("€90")
    fill_customer(page)
    pay_with(page, "4242 4242 4242 4242")
    # then the confirmation shows the reference, both seats and the total
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    booking = Booking.objects.get()
    expect(page.locator("#booking-reference")).to_have_text(booking.reference)
    expect(page.locator("#booked-seats tr")).to_have_count(2)
    expect(page.locator("#booked-seats")).to_contain_text("Orchestra, row A, seat 6")
    expect(page.locator("#booking-total")).to_have_text("€90")
    # and the seats are sold, in the database and in the public layout
    assert booking.status == "paid"
    statuses = seat_statuses(theater_event)
    assert (statuses[first], statuses[second]) == ("sold", "sold")
    layout = page.request.get(f"{asgi_server.url}/api/events/{theater_event.pk}/layout").json()
    sold = {s["id"] for sec in layout["sections"] for row in sec["rows"] for s in row["seats"] if s["status"] == "sold"}
    assert sold == {first, second}
    context.close()


def test_other_buyers_see_a_hold_live_and_its_release(asgi_server, browser, theater_event):
    # given two buyers on the same event page
    seat_id = orchestra_front_row(theater_event)[3]
    context_a, page_a = open_event(browser, asgi_server, theater_event)
    context_b, page_b = open_event(browser, asgi_server, theater_event)
    # when A holds a seat
    seat(page_a, seat_id).click()
    expect(seat(page_a, seat_id)).to_have_class(MINE)
    # then B sees it held within a second, without reloading, and one seat fewer available
    expect(seat(page_b, seat_id)).to_have_class(HELD, timeout=1000)
    expect(page_b.locator("#available-count")).to_have_text("115")
    expect(seat(page_b, seat_id)).to_have_attribute(
        "aria-label", "Orchestra, row A, seat 4, €45, held by another buyer")
    # and B clicking it gets an inline error
    seat(page_b, seat_id).click(force=True)  # force: the seat is aria-disabled, which Playwright honours
    expect(page_b.locator("#map-error")).to_have_text(
        "Orchestra, row A, seat 4 is held by another buyer. Please choose another seat.")
    expect(page_b.locator("#cart-list li")).to_have_count(0)
    # when A releases it
    seat(page_a, seat_id).click()
    expect(seat(page_a, seat_id)).to_have_class(AVAILABLE)
    # then B sees it available again within a second
    expect(seat(page_b, seat_id)).to_have_class(AVAILABLE, timeout=1000)
    context_a.close()
    context_b.close()


def test_a_seat_taken_meanwhile_shows_an_error_and_turns_taken(asgi_server, browser, theater_event):
    # given a buyer whose page has no websocket (so it only polls every 5 s)
    seat_id = orchestra_front_row(theater_event)[2]
    context, page = open_event(browser, asgi_server, theater_event, has_websocket=False)
    expect(page.locator("#live-state")).to_have_attribute("data-state", "polling")
    # when someone else holds the seat, and the buyer clicks it before the next poll
    assert Buyer().hold(theater_event, [seat_id]).status_code == 200
    seat(page, seat_id).click()
    # then the buyer sees an inline error, the seat turns held, and the page did not reload
    expect(page.locator("#map-error")).to_have_text("Sorry, Orchestra, row A, seat 3 was just taken by someone else.")
    expect(seat(page, seat_id)).to_have_class(HELD)
    expect(page.locator("#cart-list li")).to_have_count(0)
    context.close()


def test_polling_fallback_catches_changes_without_websockets(asgi_server, browser, theater_event):
    # given a page without websockets
    seat_id = orchestra_front_row(theater_event)[7]
    context, page = open_event(browser, asgi_server, theater_event, has_websocket=False)
    # when another buyer holds a seat
    Buyer().hold(theater_event, [seat_id])
    # then the page shows it within one polling interval (5 s)
    expect(seat(page, seat_id)).to_have_class(HELD, timeout=6500)
    context.close()


def test_after_a_lost_connection_the_page_reconnects_and_catches_up(asgi_server, browser, theater_event):
    # given a live page whose websocket drops
    seat_id = orchestra_front_row(theater_event)[6]
    context, page = open_event(browser, asgi_server, theater_event)
    page.evaluate("window.evently.socket().close()")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "polling")
    # when a seat changes while it is disconnected (no message can reach it)
    Buyer().hold(theater_event, [seat_id])
    # then it reconnects (first retry after about a second, before the 5 s poll) and catches up
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live", timeout=3000)
    expect(seat(page, seat_id)).to_have_class(HELD, timeout=1000)
    context.close()


def test_hold_countdown_reaches_zero_and_seats_return(asgi_server_factory, browser, theater_event):
    # given a server whose holds last 5 seconds, and two buyers watching
    server = asgi_server_factory(HOLD_TTL_SECONDS="5")
    seat_id = orchestra_front_row(theater_event)[8]
    context_a, page_a = open_event(browser, server, theater_event)
    context_b, page_b = open_event(browser, server, theater_event)
    # when A holds a seat
    seat(page_a, seat_id).click()
    expect(seat(page_a, seat_id)).to_have_class(MINE)
    expect(page_a.locator("#cart-timer")).to_have_text(re.compile(r"^0:0[3-5]$"))
    expect(seat(page_b, seat_id)).to_have_class(HELD, timeout=1000)
    # then the countdown runs out: A's cart empties with a message, and the seat is available on both pages
    expect(page_a.locator("#cart-message")).to_have_text(
        "Your time ran out and your seats were released. Choose seats again to continue.", timeout=8000)
    expect(page_a.locator("#cart-list li")).to_have_count(0)
    expect(page_a.locator("#checkout-link")).to_be_hidden()
    expect(seat(page_a, seat_id)).to_have_class(AVAILABLE)
    expect(seat(page_b, seat_id)).to_have_class(AVAILABLE, timeout=1500)
    # and B can now hold it
    seat(page_b, seat_id).click()
    expect(seat(page_b, seat_id)).to_have_class(MINE)
    context_a.close()
    context_b.close()


def test_keyboard_only_selection(asgi_server, browser, theater_event):
    # given the event page, used with the keyboard only
    context, page = open_event(browser, asgi_server, theater_event)
    # when the buyer tabs into the map
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('seat')"):
            break
    focused = page.evaluate("document.activeElement.dataset.name")
    assert focused == "Orchestra, row A, seat 1"
    # then the focus is visible
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    # when they move right twice and press Enter
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.name") == "Orchestra, row A, seat 3"
    page.keyboard.press("Enter")
    # then that seat is held for them and in the cart
    active = page.locator(".seat:focus")
    expect(active).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#cart-list li")).to_have_count(1)
    expect(page.locator("#cart-list")).to_contain_text("Orchestra, row A, seat 3")
    # when they move down a row and back up, then press Space on the same seat
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.name").startswith("Orchestra, row B")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.dataset.name") == "Orchestra, row A, seat 3"
    page.keyboard.press(" ")
    # then it is released
    expect(page.locator("#cart-list li")).to_have_count(0)
    expect(active).to_have_attribute("aria-pressed", "false")
    context.close()


def test_stadium_overview_zoom_into_a_section_and_select_a_seat(asgi_server, browser, stadium_event):
    # given the stadium page: sections only
    context, page = open_event(browser, asgi_server, stadium_event)
    expect(page.locator(".area")).to_have_count(12)
    assert page.locator("#seatmap .seat").count() == 0
    # when the buyer opens section 102
    page.locator('.area[data-name="102"]').click()
    # then its 500 seats are drawn and a way back is offered
    expect(page.locator("#seat-layer .seat")).to_have_count(500)
    expect(page.locator("#back-overview")).to_be_visible()
    # when they pick a front-row seat
    target = page.locator('.seat[data-name="102, row A, seat 12"]')
    target.click()
    # then it is theirs and in the cart
    expect(target).to_have_class(MINE)
    expect(page.locator("#cart-list li")).to_have_count(1)
    expect(page.locator("#cart-list")).to_contain_text("102, row A, seat 12")
    expect(page.locator("#cart-list")).to_contain_text("€120")
    # and back on the overview the section shows one seat fewer
    page.click("#back-overview")
    expect(page.locator("#seat-layer .seat")).to_have_count(0)
    expect(page.get_by_role("button", name="Section 102: 499 of 500 seats available, €120")).to_be_visible(timeout=4000)
    context.close()


def test_stadium_section_on_a_phone_has_touch_sized_seats(asgi_server, browser, stadium_event):
    # given the stadium page on a 375 px phone
    context, page = open_event(browser, asgi_server, stadium_event, viewport=PHONE, is_touch=True)
    # when the buyer taps a section
    page.locator('.area[data-name="101"]').tap()
    expect(page.locator("#seat-layer .seat")).to_have_count(500)
    # then the front-row seats are drawn at least 22 px wide, and a tap holds one
    target = page.locator('.seat[data-name="101, row A, seat 10"]')
    box = target.bounding_box()
    assert box["width"] >= 22, box
    target.tap()
    expect(target).to_have_class(MINE)
    page.screenshot(path=str(artifact_path("stadium-section-375.png")))
    context.close()


def test_stadium_section_seats_update_live_for_other_buyers(asgi_server, browser, stadium_event):
    # given two buyers zoomed into section 103
    context_a, page_a = open_event(browser, asgi_server, stadium_event)
    context_b, page_b = open_event(browser, asgi_server, stadium_event)
    for page in (page_a, page_b):
        page.locator('.area[data-name="103"]').click()
        expect(page.locator("#seat-layer .seat")).to_have_count(500)
    # when A holds a front-row seat
    name = "103, row A, seat 5"
    page_a.locator(f'.seat[data-name="{name}"]').click()
    expect(page_a.locator(f'.seat[data-name="{name}"]')).to_have_class(MINE)
    # then B sees it held within a second
    expect(page_b.locator(f'.seat[data-name="{name}"]')).to_have_class(HELD, timeout=1000)
    context_a.close()
    context_b.close()


def test_stadium_overview_counts_and_a_zoomed_section_update_live(asgi_server, browser, stadium_event):
    # given one page on the stadium overview and one zoomed into section 104
    overview_context, overview = open_event(browser, asgi_server, stadium_event)
    zoomed_context, zoomed = open_event(browser, asgi_server, stadium_event)
    zoomed.locator('.area[data-name="104"]').click()
    expect(zoomed.locator("#seat-layer .seat")).to_have_count(500)
    expect(zoomed.locator("#live-state")).to_have_attribute("data-state", "live")
    # each subscribed to what it shows: the counts, and that one section's seats
    assert overview.evaluate("window.evently.socket().url").endswith(f"/ws/events/{stadium_event.pk}/sections")
    section_104 = stadium_event.venue.sections.get(name="104").pk
    zoomed.wait_for_function(f"(window.evently.socket() || {{}}).url?.endsWith('?section={section_104}')")
    # when another buyer holds three seats of 104
    seats = list(EventSeat.objects.filter(event=stadium_event, seat__section_id=section_104, seat__row_label="B")
                 .order_by("seat__number").values_list("id", flat=True)[:3])
    assert Buyer().hold(stadium_event, seats).status_code == 200
    # then the overview shows 104 with three seats fewer, and the zoomed page shows them held, within ~a second
    expect(overview.get_by_role("button", name="Section 104: 497 of 500 seats available, €120")).to_be_visible(
        timeout=2000)
    expect(overview.locator("#available-count")).to_have_text("5,997")
    for seat_id in seats:
        expect(seat(zoomed, seat_id)).to_have_class(HELD, timeout=1000)
    overview_context.close()
    zoomed_context.close()


def test_pages_use_websocket_servers_of_their_own_when_told(asgi_server_factory, browser, theater_event):
    # given websockets served by a websocket-only server, and a web server that sends pages there
    ws_server = asgi_server_factory("evently.asgi:websocket_application")
    web_server = asgi_server_factory(LIVE_WS_URL=f":{ws_server.port}")
    seat_id = orchestra_front_row(theater_event)[9]
    context, page = open_event(browser, web_server, theater_event)
    assert page.evaluate("window.evently.socket().url") == (
        f"ws://127.0.0.1:{ws_server.port}/ws/events/{theater_event.pk}/seats")
    # when another buyer holds a seat
    Buyer().hold(theater_event, [seat_id])
    # then the page shows it, pushed by the websocket server
    expect(seat(page, seat_id)).to_have_class(HELD, timeout=1500)
    context.close()


def test_a_tap_on_a_far_out_theater_map_zooms_in_before_selecting(asgi_server, browser, theater_event):
    # given the theater on a phone, drawn whole (seats a few pixels wide)
    context, page = open_event(browser, asgi_server, theater_event, viewport=PHONE, is_touch=True)
    target = seat(page, orchestra_front_row(theater_event)[6])
    before = page.get_attribute("#seatmap", "viewBox")
    # when the buyer taps a seat
    target.tap()
    # then the map zooms in instead of holding a seat
    expect(page.locator("#seatmap")).not_to_have_attribute("viewBox", before)
    assert target.bounding_box()["width"] >= 14
    expect(page.locator("#cart-list li")).to_have_count(0)
    # and a second tap holds it
    target.tap()
    expect(target).to_have_class(MINE)
    context.close()


def test_pages_pass_axe_without_serious_or_critical_violations(asgi_server, browser, theater_event, stadium_event):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    # home
    page.goto(asgi_server.url + "/")
    assert axe_scan(page) == []
    # event pages: full map and overview
    for event in (theater_event, stadium_event):
        page.goto(f"{asgi_server.url}/events/{event.pk}/")
        page.wait_for_selector('#seatmap[data-ready="true"]')
        assert axe_scan(page) == [], event.title
    # checkout, with a seat held, and after a validation error
    page.goto(f"{asgi_server.url}/events/{theater_event.pk}/")
    page.wait_for_selector('#seatmap[data-ready="true"]')
    seat(page, orchestra_front_row(theater_event)[0]).click()
    expect(page.locator("#cart-list li")).to_have_count(1)
    page.click("#checkout-link")
    page.wait_for_selector("#pay-button")
    assert axe_scan(page) == []
    page.click("#pay-button")
    page.wait_for_selector(".field-error")
    assert axe_scan(page) == []
    context.close()


def test_event_page_screenshots_desktop_and_phone(asgi_server, browser, theater_event):
    # given a buyer holding two seats and another buyer's hold, on desktop and on a 375 px phone
    front = orchestra_front_row(theater_event)
    Buyer().hold(theater_event, [front[0]])
    sold_to = Buyer()
    sold_to.hold(theater_event, front[9:11])
    assert sold_to.confirm(theater_event).status_code == 201
    for name, viewport in (("desktop", DESKTOP), ("375", PHONE)):
        context, page = open_event(browser, asgi_server, theater_event, viewport=viewport)
        if name == "desktop":
            seat(page, front[5]).click()
            seat(page, front[6]).click()
            expect(page.locator("#cart-list li")).to_have_count(2)
        expect(seat(page, front[9])).to_have_attribute("aria-label", "Orchestra, row A, seat 10, €45, sold")
        # then nothing overflows sideways on the phone
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        path = artifact_path(f"event-page-{name}.png")
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        if name == "desktop" and os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            page.locator(".buy-layout").screenshot(path=str(DOCS_IMG / "seatmap.png"))
        if name == "375":
            page.goto(f"{asgi_server.url}/")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            page.screenshot(path=str(artifact_path("home-375.png")), full_page=True)
        context.close()


def test_checkout_on_a_phone_fits_and_shows_errors_beside_fields(asgi_server, browser, theater_event):
    # given a phone buyer holding a seat, on the checkout page
    context, page = open_event(browser, asgi_server, theater_event, viewport=PHONE)
    seat_id = orchestra_front_row(theater_event)[5]
    seat(page, seat_id).click()
    expect(page.locator("#cart-list li")).to_have_count(1)
    page.click("#checkout-link")
    # when they pay with a bad e-mail and a declined card
    fill_customer(page, email="ada@", phone="+49 30 1234567")
    pay_with(page, "4000 0000 0000 0002")
    # then the e-mail error sits beside the field, nothing overflows, and the seat is still held
    expect(page.locator("#id_email-error")).to_have_text("Enter a valid email address.")
    expect(page.locator("#id_email")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.fill("#id_email", "ada@example.com")
    pay_with(page, "4000 0000 0000 0002")
    expect(page.locator("#id_card-error")).to_contain_text("Your card was declined. Your seats are still held")
    expect(page.locator(".countdown-time")).to_have_text(re.compile(r"^(9|10):\d\d$"))
    page.screenshot(path=str(artifact_path("checkout-declined-375.png")), full_page=True)
    assert seat_statuses(theater_event)[seat_id] == "held"
    # and a good card then books it
    pay_with(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    expect(page.locator("#booked-seats tr")).to_have_count(1)
    page.screenshot(path=str(artifact_path("confirmation-375.png")), full_page=True)
    context.close()


def test_a_voucher_applied_at_checkout_lowers_the_total_and_a_full_one_needs_no_card(
        asgi_server, browser, theater_event):
    """Issue 18: the buyer types a code under the summary, sees what it takes off before paying, and a
    voucher covering the whole order replaces the card fields; the confirmation names the voucher."""
    Voucher.objects.create(event=theater_event, code="HALF", value=50)
    Voucher.objects.create(event=theater_event, code="COMP", value=100)
    context, page = open_event(browser, asgi_server, theater_event, viewport=PHONE)
    seat(page, orchestra_front_row(theater_event)[7]).click()
    expect(page.locator("#cart-list li")).to_have_count(1)
    page.click("#checkout-link")
    full_price = page.locator("#checkout-total").inner_text()
    # a wrong code says why and changes nothing
    page.fill("#voucher-code", "nope")
    page.click("#voucher-form button")
    expect(page.locator("#voucher-error")).to_contain_text("There is no voucher with this code")
    expect(page.locator("#checkout-total")).to_have_text(full_price)
    # half off: the line above the total and the Pay button's amount
    page.fill("#voucher-code", "half")
    page.click("#voucher-form button")
    expect(page.locator("#voucher-applied")).to_contain_text("Voucher HALF applied")
    expect(page.locator("#checkout-discount")).to_be_visible()
    assert page.locator("#checkout-total").inner_text() != full_price
    assert axe_scan(page) == []
    # a voucher for everything: no card asked, the tickets come at once
    page.fill("#voucher-code", "COMP")
    page.click("#voucher-form button")
    expect(page.locator("#voucher-free")).to_be_visible()
    expect(page.locator("#card-fields")).to_have_count(0)
    expect(page.locator("#pay-button")).to_have_text("Get my tickets")
    fill_customer(page)
    page.check("#id_terms")
    page.click("#pay-button")
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    expect(page.locator("#booking-discount")).to_be_visible()
    booking = Booking.objects.get(event=theater_event)
    assert (booking.status, booking.total, booking.payment_reference) == ("paid", 0, "voucher:COMP")
    context.close()
