"""Passwordless "my bookings": a signed, expiring link proves that someone reads an e-mail address.

The link carries `TimestampSigner(salt=MAGIC_LINK_SALT).sign_object({"email": ...})`: nothing is
stored server-side, tampering breaks the signature, and `max_age` ends it after
MAGIC_LINK_MAX_AGE_SECONDS. Whoever opens it gets the address stored in their session.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from ticketing.exceptions import MagicLinkExpired, MagicLinkInvalid
from ticketing.models import Booking, BookingStatus

MAGIC_LINK_SALT = "evently.my-bookings"
MAGIC_LINK_COOLDOWN_SECONDS = 60


def magic_link_token(email: str) -> str:
    return signing.TimestampSigner(salt=MAGIC_LINK_SALT).sign_object({"email": email.strip().lower()})


def magic_link_email(token: str) -> str:
    """The e-mail address the token was made for. Raises MagicLinkExpired or MagicLinkInvalid."""
    signer = signing.TimestampSigner(salt=MAGIC_LINK_SALT)
    try:
        return signer.unsign_object(token, max_age=settings.MAGIC_LINK_MAX_AGE_SECONDS)["email"]
    except signing.SignatureExpired:
        raise MagicLinkExpired() from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise MagicLinkInvalid() from None


def magic_link_request(*, email: str) -> bool:
    """E-mail a sign-in link to `email` if it has bookings; returns whether one was sent.

    The caller answers the same either way, so nobody learns which addresses have bookings. One
    link per address per minute (a Redis key), so the form cannot be used to flood an inbox.
    """
    email = email.strip().lower()
    if not Booking.objects.alias(email=Lower("customer_email")).filter(email=email.lower()).exists():
        return False
    if not cache.add(f"magic-link:{email}", 1, timeout=MAGIC_LINK_COOLDOWN_SECONDS):
        return False
    url = f"{settings.PUBLIC_URL}/my-bookings/?{urlencode({'token': magic_link_token(email)})}"

    def send():
        from django_q.tasks import async_task

        async_task("ticketing.tasks.magic_link_send", email, url)

    transaction.on_commit(send)
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
