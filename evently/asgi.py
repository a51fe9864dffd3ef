"""One origin for HTTP and websockets.

HTTP goes to the WSGI app on a fixed thread pool (a2wsgi): sync Django views under Django's own
ASGI handler run one at a time per process (thread-sensitive sync_to_async), which measured
several times slower here (docs/performance.md). Websockets go to Channels consumers.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi = get_asgi_application()  # sets Django up before consumers are imported

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from evently.env import env_int  # noqa: E402
from evently.wsgi import application as wsgi_application  # noqa: E402
from ticketing.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(wsgi_application, workers=env_int("WEB_THREADS", 8)),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
