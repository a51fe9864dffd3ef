"""Vouchers: discount codes per event (issue 18).

A voucher takes a percentage or an amount off each ticket of its categories (all categories when
it names none), on top of the price the seat was held at: the pricing tier selling then. A ticket
it takes money off is one *use*; `quota` caps the uses.

Race safety: the uses are taken in the confirm's reserve transaction, after the buyer's seats are
locked, by one conditional UPDATE (`used + n <= quota`), so two buyers racing for the last use
cannot both get it; the voucher row is always the last lock taken (reserve, payment failure,
cancellation), so it never deadlocks with the seats. A booking that is never paid, and every
cancelled ticket, gives its use back. The discount is written on each booking seat or place
(`price` is what the buyer pays, `discount` what the voucher took off), so refunds, reports and
the seats' tickets all read the price actually paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import F
from django.utils import timezone

from ticketing.exceptions import (
    VoucherExpired,
    VoucherNotApplicable,
    VoucherNotYetValid,
    VoucherUnknown,
    VoucherUsedUp,
)
from ticketing.models import Booking, Voucher, VoucherKind
from venues.localtime import venue_time_label

CENT = Decimal("0.01")
CODE_MAX_LENGTH = 40
# What a booking paid in full by a voucher (nothing left to charge) carries as its payment reference.
VOUCHER_PAYMENT_PREFIX = "voucher:"


def voucher_code_normal(code: str) -> str:
    """The code as stored: spaces dropped, upper case ("summer 24" and "SUMMER24" are one code)."""
    return "".join((code or "").split()).upper()


def voucher_usable(*, event_id: int, code: str) -> Voucher:
    """The event's voucher named `code`, if it can be used now (its categories in `category_ids`).

    Raises VoucherUnknown, VoucherNotYetValid, VoucherExpired (also when switched off)."""
    code = voucher_code_normal(code)
    voucher = None
    if code and len(code) <= CODE_MAX_LENGTH:
        voucher = Voucher.objects.select_related("event__venue").filter(event_id=event_id, code=code).first()
    if voucher is None:
        raise VoucherUnknown()
    now = timezone.now()
    venue = voucher.event.venue
    if not voucher.is_active:
        raise VoucherExpired()
    if voucher.valid_until is not None and now >= voucher.valid_until:
        raise VoucherExpired(f"This voucher was valid until {venue_time_label(voucher.valid_until, venue)}.")
    if voucher.valid_from is not None and now < voucher.valid_from:
        raise VoucherNotYetValid(f"This voucher can be used from {venue_time_label(voucher.valid_from, venue)}.")
    voucher.category_ids = frozenset(voucher.categories.values_list("pk", flat=True))
    return voucher


def voucher_ticket_discount(voucher: Voucher, *, category_id: int, price: Decimal) -> Decimal:
    """What the voucher takes off one ticket of `category_id` at `price`: never more than the price,
    nothing outside its categories."""
    if voucher.category_ids and category_id not in voucher.category_ids:
        return Decimal("0")
    if voucher.kind == VoucherKind.PERCENT:
        off = (price * voucher.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        off = voucher.value
    return min(off, price)


@dataclass(frozen=True)
class VoucherQuote:
    """The voucher's discount on each ticket of an order, in the order's item order."""
    voucher: Voucher
    discounts: list[Decimal]
    subtotal: Decimal  # the tickets' prices before the voucher

    @property
    def uses(self) -> int:
        return sum(1 for off in self.discounts if off > 0)

    @property
    def discount(self) -> Decimal:
        return sum(self.discounts, Decimal("0"))


def voucher_quote(voucher: Voucher, items: list[tuple[int, Decimal]]) -> VoucherQuote:
    """The discount on each (category id, price) ticket; raises VoucherNotApplicable when it takes
    nothing off any of them, VoucherUsedUp when the order needs more uses than are left (read
    without a lock: the redeeming UPDATE decides)."""
    quote = VoucherQuote(voucher, [voucher_ticket_discount(voucher, category_id=category_id, price=price)
                                   for category_id, price in items],
                         sum((price for _, price in items), Decimal("0")))
    if not quote.uses:
        raise VoucherNotApplicable()
    _check_uses_left(voucher, quote.uses, remaining=voucher.remaining)
    return quote


def _check_uses_left(voucher: Voucher, uses: int, *, remaining: int | None) -> None:
    if remaining is None or uses <= remaining:
        return
    if remaining == 0:
        raise VoucherUsedUp()
    raise VoucherUsedUp(f"This voucher has {remaining} use(s) left, and your order has {uses} tickets it applies "
                        "to. Take fewer seats of its categories, or check out without it.", remaining=remaining)


_CART_ITEMS_SQL = """
SELECT es.category_id, COALESCE(es.price, category.price)
  FROM ticketing_eventseat es JOIN events_seatcategory category ON category.id = es.category_id
 WHERE es.event_id = %(event_id)s AND es.hold_owner = %(owner)s AND es.status = 'held' AND es.booking_id IS NULL
   AND es.held_until > now()
