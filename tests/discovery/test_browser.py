"""Finding an event in a real browser: instant results on the home page, the search page with and without
JavaScript, and axe-core on both pages. Data is committed (transaction=True) for the served app."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.buyer_ui.conftest import axe_scan
from tests.discovery.conftest import make_listed_event, make_venue

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(organizer):
    hall = make_venue("Lindenhof Theater")
    harbour = make_venue("Elbufer Hall", city="Hamburg", latitude=53.5413, longitude=9.9841)
    return {
        "hamlet": make_listed_event(organizer, hall, "Hamlet", category="theater", description="Shakespeare.", days=3),
        "harbour": make_listed_event(organizer, harbour, "Hamburg Harbour Tour", category="other", days=4),
        "jazz": make_listed_event(organizer, hall, "Jazz Night", category="concert", days=5),
    }


def test_typing_in_the_home_search_shows_results_and_a_click_opens_one(asgi_server, browser, catalogue):
    page = browser.new_page()
    page.goto(asgi_server.url + "/")
    box = page.get_by_role("combobox", name="Search events, venues or cities")

    box.press_sequentially("haml", delay=40)

    options = page.get_by_role("option")
    expect(options.first).to_contain_text("Hamlet")
    expect(options.first).to_contain_text("Lindenhof Theater, Berlin")
    expect(box).to_have_attribute("aria-expanded", "true")
    options.first.click()
    page.wait_for_url(f"**/events/{catalogue['hamlet'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hamlet")
    page.close()


def test_the_home_search_works_with_the_keyboard_alone(asgi_server, browser, catalogue):
    page = browser.new_page()
    page.goto(asgi_server.url + "/")
    box = page.get_by_role("combobox", name="Search events, venues or cities")
    box.focus()
    box.press_sequentially("hambu", delay=40)
    expect(page.get_by_role("option").first).to_contain_text("Hamburg Harbour Tour")

    box.press("ArrowDown")
    expect(page.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    box.press("Enter")

    page.wait_for_url(f"**/events/{catalogue['harbour'].pk}/")
    page.close()


def test_the_search_page_works_without_javascript(asgi_server, browser, catalogue):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(asgi_server.url + "/")
    page.get_by_label("Search events, venues or cities").fill("jazz")
    page.get_by_label("Search events, venues or cities").press("Enter")

    page.wait_for_url(re.compile(r"/search/\?q=jazz$"))
    expect(page.get_by_role("heading", name="1 event")).to_be_visible()
    page.get_by_label("Theater").check()
    page.get_by_label("Words").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".result-card h3")).to_have_text(["Hamlet"])
    page.get_by_role("link", name="Hamlet").click()
    page.wait_for_url(f"**/events/{catalogue['hamlet'].pk}/")
    context.close()


def test_home_and_search_pages_pass_axe(asgi_server, browser, catalogue):
    page = browser.new_page()
    page.goto(asgi_server.url + "/")
    assert axe_scan(page) == []
    page.get_by_role("combobox", name="Search events, venues or cities").press_sequentially("ha", delay=40)
    expect(page.get_by_role("option").first).to_be_visible()
    assert axe_scan(page) == []  # with the instant results open
    page.goto(asgi_server.url + "/search/?q=hamlet&category=theater")
    expect(page.locator(".result-card")).to_have_count(1)
    assert axe_scan(page) == []
    page.goto(asgi_server.url + "/search/?price_min=50&price_max=10")
    expect(page.get_by_role("alert")).to_contain_text("price_min")
    assert axe_scan(page) == []
    page.close()
