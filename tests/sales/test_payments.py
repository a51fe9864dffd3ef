"""Payments that survive faults: crash points of booking_confirm, reconciliation, webhooks.

A crash is simulated by running booking_confirm's phases one by one and stopping where the
process would have died; reconciliation (the scheduled sweep) must then leave no seat sold
without payment and no payment kept without seats.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import time_machine
from django.test import Client
from django.utils import timezone

from evently.models import PaymentAttempt
from evently.payments import FakePaymentProvider, get_payment_provider
from tests.conftest import seat_statuses
from tests.sales.conftest import ADA, assert_money_matches_seats, buy
from ticketing.models import Booking, Cancellation, EventSeat, PaymentWebhookEvent
from ticketing.services import booking_reconcile, bookings_reconcile_due, seat_hold
from ticketing.services.bookings import _booking_reserve
from ticketing.webhooks import SIGNATURE_HEADER, webhook_signature


def reserve(event, seat_ids, owner="crash-buyer", key="crash-key-0001") -> Booking:
    """Phase 1 of booking_confirm, as it runs before the charge."""
    seat_hold(event_id=event.pk, seat_ids=seat_ids, owner=owner)
    return _booking_reserve(event=event, owner=owner, customer=ADA, client_key=key, user=None)


def charge(booking, token="tok_ok"):
    """Phase 2: the provider charges (what it remembers survives our crash)."""
    return get_payment_provider().charge(amount=booking.total, currency="EUR", token=token,
                                         idempotency_key=booking.idempotency_key)


def sweep_after_order_ttl(booking):
    with time_machine.travel(booking.expires_at + timedelta(minutes=1)):
        bookings_reconcile_due()


def post_webhook(payload, *, secret=None, timestamp=None, header=None):
    body = json.dumps(payload).encode()
    signature = header if header is not None else webhook_signature(body, secret=secret, timestamp=timestamp)
    return Client().post("/api/payments/webhook", body, content_type="application/json",
                         headers={SIGNATURE_HEADER: signature})


# --- crash points ------------------------------------------------------------------------------

def test_crash_after_phase_one_frees_the_seats_and_charges_nothing(event, seat_ids):
    # given a pending booking reserved, then the process died before charging
    booking = reserve(event, seat_ids[:2])
    assert [seat_statuses(event)[s] for s in seat_ids[:2]] == ["held", "held"]
    # when reconciliation runs after the order's time is over
    sweep_after_order_ttl(booking)
    # then the booking expired, its seats are on sale, nothing was charged
    booking.refresh_from_db()
    assert booking.status == "expired"
    assert [seat_statuses(event)[s] for s in seat_ids[:2]] == ["available", "available"]
    assert PaymentAttempt.objects.count() == 0
    assert_money_matches_seats(event)


def test_crash_after_phase_one_is_left_alone_while_the_order_is_young(event, seat_ids):
    booking = reserve(event, seat_ids[:1])
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        bookings_reconcile_due()
    booking.refresh_from_db()
    assert booking.status == "pending"
    assert seat_statuses(event)[seat_ids[0]] == "held"


def test_crash_after_the_charge_sells_the_seats_that_were_paid_for(event, seat_ids):
    # given a booking charged, then the process died before phase 3
    booking = reserve(event, seat_ids[:2])
    charge(booking)
    # when reconciliation runs (even after the order's time)
    sweep_after_order_ttl(booking)
    # then the booking is paid, its seats sold, its tickets issued
    booking.refresh_from_db()
    assert booking.status == "paid"
    assert [seat_statuses(event)[s] for s in seat_ids[:2]] == ["sold", "sold"]
    assert booking.tickets.filter(status="valid").count() == 2
    assert_money_matches_seats(event)


def test_crash_after_a_declined_charge_frees_the_seats(event, seat_ids):
    booking = reserve(event, seat_ids[:1])
    charge(booking, token="tok_declined")
    booking_reconcile(booking.pk)
    booking.refresh_from_db()
    assert booking.status == "expired"
    assert seat_statuses(event)[seat_ids[0]] == "available"
    assert_money_matches_seats(event)


def test_crash_after_phase_three_answers_the_retry_with_the_same_booking(buyer, event, seat_ids):
    # given a confirm that completed, but whose response never reached the buyer
    buyer.hold(event, seat_ids[:2])
    first = buyer.confirm(event, idempotency_key="retry-key-0001")
    assert first.status_code == 201
    # when the buyer retries with the same key, and reconciliation runs
    retry = buyer.confirm(event, idempotency_key="retry-key-0001")
    bookings_reconcile_due()
    # then the same booking answers, charged once
    assert retry.status_code == 201
    assert retry.json()["booking_id"] == first.json()["booking_id"]
    assert PaymentAttempt.objects.count() == 1
    assert Booking.objects.get().status == "paid"
    assert_money_matches_seats(event)


def test_error_after_charge_is_settled_at_once_by_asking_the_provider(buyer, event, seat_ids):
    # given a card charged, then the provider's answer is lost (tok_error_after_charge)
    buyer.hold(event, seat_ids[:2])
    # when the buyer confirms
    response = buyer.confirm(event, token="tok_error_after_charge")
    # then the booking is paid without waiting for reconciliation
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "paid"
    assert [seat_statuses(event)[s] for s in seat_ids[:2]] == ["sold", "sold"]
    assert_money_matches_seats(event)


def test_timeout_leaves_the_booking_pending_then_reconciliation_releases_it(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    response = buyer.confirm(event, token="tok_timeout")
    assert (response.status_code, response.json()["status"]) == (202, "pending")
    sweep_after_order_ttl(Booking.objects.get())
    assert Booking.objects.get().status == "expired"
    assert seat_statuses(event)[seat_ids[0]] == "available"
    assert_money_matches_seats(event)


def test_late_payment_for_a_seat_sold_to_someone_else_is_refunded(event, seat_ids, other_buyer):
    # given a booking that expired unpaid, and its seat then sold to another buyer
    booking = reserve(event, seat_ids[:1])
    sweep_after_order_ttl(booking)
    buy(other_buyer, event, seat_ids[:1])
    # when the provider reports the first buyer's (late) charge
    charge(booking)
    response = post_webhook({"id": "evt_late_1", "type": "charge.succeeded",
                             "data": {"idempotency_key": booking.idempotency_key, "reference": "pay_late"}})
    # then the charge is refunded in full, the buyer told, and the seat stays the other buyer's
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "processed", "outcome": "refund_recorded"}
    booking.refresh_from_db()
    assert (booking.status, booking.refund_amount) == ("expired", booking.total)
    late = Cancellation.objects.get(booking=booking)
    assert (late.reason, late.refund, late.refund_reference != "") == ("late_payment", booking.total, True)
    assert PaymentAttempt.objects.get(idempotency_key=booking.idempotency_key).refunded_amount == booking.total
    assert EventSeat.objects.get(pk=seat_ids[0]).booking.buyer == other_buyer.buyer_id()
    assert_money_matches_seats(event)


# --- webhooks ----------------------------------------------------------------------------------

def test_webhook_finalises_a_pending_booking(event, seat_ids):
    booking = reserve(event, seat_ids[:2])
    charge(booking)
    response = post_webhook({"id": "evt_1", "type": "charge.succeeded",
                             "data": {"idempotency_key": booking.idempotency_key, "reference": "pay_1"}})
    assert response.json() == {"status": "processed", "outcome": "booking_paid"}
    booking.refresh_from_db()
    assert booking.status == "paid"
    assert_money_matches_seats(event)


def test_webhook_replay_changes_nothing(event, seat_ids):
    booking = reserve(event, seat_ids[:1])
    charge(booking)
    payload = {"id": "evt_2", "type": "charge.succeeded",
               "data": {"idempotency_key": booking.idempotency_key, "reference": "pay_2"}}
    assert post_webhook(payload).json()["status"] == "processed"
    replay = post_webhook(payload)
    assert replay.status_code == 200
    assert replay.json() == {"status": "duplicate", "outcome": "booking_paid"}
    assert PaymentWebhookEvent.objects.count() == 1
    assert booking.tickets.count() == 1


def test_webhook_charge_failed_gives_the_seats_back_to_the_buyers_hold(event, seat_ids):
    booking = reserve(event, seat_ids[:1])
    response = post_webhook({"id": "evt_3", "type": "charge.failed",
                             "data": {"idempotency_key": booking.idempotency_key, "reason": "Card declined"}})
    assert response.json()["outcome"] == "booking_failed"
    booking.refresh_from_db()
    assert booking.status == "failed"
    seat = EventSeat.objects.get(pk=seat_ids[0])
    assert (seat.status, seat.booking_id, seat.hold_owner) == ("held", None, "crash-buyer")


def test_webhook_with_a_bad_signature_is_refused_and_not_recorded(event, seat_ids):
    booking = reserve(event, seat_ids[:1])
    charge(booking)
    payload = {"id": "evt_4", "type": "charge.succeeded", "data": {"idempotency_key": booking.idempotency_key}}
    for response in (post_webhook(payload, secret="wrong-secret"), post_webhook(payload, header=""),
                     post_webhook(payload, header="t=abc,v1=00")):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_signature"
    assert PaymentWebhookEvent.objects.count() == 0
    booking.refresh_from_db()
    assert booking.status == "pending"


def test_webhook_signed_too_long_ago_is_refused(event, seat_ids):
    booking = reserve(event, seat_ids[:1])
    old = int((timezone.now() - timedelta(minutes=10)).timestamp())
    response = post_webhook({"id": "evt_5", "type": "charge.succeeded",
                             "data": {"idempotency_key": booking.idempotency_key}}, timestamp=old)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_signature")
    assert PaymentWebhookEvent.objects.count() == 0


def test_webhook_with_a_body_we_do_not_understand_is_a_400(db):
    response = post_webhook({"type": "charge.succeeded"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_webhook")
    assert PaymentWebhookEvent.objects.count() == 0


def test_webhook_for_an_unknown_booking_is_acknowledged(db):
    response = post_webhook({"id": "evt_6", "type": "charge.succeeded", "data": {"idempotency_key": "nobody"}})
    assert response.json() == {"status": "processed", "outcome": "unknown_booking"}


def test_unpaid_refunds_are_retried_by_reconciliation(buyer, event, seat_ids):
    # given a cancellation whose refund the provider never confirmed
    booking = buy(buyer, event, seat_ids[:1])
    buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel")
    cancellation = Cancellation.objects.get()
    attempt = PaymentAttempt.objects.get()
    Cancellation.objects.filter(pk=cancellation.pk).update(refund_reference="")
    attempt.refunds, attempt.refunded_amount = {}, Decimal("0")
    attempt.save()
    # when the sweep runs, then the refund is paid out, once
    bookings_reconcile_due()
    bookings_reconcile_due()
    attempt.refresh_from_db()
    assert attempt.refunded_amount == Decimal("40.00")
    assert Cancellation.objects.get().refund_reference != ""
    assert_money_matches_seats(event)


def test_webhook_needs_no_csrf_token(event, seat_ids):
    booking = reserve(event, seat_ids[:1])
    charge(booking)
    body = json.dumps({"id": "evt_7", "type": "charge.succeeded",
                       "data": {"idempotency_key": booking.idempotency_key}}).encode()
    response = Client(enforce_csrf_checks=True).post(
        "/api/payments/webhook", body, content_type="application/json",
        headers={SIGNATURE_HEADER: webhook_signature(body)})
    assert response.status_code == 200, response.content


def test_sales_endpoints_are_in_the_openapi_schema(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/payments/webhook", "/api/bookings/{booking_id}/cancel-preview",
            "/api/bookings/{booking_id}/cancellations"} <= set(paths)


def test_charge_arriving_after_the_event_was_cancelled_is_refunded(event, seat_ids):
    from ticketing.services import event_cancel

    # given a pending booking whose charge the provider had not seen when the event was cancelled
    booking = reserve(event, seat_ids[:1])
    event_cancel(event_id=event.pk)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    # when the charge goes through after all and the webhook arrives
    charge(booking)
    post_webhook({"id": "evt_8", "type": "charge.succeeded",
                  "data": {"idempotency_key": booking.idempotency_key, "reference": "pay_8"}})
    # then it is refunded in full and no seat is sold
    assert Cancellation.objects.get(booking=booking).reason == "late_payment"
    assert EventSeat.objects.filter(event=event, status="sold").count() == 0
    assert_money_matches_seats(event)


def test_admin_shows_the_bookings_cancellations(admin_client, buyer, event, seat_ids):
    booking = buy(buyer, event, seat_ids[:2])
    buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel", {"seat_ids": [seat_ids[0]]})
    page = admin_client.get(f"/admin/ticketing/booking/{booking['booking_id']}/change/")
    assert page.status_code == 200
    assert "Cancelled by the buyer" in page.content.decode()


def test_the_provider_path_from_before_the_move_still_names_the_fake_provider(settings):
    """The old PAYMENT_PROVIDER path (ticketing.payments) keeps working after the move to evently."""
    settings.PAYMENT_PROVIDER = "ticketing.payments.FakePaymentProvider"
    get_payment_provider.cache_clear()
    try:
        assert isinstance(get_payment_provider(), FakePaymentProvider)
    finally:
        get_payment_provider.cache_clear()
