"""Box-office sales: the organizer sells seats over the counter (cash or complimentary).

No payment provider is involved, so the whole sale is one short transaction: take the seats
with one conditional UPDATE, create the paid booking, its seats and tickets, bump the version.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from events.models import Event, EventStatus
from ticketing.exceptions import BoxOfficeNotAllowed, EventNotFound, SeatsUnavailable, UnknownSeats
from ticketing.models import Booking, BookingSeat, BookingStatus, BoxOfficeMethod, BoxOfficeSale
from ticketing.seat_state import free_seat_sql, seats_changed
from ticketing.services.areas import boxoffice_places_sell
from ticketing.services.availability import event_availability_refresh
from ticketing.services.bookings import Customer, booking_reference_new
from ticketing.services.tickets import event_signing_key, tickets_issue_for, tickets_issue_places_for

SELLABLE_STATUSES = (EventStatus.PUBLISHED, EventStatus.ON_SALE, EventStatus.SOLD_OUT)

# Available seats, blocked ones (house seats are released at the box office), and expired holds
# nobody is paying for. A live hold or a sold seat is never taken.
SELL_SQL = """
UPDATE ticketing_eventseat es
   SET status = 'sold', hold_owner = '', held_until = NULL, booking_id = %(booking_id)s
  FROM events_seatcategory category
 WHERE es.event_id = %(event_id)s AND es.id = ANY(%(seat_ids)s) AND category.id = es.category_id
   AND (es.status = 'blocked' OR {free})
RETURNING es.id, category.price
""".format(free=free_seat_sql("es"))


def boxoffice_sell(*, event_id: int, seat_ids: list[int], customer: Customer, method: str, sold_by,
                   places: dict[int, int] | None = None) -> Booking:
    """Sell `seat_ids` (and `places`: general-admission area id → quantity) to `customer` at the box office:
    all of them or none.

    `method` is "cash" (the category prices, paid at the counter) or "comp" (free). Returns the
    paid booking with its tickets; the seller is recorded in BoxOfficeSale. Raises
    SeatsUnavailable (with the taken ids), UnknownSeats, BoxOfficeNotAllowed, EventNotFound.
    """
    if method not in BoxOfficeMethod.values:
        raise BoxOfficeNotAllowed(f"Unknown box-office payment method {method!r}; use cash or comp.")
    seat_ids = sorted(set(seat_ids))
    places = {area_id: quantity for area_id, quantity in (places or {}).items() if quantity}
    if any(quantity < 0 for quantity in places.values()):
        raise BoxOfficeNotAllowed("A quantity of places cannot be negative.")
    if not seat_ids and not places:
        raise BoxOfficeNotAllowed("Select at least one seat to sell.")
    event = Event.objects.filter(pk=event_id).only("id", "status").first()
    if event is None:
        raise EventNotFound()
    if event.status not in SELLABLE_STATUSES:
        raise BoxOfficeNotAllowed(f"The box office sells only for published events on sale; this one is "
                                  f"{event.get_status_display().lower()}.", status=event.status)
    event_signing_key(event_id)  # outside the seat transaction: made once per event
    now = timezone.now()
    with transaction.atomic():
        booking = Booking(
            event_id=event_id, buyer=f"boxoffice:{sold_by.pk}", customer_name=customer.name,
            customer_email=customer.email, customer_phone=customer.phone, status=BookingStatus.PAID,
            total=Decimal("0"), currency=settings.CURRENCY, idempotency_key=f"boxoffice-{uuid.uuid4().hex}",
            expires_at=now, paid_at=now, reference=booking_reference_new(),
        )
        try:
            with transaction.atomic():
                booking.save()
        except IntegrityError:
            booking.reference = booking_reference_new()  # the 1-in-10^12 reference collision
            booking.save()
        with connection.cursor() as cursor:
            place_prices = boxoffice_places_sell(cursor, event_id=event_id, booking_id=booking.pk, places=places,
                                                 is_comp=method != BoxOfficeMethod.CASH) if places else []
            cursor.execute(SELL_SQL, {"booking_id": booking.pk, "event_id": event_id, "seat_ids": seat_ids})
            sold = dict(cursor.fetchall())
            if len(sold) != len(seat_ids):
                missing = sorted(set(seat_ids) - set(sold))
                cursor.execute("SELECT id FROM ticketing_eventseat WHERE event_id = %s AND id = ANY(%s)",
                               [event_id, missing])
                known = {row[0] for row in cursor.fetchall()}
                if len(known) != len(missing):
                    raise UnknownSeats(seat_ids=sorted(set(missing) - known))
                raise SeatsUnavailable(seat_ids=missing)  # leaving atomic() undoes the booking and the seats
            prices = {seat_id: (price if method == BoxOfficeMethod.CASH else Decimal("0"))
                      for seat_id, price in sold.items()}
            BookingSeat.objects.bulk_create(
                BookingSeat(booking=booking, event_seat_id=seat_id, price=price) for seat_id, price in prices.items()
            )
            booking.total = sum(prices.values(), Decimal("0")) + sum(place_prices, Decimal("0"))
            booking.payment_reference = f"cash:{booking.reference}" if method == BoxOfficeMethod.CASH else "comp"
            booking.save(update_fields=["total", "payment_reference"])
            BoxOfficeSale.objects.create(booking=booking, sold_by=sold_by, method=method)
            tickets_issue_for(booking)
            if places:
                tickets_issue_places_for(booking)
            seats_changed(cursor, event_id=event_id, seat_ids=sorted(sold))
    event_availability_refresh(event_id=event_id)  # the last seat sold here makes the event sold out
    return booking
