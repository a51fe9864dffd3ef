"""The live seat maps' routes, and what a websocket-only server answers over HTTP."""

from urllib.parse import parse_qs

import orjson
from django.urls import path

from ticketing.consumers import LiveSeatMapConsumer, SectionCountsConsumer
from ticketing.live import live_hub_if_running

websocket_urlpatterns = [
    path("ws/events/<int:event_id>/seats", LiveSeatMapConsumer.as_asgi()),
    path("ws/events/<int:event_id>/sections", SectionCountsConsumer.as_asgi()),
]


async def websocket_server_http(scope, receive, send):
    """HTTP on a websocket-only server: `GET /ws/health` (this process's viewers, for a balancer), else 404."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/ws/health":
        hub = live_hub_if_running()
        status, body = 200, {"ok": True, "viewers": hub.subscriber_count() if hub else 0,
                             "events": len(hub.feeds) if hub else 0,
                             "load_factor": round(hub.load_factor, 2) if hub else 1.0, **(hub.stats if hub else {})}
        seconds = _seconds(scope)
        if hub and seconds:  # ?seconds=N: how late messages left over the last N seconds (benchmarks)
            body["age_ms"] = hub.age_report(seconds)
    else:
        status, body = 404, {"error": "not_found", "message": "This server serves only websockets (/ws/)."}
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})


def _seconds(scope) -> float:
    try:
        return min(3600.0, float(parse_qs(scope.get("query_string", b"").decode()).get("seconds", ["0"])[0]))
    except ValueError:
        return 0.0
