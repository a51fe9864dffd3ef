"""General admission in a real browser (issue 15): a quantity on the stadium's standing floor, bought,
and the places-left counter dropping live in another buyer's browser; a GA-only event without a map."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.buyer_ui.conftest import make_venue_event, pay_with
from tests.buyer_ui.test_browser import open_event
from ticketing.models import Booking, EventArea, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def standing_event(organizer):
    """A small stadium (80 seats in the stands) with a standing floor of 3,000 places at €55."""
    return make_venue_event(
        organizer, template="stadium", title="Stadium Concert",
        params={"sections_per_side": 2, "end_sections": 1, "rows_per_section": 2, "seats_per_row": 10,
                "standing_places": 3000},
        categories=[("Standing floor", "#059669", "55.00", ["Standing floor"]), ("Stands", "#7c3aed", "65.00", None)],
    )


@pytest.fixture
def club_event(organizer):
    """A club: general admission only, a main floor of 300 (€30) and a front of stage of 50 (€45)."""
    return make_venue_event(
        organizer, template="club", title="Club Night",
        params={"floor_places": 300, "front_places": 50, "balcony_places": 0},
        categories=[("Front", "#e11d48", "45.00", ["Front of stage"]), ("Floor", "#0f766e", "30.00", None)],
    )


def pay(page):
    page.fill("#id_name", "Ada Lovelace")
    page.fill("#id_email", "ada@example.com")
    page.fill("#id_phone", "+44 20 7946 0000")
    pay_with(page)  # the test card through the card form, as a buyer types it
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))


def test_buyer_picks_places_on_the_standing_floor_and_another_browser_sees_the_counter_drop(
        asgi_server, browser, standing_event):
    # given two buyers on the stadium's page, the standing floor drawn and listed with 3,000 places left
    floor = standing_event.venue.sections.get(name="Standing floor").pk
    context_a, page_a = open_event(browser, asgi_server, standing_event)
    context_b, page_b = open_event(browser, asgi_server, standing_event)
    page_b.wait_for_selector('#ga-panel[data-live="true"]')
    expect(page_b.locator(f'.ga-area [data-area-left="{floor}"]')).to_have_text("3000")
    row = page_a.locator(f'.ga-area-row[data-area="{floor}"]')
    # when A steps the quantity up to three
    for quantity in ("1", "2", "3"):
        row.locator(".ga-plus").click()
        expect(row.locator(".ga-quantity")).to_have_text(quantity)
    expect(page_a.locator("#ga-total")).to_have_text("€165")
    expect(page_a.locator("#ga-timer")).to_have_text(re.compile(r"^(10:00|9:5\d)$"))
    # then B sees the places left drop, on the list and on the map, within about a second
    expect(page_b.locator(f'.ga-area-row [data-area-left="{floor}"]')).to_have_text("2,997", timeout=1500)
    expect(page_b.locator(f'.ga-area [data-area-left="{floor}"]')).to_have_text("2,997")
    # when A checks out and pays
    page_a.click("#ga-checkout")
    expect(page_a.locator("#checkout-total")).to_have_text("€165")
    pay(page_a)
    # then the confirmation lists the places, and each admission has its own ticket
    expect(page_a.locator("#booked-seats")).to_contain_text("Standing floor × 3")
    booking = Booking.objects.get()
    assert booking.status == "paid"
    assert Ticket.objects.filter(booking=booking, booking_place__isnull=False).count() == 3
    area = EventArea.objects.get(event=standing_event)
    assert (area.sold, area.held) == (3, 0)
    context_a.close()
    context_b.close()


def test_a_general_admission_only_event_has_no_map_just_quantities(asgi_server, browser, club_event):
    # given the club night's page
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{asgi_server.url}/events/{club_event.pk}/")
    page.wait_for_selector('#ga-panel[data-live="true"]')
    # then there is no seat map, only the areas with their prices
    expect(page.locator("#seatmap")).to_have_count(0)
    expect(page.locator(".ga-area-row")).to_have_count(2)
    expect(page.locator(".ga-area-row").first).to_contain_text("Front of stage")
    expect(page.locator(".ga-area-row").first).to_contain_text("€45")
    # when the buyer takes two on the main floor and pays
    floor = club_event.venue.sections.get(name="Main floor").pk
    row = page.locator(f'.ga-area-row[data-area="{floor}"]')
    row.locator(".ga-plus").click()
    expect(row.locator(".ga-quantity")).to_have_text("1")
    row.locator(".ga-plus").click()
    expect(row.locator(".ga-quantity")).to_have_text("2")
    expect(row.locator(f'[data-area-left="{floor}"]')).to_have_text("298")
    page.click("#ga-checkout")
    pay(page)
    # then two tickets for the main floor are sold
    expect(page.locator("#booked-seats")).to_contain_text("Main floor × 2")
    assert EventArea.objects.get(event=club_event, section_id=floor).sold == 2
    context.close()
