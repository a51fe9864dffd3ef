"""Fixtures for the sales rules: pricing tiers, policies, and a ledger check for crash tests."""

from __future__ import annotations

from decimal import Decimal

from evently.models import PaymentAttempt
from events.models import CancellationPolicy, PricingTier
from ticketing.models import Booking, EventSeat
from ticketing.services import Customer

ADA = Customer("Ada Lovelace", "ada@example.com")


def tier(event, name, price, *, quota=None, position=0, **window) -> PricingTier:
    return PricingTier.objects.create(category=event.categories.get(), name=name, price=Decimal(price),
                                      quota=quota, position=position, **window)


def policy(event, **fields) -> CancellationPolicy:
    return CancellationPolicy.objects.create(event=event, **fields)


def seat_prices(event) -> dict[int, Decimal | None]:
    return dict(EventSeat.objects.filter(event=event).values_list("id", "price"))


def buy(buyer, event, seat_ids, token="tok_ok", **extra) -> dict:
    """Hold and pay through the API; returns the booking JSON."""
    held = buyer.hold(event, seat_ids)
    assert held.status_code == 200, held.content
    confirmed = buyer.confirm(event, token=token, **extra)
    assert confirmed.status_code in (201, 202), confirmed.content
    return confirmed.json()


def assert_money_matches_seats(event) -> None:
    """The crash-safety invariant: no seat sold without a payment kept, no payment kept without seats.

    Every sold seat belongs to a paid booking whose charge succeeded. For every succeeded charge,
    what is kept (charged minus refunded) is exactly the price of the booking's seats still sold
    plus the fees of its cancellations, and every recorded refund has been paid out.
    """
    for seat in EventSeat.objects.filter(event=event, status="sold").select_related("booking"):
        assert seat.booking is not None and seat.booking.status == "paid", f"seat {seat.pk} sold without payment"
        attempt = PaymentAttempt.objects.get(idempotency_key=seat.booking.idempotency_key)
        assert attempt.status == "succeeded"
    for booking in Booking.objects.filter(event=event):
        attempt = PaymentAttempt.objects.filter(idempotency_key=booking.idempotency_key, status="succeeded").first()
        if attempt is None:
            assert booking.status != "paid", f"booking {booking.reference} paid without a charge"
            assert not booking.booking_seats.filter(is_active=True).exists() or booking.status == "pending"
            continue
        active = booking.booking_seats.filter(is_active=True)
        if booking.status == "paid":
            assert EventSeat.objects.filter(booking=booking, status="sold").count() == active.count() > 0
        else:
            assert active.count() == 0, f"{booking.reference} ({booking.status}) still reserves seats"
        sold_value = sum((bs.price for bs in active), Decimal("0")) if booking.status == "paid" else Decimal("0")
        fees = sum((c.fee for c in booking.cancellations.all()), Decimal("0"))
        refunds = sum((c.refund for c in booking.cancellations.all()), Decimal("0"))
        assert attempt.refunded_amount == refunds, f"{booking.reference}: refund recorded but not paid out"
        assert attempt.amount - attempt.refunded_amount == sold_value + fees, (
            f"{booking.reference}: keeps {attempt.amount - attempt.refunded_amount}, owns {sold_value} + fees {fees}")
