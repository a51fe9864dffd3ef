"""Order limits per event: seats per order, seats per customer e-mail."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.conftest import Buyer, make_event, seat_statuses
from ticketing.exceptions import EmailLimitExceeded
from ticketing.models import Booking, EventSeat
from ticketing.services import Customer, booking_confirm, seat_hold


def test_hold_over_the_events_order_limit_is_refused(buyer, event, seat_ids):
    # given an event selling at most 3 seats per order
    event.max_seats_per_order = 3
    event.save()
    # when a buyer tries to hold 4
    response = buyer.hold(event, seat_ids[:4])
    # then 422 with a stable code, and nothing is held
    assert response.status_code == 422
    assert response.json()["error"] == "order_limit_exceeded"
    assert response.json()["limit"] == 3
    assert set(seat_statuses(event).values()) == {"available"}


def test_adding_seats_to_a_hold_counts_towards_the_order_limit(buyer, event, seat_ids):
    event.max_seats_per_order = 3
    event.save()
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    response = buyer.hold(event, seat_ids[2:4])
    assert (response.status_code, response.json()["error"]) == (422, "order_limit_exceeded")
    assert EventSeat.objects.filter(event=event, status="held").count() == 2


def test_confirm_over_a_lowered_order_limit_is_refused(buyer, event, seat_ids):
    # given 3 seats held, then the organizer lowers the limit to 2
    assert buyer.hold(event, seat_ids[:3]).status_code == 200
    event.max_seats_per_order = 2
    event.save()
    # when the buyer confirms, then nothing is booked and the hold stays
    response = buyer.confirm(event)
    assert (response.status_code, response.json()["error"]) == (422, "order_limit_exceeded")
    assert Booking.objects.count() == 0
    assert EventSeat.objects.filter(event=event, status="held", booking__isnull=True).count() == 3


def test_confirm_over_the_email_limit_across_bookings_is_refused(event, seat_ids):
    # given an e-mail that already bought 2 of its 3 seats
    event.max_seats_per_email = 3
    event.save()
    first, second = Buyer(), Buyer()
    first.hold(event, seat_ids[:2])
    assert first.confirm(event).status_code == 201
    # when another session holds 2 more and pays with the same address (other case)
    second.hold(event, seat_ids[2:4])
    payload = {"event_id": event.pk, "customer": {"name": "Ada", "email": "ADA@example.com"}, "payment_token": "tok_ok"}
    response = second.post_json("/api/bookings/confirm", payload)
    # then 422, no second booking, and the seats stay held for the buyer
    assert response.status_code == 422
    assert response.json() == {"error": "email_limit_exceeded", "limit": 3, "booked": 2,
                               "message": "At most 3 seats per e-mail address for this event (this address has 2)."}
    assert Booking.objects.count() == 1
    assert EventSeat.objects.filter(pk__in=seat_ids[2:4], status="held", booking__isnull=True).count() == 2


def test_email_limit_allows_exactly_the_limit(event, seat_ids):
    event.max_seats_per_email = 3
    event.save()
    first, second = Buyer(), Buyer()
    first.hold(event, seat_ids[:2])
    assert first.confirm(event).status_code == 201
    second.hold(event, seat_ids[2:3])
    assert second.confirm(event).status_code == 201


def test_cancelled_seats_no_longer_count_towards_the_email_limit(event, seat_ids):
    event.max_seats_per_email = 2
    event.save()
    first, second = Buyer(), Buyer()
    first.hold(event, seat_ids[:2])
    booking = first.confirm(event).json()
    assert first.post_json(f"/api/bookings/{booking['booking_id']}/cancel").status_code == 200
    second.hold(event, seat_ids[2:4])
    assert second.confirm(event).status_code == 201


def test_layout_tells_buyers_the_limits(buyer, event):
    event_info = buyer.get(f"/api/events/{event.pk}/layout").json()["event"]
    assert (event_info["max_seats_per_order"], event_info["max_seats_per_email"]) == (10, 20)


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_racing_orders_of_one_email_cannot_both_slip_under_the_limit(organizer):
    """Two sessions, same e-mail, 2 seats each, limit 3, confirming at once: exactly one is booked."""
    # given
    event = make_event(organizer)
    event.max_seats_per_email = 3
    event.save()
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    for index in range(2):
        seat_hold(event_id=event.pk, seat_ids=seat_ids[index * 2: index * 2 + 2], owner=f"buyer-{index}")
    barrier = threading.Barrier(2)
    outcomes = []

    def confirm(index):
        try:
            barrier.wait()
            booking_confirm(event_id=event.pk, owner=f"buyer-{index}", customer=Customer("Ada", "ada@example.com"),
                            payment_token="tok_ok")
            outcomes.append("paid")
        except EmailLimitExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=confirm, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert sorted(outcomes) == ["paid", "refused"]
    assert Booking.objects.filter(event=event).count() == 1
    assert EventSeat.objects.filter(event=event, status="sold").count() == 2
