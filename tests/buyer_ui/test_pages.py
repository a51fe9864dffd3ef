"""Server-rendered buyer pages, without a browser: what the HTML and the new read endpoints say."""

import re
import uuid

import pytest

from events.seatmap import money
from tests.conftest import Buyer, seat_statuses
from ticketing.models import Booking, EventSeat


def seat_ids_of(event):
    return list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))


@pytest.mark.django_db
def test_event_page_draws_every_seat_with_an_accessible_name(theater_event):
    # given a small theater
    buyer = Buyer()
    # when the event page is rendered
    html = buyer.get(f"/events/{theater_event.pk}/").content.decode()
    # then every sellable seat is an SVG button with a name, price and status
    seats = re.findall(r'<g class="seat is-available"[^>]*role="button"', html)
    assert len(seats) == EventSeat.objects.filter(event=theater_event).count()
    assert 'aria-label="Orchestra, row D, seat 1, €45, wheelchair space, available"' in html
    assert 'aria-label="Mezzanine, row B, seat 3, €35, available"' in html
    assert "Stage" in html and 'Orchestra <strong class="legend-price">€45</strong>' in html


@pytest.mark.django_db
def test_event_page_marks_the_buyers_own_holds_and_restores_the_cart(theater_event):
    # given a buyer holding a seat
    buyer = Buyer()
    seat_id = seat_ids_of(theater_event)[0]
    assert buyer.hold(theater_event, [seat_id]).status_code == 200
    # when the buyer reloads the page
    html = buyer.get(f"/events/{theater_event.pk}/").content.decode()
    # then that seat is drawn as theirs and the cart lists it
    assert f'<g class="seat is-mine" data-id="{seat_id}"' in html
    assert 'aria-pressed="true"' in html
    assert '<span class="cart-seat">Orchestra, row A, seat 1</span>' in html
    # and another buyer sees it held by someone else
    other_html = Buyer().get(f"/events/{theater_event.pk}/").content.decode()
    assert f'<g class="seat is-held" data-id="{seat_id}"' in other_html


@pytest.mark.django_db
def test_large_venue_page_draws_sections_not_seats(stadium_event):
    # given a stadium above the full-map threshold
    # when its page is rendered
    html = Buyer().get(f"/events/{stadium_event.pk}/").content.decode()
    # then sections are drawn with availability and price, and no seat at all
    assert 'class="seat ' not in html
    assert html.count('class="area avail-many"') == 12
    assert "<title>Section 101: 500 of 500 seats available, €120</title>" in html
    assert "6,000</strong> of 6,000 seats available" in html


@pytest.mark.django_db
def test_section_summaries_count_free_seats_and_price_range(stadium_event):
    # given two seats of section 101 held by a buyer
    buyer = Buyer()
    section = stadium_event.venue.sections.get(name="101")
    held = list(EventSeat.objects.filter(event=stadium_event, seat__section=section).order_by("id")
                .values_list("id", flat=True)[:2])
    buyer.hold(stadium_event, held)
    # when the overview is asked for
    body = buyer.get(f"/api/events/{stadium_event.pk}/sections").json()
    # then section 101 has two fewer free seats and the version is current
    first = body["sections"][0]
    assert first == {"id": section.pk, "section_id": section.pk, "name": "101", "outline": section.outline,
                     "seats": 500, "available": 498, "price_min": "120.00", "price_max": "120.00"}
    assert body["version"] > 0  # a cursor for changes?since=


@pytest.mark.django_db
def test_section_layout_has_only_that_sections_seats(stadium_event):
    # given the stadium's section 201
    section = stadium_event.venue.sections.get(name="201")
    # when its layout is loaded
    body = Buyer().get(f"/api/events/{stadium_event.pk}/sections/{section.pk}/layout").json()
    # then it holds that section's 20 rows of 25 seats and nothing else
    assert [s["name"] for s in body["sections"]] == ["201"]
    assert len(body["sections"][0]["rows"]) == 20
    assert sum(len(row["seats"]) for row in body["sections"][0]["rows"]) == 500


@pytest.mark.django_db
def test_section_layout_of_another_venue_is_not_found(stadium_event, theater_event):
    # given a section of another venue
    other_section = theater_event.venue.sections.first()
    # when it is asked for under the stadium event
    response = Buyer().get(f"/api/events/{stadium_event.pk}/sections/{other_section.pk}/layout")
    # then 404 with a stable code
    assert response.status_code == 404
    assert response.json()["error"] == "section_not_found"


