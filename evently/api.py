"""The JSON API: one NinjaAPI, every error in one shape: {"error": code, "message": ..., ...}."""

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import BaseRenderer

from evently.errors import DomainError


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data, *, response_status):
        return orjson.dumps(data, default=str)


api = NinjaAPI(
    title="Evently API",
    version="1.0",
    description="Seat-level event ticketing. Errors: {\"error\": code, \"message\": text}.",
    renderer=OrjsonRenderer(),
    urls_namespace="api",
)


def error_response(request, status: int, code: str, message: str, **extra):
    return api.create_response(request, {"error": code, "message": message, **extra}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if exc.status == 429:
        response["Retry-After"] = str(exc.extra.get("retry_after", 1))
    return response


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request, exc):
    return error_response(request, 413, "payload_too_large",
                          f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = [
        {"field": ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload")),
         "problem": error.get("msg", "")}
        for error in exc.errors
    ]
    summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details[:5])
    return error_response(request, 400, "invalid_request", f"The request is not valid ({summary}).", details=details)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return error_response(request, 401, "not_authenticated", "Please log in first.")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = "invalid_json" if exc.status_code == 400 else "http_error"
    return error_response(request, exc.status_code, code, str(exc))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, 404, "not_found", "Not found.")


api.add_router("", "events.api.router")
api.add_router("", "ticketing.api.router")
api.add_router("", "ticketing.api_tickets.router")  # tickets PDF, transfer, my bookings, waitlist
api.add_router("", "ticketing.api_sales.router")
api.add_router("", "checkin.api.router")
