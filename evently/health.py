"""`GET /healthz`: is this process able to serve? For balancers, container health checks and people.

It answers before any other middleware: a balancer asks by IP address (no allowed Host), over
plain HTTP behind TLS termination (no HTTPS redirect), without cookies. 200 when the database
(through PgBouncer, where there is one) and Redis answer, else 503 with the API's error shape,
so a balancer takes the node out while it cannot reach them.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != PATH:
            return self.get_response(request)
        return health_response()


def health_response() -> JsonResponse:
    node = settings.EVENTLY_NODE
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        cache.raw_client().ping()  # raises when Redis is down (cache.get would answer "miss")
    except Exception as error:  # any failure means "not ready": say which, never a 500 page
        logger.warning("health check failed: %s", error)
        return JsonResponse(
            {"error": "unavailable", "message": f"{type(error).__name__}: {error}"[:300], "node": node}, status=503
        )
    return JsonResponse({"status": "ok", "node": node})