@pytest.mark.django_db
def test_checkout_without_seats_sends_the_buyer_back_to_the_map(theater_event):
    response = Buyer().get(f"/events/{theater_event.pk}/checkout/")
    assert response.status_code == 302
    assert response["Location"] == f"/events/{theater_event.pk}/"


def checkout_form(buyer, event, **overrides):
    data = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000", "card": "tok_ok",
            "terms": "on",
            "idempotency_key": uuid.uuid4().hex, "csrfmiddlewaretoken": buyer.csrf_token, **overrides}
    return buyer.post(f"/events/{event.pk}/checkout/", data)


@pytest.mark.django_db
def test_checkout_shows_errors_beside_fields_and_writes_nothing(theater_event):
    # given a buyer holding a seat
    buyer = Buyer()
    seat_id = seat_ids_of(theater_event)[0]
    buyer.hold(theater_event, [seat_id])
    # when the form is sent with a bad e-mail and phone
    response = checkout_form(buyer, theater_event, email="not-an-email", phone="12", name="  ")
    # then each field shows its error, and no booking exists; the seat is still held
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_email-error" role="alert">Enter a valid email address.' in html
    assert 'id="id_phone-error" role="alert">Enter a phone number with at least 6 digits' in html
    assert 'id="id_name-error" role="alert">This field is required.' in html
    assert Booking.objects.count() == 0
    assert seat_statuses(theater_event)[seat_id] == "held"


@pytest.mark.django_db
def test_declined_card_keeps_the_seats_held_and_says_so(theater_event):
    # given a buyer holding two seats
    buyer = Buyer()
    seat_ids = seat_ids_of(theater_event)[:2]
    buyer.hold(theater_event, seat_ids)
    # when they pay with a declined card
    response = checkout_form(buyer, theater_event, card="tok_declined")
    # then the page says so beside the card, and the seats stay theirs
    html = response.content.decode()
    assert "Your card was declined. Your seats are still held for you" in html
    statuses = seat_statuses(theater_event)
    assert [statuses[seat_id] for seat_id in seat_ids] == ["held", "held"]
    # and paying again with a good card works (a fresh idempotency key was issued)
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    paid = checkout_form(buyer, theater_event, idempotency_key=key)
    assert paid.status_code == 302
    assert Booking.objects.get(status="paid").total == 90


@pytest.mark.django_db
def test_paying_leads_to_a_confirmation_only_the_buyer_can_see(theater_event):
    # given a buyer holding two seats
    buyer = Buyer()
    seat_ids = seat_ids_of(theater_event)[:2]
    buyer.hold(theater_event, seat_ids)
    # when they pay
    response = checkout_form(buyer, theater_event)
    booking = Booking.objects.get()
    # then they land on the confirmation with reference, seats and total
    assert response["Location"] == f"/bookings/{booking.pk}/"
    html = buyer.get(response["Location"]).content.decode()
    assert booking.reference in html
    assert "<td>Orchestra, row A, seat 1</td>" in html and "<td>Orchestra, row A, seat 2</td>" in html
    assert money(booking.total) == "€90"
    assert '<strong id="booking-total">€90</strong>' in html
    # and nobody else can open it
    assert Buyer().get(response["Location"]).status_code == 404


@pytest.mark.django_db
def test_home_page_shows_the_start_in_the_venues_time_zone(organizer):
    # given an event at a venue in New York starting at 23:30 UTC
    from datetime import UTC, datetime, timedelta

    from tests.buyer_ui.conftest import make_venue_event

    event = make_venue_event(organizer, template="conference", params={"rows": 1, "seats_per_block": 2, "blocks": 1},
                             categories=[("Standard", "#123456", "19.50", None)], title="Jazz Night",
                             timezone_name="America/New_York")
    starts = datetime(2030, 1, 15, 23, 30, tzinfo=UTC)
    type(event).objects.filter(pk=event.pk).update(starts_at=starts, ends_at=starts + timedelta(hours=2))
    # when the home page lists it
    html = Buyer().get("/").content.decode()
    # then the time is New York's, and the lowest price is shown (the card: templates/events/_event_card.html)
    assert "Tue 15 Jan 2030, 18:30 EST</time>" in html
    assert '<span class="result-price">€19.50</span>' in html and "Only 2 seats left" in html
