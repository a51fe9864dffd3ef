from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.shortcuts import render

from evently.ratelimit import RateLimited, rate_limit


def api_not_found(request):
    """Unknown API paths answer in the API's error shape, not with an HTML page."""
    return JsonResponse({"error": "not_found", "message": "No such API endpoint."}, status=404)


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
