"""Money: the fake provider stays out of production, provider keys are the server's, box-office
refunds never reach the provider, the refund sweep survives bad rows, reports count partial refunds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from evently.models import PaymentAttempt
from evently.payments import FakePaymentProvider
from events.models import EventStatus
from tests.sales.conftest import ADA, buy
from ticketing.models import Booking, Cancellation
from ticketing.reports import event_report
from ticketing.services import booking_reconcile, bookings_reconcile_due, boxoffice_sell, event_cancel
from venues.bookings import venue_booking_pay_deposit, venue_booking_request
from venues.models import VenueBooking

# --- the fake provider ------------------------------------------------------------------------------

def test_fake_provider_refuses_to_start_outside_local_runs(settings):
    settings.LOCAL = False
    with pytest.raises(ImproperlyConfigured, match="PAYMENT_PROVIDER"):
        FakePaymentProvider()


def test_fake_provider_starts_in_local_runs(settings):
    settings.LOCAL = True
    assert FakePaymentProvider().is_demo


def _checkout_page(event, seat_ids):
    from tests.conftest import Buyer

    buyer = Buyer()
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    return buyer.get(f"/events/{event.pk}/checkout/").content.decode()


def test_checkout_shows_demo_cards_while_the_fake_provider_takes_payments(event, seat_ids):
    html = _checkout_page(event, seat_ids)
    assert 'id="demo-cards"' in html
    assert "<code>4242 4242 4242 4242</code> pays" in html and "<code>4000 0000 0000 0002</code> is declined" in html
    assert "js/payments_fake.js" in html


def test_checkout_shows_no_demo_cards_with_a_real_provider(event, seat_ids, use_provider):
    use_provider("tests.trust.providers.CardProvider")
    html = _checkout_page(event, seat_ids)
    assert "tok_" not in html
    assert "4242" not in html and 'id="demo-cards"' not in html and "payments_fake.js" not in html


# --- provider keys are made by the server -------------------------------------------------------------

@pytest.fixture
def deposit_charge(organizer, event):
    """An organizer's paid €500 venue deposit: a succeeded charge under the key venue-deposit-<id>."""
    booking = venue_booking_request(venue=event.venue, title="Private gala", start=event.starts_at + timedelta(days=30),
                                    end=event.starts_at + timedelta(days=30, hours=4), organizer=organizer,
                                    deposit_amount=Decimal("500.00"))
    venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    return PaymentAttempt.objects.get(idempotency_key=f"venue-deposit-{booking.pk}")


def test_a_client_key_naming_a_deposit_charge_never_pays_a_booking(buyer, event, seat_ids, deposit_charge):
    # given an organizer's paid deposit, and a buyer holding two seats
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    # when the buyer confirms with the deposit's key and a card that times out
    response = buyer.confirm(event, token="tok_timeout", idempotency_key=deposit_charge.idempotency_key)
    # then the booking waits for its own payment: the deposit charge does not pay for it
    assert response.status_code == 202, response.content
    booking = Booking.objects.get(pk=response.json()["booking_id"])
    assert booking.status == "pending"
    assert booking.idempotency_key != deposit_charge.idempotency_key
    assert booking.client_key == deposit_charge.idempotency_key
    # and reconciliation after the order time gives it up, leaving the deposit alone
    with time_machine.travel(booking.expires_at + timedelta(seconds=1)):
        assert booking_reconcile(booking.pk).status == "expired"
    deposit_charge.refresh_from_db()
    assert (deposit_charge.refunded_amount, deposit_charge.refunds) == (Decimal("0"), {})
    assert VenueBooking.objects.get().status == "confirmed"


def test_provider_keys_are_per_booking_whatever_the_client_sends(buyer, other_buyer, event, seat_ids):
    # given two buyers who both send the same idempotency key
    first = buy(buyer, event, seat_ids[:1], idempotency_key="checkout-attempt-1")
    second = buy(other_buyer, event, seat_ids[1:2], idempotency_key="checkout-attempt-1")
    # then each has their own paid booking, charged under its own server-made key
    assert first["booking_id"] != second["booking_id"]
    keys = set(Booking.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 2 and "checkout-attempt-1" not in keys
    assert set(PaymentAttempt.objects.values_list("idempotency_key", flat=True)) == keys


def test_a_charge_for_another_amount_does_not_pay_the_booking(buyer, event, seat_ids):
    # given a pending booking whose payment outcome was unknown
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    booking = Booking.objects.get(pk=buyer.confirm(event, token="tok_timeout").json()["booking_id"])
    # and the provider reports a charge under its key, but for €1 instead of €80
    PaymentAttempt.objects.create(idempotency_key=booking.idempotency_key, amount=Decimal("1.00"), currency="EUR",
                                  token="tok_ok", status="succeeded", reference="pay_wrong")
    # when reconciliation asks the provider
    booking = booking_reconcile(booking.pk)
    # then the booking is not paid and sells nothing
    assert booking.status != "paid"
    assert not event.seats.filter(status="sold").exists()


def test_a_charge_in_another_currency_does_not_pay_the_booking(buyer, event, seat_ids):
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    booking = Booking.objects.get(pk=buyer.confirm(event, token="tok_timeout").json()["booking_id"])
    PaymentAttempt.objects.create(idempotency_key=booking.idempotency_key, amount=booking.total, currency="USD",
                                  token="tok_ok", status="succeeded", reference="pay_usd")
    assert booking_reconcile(booking.pk).status != "paid"


def test_the_same_buyer_retrying_with_one_key_gets_one_booking(buyer, event, seat_ids):
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    first = buyer.confirm(event, idempotency_key="retry-key-0001")
    again = buyer.confirm(event, idempotency_key="retry-key-0001")
    assert first.status_code == again.status_code == 201
    assert first.json()["booking_id"] == again.json()["booking_id"]
    assert Booking.objects.count() == PaymentAttempt.objects.count() == 1


# --- box-office bookings and the refund sweep --------------------------------------------------------------

@pytest.fixture
def cash_booking(event, seat_ids, organizer):
    return boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[:2], customer=ADA, method="cash", sold_by=organizer)


