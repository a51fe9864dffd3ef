"""The door page (a PWA), its service worker and web manifest."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.csrf import ensure_csrf_cookie

from checkin import selectors
from checkin.services import REASONS

# Bump when the app shell changes in a way an installed service worker must pick up at once.
SHELL_VERSION = "3"


def shell_files() -> list[str]:
    """What the service worker caches so the page opens with no network."""
    return ["/checkin/", static("checkin/checkin.css"), static("checkin/checkin.js"),
            static("checkin/vendor/jsQR-1.4.0.js"), static("checkin/icon.svg"), "/checkin/manifest.webmanifest"]


@login_required
@ensure_csrf_cookie
def checkin_page(request):
    events = selectors.door_events_for(request.user)
    status = 200 if events else 403
    return render(request, "checkin/scan.html", {"events": events, "reasons": REASONS}, status=status)


def service_worker(request):
    """Served from /checkin/ so its scope covers the page (a file under /static/ could not)."""
    response = render(request, "checkin/sw.js", {"version": SHELL_VERSION, "files": shell_files()},
                      content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response


def web_manifest(request):
    return render(request, "checkin/manifest.webmanifest", {}, content_type="application/manifest+json")
