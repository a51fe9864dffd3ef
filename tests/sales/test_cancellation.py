"""Cancellation policies: deadline, fees, partial cancel, non-refundable seats, whole-event cancel."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from evently.models import PaymentAttempt
from events.models import EventStatus, SeatCategory
from tests.conftest import seat_statuses
from tests.sales.conftest import assert_money_matches_seats, buy, policy, tier
from ticketing.models import Booking, Cancellation, EventSeat, Ticket
from venues.localtime import venue_time_label


def cancel(buyer, booking_id, seat_ids=None):
    return buyer.post_json(f"/api/bookings/{booking_id}/cancel", {"seat_ids": seat_ids} if seat_ids else None)


def preview(buyer, booking_id, seat_ids=None):
    query = f"?seat_ids={','.join(map(str, seat_ids))}" if seat_ids else ""
    return buyer.get(f"/api/bookings/{booking_id}/cancel-preview{query}")


def refunded(booking_id) -> Decimal:
    key = Booking.objects.get(pk=booking_id).idempotency_key
    return PaymentAttempt.objects.get(idempotency_key=key).refunded_amount


@pytest.mark.parametrize(
    ("fee_fixed", "fee_percent", "refund", "fee"),
    [("0", "0", "80.00", "0.00"), ("2.50", "0", "75.00", "5.00"), ("0", "10", "72.00", "8.00"),
     ("2.50", "10", "67.00", "13.00"), ("50", "50", "0.00", "80.00")],
    ids=["free", "fixed", "percent", "both", "fee-capped-at-price"],
)
def test_cancel_before_the_deadline_refunds_the_price_minus_fees(buyer, event, seat_ids, fee_fixed, fee_percent,
                                                                 refund, fee):
    # given a policy with a fee per seat, and two €40 seats bought
    policy(event, deadline_hours=48, fee_fixed=Decimal(fee_fixed), fee_percent=Decimal(fee_percent))
    booking = buy(buyer, event, seat_ids[:2])
    # when the buyer cancels 10 days before the start
    response = cancel(buyer, booking["booking_id"])
    # then the refund is the price minus the fees, paid back through the provider
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["refund"], response.json()["fee"]) == ("cancelled", refund, fee)
    assert refunded(booking["booking_id"]) == Decimal(refund)
    cancellation = Cancellation.objects.get()
    assert (cancellation.amount, cancellation.fee, cancellation.refund, cancellation.reason) == (
        Decimal("80.00"), Decimal(fee), Decimal(refund), "buyer")
    assert cancellation.buyer == buyer.buyer_id()
    assert cancellation.refund_reference != "" or refund == "0.00"
    assert [seat_statuses(event)[seat_id] for seat_id in seat_ids[:2]] == ["available", "available"]
    assert set(Ticket.objects.values_list("status", flat=True)) == {"cancelled"}
    assert_money_matches_seats(event)


def test_cancel_after_the_deadline_is_refused_and_changes_nothing(buyer, event, seat_ids):
    # given a 48-hour deadline and a paid booking
    policy(event, deadline_hours=48)
    booking = buy(buyer, event, seat_ids[:2])
    # when the buyer cancels 47 hours before the start
    with time_machine.travel(event.starts_at - timedelta(hours=47)):
        response = cancel(buyer, booking["booking_id"])
    # then 422 and nothing was written
    assert response.status_code == 422
    assert response.json()["error"] == "cancellation_deadline_passed"
    assert Booking.objects.get().status == "paid"
    assert Cancellation.objects.count() == 0
    assert [seat_statuses(event)[seat_id] for seat_id in seat_ids[:2]] == ["sold", "sold"]
    assert refunded(booking["booking_id"]) == 0


def test_cancel_just_before_the_deadline_is_allowed(buyer, event, seat_ids):
    policy(event, deadline_hours=48)
    booking = buy(buyer, event, seat_ids[:1])
    with time_machine.travel(event.starts_at - timedelta(hours=48, seconds=1)):
        assert cancel(buyer, booking["booking_id"]).status_code == 200


def test_cancel_is_refused_when_the_policy_allows_none(buyer, event, seat_ids):
    policy(event, allows_cancellation=False)
    booking = buy(buyer, event, seat_ids[:1])
    response = cancel(buyer, booking["booking_id"])
    assert (response.status_code, response.json()["error"]) == (422, "cancellation_not_allowed")
    assert Cancellation.objects.count() == 0


def test_partial_cancel_frees_only_the_chosen_seats(buyer, event, seat_ids):
    # given three seats bought, 10% fee
    policy(event, fee_percent=Decimal("10"))
    booking = buy(buyer, event, seat_ids[:3])
    # when the buyer cancels one of them
    response = cancel(buyer, booking["booking_id"], [seat_ids[1]])
    # then that seat is on sale again, the others stay sold, the booking stays paid
    assert response.status_code == 200, response.content
    assert response.json() | {"cancellation_id": 0} == {
        "booking_id": booking["booking_id"], "status": "paid", "refund": "36.00", "fee": "4.00",
        "cancellation_id": 0, "seat_ids": [seat_ids[1]]}
    assert [seat_statuses(event)[seat_id] for seat_id in seat_ids[:3]] == ["sold", "available", "sold"]
    detail = buyer.get(f"/api/bookings/{booking['booking_id']}").json()
    assert {t["seat_id"]: t["status"] for t in detail["tickets"]} == {
        seat_ids[0]: "valid", seat_ids[1]: "cancelled", seat_ids[2]: "valid"}
    # when the buyer cancels the rest, then the booking is cancelled and refunds add up
    response = cancel(buyer, booking["booking_id"])
    assert (response.json()["status"], response.json()["refund"], response.json()["seat_ids"]) == (
        "cancelled", "72.00", [seat_ids[0], seat_ids[2]])
    assert Booking.objects.get().refund_amount == Decimal("108.00")
    assert refunded(booking["booking_id"]) == Decimal("108.00")
    assert_money_matches_seats(event)


def test_cancelling_a_seat_twice_is_refused(buyer, event, seat_ids):
    booking = buy(buyer, event, seat_ids[:2])
    assert cancel(buyer, booking["booking_id"], [seat_ids[0]]).status_code == 200
    response = cancel(buyer, booking["booking_id"], [seat_ids[0]])
    assert response.status_code == 400
    assert response.json()["error"] == "seats_not_in_booking"
    assert response.json()["seat_ids"] == [seat_ids[0]]
    assert Cancellation.objects.count() == 1


def test_bad_cancel_body_is_a_400(buyer, event, seat_ids):
    booking = buy(buyer, event, seat_ids[:1])
    response = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel", {"seat_ids": ["x"]})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert Cancellation.objects.count() == 0


def test_non_refundable_category_refunds_nothing_for_its_seats(buyer, event, seat_ids):
    # given a VIP category that is non-refundable, one VIP and one standard seat bought
    vip = SeatCategory.objects.create(event=event, name="VIP", price=Decimal("100.00"))
    EventSeat.objects.filter(pk=seat_ids[0]).update(category=vip)
    rules = policy(event, fee_fixed=Decimal("1.00"))
    rules.non_refundable_categories.add(vip)
    booking = buy(buyer, event, seat_ids[:2])
    # when the buyer previews and cancels
    shown = preview(buyer, booking["booking_id"]).json()
    response = cancel(buyer, booking["booking_id"])
    # then the VIP seat refunds nothing, the standard one its price minus the fee
    assert shown["seats"] == [
        {"seat_id": seat_ids[0], "price": "100.00", "fee": "100.00", "refund": "0.00", "refundable": False},
        {"seat_id": seat_ids[1], "price": "40.00", "fee": "1.00", "refund": "39.00", "refundable": True},
    ]
    assert (response.json()["refund"], response.json()["fee"]) == ("39.00", "101.00")
    assert refunded(booking["booking_id"]) == Decimal("39.00")


def test_non_refundable_tier_refunds_nothing_for_its_seats(buyer, event, seat_ids):
    early = tier(event, "Early Bird", "30.00", quota=1, position=0)
    tier(event, "Standard", "45.00", position=1)
    rules = policy(event)
    rules.non_refundable_tiers.add(early)
    booking = buy(buyer, event, seat_ids[:2])
    response = cancel(buyer, booking["booking_id"])
    assert (response.json()["refund"], response.json()["fee"]) == ("45.00", "30.00")


def test_preview_shows_what_cancel_would_do_and_writes_nothing(buyer, event, seat_ids):
    policy(event, deadline_hours=24, fee_fixed=Decimal("2.00"), fee_percent=Decimal("5"))
    booking = buy(buyer, event, seat_ids[:2])
    # when
    response = preview(buyer, booking["booking_id"], [seat_ids[1]])
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is True
    assert (body["amount"], body["fee"], body["refund"]) == ("40.00", "4.00", "36.00")
    assert body["deadline"] == (event.starts_at - timedelta(hours=24)).isoformat()
    assert body["policy"].startswith("You can cancel seats up to 24 hours before the start")
    assert Cancellation.objects.count() == 0
    assert seat_statuses(event)[seat_ids[1]] == "sold"
    assert cancel(buyer, booking["booking_id"], [seat_ids[1]]).json()["refund"] == "36.00"


def test_preview_after_the_deadline_says_why_not(buyer, event, seat_ids):
    policy(event, deadline_hours=48)
    booking = buy(buyer, event, seat_ids[:1])
    with time_machine.travel(event.starts_at - timedelta(hours=1)):
        body = preview(buyer, booking["booking_id"]).json()
    assert body["allowed"] is False
    assert body["reason"]["error"] == "cancellation_deadline_passed"


def test_other_people_cannot_preview_or_cancel(buyer, other_buyer, event, seat_ids):
    booking = buy(buyer, event, seat_ids[:1])
    assert preview(other_buyer, booking["booking_id"]).status_code == 404
    assert cancel(other_buyer, booking["booking_id"]).status_code == 404
    assert Cancellation.objects.count() == 0


def test_organizer_cancels_a_booking_with_a_full_refund_even_after_the_deadline(buyer, event, seat_ids, organizer):
    policy(event, deadline_hours=48, fee_fixed=Decimal("5.00"))
    booking = buy(buyer, event, seat_ids[:2])
    staff = Client(enforce_csrf_checks=False)
    staff.force_login(organizer)
    with time_machine.travel(event.starts_at - timedelta(hours=2)):
        response = staff.post(f"/api/bookings/{booking['booking_id']}/cancel", content_type="application/json")
    assert response.status_code == 200, response.content
    assert (response.json()["refund"], response.json()["fee"]) == ("80.00", "0.00")
    assert Cancellation.objects.get().reason == "organizer"
    assert Cancellation.objects.get().cancelled_by == organizer


def test_cancelled_seat_frees_a_sold_out_event(buyer, organizer, seat_ids):
    from tests.conftest import make_event

    small = make_event(organizer, rows=1, seats_per_block=1, blocks=2)
    ids = list(EventSeat.objects.filter(event=small).order_by("id").values_list("id", flat=True))
    booking = buy(buyer, small, ids)
    small.refresh_from_db()
    assert small.status == EventStatus.SOLD_OUT
    assert cancel(buyer, booking["booking_id"], ids[:1]).status_code == 200
    small.refresh_from_db()
    assert small.status == EventStatus.ON_SALE


def test_layout_shows_the_policy(buyer, event):
    policy(event, deadline_hours=72, fee_fixed=Decimal("3.00"), notes="Refunds take 5 days.")
    info = buyer.get(f"/api/events/{event.pk}/layout").json()["event"]
    assert info["cancellation_policy"] == (
        "You can cancel seats up to 72 hours before the start "
        f"({venue_time_label(event.starts_at - timedelta(hours=72), 'Europe/Berlin')}), "  # the venue's clock
        "for a fee of 3.00 per seat; no cancellations after that. Refunds take 5 days.")
    assert info["cancellation_rules"]["fee_fixed"] == "3.00"
    assert info["cancellation_rules"]["deadline_hours"] == 72


# --- whole-event cancel ------------------------------------------------------------------------

def test_event_cancel_refunds_every_booking_in_full_and_stops_sales(event, seat_ids, buyer, other_buyer):
    from ticketing.services import event_cancel

    # given two paid bookings (one partly cancelled with a fee) under a strict policy
    policy(event, fee_fixed=Decimal("10.00"))
    first = buy(buyer, event, seat_ids[:2])
    second = buy(other_buyer, event, seat_ids[2:3])
    cancel(buyer, first["booking_id"], [seat_ids[0]])
    # when the organizer cancels the event
    assert event_cancel(event_id=event.pk) == 2
    # then every booking is cancelled, every remaining seat refunded in full, no sale possible
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert refunded(first["booking_id"]) == Decimal("30.00") + Decimal("40.00")
    assert refunded(second["booking_id"]) == Decimal("40.00")
    assert Cancellation.objects.filter(reason="event_cancelled").count() == 2
    assert set(Ticket.objects.values_list("status", flat=True)) == {"cancelled"}
    response = buyer.hold(event, seat_ids[5:6])
    assert (response.status_code, response.json()["error"]) == (422, "sale_not_active")
    assert_money_matches_seats(event)


def test_event_cancel_refunds_a_charge_that_was_still_pending(event, seat_ids, buyer):
    from ticketing.services import event_cancel

    # given a booking whose charge went through but whose answer was lost
    booking = buy(buyer, event, seat_ids[:1], token="tok_timeout")
    assert Booking.objects.get().status == "pending"
    PaymentAttempt.objects.create(idempotency_key=Booking.objects.get().idempotency_key, amount=Decimal("40.00"),
                                  currency="EUR", token="tok_ok", status="succeeded", reference="pay_late")
    # when the event is cancelled
    event_cancel(event_id=event.pk)
    # then the booking is cancelled and the charge refunded
    assert Booking.objects.get().status == "cancelled"
    assert refunded(booking["booking_id"]) == Decimal("40.00")
    assert seat_statuses(event)[seat_ids[0]] == "available"
    assert_money_matches_seats(event)


def test_event_cancel_from_the_admin(admin_client, event, seat_ids, buyer):
    booking = buy(buyer, event, seat_ids[:1])
    # the action asks first, and changes nothing until confirmed
    asked = admin_client.post("/admin/events/event/", {"action": "cancel_events", "_selected_action": [event.pk]})
    assert asked.status_code == 200
    assert b"Yes, cancel and refund everyone" in asked.content
    event.refresh_from_db()
    assert event.status == EventStatus.ON_SALE
    response = admin_client.post("/admin/events/event/", {"action": "cancel_events", "_selected_action": [event.pk],
                                                          "confirm": "yes"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert refunded(booking["booking_id"]) == Decimal("40.00")


def test_admin_shows_tier_usage_and_next_transition(admin_client, event, seat_ids, buyer):
    early = tier(event, "Early Bird", "30.00", quota=5)
    buyer.hold(event, seat_ids[:2])
    category_page = admin_client.get(f"/admin/events/seatcategory/{early.category_id}/change/")
    assert category_page.status_code == 200
    assert b"2 / 5" in category_page.content
    event_list = admin_client.get("/admin/events/event/")
    assert b"Event ends: " in event_list.content  # says what changes, in venue time (issue 18)


def test_cancellations_are_listed_for_the_buyer(buyer, other_buyer, event, seat_ids):
    policy(event, fee_fixed=Decimal("1.50"))
    booking = buy(buyer, event, seat_ids[:2])
    cancel(buyer, booking["booking_id"], [seat_ids[1]])
    listed = buyer.get(f"/api/bookings/{booking['booking_id']}/cancellations").json()["cancellations"]
    assert [(c["reason"], c["amount"], c["fee"], c["refund"], c["refunded"], c["seat_ids"]) for c in listed] == [
        ("buyer", "40.00", "1.50", "38.50", True, [seat_ids[1]])]
    assert other_buyer.get(f"/api/bookings/{booking['booking_id']}/cancellations").status_code == 404


def test_buyer_is_emailed_about_the_cancellation(buyer, event, seat_ids, mailoutbox):
    from ticketing.models import OutgoingEmail
    from ticketing.services.delivery import email_send

    booking = buy(buyer, event, seat_ids[:1])
    cancel(buyer, booking["booking_id"])
    # the notice is recorded in the send-once outbox with the cancellation (issue 12) ...
    outgoing = OutgoingEmail.objects.get(kind="cancellation", object_id=Cancellation.objects.get().pk)
    # ... and a second send of it sends nothing
    assert email_send(outgoing.pk) is True
    assert email_send(outgoing.pk) is False
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]
    assert "Refund: 40.00 EUR" in mailoutbox[0].body


def test_event_page_shows_the_policy(client, event):
    policy(event, allows_cancellation=False)
    page = client.get(f"/events/{event.pk}/")
    assert "Tickets for this event cannot be cancelled." in page.content.decode()


def test_event_cancel_tells_every_buyer(event, seat_ids, buyer, other_buyer, mailoutbox, monkeypatch,
                                         django_capture_on_commit_callbacks):
    from django_q.conf import Conf

    from ticketing.services import event_cancel

    monkeypatch.setattr(Conf, "SYNC", True)  # run queued tasks at once, in this process
    buy(buyer, event, seat_ids[:1])
    buy(other_buyer, event, seat_ids[1:2])
    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(event_id=event.pk)
    assert len(mailoutbox) == 2
    assert all("The event was cancelled" in mail.body for mail in mailoutbox)


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_cancels_of_one_booking_at_once_refund_once(organizer):
    """Two tabs cancelling the same booking at the same moment: one cancellation, one refund."""
    import threading

    from django.db import connection

    from tests.conftest import make_event
    from ticketing.services import Customer, booking_confirm, booking_seats_cancel, seat_hold

    # given
    event = make_event(organizer)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True)[:2])
    seat_hold(event_id=event.pk, seat_ids=seat_ids, owner="tabs")
    booking = booking_confirm(event_id=event.pk, owner="tabs", customer=Customer("Ada", "ada@example.com"),
                              payment_token="tok_ok")
    barrier = threading.Barrier(2)
    outcomes = []

    def cancel_now():
        try:
            barrier.wait()
            booking_seats_cancel(booking_id=booking.pk, owner="tabs")
            outcomes.append("cancelled")
        except Exception as error:  # noqa: BLE001 - the loser's error is the point
            outcomes.append(getattr(error, "code", repr(error)))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=cancel_now) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert sorted(outcomes) == ["booking_not_cancellable", "cancelled"]
    assert Cancellation.objects.filter(booking=booking).count() == 1
    assert refunded(booking.pk) == Decimal("80.00")
    assert_money_matches_seats(event)
