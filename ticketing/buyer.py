"""Who is buying: a random id kept in the session, stable across login (Django keeps session data)."""

import uuid

from evently.api_auth import csrf_check

SESSION_KEY = "buyer"


def buyer_id(request) -> str:
    buyer = request.session.get(SESSION_KEY)
    if not buyer:
        buyer = request.session[SESSION_KEY] = uuid.uuid4().hex
    return buyer


def buyer_id_if_known(request) -> str | None:
    return request.session.get(SESSION_KEY)


def csrf_buyer(request) -> str:
    """django-ninja auth for session POSTs: enforce Django's CSRF check, then name the buyer."""
    csrf_check(request)
    return buyer_id(request)
