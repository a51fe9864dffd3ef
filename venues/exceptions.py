"""What can go wrong with venues and venue bookings, each with a stable code."""

from evently.errors import Conflict, DomainError, InvalidInput, NotFound


class InvalidLayout(InvalidInput):
    code = "invalid_layout"
    message = "These template parameters do not make a valid seat layout."


class VenueHasSales(Conflict):
    code = "venue_has_sales"
    message = "This venue's seats cannot be regenerated: some are held or sold."


class VenueBookingConflict(Conflict):
    code = "venue_booking_conflict"
    message = "The venue is already booked at that time."


class VenueBookingNotFound(NotFound):
    code = "venue_booking_not_found"
    message = "No such venue booking."


class VenueBookingInvalid(InvalidInput):
    code = "venue_booking_invalid"
    message = "This venue booking is not valid."


class VenueBookingWrongStatus(Conflict):
    code = "venue_booking_wrong_status"
    message = "This venue booking cannot do that in its current state."


class DepositDeclined(DomainError):
    status = 402
    code = "deposit_declined"
    message = "The deposit payment was declined; the booking stays requested."


class DepositPending(DomainError):
    status = 503
    code = "deposit_pending"
    message = "The payment provider did not answer; try again (you will not be charged twice)."
