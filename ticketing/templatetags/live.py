"""`{% live_ws_meta %}`: tells the seat map where to open its websockets when they are served elsewhere."""

from django import template
from django.conf import settings
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def live_ws_meta() -> str:
    """A <meta> with LIVE_WS_URL (e.g. `make run` with WS_WORKERS), or nothing: the page's own origin."""
    if not settings.LIVE_WS_URL:
        return ""
    return format_html('<meta name="evently-live-ws" content="{}">', settings.LIVE_WS_URL.rstrip("/"))
