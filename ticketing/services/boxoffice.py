"""Box-office sales: the organizer sells seats over the counter (cash, card or complimentary).

Cash and complimentary involve no payment provider, so the whole sale is one short transaction:
fix each seat's price (the pricing tier selling now, its quota locked as a hold locks it), take
the seats with one conditional UPDATE, create the paid booking, its seats and tickets, bump the
version. A card sale is an online sale made at the counter (`boxoffice_sell_card`): the seats are
held, then confirmed through the payment provider in the usual three phases — never a charge
inside a transaction holding seats.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from evently.errors import DomainError
from events.models import Event, EventStatus
from ticketing.exceptions import BoxOfficeNotAllowed, EventNotFound, SeatsUnavailable, UnknownSeats
from ticketing.models import Booking, BookingSeat, BookingStatus, BoxOfficeMethod, BoxOfficeSale
from ticketing.seat_state import free_seat_sql, seats_changed
from ticketing.services.availability import event_availability_refresh
from ticketing.services.bookings import Customer, booking_confirm, booking_reference_new
from ticketing.services.pricing import seat_prices_fix
from ticketing.services.seats import seat_hold, seat_release
from ticketing.services.tickets import event_signing_key, tickets_issue_for

SELLABLE_STATUSES = (EventStatus.PUBLISHED, EventStatus.ON_SALE, EventStatus.SOLD_OUT)

# Available seats, blocked ones (house seats are released at the box office), and expired holds
# nobody is paying for. A live hold or a sold seat is never taken.
# Each seat's price and tier were fixed just before (`seat_prices_fix`, quota-locked), as a hold fixes them.
SELL_SQL = """
UPDATE ticketing_eventseat es
   SET status = 'sold', hold_owner = '', held_until = NULL, booking_id = %(booking_id)s,
       price = fixed.price, tier_id = fixed.tier_id
  FROM unnest(%(seat_ids)s::bigint[], %(prices)s::numeric[], %(tier_ids)s::bigint[]) AS fixed(id, price, tier_id)
 WHERE es.event_id = %(event_id)s AND es.id = fixed.id AND fixed.price IS NOT NULL
   AND (es.status = 'blocked' OR {free})
RETURNING es.id, es.price, es.tier_id
""".format(free=free_seat_sql("es"))


def boxoffice_sell(*, event_id: int, seat_ids: list[int], customer: Customer, method: str, sold_by) -> Booking:
    """Sell `seat_ids` to `customer` at the box office: all of them or none.

    `method` is "cash" (each seat at the price selling now — its category's active pricing tier,
    within the tier's quota, as online — paid at the counter) or "comp" (free). Returns the paid
    booking with its tickets; the seller is recorded in BoxOfficeSale. Raises SeatsUnavailable
    (with the taken ids), UnknownSeats, BoxOfficeNotAllowed, EventNotFound. Card: `boxoffice_sell_card`.
    """
    if method not in (BoxOfficeMethod.CASH, BoxOfficeMethod.COMP):
        raise BoxOfficeNotAllowed(f"Unknown box-office payment method {method!r}; use cash or comp.")
    seat_ids = sorted(set(seat_ids))
    if not seat_ids:
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
            if method == BoxOfficeMethod.CASH:
                prices, tier_ids = seat_prices_fix(cursor, event_id=event_id, owner=booking.buyer, seat_ids=seat_ids)
            else:  # complimentary: free, and no tier's quota place
                prices, tier_ids = [Decimal("0")] * len(seat_ids), [None] * len(seat_ids)
            cursor.execute(SELL_SQL, {"booking_id": booking.pk, "event_id": event_id, "seat_ids": seat_ids,
                                      "prices": prices, "tier_ids": tier_ids})
            sold = {seat_id: (price, tier_id) for seat_id, price, tier_id in cursor.fetchall()}
            if len(sold) != len(seat_ids):
                missing = sorted(set(seat_ids) - set(sold))
                cursor.execute("SELECT id FROM ticketing_eventseat WHERE event_id = %s AND id = ANY(%s)",
                               [event_id, missing])
                known = {row[0] for row in cursor.fetchall()}
                if len(known) != len(missing):
                    raise UnknownSeats(seat_ids=sorted(set(missing) - known))
                raise SeatsUnavailable(seat_ids=missing)  # leaving atomic() undoes the booking and the seats
            BookingSeat.objects.bulk_create(
                BookingSeat(booking=booking, event_seat_id=seat_id, price=price, tier_id=tier_id)
                for seat_id, (price, tier_id) in sold.items()
            )
            booking.total = sum((price for price, _ in sold.values()), Decimal("0"))
            booking.payment_reference = f"cash:{booking.reference}" if method == BoxOfficeMethod.CASH else "comp"
            booking.save(update_fields=["total", "payment_reference"])
            BoxOfficeSale.objects.create(booking=booking, sold_by=sold_by, method=method)
            tickets_issue_for(booking)
            seats_changed(cursor, event_id=event_id, seat_ids=sorted(sold))
    event_availability_refresh(event_id=event_id)  # the last seat sold here makes the event sold out
    return booking


def boxoffice_sell_card(*, event_id: int, seat_ids: list[int], customer: Customer, payment_token: str,
                        sold_by) -> Booking:
    """Sell `seat_ids` at the counter, paid by card through the payment provider: all or none.

    The same path as an online sale, under a box-office owner of its own: the seats are held at the
    price selling now (tier and quota as online, the event's per-order limit too), then confirmed in
    the usual phases — the charge runs outside any transaction. A declined card releases the seats
    and raises PaymentDeclined; SeatsUnavailable, SaleNotActive, OrderLimitExceeded as for a hold.
    Blocked (house) seats are sold for cash or complimentary only: unblock them to take a card.
    """
    owner = f"boxoffice:{sold_by.pk}:{uuid.uuid4().hex[:16]}"
    seat_hold(event_id=event_id, seat_ids=seat_ids, owner=owner)
    try:
        booking = booking_confirm(event_id=event_id, owner=owner, customer=customer, payment_token=payment_token)
    except DomainError:
        seat_release(event_id=event_id, seat_ids=seat_ids, owner=owner)
        raise
    if booking.status == BookingStatus.PAID:
        BoxOfficeSale.objects.get_or_create(booking=booking, defaults={"sold_by": sold_by,
                                                                       "method": BoxOfficeMethod.CARD})
    return booking
