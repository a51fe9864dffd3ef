"""What a visitor booked before, by category: the source of events.personalization's boosts.

A visitor is known by any of: the logged-in user, the buyer id of this browser (its signed cookie), and the e-mail
a "my bookings" magic link confirmed in this session. Only paid bookings count, by active tickets.
"""

from __future__ import annotations

from django.db.models import Count, Q

from ticketing.api_tickets import MY_BOOKINGS_SESSION_KEY
from ticketing.buyer import buyer_id_if_known
from ticketing.models import Booking, BookingStatus


def booked_categories(request) -> dict[str, int]:
    """{event category: tickets} over the visitor's paid bookings; {} for a visitor we do not know."""
    who = Q()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.pk is not None:
        who |= Q(user_id=user.pk)
    if buyer := buyer_id_if_known(request):
        who |= Q(buyer=buyer)
    session = getattr(request, "session", None)
    if session is not None and (email := session.get(MY_BOOKINGS_SESSION_KEY)):
        who |= Q(customer_email__iexact=email)
    if not who:
        return {}
    rows = (Booking.objects.filter(who, status=BookingStatus.PAID)
            .values("event__category")
            .annotate(tickets=Count("booking_seats", filter=Q(booking_seats__is_active=True))))
    return {row["event__category"]: row["tickets"] for row in rows if row["tickets"]}
