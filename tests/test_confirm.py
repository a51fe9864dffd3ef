"""Confirming a hold: payment outcomes, idempotency, reconciliation, cancellation."""

from datetime import timedelta

from django.utils import timezone

from evently.models import PaymentAttempt
from tests.conftest import seat_statuses
from ticketing.models import Booking, BookingSeat, EventSeat, Ticket
from ticketing.services import booking_finalize, booking_reconcile, bookings_reconcile_due


def test_declined_payment_sells_nothing_and_keeps_the_hold(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])

    response = buyer.confirm(event, token="tok_declined")

    assert response.status_code == 402
    assert response.json()["error"] == "payment_declined"
    booking = Booking.objects.get()
    assert booking.status == "failed"
    assert not BookingSeat.objects.filter(is_active=True).exists()
    assert not Ticket.objects.exists()
    seats = EventSeat.objects.filter(pk__in=seat_ids[:2])
    assert {(s.status, s.hold_owner, s.booking_id) for s in seats} == {("held", buyer.buyer_id(), None)}


def test_after_a_decline_another_card_can_pay_for_the_same_hold(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])
    buyer.confirm(event, token="tok_declined")

    response = buyer.confirm(event, token="tok_ok")

    assert response.status_code == 201
    assert seat_statuses(event)[seat_ids[0]] == "sold"


def test_confirm_without_a_hold_is_refused(buyer, event):
    response = buyer.confirm(event)
    assert response.status_code == 422
    assert response.json()["error"] == "no_held_seats"
    assert not Booking.objects.exists()


def test_confirm_after_the_hold_expired_is_refused(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    EventSeat.objects.filter(pk=seat_ids[0]).update(held_until=timezone.now() - timedelta(seconds=1))

    assert buyer.confirm(event).json()["error"] == "no_held_seats"


def test_same_idempotency_key_returns_the_same_booking(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])
    first = buyer.confirm(event, idempotency_key="checkout-attempt-1")

    again = buyer.confirm(event, idempotency_key="checkout-attempt-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["booking_id"] == first.json()["booking_id"]
    assert PaymentAttempt.objects.count() == 1
    assert Ticket.objects.count() == 2


def test_idempotency_key_only_deduplicates_its_own_buyers_requests(buyer, other_buyer, event, seat_ids):
    """Issue 12: another buyer's identical key is their own booking; the key never reaches the provider."""
    buyer.hold(event, seat_ids[:1])
    first = buyer.confirm(event, idempotency_key="checkout-attempt-1")
    other_buyer.hold(event, seat_ids[1:2])

    response = other_buyer.confirm(event, idempotency_key="checkout-attempt-1")

    assert response.status_code == 201
    assert response.json()["booking_id"] != first.json()["booking_id"]
    assert seat_statuses(event)[seat_ids[1]] == "sold"


def test_idempotency_key_reused_by_the_same_buyer_for_another_event_is_a_conflict(buyer, event, other_event,
                                                                                  seat_ids):
    buyer.hold(event, seat_ids[:1])
    buyer.confirm(event, idempotency_key="checkout-attempt-1")
    other_seat = other_event.seats.order_by("id").values_list("id", flat=True).first()
    buyer.hold(other_event, [other_seat])

    response = buyer.confirm(other_event, idempotency_key="checkout-attempt-1")

    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_key_reused"
    assert seat_statuses(other_event)[other_seat] == "held"


def test_timeout_leaves_a_pending_booking_that_reconciliation_expires(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])

    response = buyer.confirm(event, token="tok_timeout")

    # the provider never saw the charge: the booking waits, its seats stay reserved
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    booking = Booking.objects.get()
    assert booking_reconcile(booking.pk).status == "pending"  # order time not over yet
    assert {s.booking_id for s in EventSeat.objects.filter(pk__in=seat_ids[:2])} == {booking.pk}
    # once the order time is over, reconciliation gives the seats back
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert booking_reconcile(booking.pk).status == "expired"
    assert seat_statuses(event)[seat_ids[0]] == "available"
    assert not BookingSeat.objects.filter(is_active=True).exists()


def test_charge_then_error_is_confirmed_by_asking_the_provider(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])

    response = buyer.confirm(event, token="tok_error_after_charge")

    # the charge call failed after charging; one status() call tells the truth at once
    assert response.status_code == 201
    booking = Booking.objects.get()
    assert booking.status == "paid"
    assert Ticket.objects.filter(booking=booking).count() == 2
    assert seat_statuses(event)[seat_ids[0]] == "sold"
    assert bookings_reconcile_due() == 0


def test_a_payment_that_arrives_after_the_order_expired_is_refunded(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    buyer.confirm(event, token="tok_timeout")
    booking = Booking.objects.get()
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    booking_reconcile(booking.pk)
    # the charge lands late (say, the buyer's bank retried) and is reported to us
    PaymentAttempt.objects.create(idempotency_key=booking.idempotency_key, amount=booking.total, currency="EUR",
                                  token="tok_ok", status="succeeded", reference="pay_late")

    booking_finalize(booking.pk, payment_reference="pay_late")

    booking.refresh_from_db()
    assert booking.status == "expired"
    assert booking.refund_amount == booking.total
    assert booking.refund_reference.startswith("re_")
    assert PaymentAttempt.objects.get().refunded_amount == booking.total
    assert seat_statuses(event)[seat_ids[0]] == "available"


def test_cancel_refunds_in_full_and_frees_the_seats(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])
    booking_id = buyer.confirm(event).json()["booking_id"]

    response = buyer.post_json(f"/api/bookings/{booking_id}/cancel")

    assert response.status_code == 200
    assert response.json()["refund"] == "80.00"
    assert set(Ticket.objects.values_list("status", flat=True)) == {"cancelled"}
    assert PaymentAttempt.objects.get().refunded_amount == 80
    assert seat_statuses(event)[seat_ids[0]] == "available"


def test_cancel_twice_is_a_conflict(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    booking_id = buyer.confirm(event).json()["booking_id"]
    buyer.post_json(f"/api/bookings/{booking_id}/cancel")

    response = buyer.post_json(f"/api/bookings/{booking_id}/cancel")

    assert response.status_code == 409
    assert response.json()["error"] == "booking_not_cancellable"
    assert PaymentAttempt.objects.get().refunded_amount == 40


def test_another_buyer_cannot_see_or_cancel_a_booking(buyer, other_buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    booking_id = buyer.confirm(event).json()["booking_id"]

    assert other_buyer.get(f"/api/bookings/{booking_id}").status_code == 404
    response = other_buyer.post_json(f"/api/bookings/{booking_id}/cancel")

    assert response.status_code == 404
    assert response.json()["error"] == "booking_not_found"
    assert seat_statuses(event)[seat_ids[0]] == "sold"


def test_the_organizer_can_cancel_a_buyers_booking(buyer, event, seat_ids, organizer):
    from tests.conftest import Buyer

    buyer.hold(event, seat_ids[:1])
    booking_id = buyer.confirm(event).json()["booking_id"]
    staff = Buyer()
    staff.force_login(organizer)
    staff.get("/api/session")

    assert staff.post_json(f"/api/bookings/{booking_id}/cancel").status_code == 200
