"""Issue 17, part 5: self-service after the purchase — per-seat cancellation in "my bookings"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from events.models import CancellationPolicy
from tests.conftest import Buyer, seat_statuses
from ticketing.models import Booking, EventSeat


def front_row(event):
    return list(EventSeat.objects.filter(event=event, seat__section__name="Orchestra", seat__row_label="A")
                .order_by("seat__number").values_list("id", flat=True))


@pytest.fixture
def paid_booking(theater_event):
    CancellationPolicy.objects.create(event=theater_event, deadline_hours=24, fee_fixed=Decimal("2.00"))
    buyer = Buyer()
    seat_ids = front_row(theater_event)[:3]
    assert buyer.hold(theater_event, seat_ids).status_code == 200
    assert buyer.confirm(theater_event).status_code == 201
    return buyer, Booking.objects.get(), seat_ids


@pytest.mark.django_db
def test_my_bookings_offers_each_seat_with_its_own_refund(paid_booking):
    buyer, booking, seat_ids = paid_booking
    html = buyer.get("/my-bookings/").content.decode()
    assert html.count('class="seat-cancel"') == 3
    assert 'aria-label="Cancel this seat: Orchestra, row A, seat 2, refund 43.00 EUR"' in html
    assert "refund 43.00 EUR (fee 2.00)" in html


@pytest.mark.django_db
def test_cancelling_one_seat_refunds_it_and_keeps_the_others(paid_booking, theater_event):
    buyer, booking, seat_ids = paid_booking
    response = buyer.post("/my-bookings/", {"action": "cancel", "booking_id": booking.pk, "seat_id": seat_ids[1],
                                            "csrfmiddlewaretoken": buyer.cookies["csrftoken"].value}, follow=True)
    html = response.content.decode()
    assert f"One seat of booking {booking.reference} is cancelled; 43.00 EUR will be refunded (fee 2.00)." in html
    statuses = seat_statuses(theater_event)
    assert [statuses[seat_id] for seat_id in seat_ids] == ["sold", "available", "sold"]
    booking.refresh_from_db()
    assert booking.status == "paid"
    # the two seats left can each still be cancelled on their own
    assert html.count('class="seat-cancel"') == 2


@pytest.mark.django_db
def test_a_booking_with_one_seat_left_offers_only_the_whole_cancellation(paid_booking):
    buyer, booking, seat_ids = paid_booking
    token = buyer.cookies["csrftoken"].value
    for seat_id in seat_ids[:2]:
        buyer.post("/my-bookings/", {"action": "cancel", "booking_id": booking.pk, "seat_id": seat_id,
                                     "csrfmiddlewaretoken": token})
    html = buyer.get("/my-bookings/").content.decode()
    assert 'class="seat-cancel"' not in html
    assert "Cancel booking" in html


@pytest.mark.django_db
def test_another_buyer_cannot_cancel_a_seat(paid_booking):
    _, booking, seat_ids = paid_booking
    stranger = Buyer()
    stranger.get("/my-bookings/")
    response = stranger.post("/my-bookings/", {"action": "cancel", "booking_id": booking.pk, "seat_id": seat_ids[0],
                                               "csrfmiddlewaretoken": stranger.cookies["csrftoken"].value},
                             follow=True)
    assert "No such booking." in response.content.decode()
    assert EventSeat.objects.get(pk=seat_ids[0]).status == "sold"


@pytest.mark.django_db
def test_calendar_file_names_the_event_seats_and_reference(paid_booking, theater_event):
    buyer, booking, _ = paid_booking
    response = buyer.get(f"/bookings/{booking.pk}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:Hamlet\r\n" in text
    assert f"DTSTART:{theater_event.starts_at.strftime('%Y%m%dT%H%M%SZ')}" in text
    assert f"Booking {booking.reference}" in text.replace("\r\n ", "")
    assert Buyer().get(f"/bookings/{booking.pk}/calendar.ics").status_code == 404


@pytest.mark.django_db
def test_event_page_shows_cover_category_age_address_map_link_and_seats_left(theater_event):
    venue = theater_event.venue
    venue.address, venue.latitude, venue.longitude = "Lindenstraße 1", 52.5, 13.4
    venue.save()
    theater_event.age_restriction, theater_event.category = 16, "theater"
    theater_event.save()
    EventSeat.objects.filter(pk__in=front_row(theater_event)[:2]).update(status="sold")
    html = Buyer().get(f"/events/{theater_event.pk}/").content.decode()
    assert 'class="event-cover" src="/static/events/img/theater.svg"' in html
    assert '<span class="event-category">Theater</span>' in html and "Ages 16+" in html
    assert 'href="https://www.openstreetmap.org/?mlat=52.5&amp;mlon=13.4#map=17/52.5/13.4"' in html
    assert "Lindenstraße 1, Berlin (map)" in html
    orchestra = EventSeat.objects.filter(event=theater_event, seat__section__name="Orchestra").count()
    assert f'<span class="legend-left">· {orchestra - 2} left</span>' in html
    assert 'id="sold-out-banner"' not in html


@pytest.mark.django_db
def test_a_sold_out_event_shows_a_prominent_waitlist_button(theater_event):
    EventSeat.objects.filter(event=theater_event).update(status="sold")
    html = Buyer().get(f"/events/{theater_event.pk}/").content.decode()
    assert 'id="sold-out-banner"' in html
    assert f'<a class="button primary" href="/events/{theater_event.pk}/waitlist/">Join the waitlist</a>' in html
