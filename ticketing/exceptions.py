"""What can go wrong when buying seats, each with a stable code the API returns verbatim."""

from evently.errors import Conflict, DomainError, InvalidInput, NotFound, TooManyRequests


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


class SeatsBusy(TooManyRequests):
    code = "busy"
    message = "These seats are in high demand right now; please try again in a moment."

# --- tickets, transfers, my bookings, waitlist (issue 5) ----------------------------------------

class TicketNotFound(NotFound):
    code = "ticket_not_found"
    message = "No such ticket."


class TicketsNotIssued(Conflict):
    code = "tickets_not_issued"
    message = "This booking has no tickets yet (it is not paid)."


class TransferLimit(DomainError):
    code = "transfer_limit"
    message = "This ticket was itself received by transfer and cannot be transferred again."


class TicketNotTransferable(DomainError):
    """`code` says why: ticket_cancelled, ticket_transferred, ticket_used or event_started."""

    code = "ticket_not_transferable"
    message = "This ticket cannot be transferred."


class SeatsTransferred(Conflict):
    code = "seats_transferred"
    message = ("These tickets were transferred: they belong to their new holders now, so you cannot cancel them.")


class SeatsUsed(Conflict):
    code = "ticket_used"
    message = "These tickets were already used at the door: they cannot be cancelled."


class MagicLinkInvalid(InvalidInput):
    code = "magic_link_invalid"
    message = "This link is not valid. Ask for a new one."


class MagicLinkExpired(InvalidInput):
    code = "magic_link_expired"
    message = "This link has expired. Ask for a new one."


class WaitlistSeatsAvailable(Conflict):
    code = "seats_available"
    message = "Seats are available: book them instead of joining the waitlist."


class WaitlistDuplicate(Conflict):
    code = "waitlist_duplicate"
    message = "This e-mail address is already on the waitlist for this event."


class WaitlistEntryNotFound(NotFound):
    code = "waitlist_entry_not_found"
    message = "No such waitlist entry."


class WaitlistOfferNotAvailable(Conflict):
    """`code` says why: offer_expired, offer_claimed or not_offered."""

    code = "offer_not_available"
    message = "There is no open offer for this waitlist entry."


class WaitlistClosed(DomainError):
    code = "waitlist_closed"
    message = "This event has no waitlist (it is not on sale)."

# --- sales rules (order limits, cancellation, payment webhooks) --------------------------------

class OrderLimitExceeded(DomainError):
    code = "order_limit_exceeded"
    message = "Too many seats for one order of this event."


class EmailLimitExceeded(DomainError):
    code = "email_limit_exceeded"
    message = "This e-mail address has already booked the most seats allowed for this event."


class CancellationNotAllowed(DomainError):
    code = "cancellation_not_allowed"
    message = "This event's tickets cannot be cancelled."


class CancellationDeadlinePassed(DomainError):
    code = "cancellation_deadline_passed"
    message = "The deadline for cancelling has passed."


class SeatsNotInBooking(InvalidInput):
    code = "seats_not_in_booking"
    message = "Some of these seats are not (or no longer) part of this booking."


class EventNotCancellable(Conflict):
    code = "event_not_cancellable"
    message = "This event has already finished or been cancelled."


class WebhookSignatureInvalid(InvalidInput):
    code = "invalid_signature"
    message = "The webhook signature is missing, wrong or too old."


class SeatsNotBlockable(Conflict):
    code = "seats_not_blockable"
    message = "Only available seats can be blocked; some of these are held or sold."


class BoxOfficeNotAllowed(DomainError):
    code = "box_office_not_allowed"
    message = "The box office cannot sell tickets for this event now."


class SectionNotFound(NotFound):
    code = "section_not_found"
    message = "No such section at this event's venue."


# --- general admission (issue 15) -------------------------------------------------------------------


class InsufficientCapacity(Conflict):
    code = "insufficient_capacity"
    message = "Not enough places are left in this area."


class AreaNotFound(NotFound):
    code = "area_not_found"
    message = "This event has no such general-admission area."


class NotAnArea(InvalidInput):
    code = "not_an_area"
    message = "This section has numbered seats: choose seats instead of a quantity."
class NoAdjacentSeats(Conflict):
    code = "no_adjacent_seats"
    message = "No row has that many seats together right now."


class SingleSeatGap(DomainError):
    code = "single_seat_gap"
    message = "Your seats would leave a single empty seat between taken seats. Add it, or choose other seats."


# --- vouchers (issue 18) ---

class VoucherError(DomainError):
    """Why a voucher code cannot be used; checkout shows it beside the code, not as a payment error."""


class VoucherUnknown(VoucherError, InvalidInput):
    code = "voucher_unknown"
    message = "There is no voucher with this code for this event. Check the spelling."


class VoucherNotYetValid(VoucherError, Conflict):
    code = "voucher_not_yet_valid"
    message = "This voucher cannot be used yet."


class VoucherExpired(VoucherError, Conflict):
    code = "voucher_expired"
    message = "This voucher is no longer valid."


class VoucherUsedUp(VoucherError, Conflict):
    code = "voucher_used_up"
    message = "This voucher has been used up."


class VoucherNotApplicable(VoucherError, Conflict):
    code = "voucher_not_applicable"
    message = "This voucher does not apply to the seats in your order."
