"""One locking queryset per table, always in primary-key order, so lockers cannot deadlock.

Lock order across tables: Booking before EventSeat. Holds and phase 1 of a confirm lock seats
only; everything that starts from a booking locks the booking row first. Holds lock their
quota-limited PricingTier rows before the seats (only holds lock tiers); phase 1 takes the
per-e-mail advisory lock after the seats (nothing takes it first).
"""

from ticketing.models import Booking, EventSeat


def event_seats_for_update(**filters):
    return EventSeat.objects.select_for_update(of=("self",)).filter(**filters).order_by("id")


def booking_for_update(booking_id: int) -> Booking:
    return Booking.objects.select_for_update(of=("self",)).select_related("event").get(pk=booking_id)