UNION ALL
SELECT area.category_id, hold.price
  FROM ticketing_areahold hold JOIN ticketing_eventarea area ON area.id = hold.event_area_id,
       generate_series(1, hold.quantity)
 WHERE hold.event_id = %(event_id)s AND hold.owner = %(owner)s AND hold.booking_id IS NULL AND hold.held_until > now()
"""


def cart_voucher_quote(*, event_id: int, owner: str, code: str) -> VoucherQuote:
    """What the voucher would take off the buyer's cart now (checkout shows it before paying).
    Raises what `voucher_usable` and `voucher_quote` raise."""
    voucher = voucher_usable(event_id=event_id, code=code)
    with connection.cursor() as cursor:
        cursor.execute(_CART_ITEMS_SQL, {"event_id": event_id, "owner": owner})
        items = cursor.fetchall()
    return voucher_quote(voucher, items)


_BOOKING_ITEMS_SQL = """
SELECT 'seat', bs.id, es.category_id, bs.price
  FROM ticketing_bookingseat bs JOIN ticketing_eventseat es ON es.id = bs.event_seat_id
 WHERE bs.booking_id = %(booking_id)s AND bs.is_active
UNION ALL
SELECT 'place', place.id, area.category_id, place.price
  FROM ticketing_bookingplace place JOIN ticketing_eventarea area ON area.id = place.event_area_id
 WHERE place.booking_id = %(booking_id)s AND place.is_active
"""

_USES_TAKE_SQL = """
UPDATE ticketing_voucher SET used = used + %(uses)s
 WHERE id = %(voucher_id)s AND is_active AND (valid_until IS NULL OR valid_until > now())
   AND (quota IS NULL OR used + %(uses)s <= quota)
RETURNING used
"""

_DISCOUNT_SQL = """
WITH seats AS (
    UPDATE ticketing_bookingseat bs SET price = bs.price - off.amount, discount = off.amount
      FROM unnest(%(seat_ids)s::bigint[], %(seat_offs)s::numeric[]) AS off(id, amount) WHERE bs.id = off.id
), places AS (
    UPDATE ticketing_bookingplace place SET price = place.price - off.amount, discount = off.amount
      FROM unnest(%(place_ids)s::bigint[], %(place_offs)s::numeric[]) AS off(id, amount) WHERE place.id = off.id
)
UPDATE ticketing_booking SET voucher_id = %(voucher_id)s, discount = %(discount)s, total = total - %(discount)s
 WHERE id = %(booking_id)s
RETURNING total
"""


def booking_voucher_redeem(cursor, *, booking: Booking, code: str) -> None:
    """Take the voucher off the pending booking's seats and places, inside its reserve transaction
    (the seats locked, the booking's seats and places written at their held prices).

    Raises what `voucher_usable` and `voucher_quote` raise, and VoucherUsedUp when another buyer
    took the last uses meanwhile: the caller's transaction then writes nothing."""
    voucher = voucher_usable(event_id=booking.event_id, code=code)
    cursor.execute(_BOOKING_ITEMS_SQL, {"booking_id": booking.pk})
    items = cursor.fetchall()
    quote = voucher_quote(voucher, [(category_id, price) for _, _, category_id, price in items])
    cursor.execute(_USES_TAKE_SQL, {"uses": quote.uses, "voucher_id": voucher.pk})
    if cursor.fetchone() is None:
        voucher.refresh_from_db(fields=["used", "quota", "is_active", "valid_until"])
        if not voucher.is_active or (voucher.valid_until is not None and voucher.valid_until <= timezone.now()):
            raise VoucherExpired()
        _check_uses_left(voucher, quote.uses, remaining=voucher.remaining)
        raise VoucherUsedUp()
    discounted = [(kind, item_id, off) for (kind, item_id, _, _), off in zip(items, quote.discounts, strict=True)
                  if off > 0]
    cursor.execute(_DISCOUNT_SQL, {
        "seat_ids": [item_id for kind, item_id, _ in discounted if kind == "seat"],
        "seat_offs": [off for kind, _, off in discounted if kind == "seat"],
        "place_ids": [item_id for kind, item_id, _ in discounted if kind == "place"],
        "place_offs": [off for kind, _, off in discounted if kind == "place"],
        "voucher_id": voucher.pk, "discount": quote.discount, "booking_id": booking.pk,
    })
    booking.total = cursor.fetchone()[0]
    booking.voucher, booking.discount = voucher, quote.discount


def voucher_uses_return(*, booking: Booking, items) -> None:
    """Give back the uses of these booking seats or places (cancelled, or never paid): each one the
    voucher took money off. Call in the transaction that deactivates them, after its seat locks."""
    uses = sum(1 for item in items if item.discount > 0)
    if booking.voucher_id and uses:
        Voucher.objects.filter(pk=booking.voucher_id).update(used=F("used") - uses)


def booking_voucher_items(booking: Booking) -> list:
    """The booking's active seats and places the voucher took money off (read before giving them up)."""
    if not booking.voucher_id:
        return []
    return [*booking.booking_seats.filter(is_active=True, discount__gt=0),
            *booking.booking_places.filter(is_active=True, discount__gt=0)]


def voucher_payment_reference(booking: Booking) -> str:
    return f"{VOUCHER_PAYMENT_PREFIX}{booking.voucher.code}"
