"""Vouchers (issue 18): a discount code per event — a percentage or an amount off each ticket of its
categories, on top of the pricing tier's price, within its validity and quota. A code that cannot
be used is a clear error that changes nothing; the last uses of a quota go to exactly as many
tickets as it allows, however many buyers race for them."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from evently.models import PaymentAttempt
from events.models import SeatCategory
from tests.conftest import make_event
from tests.sales.conftest import ADA, buy, policy, tier
from tests.test_general_admission import add_area, area_hold_json
from ticketing.exceptions import VoucherUsedUp
from ticketing.models import Booking, BookingPlace, BookingSeat, EventSeat, Voucher, VoucherKind
from ticketing.reports import BOOKING_CSV_HEADER, booking_csv_rows, event_report
from ticketing.services import booking_confirm, booking_seats_cancel, seat_hold

D = Decimal


def voucher(event, code="SAVE25", *, kind=VoucherKind.PERCENT, value="25", categories=(), **fields) -> Voucher:
    created = Voucher.objects.create(event=event, code=code, kind=kind, value=D(value), **fields)
    created.categories.set(categories)
    return created


def used(code_voucher: Voucher) -> int:
    code_voucher.refresh_from_db()
    return code_voucher.used


# --- what a voucher takes off ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_percentage_comes_off_each_ticket_and_the_booking_says_so(buyer, event, seat_ids):
    save = voucher(event, "SAVE25", value="25")

    booking = buy(buyer, event, seat_ids[:2], voucher="SAVE25")

    assert (booking["status"], booking["total"], booking["discount"], booking["voucher"]) == (
        "paid", "60.00", "20.00", "SAVE25")
    assert sorted(BookingSeat.objects.filter(booking_id=booking["booking_id"]).values_list("price", "discount")) == [
        (D("30.00"), D("10.00")), (D("30.00"), D("10.00"))]
    assert PaymentAttempt.objects.get(idempotency_key=Booking.objects.get(pk=booking["booking_id"]).idempotency_key
                                      ).amount == D("60.00")
    assert used(save) == 2


@pytest.mark.django_db
def test_an_amount_never_takes_more_than_the_price_and_a_free_order_is_not_charged(buyer, event, seat_ids):
    save = voucher(event, "GUEST", kind=VoucherKind.AMOUNT, value="50.00")

    booking = buy(buyer, event, seat_ids[:1], voucher="GUEST")

    stored = Booking.objects.get(pk=booking["booking_id"])
    assert (booking["status"], booking["total"], booking["discount"]) == ("paid", "0.00", "40.00")
    assert stored.payment_reference == "voucher:GUEST"
    assert not PaymentAttempt.objects.filter(idempotency_key=stored.idempotency_key).exists()
    assert len(booking["tickets"]) == 1
    assert EventSeat.objects.get(pk=seat_ids[0]).status == "sold"
    assert used(save) == 1


@pytest.mark.django_db
def test_codes_ignore_case_and_spaces(buyer, event, seat_ids):
    voucher(event, "SUMMER24", value="10")

    booking = buy(buyer, event, seat_ids[:1], voucher="  summer 24 ")

    assert (booking["total"], booking["voucher"]) == ("36.00", "SUMMER24")


@pytest.mark.django_db
def test_the_voucher_comes_off_the_price_of_the_tier_selling_when_the_seat_was_held(buyer, event, seat_ids):
    tier(event, "Early Bird", "30.00", quota=1, position=0)
    tier(event, "Standard", "45.00", position=1)
    voucher(event, "TEN", value="10")

    booking = buy(buyer, event, seat_ids[:2], voucher="TEN")

    # 30 − 3 and 45 − 4.50
    assert sorted(BookingSeat.objects.filter(booking_id=booking["booking_id"]).values_list("price", "discount")) == [
        (D("27.00"), D("3.00")), (D("40.50"), D("4.50"))]
    assert booking["total"] == "67.50"


@pytest.mark.django_db
def test_a_voucher_for_one_category_leaves_the_others_at_full_price(buyer, organizer):
    event = make_event(organizer)
    event.standing = add_area(event, places=20, price="25.00")
    standing = SeatCategory.objects.get(event=event, name="Standing floor")
    voucher(event, "FLOOR", kind=VoucherKind.AMOUNT, value="5.00", categories=[standing])
    seat_id = EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True)[0]
    assert buyer.hold(event, [seat_id]).status_code == 200
    assert area_hold_json(buyer, event, 2).status_code == 200

    confirmed = buyer.confirm(event, voucher="FLOOR").json()

    assert (confirmed["total"], confirmed["discount"]) == ("80.00", "10.00")  # 40 + 2 × (25 − 5)
    assert BookingSeat.objects.get(booking_id=confirmed["booking_id"]).discount == 0
    assert list(BookingPlace.objects.filter(booking_id=confirmed["booking_id"]).values_list("price", flat=True)) == [
        D("20.00"), D("20.00")]


# --- codes that cannot be used: a clear error, nothing written, the hold kept ------------------------


def _refused(buyer, event, seat_ids, code, *, status, error):
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    answer = buyer.confirm(event, voucher=code)
    assert answer.status_code == status, answer.content
    assert answer.json()["error"] == error and answer.json()["message"]
    assert not Booking.objects.filter(event=event).exists()
    assert set(EventSeat.objects.filter(pk__in=seat_ids[:2]).values_list("status", "hold_owner")) == {
        ("held", buyer.buyer_id())}
    return answer.json()


@pytest.mark.django_db
def test_an_unknown_code_or_another_events_code_is_a_400(buyer, event, other_event, seat_ids):
    voucher(other_event, "OTHER")
    _refused(buyer, event, seat_ids, "NOPE", status=400, error="voucher_unknown")
    _refused(buyer, event, seat_ids, "OTHER", status=400, error="voucher_unknown")


@pytest.mark.django_db
def test_a_voucher_before_its_start_is_refused_and_says_when_it_starts(buyer, event, seat_ids):
    voucher(event, "SOON", valid_from=timezone.now() + timedelta(days=2))
    body = _refused(buyer, event, seat_ids, "SOON", status=409, error="voucher_not_yet_valid")
    assert "can be used from" in body["message"]


@pytest.mark.django_db
def test_an_expired_or_switched_off_voucher_is_refused(buyer, event, seat_ids):
    voucher(event, "OLD", valid_until=timezone.now() - timedelta(minutes=1))
    voucher(event, "OFF", is_active=False)
    _refused(buyer, event, seat_ids, "OLD", status=409, error="voucher_expired")
    _refused(buyer, event, seat_ids, "OFF", status=409, error="voucher_expired")


@pytest.mark.django_db
def test_a_voucher_for_categories_not_in_the_order_is_refused(buyer, event, seat_ids):
    voucher(event, "VIPONLY", categories=[SeatCategory.objects.create(event=event, name="VIP", price=D("90"))])
    _refused(buyer, event, seat_ids, "VIPONLY", status=409, error="voucher_not_applicable")


@pytest.mark.django_db
def test_an_order_needing_more_uses_than_are_left_is_refused_with_what_is_left(buyer, event, seat_ids):
    save = voucher(event, "LAST", quota=3)
    Voucher.objects.filter(pk=save.pk).update(used=2)
    body = _refused(buyer, event, seat_ids, "LAST", status=409, error="voucher_used_up")
    assert body["remaining"] == 1
    assert used(save) == 2


@pytest.mark.django_db
def test_the_database_refuses_uses_beyond_the_quota_whoever_writes_them(event):
    save = voucher(event, "CAP", quota=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=save.pk).update(used=2)


@pytest.mark.django_db
def test_a_blank_code_is_no_voucher(buyer, event, seat_ids):
    booking = buy(buyer, event, seat_ids[:1], voucher="   ")
    assert (booking["total"], booking["voucher"]) == ("40.00", None)


@pytest.mark.django_db
def test_bad_voucher_input_is_a_400_not_a_500(buyer, event, seat_ids):
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    for bad in (123, ["A"], "X" * 61):
        answer = buyer.confirm(event, voucher=bad)
        assert answer.status_code == 400 and answer.json()["error"]
    assert not Booking.objects.exists()


# --- uses given back -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_declined_payment_gives_the_uses_back_and_the_buyer_can_try_again(buyer, event, seat_ids):
    save = voucher(event, "ONE", quota=2)
    assert buyer.hold(event, seat_ids[:2]).status_code == 200

    declined = buyer.confirm(event, token="tok_declined", voucher="ONE")

    assert declined.status_code == 402
    assert used(save) == 0
    assert EventSeat.objects.get(pk=seat_ids[0]).price == D("40.00")  # the held price is untouched
    retried = buyer.confirm(event, voucher="ONE")
    assert (retried.status_code, retried.json()["total"]) == (201, "60.00")
    assert used(save) == 2


@pytest.mark.django_db
def test_a_cancelled_ticket_refunds_what_was_paid_and_gives_its_use_back(buyer, event, seat_ids):
    policy(event)
    save = voucher(event, "HALF", value="50", quota=2)
    booking = buy(buyer, event, seat_ids[:2], voucher="HALF")

    answer = buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel", {"seat_ids": [seat_ids[0]]})

    assert (answer.status_code, answer.json()["refund"]) == (200, "20.00")
    assert used(save) == 1


@pytest.mark.django_db
def test_an_organizer_cancelling_a_free_voucher_booking_refunds_nothing_and_asks_no_provider(
        buyer, event, seat_ids, organizer):
    voucher(event, "COMP", value="100")
    booking = buy(buyer, event, seat_ids[:1], voucher="COMP")

    cancellation = booking_seats_cancel(booking_id=booking["booking_id"], owner=None, user=organizer)

    assert (cancellation.refund, cancellation.booking.status) == (D("0.00"), "cancelled")
    assert EventSeat.objects.get(pk=seat_ids[0]).status == "available"


# --- the race for the last uses --------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_six_buyers_racing_for_three_uses_three_get_the_discount_and_three_are_told(organizer):
    event = make_event(organizer)
    save = voucher(event, "RACE", value="50", quota=3)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))[:6]
    for index, seat_id in enumerate(seat_ids):
        seat_hold(event_id=event.pk, seat_ids=[seat_id], owner=f"racer-{index}")
    barrier = threading.Barrier(6)
    results: list = [None] * 6

    def confirm(index):
        try:
            barrier.wait()
            results[index] = booking_confirm(event_id=event.pk, owner=f"racer-{index}", customer=ADA,
                                             payment_token="tok_ok", voucher="RACE")
        except Exception as error:  # noqa: BLE001 - each thread's outcome is inspected below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    paid = [result for result in results if isinstance(result, Booking)]
    refused = [result for result in results if isinstance(result, VoucherUsedUp)]
    assert (len(paid), len(refused)) == (3, 3), results
    assert {booking.total for booking in paid} == {D("20.00")}
    assert used(save) == 3
    assert Booking.objects.filter(event=event, voucher=save, status="paid").count() == 3
    assert EventSeat.objects.filter(pk__in=seat_ids, status="held", booking=None).count() == 3  # still theirs


# --- checking a code before paying, and its abuse limit ---------------------------------------------------


@pytest.mark.django_db
def test_the_cart_says_what_a_code_would_take_off_without_using_it(buyer, event, seat_ids):
    save = voucher(event, "SAVE25")
    buyer.hold(event, seat_ids[:2])

    cart = buyer.get(f"/api/events/{event.pk}/cart", {"voucher": "save25"}).json()
    unknown = buyer.get(f"/api/events/{event.pk}/cart", {"voucher": "NOPE"})

    assert cart["voucher"] == {"code": "SAVE25", "discount": "20.00", "uses": 2, "subtotal": "80.00",
                               "total": "60.00"}
    assert (unknown.status_code, unknown.json()["error"]) == (400, "voucher_unknown")
    assert used(save) == 0


@pytest.mark.django_db
def test_codes_cannot_be_guessed_by_the_thousand(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    answers = [buyer.get(f"/api/events/{event.pk}/cart", {"voucher": f"GUESS{index}"}).status_code
               for index in range(11)]
    assert answers[:10] == [400] * 10
    assert answers[10] == 429


# --- the checkout page -------------------------------------------------------------------------------------


def _checkout_post(buyer, event, **fields):
    page = buyer.get(f"/events/{event.pk}/checkout/")
    key = page.context["form"].initial["idempotency_key"]
    data = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000", "card": "tok_ok",
            "terms": "on", "idempotency_key": key, "csrfmiddlewaretoken": buyer.csrf_token, **fields}
    return buyer.post(f"/events/{event.pk}/checkout/", data)


@pytest.mark.django_db
def test_checkout_applies_a_code_and_shows_the_new_total_before_paying(buyer, event, seat_ids):
    voucher(event, "SAVE25")
    buyer.hold(event, seat_ids[:2])

    page = buyer.get(f"/events/{event.pk}/checkout/", {"voucher": "save25"})
    wrong = buyer.get(f"/events/{event.pk}/checkout/", {"voucher": "NOPE"})

    html = page.content.decode()
    assert 'id="voucher-applied"' in html and "Voucher <strong>SAVE25</strong> applied" in html
    assert "60" in page.context["total"] and "60" in html
    assert '<input type="hidden" name="voucher" value="SAVE25">' in html
    assert 'id="voucher-error"' in wrong.content.decode() and "There is no voucher" in wrong.content.decode()
    assert '<input type="hidden" name="voucher"' not in wrong.content.decode()


@pytest.mark.django_db
def test_checkout_pays_the_discounted_total_and_a_free_order_needs_no_card(buyer, other_buyer, event, seat_ids):
    voucher(event, "SAVE25")
    voucher(event, "COMP", value="100")
    buyer.hold(event, seat_ids[:2])
    other_buyer.hold(event, seat_ids[2:3])

    paid = _checkout_post(buyer, event, voucher="SAVE25")
    free_page = other_buyer.get(f"/events/{event.pk}/checkout/", {"voucher": "COMP"})
    free = _checkout_post(other_buyer, event, voucher="COMP", card="")

    assert paid.status_code == 302, paid.content
    assert Booking.objects.get(customer_email="ada@example.com", buyer=buyer.buyer_id()).total == D("60.00")
    assert 'id="card-fields"' not in free_page.content.decode() and "Get my tickets" in free_page.content.decode()
    assert free.status_code == 302, free.content
    assert Booking.objects.get(buyer=other_buyer.buyer_id()).status == "paid"


# --- the organizer's figures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_report_and_the_bookings_csv_show_each_vouchers_use(buyer, event, seat_ids):
    voucher(event, "SAVE25", quota=10)
    voucher(event, "UNUSED")
    booking = buy(buyer, event, seat_ids[:2], voucher="SAVE25")

    figures = {row["code"]: row for row in event_report(event=event).vouchers}
    rows = list(booking_csv_rows(event=event))

    assert (figures["SAVE25"]["used"], figures["SAVE25"]["bookings"], figures["SAVE25"]["discount"],
            figures["SAVE25"]["revenue"]) == (2, 1, D("20.00"), D("60.00"))
    assert figures["UNUSED"]["used"] == 0
    row = dict(zip(BOOKING_CSV_HEADER, rows[0], strict=True))
    assert (row["reference"], row["voucher"], row["discount"], row["total"]) == (
        booking["reference"], "SAVE25", D("20.00"), D("60.00"))
