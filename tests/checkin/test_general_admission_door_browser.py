"""The door page in Chromium with general admission (issue 15): a place ticket admits, the area's counter moves."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.checkin.conftest import doors_open, make_door_staff
from tests.checkin.test_checkin_browser import PHONE, enter_code, log_in, wait_verdict
from tests.conftest import CHROMIUM, Buyer, make_event
from tests.test_general_admission import add_area, area_hold_json

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed")]


def test_the_door_page_counts_who_is_in_per_standing_area(asgi_server, browser, organizer):
    # given a standing area with two tickets sold, and the door page open
    event = make_event(organizer, title="Standing Night")
    event.standing = add_area(event, places=30)
    doors_open(event)
    make_door_staff("door-browser", event=event)
    buyer = Buyer()
    assert area_hold_json(buyer, event, 2).status_code == 200
    tickets = buyer.confirm(event).json()["tickets"]
    page = log_in(browser.new_context(**PHONE), asgi_server.url)
    counters = page.locator("[data-testid=area-counters]")
    expect(counters).to_contain_text("Standing floor: 0 in / 2 tickets (capacity 30)", timeout=8000)
    # when one of them is scanned
    enter_code(page, tickets[0]["token"])
    # then it is admitted, and the area's counter says one is in
    assert "ADMIT" in wait_verdict(page, "admit")
    expect(counters).to_contain_text("Standing floor: 1 in / 2 tickets", timeout=8000)
