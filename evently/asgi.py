"""HTTP and websockets: on one port (`application`), or websockets in processes of their own.

`application` (what `make run` serves): HTTP goes to the WSGI app on a fixed thread pool (a2wsgi):
sync Django views under Django's own ASGI handler run one at a time per process
(thread-sensitive sync_to_async), which measured several times slower here
(docs/performance.md). Websockets go to the live seat maps (ticketing.consumers).

`websocket_application` serves only the live seat maps (and `GET /ws/health` for a balancer):
run it in processes of its own (`WS_WORKERS` in `make run`, ws nodes behind the balancer in
production, docs/scaling.md) so that a crowd of viewers never shares a process — and its
interpreter lock — with the requests that sell seats.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi = get_asgi_application()  # sets Django up before consumers are imported

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from evently.env import env_int  # noqa: E402
from evently.wsgi import application as wsgi_application  # noqa: E402
from ticketing.routing import websocket_server_http, websocket_urlpatterns  # noqa: E402

# Seat maps are public: no session or user is looked up per connection (that would cost a query per
# viewer, and the session middleware wraps `send`, hiding the connection the slow-viewer check reads).
# The Origin check stays: only pages of our own hosts may open them.
live_websockets = AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns))

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(wsgi_application, workers=env_int("WEB_THREADS", 8)),
        "websocket": live_websockets,
    }
)


websocket_application = ProtocolTypeRouter({"http": websocket_server_http, "websocket": live_websockets})
