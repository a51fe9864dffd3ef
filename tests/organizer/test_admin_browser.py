"""The admin seat map in a real browser: click, double-click a row, drag a rectangle, block.

Also takes the screenshots for docs/admin.md: run with EVENTLY_SCREENSHOTS=docs/img to refresh
them (otherwise they go to tests/artifacts/).
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from checkin.models import DoorAssignment
from events.models import Event, EventStatus, SeatCategory
from tests.organizer.conftest import PASSWORD
from ticketing.exceptions import PaymentDeclined
from ticketing.models import Booking, EventSeat, Voucher
from ticketing.services import Customer, booking_confirm, boxoffice_sell, event_inventory_create, seat_hold, seats_block
from venues.bookings import venue_booking_add_on_add, venue_booking_pay_deposit, venue_booking_request
from venues.models import Venue, VenueBooking
from venues.services import venue_build_from_template

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are plain sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.base_url = live_server.url
        yield page
        browser.close()
    _wait_for_server_connections_to_close()


def read_db(query):
    """Run an ORM read while the browser is open, then close the connection it used.

    With Playwright's event loop running, Django's per-context connection handling gives these
    reads their own connection, which nothing else would close before the test database is dropped.
    """
    from django.db import connection

    try:
        return query()
    finally:
        connection.close()


def _wait_for_server_connections_to_close(timeout: float = 5.0) -> None:
    """The live server's request threads close their database connections when the browser's
    keep-alive sockets close, a moment after `browser.close()`; wait for that, so the test database
    can be dropped at the end of the session."""
    import time

    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    # Collapse Django's navigation sidebar: more room for maps (and screenshots).
    page.evaluate("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")


def shot(page, name: str) -> None:
    folder = Path(os.environ.get("EVENTLY_SCREENSHOTS", "tests/artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    page.screenshot(path=str(target))
    from PIL import Image  # a palette PNG is a third of the size and looks the same for admin pages

    Image.open(target).quantize(colors=128).save(target, optimize=True)


def seat_box(page, seat_id: int) -> dict:
    return page.locator(f'circle[data-id="{seat_id}"]').bounding_box()


def theater_event(organizer) -> Event:
    """A ~1,000-seat theater event with categories, a week of sales, blocked and held seats."""
    venue = Venue.objects.create(name="Lindenhof Theater", city="Berlin", address="Lindenstraße 12")
    venue_build_from_template(venue=venue, template="theater", params={
        "orchestra_rows": 12, "mezzanine_rows": 6, "balcony_rows": 6, "seats_per_row": 34, "row_growth": 1})
    now = timezone.now()
    event = Event.objects.create(organizer=organizer, venue=venue, title="Hamlet", status=EventStatus.ON_SALE,
                                 starts_at=now + timedelta(days=21), ends_at=now + timedelta(days=21, hours=3),
                                 sales_open_at=now - timedelta(days=10))
    categories = {name: SeatCategory.objects.create(event=event, name=name, colour=colour, price=Decimal(price),
                                                    position=index)
                  for index, (name, colour, price) in enumerate([("Orchestra", "#2563eb", "69"),
                                                                 ("Mezzanine", "#16a34a", "49"),
                                                                 ("Balcony", "#d97706", "29")])}
    event_inventory_create(event=event, section_categories={s.pk: categories[s.name].pk
                                                            for s in venue.sections.all()})
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    rng = random.Random(7)
    sold = rng.sample(seat_ids[40:], 300)
    taken = 0
    for day in range(10):
        for chunk in range(rng.randint(1, 6)):
            batch = sold[taken:taken + rng.randint(2, 8)]
            taken += len(batch)
            if not batch:
                continue
            booking = boxoffice_sell(event_id=event.pk, seat_ids=batch, method="cash", sold_by=organizer,
                                     customer=Customer(f"Guest {day}-{chunk}", f"guest{day}{chunk}@example.com"))
            Booking.objects.filter(pk=booking.pk).update(paid_at=now - timedelta(days=10 - day, hours=chunk))
    seats_block(event_id=event.pk, seat_ids=seat_ids[:6])
    free = [seat_id for seat_id in seat_ids[60:] if seat_id not in set(sold)]
    seat_hold(event_id=event.pk, seat_ids=free[:4], owner="someone-online")
    Voucher.objects.create(event=event, code="PREMIERE-20", value=Decimal("20"), quota=100, note="Premiere mailing")
    Voucher.objects.create(event=event, code="PRESS", kind="amount", value=Decimal("69"), quota=10, note="Critics")
    for index, token in enumerate(["tok_ok", "tok_ok", "tok_ok", "tok_declined"]):
        owner = f"web-buyer-{index}"
        seat_hold(event_id=event.pk, seat_ids=free[4 + 2 * index:6 + 2 * index], owner=owner)
        try:
            booking_confirm(event_id=event.pk, owner=owner, payment_token=token,
                            customer=Customer(f"Web buyer {index}", f"web{index}@example.com"),
                            voucher="PREMIERE-20" if index < 2 else "")
        except PaymentDeclined:
            pass
    return event


def test_seat_map_selects_by_click_row_and_rectangle_then_blocks(organizer, event, page):
    # given the 40-seat event (2 blocks × 4 rows × 5 seats), ids in row order per block
    seat_ids = read_db(lambda: list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True)))
    log_in(page, organizer.username)
    page.goto(f"{page.base_url}/admin/events/event/{event.pk}/seatmap/")
    # when the organizer clicks one seat of the right block
    page.locator(f'circle[data-id="{seat_ids[20]}"]').click()
    assert page.text_content("#seatmap-count") == "1 selected"
    # and double-clicks a seat of row B of the left block (the dblclick's clicks toggle it on and off)
    page.locator(f'circle[data-id="{seat_ids[5]}"]').dblclick()
    assert page.text_content("#seatmap-count") == "6 selected"
    # and drags a rectangle around the first two seats of rows C and D of the left block
    first, last = seat_box(page, seat_ids[10]), seat_box(page, seat_ids[16])
    page.mouse.move(first["x"] - 3, first["y"] - 3)
    page.mouse.down()
    page.mouse.move(last["x"] + last["width"] + 2, last["y"] + last["height"] + 2, steps=5)
    page.mouse.up()
    assert page.text_content("#seatmap-count") == "10 selected"
    # then blocking marks exactly those seats
    page.click("button[value=block]")
    page.wait_for_selector(".messagelist")
    blocked = read_db(lambda: set(EventSeat.objects.filter(event=event, status="blocked").values_list("id", flat=True)))
    assert blocked == {seat_ids[20], *seat_ids[5:10], seat_ids[10], seat_ids[11], seat_ids[15], seat_ids[16]}


@pytest.fixture
def theater(organizer):
    event = theater_event(organizer)
    venue = event.venue
    booking = venue_booking_request(venue=venue, title="Hamlet run", start=event.starts_at, end=event.ends_at,
                                    setup_hours=24, teardown_hours=6, organizer=organizer,
                                    rental_fee=Decimal("4000"), deposit_amount=Decimal("1000"))
    venue_booking_add_on_add(booking_id=booking.pk, type="av", description="Sound desk and 12 moving heads",
                             cost=Decimal("1850"))
    venue_booking_add_on_add(booking_id=booking.pk, type="catering", description="Interval bar staff",
                             cost=Decimal("620"))
    venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    venue_booking_request(venue=venue, title="Company rehearsal", start=event.starts_at - timedelta(days=4),
                          end=event.starts_at - timedelta(days=4) + timedelta(hours=5), organizer=organizer)
    return event, booking


def test_screenshots_of_the_organizer_tools(organizer, theater, page):
    event, booking = theater
    venue = event.venue
    log_in(page, organizer.username)
    page.goto(page.base_url + "/admin/venues/venue/add/")
    page.select_option("#id_template", "theater")
    page.fill("#id_name", "Kammerspiele")
    page.fill("#id_city", "Hamburg")
    page.click("input[name=_preview]")
    page.wait_for_load_state()
    if not page.locator("svg.seatmap-preview").count():
        Path("tests/artifacts").mkdir(exist_ok=True)
        Path("tests/artifacts/preview.html").write_text(page.content())
    page.wait_for_selector("svg.seatmap-preview")
    shot(page, "venue-template-preview")
    page.goto(f"{page.base_url}/admin/events/event/{event.pk}/seatmap/")
    row_seat = read_db(lambda: EventSeat.objects.filter(event=event, status="available").order_by("id")
                       .values_list("id", flat=True)[200])
    page.locator(f'circle[data-id="{row_seat}"]').dblclick()
    page.fill("#id_customer_name", "Grace Hopper")
    page.fill("#id_customer_email", "grace@example.com")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "event-seatmap")
    page.goto(f"{page.base_url}/admin/events/event/{event.pk}/report/")
    shot(page, "event-report")
    page.goto(f"{page.base_url}/admin/ticketing/voucher/")
    assert page.locator("#result_list tbody tr").count() == 2
    shot(page, "event-vouchers")
    page.goto(f"{page.base_url}/admin/events/event/{event.pk}/inventory/")
    shot(page, "event-inventory")
    page.goto(f"{page.base_url}/admin/venues/venue/{venue.pk}/calendar/?month={event.starts_at:%Y-%m}")
    shot(page, "venue-calendar")
    page.goto(f"{page.base_url}/admin/venues/venuebooking/{booking.pk}/change/")
    shot(page, "venue-booking")


# --- issue 18: the guided setup end to end, and the new pages' screenshots ----------------------------

BUY_THROUGH_THE_API = """async ([eventId, token]) => {
  const session = await (await fetch("/api/session")).json();
  const headers = {"Content-Type": "application/json", "X-CSRFToken": session.csrf_token};
  const layout = await (await fetch(`/api/events/${eventId}/layout`)).json();
  const seat = layout.sections[0].rows[0].seats.find((s) => s.status === "available");
  const hold = await fetch("/api/seats/hold", {method: "POST", headers,
                                              body: JSON.stringify({event_id: eventId, seat_ids: [seat.id]})});
  if (!hold.ok) return {hold: hold.status};
  const confirm = await fetch("/api/bookings/confirm", {method: "POST", headers, body: JSON.stringify({
    event_id: eventId, payment_token: token, customer: {name: "Ada Lovelace", email: "ada@example.com", phone: ""}})});
  return {status: confirm.status, body: await confirm.json(), price: seat.price};
}"""


def test_guided_setup_from_a_new_venue_to_a_buyers_ticket(organizer, door, page):
    read_db(lambda: organizer.user_permissions.add(*Permission.objects.filter(content_type__app_label="checkin")))
    log_in(page, organizer.username)
    # 1. a venue from a template
    page.goto(page.base_url + "/admin/venues/venue/add/")
    page.fill("#id_name", "Kammerspiele")
    page.fill("#id_city", "Hamburg")
    page.select_option("#id_timezone", "Europe/Berlin")
    page.select_option("#id_template", "conference")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    venue = read_db(lambda: Venue.objects.get(name="Kammerspiele"))
    # 2. the event, its category, and its venue booking (typed in the venue's time)
    page.goto(f"{page.base_url}/admin/events/event/add/?venue={venue.pk}")
    page.fill("#id_title", "Opening Night")
    page.fill("#id_starts_at_0", "2030-12-10")
    page.fill("#id_starts_at_1", "20:00")
    page.fill("#id_ends_at_0", "2030-12-10")
    page.fill("#id_ends_at_1", "23:00")
    page.fill("#id_setup_hours", "6")
    page.click("#categories-group .add-row a")
    page.fill("#id_categories-0-name", "Standard")
    page.fill("#id_categories-0-price", "35")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "event-add")
    page.click("input[name=_save]")
    page.wait_for_url("**/inventory/")
    event = read_db(lambda: Event.objects.get(title="Opening Night"))
    assert read_db(lambda: VenueBooking.objects.filter(event=event, setup_hours=6).count()) == 1
    # 3. seats (every section in the one category), then door staff
    page.click("input[type=submit][value='Create seats']")
    page.wait_for_url(f"**/admin/checkin/doorassignment/event/{event.pk}/")
    page.check(f"input[name=staff][value='{door.pk}']")
    shot(page, "event-door-staff")
    page.click("input[type=submit][value='Save and review']")
    page.wait_for_url("**/review/")
    assert read_db(lambda: DoorAssignment.objects.filter(event=event, user=door).count()) == 1
    # 4. an early-bird tier on the category, then review and open the sale
    category = read_db(lambda: event.categories.get())
    page.goto(f"{page.base_url}/admin/events/seatcategory/{category.pk}/change/")
    page.click("#tiers-group .add-row a")
    page.fill("#id_tiers-0-name", "Early bird")
    page.fill("#id_tiers-0-price", "25")
    page.fill("#id_tiers-0-quota", "10")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    page.goto(f"{page.base_url}/admin/checkin/doorassignment/event/{event.pk}/review/")
    shot(page, "event-review")
    page.click("[data-testid=open-sale]")
    page.wait_for_selector(".messagelist .success")
    assert read_db(lambda: Event.objects.get(pk=event.pk).status) == "on_sale"
    # 5. a buyer buys at the early-bird price, and sees the start as typed: 20:00
    buyer = page.context.browser.new_page()
    buyer.goto(f"{page.base_url}/events/{event.pk}/")
    assert "20:00" in buyer.inner_text("time")
    outcome = buyer.evaluate(BUY_THROUGH_THE_API, [event.pk, "tok_ok"])
    assert (outcome["status"], outcome["body"]["total"], outcome["price"]) == (201, "25.00", "25.00"), outcome
    # 6. the organizer's dashboard shows the sale
    page.goto(page.base_url + "/admin/")
    dashboard = page.inner_text("[data-testid=dashboard]")
    assert "Opening Night" in dashboard and "1 of" in dashboard
    shot(page, "admin-dashboard")
    booking = read_db(lambda: Booking.objects.get(event=event))
    page.goto(f"{page.base_url}/admin/ticketing/booking/{booking.pk}/change/")
    shot(page, "booking-manage")
    page.goto(f"{page.base_url}/admin/ticketing/booking/{booking.pk}/cancel/")
    shot(page, "booking-cancel")
    page.goto(f"{page.base_url}/admin/ticketing/booking/{booking.pk}/receipt/")
    shot(page, "booking-receipt")
