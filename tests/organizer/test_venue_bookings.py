"""Venue bookings: one thing at a time per venue (setup and teardown included), deposits, invoices."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from evently.models import PaymentAttempt
from tests.organizer.conftest import at
from venues.bookings import (
    venue_booking_add_on_add,
    venue_booking_cancel,
    venue_booking_pay_deposit,
    venue_booking_request,
)
from venues.exceptions import DepositDeclined, VenueBookingConflict, VenueBookingInvalid, VenueBookingWrongStatus
from venues.invoices import venue_booking_invoice, venue_booking_invoice_pdf
from venues.models import Venue, VenueBooking, VenueBookingStatus


def book(venue, start, end, setup=0, teardown=0, title="Gala", **extra):
    return venue_booking_request(venue=venue, title=title, start=start, end=end, setup_hours=setup,
                                 teardown_hours=teardown, **extra)


def test_booking_stores_the_padded_range(venue):
    booking = book(venue, at(10, 18), at(10, 22), setup=4, teardown=2)
    booking.refresh_from_db()
    assert (booking.blocked_period.lower, booking.blocked_period.upper) == (at(10, 14), at(11, 0))
    assert booking.status == VenueBookingStatus.REQUESTED


def test_overlapping_booking_is_refused_naming_the_clash(venue):
    first = book(venue, at(10, 18), at(10, 22), title="Gala")
    with pytest.raises(VenueBookingConflict) as refused:
        book(venue, at(10, 20), at(10, 23), title="Afterparty")
    assert refused.value.extra["conflicting_booking_id"] == first.pk
    assert f"booking #{first.pk} “Gala”" in refused.value.message
    assert list(VenueBooking.objects.values_list("title", flat=True)) == ["Gala"]


def test_teardown_of_one_clashes_with_setup_of_the_next(venue):
    book(venue, at(10, 18), at(10, 22), teardown=3)  # blocked until 01:00
    with pytest.raises(VenueBookingConflict):
        book(venue, at(11, 8), at(11, 12), setup=8)  # blocked from 00:00
    assert VenueBooking.objects.count() == 1


def test_bookings_touching_at_the_padded_edge_both_pass(venue):
    book(venue, at(10, 18), at(10, 22), teardown=2)  # blocked [14:00, 00:00)
    second = book(venue, at(11, 3), at(11, 6), setup=3)  # blocked [00:00, 06:00)
    assert second.pk is not None
    assert VenueBooking.objects.count() == 2


def test_the_same_time_at_another_venue_is_fine(venue):
    other = Venue.objects.create(name="Other", city="Berlin")
    book(venue, at(10, 18), at(10, 22))
    assert book(other, at(10, 18), at(10, 22)).venue == other


def test_a_cancelled_booking_frees_the_venue(venue):
    first = book(venue, at(10, 18), at(10, 22))
    venue_booking_cancel(booking_id=first.pk)
    assert book(venue, at(10, 18), at(10, 22)).status == VenueBookingStatus.REQUESTED


def test_end_before_start_is_refused_and_nothing_written(venue):
    with pytest.raises(VenueBookingInvalid):
        book(venue, at(10, 22), at(10, 18))
    assert VenueBooking.objects.count() == 0


def test_paying_the_deposit_confirms_the_booking(venue):
    booking = book(venue, at(10, 18), at(10, 22), deposit_amount=Decimal("500.00"))
    confirmed = venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    assert confirmed.status == VenueBookingStatus.CONFIRMED
    assert confirmed.deposit_payment_reference.startswith("pay_")
    attempt = PaymentAttempt.objects.get(idempotency_key=f"venue-deposit-{booking.pk}")
    assert attempt.amount == Decimal("500.00")


def test_paying_twice_charges_once(venue):
    booking = book(venue, at(10, 18), at(10, 22), deposit_amount=Decimal("500.00"))
    venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    again = venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    assert again.status == VenueBookingStatus.CONFIRMED
    assert PaymentAttempt.objects.count() == 1


def test_declined_deposit_leaves_the_booking_requested(venue):
    booking = book(venue, at(10, 18), at(10, 22), deposit_amount=Decimal("500.00"))
    with pytest.raises(DepositDeclined):
        venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_declined")
    booking.refresh_from_db()
    assert (booking.status, booking.deposit_payment_reference) == (VenueBookingStatus.REQUESTED, "")


def test_a_cancelled_booking_cannot_be_confirmed(venue):
    booking = book(venue, at(10, 18), at(10, 22), deposit_amount=Decimal("500.00"))
    venue_booking_cancel(booking_id=booking.pk)
    with pytest.raises(VenueBookingWrongStatus):
        venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    assert PaymentAttempt.objects.count() == 0


def test_cancelling_a_confirmed_booking_refunds_the_deposit(venue):
    booking = book(venue, at(10, 18), at(10, 22), deposit_amount=Decimal("500.00"))
    venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    venue_booking_cancel(booking_id=booking.pk)
    attempt = PaymentAttempt.objects.get(idempotency_key=f"venue-deposit-{booking.pk}")
    assert attempt.refunded_amount == Decimal("500.00")


def test_invoice_sums_rental_fee_and_add_ons_less_the_deposit(venue):
    booking = book(venue, at(10, 18), at(10, 22), rental_fee=Decimal("2000.00"), deposit_amount=Decimal("500.00"))
    venue_booking_add_on_add(booking_id=booking.pk, type="catering", description="Buffet for 200",
                             cost=Decimal("3400.00"))
    venue_booking_add_on_add(booking_id=booking.pk, type="av", description="PA and two projectors",
                             cost=Decimal("850.50"))
    venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
    booking.refresh_from_db()
    invoice = venue_booking_invoice(booking)
    assert [line.amount for line in invoice.lines] == [Decimal("2000.00"), Decimal("3400.00"), Decimal("850.50")]
    assert (invoice.total, invoice.deposit_paid, invoice.balance_due) == (
        Decimal("6250.50"), Decimal("500.00"), Decimal("5750.50"))
    pdf = venue_booking_invoice_pdf(booking)
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 1000


def test_unpaid_deposit_is_not_deducted(venue):
    booking = book(venue, at(10, 18), at(10, 22), rental_fee=Decimal("100.00"), deposit_amount=Decimal("50.00"))
    invoice = venue_booking_invoice(booking)
    assert (invoice.total, invoice.deposit_paid, invoice.balance_due) == (
        Decimal("100.00"), Decimal("0"), Decimal("100.00"))


def test_negative_add_on_is_refused(venue):
    booking = book(venue, at(10, 18), at(10, 22))
    with pytest.raises(VenueBookingInvalid):
        venue_booking_add_on_add(booking_id=booking.pk, type="av", description="Refund?", cost=Decimal("-1"))
    assert booking.add_ons.count() == 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_racing_overlapping_requests_exactly_one_wins():
    # given a venue and two requests for overlapping times, released at the same instant
    venue = Venue.objects.create(name="Race Hall", city="Berlin")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def request(title, start, end):
        try:
            barrier.wait(timeout=10)
            book(venue, start, end, title=title)
            outcomes.append("booked")
        except VenueBookingConflict as error:
            outcomes.append(f"conflict:{error.extra['conflicting_booking']}")
        except Exception as error:  # noqa: BLE001 - anything else is a wrong answer the assert shows
            outcomes.append(f"error:{error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=("Left", at(10, 18), at(10, 22))),
               threading.Thread(target=request, args=("Right", at(10, 21), at(10, 23)))]
    # when both run on their own connections
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then exactly one is booked and the other names it
    winner = VenueBooking.objects.get(venue=venue)
    assert sorted(outcomes) == sorted(["booked", f"conflict:{winner.title}"])
