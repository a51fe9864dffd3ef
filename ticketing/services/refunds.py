"""Refunds: recorded as Cancellation rows inside a transaction, paid out after commit.

Each Cancellation is refunded under its own provider refund key (`cancellation-<id>`), so a
retry after a crash or a timeout never refunds twice, and several partial cancellations of one
booking each get their own refund. Unpaid refunds are retried by reconciliation.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from evently.payments import PaymentError, get_payment_provider
from ticketing.models import BOX_OFFICE_REFUND_PREFIX, Booking, BookingSeat, Cancellation
from ticketing.services.delivery import email_enqueue

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
    # Through the send-once outbox: a re-run of the caller never mails the buyer twice.
    email_enqueue(kind="cancellation", object_id=cancellation.pk, to=booking.customer_email)
    return cancellation


def cancellation_refund_pay(cancellation_id: int) -> bool:
    """Pay out one recorded refund; outside any transaction, idempotent. False if it must wait.

    Box-office bookings were paid at the counter, not through the provider: their refund is
    recorded as owed at the box office (`refund_reference` "box-office:…") and never sent to the
    provider. Any failure is logged and left for the next sweep; it never escapes to the caller,
    whose cancellation has already committed.
    """
    cancellation = Cancellation.objects.select_related("booking").get(pk=cancellation_id)
    booking = cancellation.booking
    if not cancellation.refund or cancellation.refund_reference:
        return True
    if booking.is_box_office:
        reference = f"{BOX_OFFICE_REFUND_PREFIX}{booking.reference}-{cancellation.pk}"
        Cancellation.objects.filter(pk=cancellation.pk, refund_reference="").update(refund_reference=reference)
        Booking.objects.filter(pk=booking.pk).update(refund_reference=reference)
        return True
    if not booking.payment_reference:  # nothing was charged (cannot happen for paid bookings)
        return False
    Cancellation.objects.filter(pk=cancellation.pk).update(refund_attempted_at=timezone.now())
    try:
        reference = get_payment_provider().refund(
            idempotency_key=booking.idempotency_key, amount=cancellation.refund,
            refund_key=f"cancellation-{cancellation.pk}",
        )
    except PaymentError:
        logger.warning("refund of cancellation %s failed; reconciliation retries it", cancellation.pk)
        return False
    except Exception:  # noqa: BLE001 - a provider bug must not undo a committed cancellation or stop a sweep
        logger.exception("refund of cancellation %s failed unexpectedly; reconciliation retries it", cancellation.pk)
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
    """Booking ids with a recorded refund not yet paid out: never tried first, then least recently tried,
    so refunds the provider keeps refusing go to the back of the line instead of blocking it."""
    booking_ids = (
        Cancellation.objects.filter(refund__gt=0, refund_reference="", booking__payment_reference__gt="")
        .order_by(F("refund_attempted_at").asc(nulls_first=True), "pk")
        .values_list("booking_id", flat=True)[:500]
    )
    return list(dict.fromkeys(booking_ids))
