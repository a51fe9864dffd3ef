"""Domain errors and their one mapping to HTTP.

Services raise `DomainError` subclasses with a stable `code`; the API turns every one of them
into `{"error": code, "message": ..., **extra}` with the class's status. Nothing else in the
code base decides an error's HTTP shape.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 422
    code = "rule_broken"
    message = "This request breaks a booking rule."

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra):
        self.message = message or self.message
        self.code = code or self.code
        self.extra = extra
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"error": self.code, "message": self.message, **self.extra}


class InvalidInput(DomainError):
    status = 400
    code = "invalid_request"
    message = "The request is not valid."


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
    message = "You may not do this."


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class TooManyRequests(DomainError):
    status = 429
    code = "busy"
    message = "Too many requests right now; please try again in a moment."
