"""The whole buyer path through the JSON API: hold → confirm → cancel."""

from tests.conftest import seat_statuses


def test_hold_confirm_cancel_round_trip(buyer, event, seat_ids):
    # given two held seats
    held = buyer.hold(event, seat_ids[:2])
    assert held.status_code == 200, held.content
    # when the buyer pays
    confirmed = buyer.confirm(event)
    # then the seats are sold and each has a ticket
    assert confirmed.status_code == 201, confirmed.content
    booking = confirmed.json()
    assert booking["status"] == "paid"
    assert booking["total"] == "80.00"
    assert [t["seat_id"] for t in booking["tickets"]] == seat_ids[:2]
    assert all(len(t["token"]) == 114 for t in booking["tickets"])
    assert seat_statuses(event)[seat_ids[0]] == "sold"
    # when the buyer cancels, then the refund is full and the seats are back on sale
    cancelled = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json() == {"booking_id": booking["booking_id"], "status": "cancelled", "refund": "80.00",
                                "fee": "0.00", "cancellation_id": cancelled.json()["cancellation_id"],
                                "seat_ids": seat_ids[:2]}
    assert seat_statuses(event)[seat_ids[0]] == "available"
