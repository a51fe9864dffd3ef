"""In Chromium: a waitlist offer claimed and paid; "my bookings" opened by magic link."""

from __future__ import annotations

import os
import re

import pytest
from django.core import mail

from tests.buyer_ui.conftest import fill_customer, pay_with
from tests.conftest import make_event
from tests.tickets.conftest import waitlist_joined
from ticketing import services
from ticketing.models import Booking, EventSeat, WaitlistEntry
from ticketing.services.waitlist import waitlist_claim_url

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed at /usr/bin/chromium"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser.new_page()
        browser.close()
        # While Playwright's event loop runs, Django keeps this thread's connection in a context
        # variable, apart from pytest-django's: close it, or the test database cannot be dropped.
        from django.db import connections

        connections.close_all()


def paid_booking(event, *, email="ada@example.com") -> Booking:
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True)[:2])
    services.seat_hold(event_id=event.pk, seat_ids=seat_ids, owner="ada-session")
    return services.booking_confirm(event_id=event.pk, owner="ada-session", payment_token="tok_ok",
                                    customer=services.Customer("Ada Lovelace", email))


def test_a_waitlist_offer_is_claimed_and_paid_in_the_browser(live_server, page, organizer):
    # given a sold-out event, Bob on its waitlist, and Ada cancelling her two seats
    event = make_event(organizer)
    booking = paid_booking(event)
    EventSeat.objects.filter(event=event, status="available").update(status="blocked")
    entry = waitlist_joined(event_id=event.pk, email="bob@example.com", party_size=2)
    services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)
    entry.refresh_from_db()
    assert entry.status == "offered"
    # when Bob opens the e-mailed link, continues to checkout and pays
    page.goto(f"{live_server.url}{waitlist_claim_url(entry)}")
    page.get_by_role("button", name="Continue to checkout").click()
    # the normal checkout: the offered seats, their prices, the total, the countdown
    page.wait_for_selector("#pay-button")
    assert page.locator("#checkout-countdown").is_visible()
    assert page.locator("#checkout-total").inner_text() == "€80"
    fill_customer(page, name="Bob Example", email="bob@example.com")
    pay_with(page, "4242 4242 4242 4242", holder="Bob Example")
    # then he has the seats that were offered to him
    page.wait_for_url(re.compile(r"/bookings/\d+/$"))
    bob = Booking.objects.get(customer_email="bob@example.com")
    assert bob.status == "paid"
    assert sorted(bob.booking_seats.values_list("event_seat_id", flat=True)) == entry.offered_seat_ids
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "claimed"


def test_my_bookings_by_magic_link_in_the_browser(live_server, page, organizer, settings):
    settings.PUBLIC_URL = live_server.url
    booking = paid_booking(make_event(organizer))
    mail.outbox.clear()
    # when Ada asks for a link on a new device and opens it
    page.goto(f"{live_server.url}/my-bookings/")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_role("button", name="E-mail me a link").click()
    page.get_by_text("a link to them is on its way").wait_for()
    link = re.search(r"http://\S+/my-bookings/\?token=\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    # then her booking is listed with its tickets PDF
    page.get_by_text(booking.reference).wait_for()
    pdf = page.request.get(f"{live_server.url}/api/bookings/{booking.pk}/tickets.pdf")
    assert (pdf.status, pdf.headers["content-type"]) == (200, "application/pdf")