def test_organizer_cancels_a_cash_box_office_booking(cash_booking, organizer):
    # when the organizer cancels a cash sale through the API
    client = Client()
    client.force_login(organizer)
    response = client.post(f"/api/bookings/{cash_booking.pk}/cancel", content_type="application/json")
    # then it is cancelled, and the refund is owed at the box office, not sent to the provider
    assert response.status_code == 200, response.content
    assert response.json()["refund"] == "80.00"
    cancellation = Cancellation.objects.get()
    assert cancellation.refund_reference.startswith("box-office:")
    assert PaymentAttempt.objects.count() == 0


def test_buyer_cancels_a_cash_box_office_booking_through_my_bookings(cash_booking):
    # given the customer signed in to "my bookings" with the booking's e-mail
    from ticketing.services.my_bookings import magic_link_token

    client = Client()
    client.get(f"/my-bookings/?token={magic_link_token(ADA.email)}")
    # when they cancel the booking there
    response = client.post("/my-bookings/", {"action": "cancel", "booking_id": cash_booking.pk})
    # then it is cancelled without an error page
    assert response.status_code == 302
    assert Booking.objects.get(pk=cash_booking.pk).status == "cancelled"
    assert Cancellation.objects.get().refund_reference.startswith("box-office:")


def test_cancelling_an_event_with_cash_and_online_bookings_refunds_both(buyer, event, seat_ids, cash_booking):
    online = buy(buyer, event, seat_ids[5:6])
    assert event_cancel(event_id=event.pk) == 2
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    online_key = Booking.objects.get(pk=online["booking_id"]).idempotency_key
    online_refund = PaymentAttempt.objects.get(idempotency_key=online_key)
    assert online_refund.refunded_amount == Decimal("40.00")
    assert not Cancellation.objects.filter(refund__gt=0, refund_reference="").exists()


def test_one_refund_the_provider_chokes_on_does_not_block_the_sweep(buyer, other_buyer, event, seat_ids, use_provider):
    from tests.trust.providers import BrokenRefundProvider

    # given two paid bookings, cancelled, whose refunds were not paid out yet
    first = Booking.objects.get(pk=buy(buyer, event, seat_ids[:1])["booking_id"])
    second = Booking.objects.get(pk=buy(other_buyer, event, seat_ids[1:2])["booking_id"])
    use_provider("tests.trust.providers.BrokenRefundProvider")
    BrokenRefundProvider.BROKEN_KEYS = {first.idempotency_key, second.idempotency_key}
    Event = type(event)
    Event.objects.filter(pk=event.pk).update(status=EventStatus.ON_SALE)
    event_cancel(event_id=event.pk)  # both refunds fail: recorded, owed
    assert Cancellation.objects.filter(refund_reference="").count() == 2
    # when the provider keeps failing for the first only, and the sweep runs
    BrokenRefundProvider.BROKEN_KEYS = {first.idempotency_key}
    bookings_reconcile_due()
    # then the second booking's refund is paid out anyway
    assert Cancellation.objects.get(booking=second).refund_reference != ""
    assert Cancellation.objects.get(booking=first).refund_reference == ""
    assert Cancellation.objects.get(booking=first).refund_attempted_at is not None


def test_the_refund_sweep_tries_refunds_never_tried_before_those_that_keep_failing(buyer, other_buyer, event,
                                                                                  seat_ids):
    from ticketing.services.refunds import refunds_due

    first = Booking.objects.get(pk=buy(buyer, event, seat_ids[:1])["booking_id"])
    second = Booking.objects.get(pk=buy(other_buyer, event, seat_ids[1:2])["booking_id"])
    for booking in (first, second):
        Cancellation.objects.create(booking=booking, reason="buyer", amount=Decimal("40"), fee=0, refund=Decimal("40"))
    from django.utils import timezone

    Cancellation.objects.filter(booking=first).update(refund_attempted_at=timezone.now())
    assert refunds_due() == [second.pk, first.pk]


# --- reports ---------------------------------------------------------------------------------------------

def test_revenue_subtracts_refunds_of_partially_cancelled_bookings(buyer, event, seat_ids):
    # given a paid booking of three €40 seats, one of them cancelled and refunded
    booking = buy(buyer, event, seat_ids[:3])
    response = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel", {"seat_ids": [seat_ids[0]]})
    assert response.status_code == 200, response.content
    # then the report counts what the booking kept: €80
    report = event_report(event=event)
    assert (report.revenue, report.refunds) == (Decimal("80.00"), Decimal("40.00"))
