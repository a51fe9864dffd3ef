"""Passwordless "my bookings": a signed, expiring link proves that someone reads an e-mail address.

The link carries `TimestampSigner(salt=MAGIC_LINK_SALT).sign_object({"email": ...})`: nothing is
stored server-side, tampering breaks the signature, and `max_age` ends it after
MAGIC_LINK_MAX_AGE_SECONDS. Whoever opens it gets the address stored in their session.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.db.models import Q
from django.db.models.functions import Lower

from ticketing.models import Booking, BookingStatus, Ticket, TicketStatus
from ticketing.services.delivery import email_enqueue
from ticketing.services.magic_links import MAGIC_LINK_SALT, magic_link_email, magic_link_token  # noqa: F401

MAGIC_LINK_COOLDOWN_SECONDS = 60


def magic_link_request(*, email: str) -> bool:
    """E-mail a sign-in link to `email` if it has bookings or holds tickets; returns whether one was sent.

    The caller answers the same either way, so nobody learns which addresses have bookings. One
    link per address per minute (a Redis key), so the form cannot be used to flood an inbox.
    """
    email = email.strip().lower()
    if not (Booking.objects.alias(email=Lower("customer_email")).filter(email=email).exists()
            or Ticket.objects.filter(holder_email__iexact=email, status=TicketStatus.VALID).exists()):
        return False
    if not cache.add(f"magic-link:{email}", 1, timeout=MAGIC_LINK_COOLDOWN_SECONDS):
        return False
    # Through the send-once outbox; the key's time bucket also limits an address to one link a minute.
    bucket = int(time.time()) // MAGIC_LINK_COOLDOWN_SECONDS
    email_enqueue(kind="magic-link", object_id=0, to=email,
                  key=f"magic-link:{hashlib.sha256(email.encode()).hexdigest()[:32]}:{bucket}")
    return True


def bookings_of(*, email: str | None = None, user=None, owner: str | None = None):
    """Bookings someone may manage: by proven e-mail, by account, or by this browser's session."""
    condition = Q(pk__in=[])
    if email:
        condition |= Q(customer_email_lower=email.lower())
    if user is not None and getattr(user, "is_authenticated", False):
        condition |= Q(user=user)
    if owner:
        condition |= Q(buyer=owner)
    return (
        Booking.objects.alias(customer_email_lower=Lower("customer_email")).filter(condition)
        .exclude(status__in=[BookingStatus.FAILED, BookingStatus.EXPIRED])
        .select_related("event__venue")
        .order_by("-created_at")
    )


def tickets_received(*, email: str | None):
    """Valid tickets transferred to `email` (proven by magic link): the new holder's own tickets."""
    if not email:
        return Ticket.objects.none()
    return (
        Ticket.objects.filter(holder_email__iexact=email, status=TicketStatus.VALID, transferred_from__isnull=False)
        .select_related("booking__event__venue", "booking_seat__event_seat__seat__section")
        .order_by("booking__event__starts_at", "id")
    )
