"""Payment-provider webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", Stripe-style.

Header: `X-Evently-Signature: t=<unix seconds>,v1=<hex digest>`. The timestamp is signed too, so
an old captured request cannot be replayed outside the tolerance window; replays inside it are
caught by the webhook id (`PaymentWebhookEvent.event_id` is unique).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings

SIGNATURE_HEADER = "X-Evently-Signature"


def webhook_signature(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """The header value a provider sends with `body` (used by tests and the fake provider)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = settings.PAYMENT_WEBHOOK_SECRET if secret is None else secret
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_is_valid(body: bytes, header: str | None, *, now: float | None = None) -> bool:
    if not header:
        return False
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS:
        return False
    expected = webhook_signature(body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
