"""Who is buying: a random id in a signed cookie of its own, so a new buyer costs no database write.

The id names the buyer's holds (`EventSeat.hold_owner`) and bookings (`Booking.buyer`). It lives
in the `evently_buyer` cookie, signed with the secret key: it cannot be forged or guessed, it needs
no server-side storage (a lost Redis or a flushed session table gives nobody else's seats away),
and it stays the same across login and logout. Django's session is left for logged-in users and
"my bookings" e-mails.
"""

import secrets

from django.conf import settings
from django.core import signing

from evently.api_auth import csrf_check

BUYER_COOKIE = "evently_buyer"
BUYER_COOKIE_MAX_AGE = 60 * 60 * 24 * 90
_signer = signing.Signer(salt="evently.buyer")


def buyer_id(request) -> str:
    """The request's buyer id; a new one (set as a cookie on the response) for a new buyer."""
    buyer = buyer_id_if_known(request)
    if buyer is None:
        buyer = request._evently_new_buyer = secrets.token_hex(16)
    return buyer


def buyer_id_if_known(request) -> str | None:
    new = getattr(request, "_evently_new_buyer", None)
    if new:
        return new
    value = request.COOKIES.get(BUYER_COOKIE)
    if not value:
        return None
    try:
        return _signer.unsign(value)
    except signing.BadSignature:
        return None


def buyer_cookie_value(buyer: str) -> str:
    return _signer.sign(buyer)


class BuyerCookieMiddleware:
    """Sets the cookie of a buyer id first handed out during this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        buyer = getattr(request, "_evently_new_buyer", None)
        if buyer:
            response.set_cookie(
                BUYER_COOKIE, buyer_cookie_value(buyer), max_age=BUYER_COOKIE_MAX_AGE, httponly=True,
                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def csrf_buyer(request) -> str:
    """django-ninja auth for session POSTs: enforce Django's CSRF check, then name the buyer."""
    csrf_check(request)
    return buyer_id(request)
