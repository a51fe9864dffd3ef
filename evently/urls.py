from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from evently.api import api
from evently.views import LoginView, LogoutView, admin_login, api_not_found

urlpatterns = [
    path("admin/login/", admin_login),  # throttled (evently.views), before the admin's own URL
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("api/", api.urls),
    path("checkin/", include("checkin.urls")),
    re_path(r"^api/.*$", api_not_found),
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    path("", include("ticketing.urls")),  # my bookings, waitlist pages (docs/tickets.md)
    path("", include("ticketing.urls")),
    path("", include("events.urls")),
]

# Unexpected exceptions: a lost database connection answers 503 + Retry-After (evently/views.py).
handler500 = "evently.views.server_error"
