"""The API's one session authentication: Django's CSRF check for cookie-authenticated writes.

Every JSON endpoint that changes something on behalf of a browser session (a buyer's hold, a
door scan) passes the same check the HTML forms pass: the csrftoken cookie's value must come
back in the X-CSRFToken header. A failure is a 403 `csrf_failed` in the API's error shape.
"""

from __future__ import annotations

from django.middleware.csrf import CsrfViewMiddleware

from evently.errors import PermissionDenied


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    message = "Missing or wrong CSRF token: send the csrftoken cookie's value in the X-CSRFToken header."


def _unused_view(request):  # pragma: no cover - CsrfViewMiddleware needs a view callable; it never runs
    return None


_csrf_middleware = CsrfViewMiddleware(_unused_view)


def csrf_check(request) -> None:
    """Raise CsrfFailed unless the request passes Django's CSRF check (GET, HEAD, OPTIONS always pass).

    Call it first in a django-ninja auth callable for session-authenticated endpoints.
    """
    if _csrf_middleware.process_view(request, None, (), {}) is not None:
        raise CsrfFailed()

