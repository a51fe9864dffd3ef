"""The "my bookings" magic link's token: a signed, expiring proof that someone reads an e-mail address.

`TimestampSigner(salt=MAGIC_LINK_SALT).sign_object({"email": ...})`: nothing is stored server-side,
tampering breaks the signature, and `max_age` ends it after MAGIC_LINK_MAX_AGE_SECONDS.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from ticketing.exceptions import MagicLinkExpired, MagicLinkInvalid

MAGIC_LINK_SALT = "evently.my-bookings"


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
