"""Refunds: recorded as Cancellation rows inside a transaction, paid out after commit.

Each Cancellation is refunded under its own provider refund key (`cancellation-<id>`), so a
retry after a crash or a timeout never refunds twice, and several partial cancellations of one
booking each get their own refund. Unpaid refunds are retried by reconciliation.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from evently.payments import PaymentError, get_payment_provider
from ticketing.models import Booking, BookingSeat, Cancellation

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")


def refund_record(*, booking: Booking, reason: str, amount: Decimal, fee: Decimal = Decimal("0"),
                  booking_seats: list[BookingSeat] = (), user=None, buyer: str = "") -> Cancellation:
    """Record a cancellation and the refund it owes; call inside the transaction that locked the booking.

    Adds the refund to `booking.refund_amount`; the caller pays it out after commit
    (`booking_refund_owed`; reconciliation retries). The buyer is told after commit.
    """
    amount, fee = Decimal(amount).quantize(CENT), Decimal(fee).quantize(CENT)
    cancellation = Cancellation.objects.create(
        booking=booking, reason=reason, amount=amount, fee=fee, refund=amount - fee,
        cancelled_by=user if getattr(user, "is_authenticated", False) else None, buyer=buyer,
    )
    if booking_seats:
        cancellation.booking_seats.set(booking_seats)
    if cancellation.refund:
        Booking.objects.filter(pk=booking.pk).update(refund_amount=F("refund_amount") + cancellation.refund)
        booking.refresh_from_db(fields=["refund_amount"])
    transaction.on_commit(lambda: _cancellation_notify_later(cancellation.pk))
    return cancellation


def cancellation_refund_pay(cancellation_id: int) -> bool:
    """Pay out one recorded refund; outside any transaction, idempotent. False if it must wait."""
    cancellation = Cancellation.objects.select_related("booking").get(pk=cancellation_id)
    booking = cancellation.booking
    if not cancellation.refund or cancellation.refund_reference:
        return True
    if not booking.payment_reference:  # nothing was charged (cannot happen for paid bookings)
        return False
    try:
        reference = get_payment_provider().refund(
            idempotency_key=booking.idempotency_key, amount=cancellation.refund,
            refund_key=f"cancellation-{cancellation.pk}",
        )
    except PaymentError:
        logger.warning("refund of cancellation %s failed; reconciliation retries it", cancellation.pk)
        return False
    Cancellation.objects.filter(pk=cancellation.pk, refund_reference="").update(refund_reference=reference)
    Booking.objects.filter(pk=booking.pk).update(refund_reference=reference)
    return True


def booking_refund_owed(booking_id: int) -> None:
    """Pay out every refund of the booking not yet paid (safe to run twice)."""
    for cancellation_id in Cancellation.objects.filter(
        booking_id=booking_id, refund__gt=0, refund_reference=""
    ).values_list("pk", flat=True):
        cancellation_refund_pay(cancellation_id)


def refunds_due() -> list[int]:
    """Booking ids with a recorded refund not yet paid out."""
    return list(
        Cancellation.objects.filter(refund__gt=0, refund_reference="", booking__payment_reference__gt="")
        .values_list("booking_id", flat=True).distinct()[:500]
    )


def _cancellation_notify_later(cancellation_id: int) -> None:
    try:
        from django_q.tasks import async_task

        async_task("ticketing.tasks.cancellation_notify", cancellation_id)
    except Exception:  # noqa: BLE001 - a notice that cannot be queued must not undo a committed refund
        logger.exception("could not queue the notice for cancellation %s", cancellation_id)
