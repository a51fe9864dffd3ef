import sys

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from evently.ratelimit import RateLimited, rate_limit


def api_not_found(request):
    """Unknown API paths answer in the API's error shape, not with an HTML page."""
    return JsonResponse({"error": "not_found", "message": "No such API endpoint."}, status=404)


DATABASE_RETRY_AFTER_SECONDS = 5


def server_error(request):
    """handler500, the one place an unexpected exception becomes a response (evently/urls.py).

    A lost database connection (Postgres restarting, a failover, PgBouncer recycling) is not a bug:
    it answers 503 with Retry-After — the API's error shape under /api/, a short page elsewhere —
    so clients and balancers retry instead of reporting a crash. Whatever the request wrote was in
    a transaction Postgres rolled back when the connection died: nothing is half-written, and
    Django closes the broken connection at the end of the request. Anything else stays a 500 (JSON
    under /api/).
    """
    error = sys.exc_info()[1]
    is_api = request.path.startswith("/api/")
    if isinstance(error, OperationalError | InterfaceError):
        message = "The service is briefly unavailable; please try again in a few seconds."
        if is_api:
            response = JsonResponse({"error": "unavailable", "message": message}, status=503)
        else:
            response = HttpResponse(f"<!doctype html><title>Please try again</title><h1>{message}</h1>",
                                    status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if is_api:
        return JsonResponse({"error": "server_error", "message": "Something went wrong on our side."}, status=500)
    return defaults.server_error(request)


def _login_throttled(request):
    """None if this login attempt may go on; else the 429 answer (JSON for API clients, the form for people).

    Every attempt takes a token from the client IP's, its network's and the username's buckets
    (settings.RATE_LIMITS["login"]), so neither guessing one account's password from many
    addresses nor many accounts' from one address gets far.
    """
    if request.method != "POST":
        return None
    try:
        rate_limit("login", request=request, username=(request.POST.get("username") or "")[:150])
    except RateLimited as limited:
        retry_after = str(limited.extra["retry_after"])
        if "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse(limited.as_dict(), status=429)
        else:
            response = render(request, "registration/login_throttled.html", {"message": limited.message}, status=429)
        response["Retry-After"] = retry_after
        return response
    return None


class LoginView(auth_views.LoginView):
    """Django's login (used by the check-in page and the site), throttled."""

    def post(self, request, *args, **kwargs):
        return _login_throttled(request) or super().post(request, *args, **kwargs)


def admin_login(request, extra_context=None):
    """The admin's login, throttled the same way."""
    return _login_throttled(request) or admin.site.login(request, extra_context)


class LogoutView(auth_views.LogoutView):
    """Log out, and tell the browser to wipe what it stored for this site (the check-in page's
    offline ticket list, its queued scans once synced, cached pages): a door phone handed on
    carries no guest data. The check-in page syncs its queue before it sends this."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
