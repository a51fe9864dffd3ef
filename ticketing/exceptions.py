"""What can go wrong when buying seats, each with a stable code the API returns verbatim."""

from evently.errors import Conflict, DomainError, InvalidInput, NotFound


class SaleNotActive(DomainError):
    code = "sale_not_active"
    message = "Tickets for this event are not on sale right now."


class SeatsUnavailable(Conflict):
    code = "seats_unavailable"
    message = "Some of these seats were just taken by someone else."


class UnknownSeats(InvalidInput):
    code = "unknown_seats"
    message = "Some of these seats do not belong to this event."


class HoldLimitExceeded(DomainError):
    code = "hold_limit_exceeded"
    message = "You cannot hold that many seats for one event."


class NoHeldSeats(DomainError):
    code = "no_held_seats"
    message = "You hold no seats for this event, or your hold has expired."


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"
    message = "The payment was declined. Your seats stay held while your time lasts."


class BookingNotFound(NotFound):
    code = "booking_not_found"
    message = "No such booking."


class BookingNotCancellable(Conflict):
    code = "booking_not_cancellable"
    message = "This booking cannot be cancelled in its current state."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This idempotency key belongs to another request."


class EventNotFound(NotFound):
    code = "event_not_found"
    message = "No such event."


class SectionNotFound(NotFound):
    code = "section_not_found"
    message = "No such section at this event's venue."
