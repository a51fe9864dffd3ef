"""Who is buying: a random id kept in the session, stable across login (Django keeps session data)."""

import uuid

from django.middleware.csrf import CsrfViewMiddleware

from evently.errors import PermissionDenied

SESSION_KEY = "buyer"


def buyer_id(request) -> str:
    buyer = request.session.get(SESSION_KEY)
    if not buyer:
        buyer = request.session[SESSION_KEY] = uuid.uuid4().hex
    return buyer


def buyer_id_if_known(request) -> str | None:
    return request.session.get(SESSION_KEY)


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    message = "Missing or wrong CSRF token: send the csrftoken cookie's value in the X-CSRFToken header."


def _no_view(request):  # pragma: no cover - CsrfViewMiddleware needs a callable
    return None


def csrf_buyer(request) -> str:
    """django-ninja auth for session POSTs: enforce Django's CSRF check, then name the buyer."""
    if CsrfViewMiddleware(_no_view).process_view(request, None, (), {}) is not None:
        raise CsrfFailed()
    return buyer_id(request)
