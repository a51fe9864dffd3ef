"""Payment-provider webhooks: verified, recorded once, processed idempotently.

A webhook is the provider telling us about a charge we may never have heard back about (the
buyer's browser closed, our process died after the charge). `charge.succeeded` finalises the
booking — or, if it was given up meanwhile, refunds the charge (`booking_finalize`);
`charge.failed` gives a pending booking up and keeps the buyer's hold while it lasts.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from evently.errors import InvalidInput
from ticketing.exceptions import WebhookSignatureInvalid
from ticketing.models import Booking, BookingStatus, PaymentWebhookEvent
from ticketing.services.bookings import booking_fail, booking_finalize
from ticketing.webhooks import webhook_signature_is_valid


class WebhookPayloadInvalid(InvalidInput):
    code = "invalid_webhook"
    message = "The webhook body is not a payment event we understand."


def payment_webhook_receive(*, body: bytes, signature: str | None) -> dict:
    """Verify, record and process one webhook delivery.

    Returns `{"status": "processed" | "duplicate", "outcome": ...}`; a replay of a processed
    webhook changes nothing. Raises WebhookSignatureInvalid (nothing recorded), WebhookPayloadInvalid.
    """
    if not webhook_signature_is_valid(body, signature):
        raise WebhookSignatureInvalid()
    try:
        payload = orjson.loads(body)
        event_id, event_type, data = payload["id"], payload["type"], payload["data"]
        if not (isinstance(event_id, str) and event_id and isinstance(event_type, str) and isinstance(data, dict)
                and isinstance(data.get("idempotency_key"), str)):
            raise TypeError
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise WebhookPayloadInvalid() from None
    try:
        with transaction.atomic():
            record, _ = PaymentWebhookEvent.objects.get_or_create(
                event_id=event_id[:100], defaults={"type": event_type[:50], "payload": payload}
            )
    except IntegrityError:  # a concurrent delivery of the same webhook inserted it first
        record = PaymentWebhookEvent.objects.get(event_id=event_id[:100])
    if record.processed_at is not None:
        return {"status": "duplicate", "outcome": record.outcome}
    # Processing is idempotent, so a delivery recorded before a crash is simply processed again.
    outcome = _webhook_process(event_type, data)
    PaymentWebhookEvent.objects.filter(pk=record.pk).update(processed_at=timezone.now(), outcome=outcome[:200])
    return {"status": "processed", "outcome": outcome}


def _webhook_charge_matches(booking: Booking, data: dict) -> bool:
    """A webhook that reports an amount must report this booking's total and currency."""
    if "amount" not in data and "currency" not in data:
        return True
    try:
        return Decimal(str(data.get("amount"))) == booking.total and data.get("currency") == booking.currency
    except (InvalidOperation, ValueError):
        return False


def _webhook_process(event_type: str, data: dict) -> str:
    booking = Booking.objects.filter(idempotency_key=data["idempotency_key"]).first()
    if booking is None:
        return "unknown_booking"
    if event_type == "charge.succeeded":
        reference = str(data.get("reference") or "")[:100]
        if not _webhook_charge_matches(booking, data):
            return "amount_mismatch"
        booking = booking_finalize(booking.pk, payment_reference=reference)
        if booking.status == BookingStatus.PAID:
            return "booking_paid"
        return "refund_recorded"
    if event_type == "charge.failed":
        if booking.status == BookingStatus.PENDING:
            booking_fail(booking.pk, reason=str(data.get("reason") or "Payment failed.")[:200], keep_hold=True)
            return "booking_failed"
        return f"ignored_booking_{booking.status}"
    return "ignored_type"
