"""Reads for the organizer reports: seat counts, money, sales over time, conversion, check-in, CSV rows.

Definitions (also in docs/admin.md):
- a seat in an expired hold with no booking counts as available, as it does for buyers;
- revenue = what paid and cancelled bookings kept: total − refunds (partial cancellations included);
- hold-to-booking conversion = paid online bookings ÷ checkout attempts, where an attempt is every
  online booking (paid, failed, expired, cancelled, pending) plus every buyer who holds seats right
  now without a booking. Holds that expired without a checkout leave no trace, so the figure is an
  upper bound of the true hold conversion; box-office sales are excluded.

Check-in progress comes from check-in, which sits above ticketing: checkin registers its
selector here at startup (`checkin_progress_register`, from `CheckinConfig.ready`). Without
it the report simply has no check-in line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, Sum

from events.models import Event
from ticketing.models import Booking, BookingStatus, Ticket
from ticketing.services.areas import area_available_sql, area_expired_places_sql
from venues.localtime import venue_local

_CATEGORY_COUNTS = """
SELECT category.id, category.name, category.colour, category.price,
       count(*) FILTER (WHERE es.status = 'sold') AS sold,
       count(*) FILTER (WHERE es.status = 'held' AND (es.booking_id IS NOT NULL OR es.held_until > now())) AS held,
       count(*) FILTER (WHERE es.status = 'blocked') AS blocked,
       count(*) FILTER (WHERE es.status = 'available'
                        OR (es.status = 'held' AND es.booking_id IS NULL AND es.held_until <= now())) AS available,
       count(*) AS total,
       COALESCE((SELECT sum(bs.price) FROM ticketing_bookingseat bs
                   JOIN ticketing_booking b ON b.id = bs.booking_id
                   JOIN ticketing_eventseat es2 ON es2.id = bs.event_seat_id
                  WHERE es2.category_id = category.id AND bs.is_active AND b.status = 'paid'), 0) AS revenue
  FROM ticketing_eventseat es
  JOIN events_seatcategory category ON category.id = es.category_id
 WHERE es.event_id = %s
 GROUP BY category.id
 ORDER BY category.position, category.id
"""

# General-admission areas (issue 15), in the same shape as a category's row: one row per area.
_AREA_COUNTS = f"""
SELECT category.id, section.name || ' (general admission)' AS name, category.colour, category.price,
       area.sold, area.held - {area_expired_places_sql("area")} AS held, area.blocked,
       {area_available_sql("area")} AS available, area.capacity AS total,
       COALESCE((SELECT sum(bp.price) FROM ticketing_bookingplace bp
                   JOIN ticketing_booking b ON b.id = bp.booking_id
                  WHERE bp.event_area_id = area.id AND bp.is_active AND b.status = 'paid'), 0) AS revenue
  FROM ticketing_eventarea area
  JOIN venues_section section ON section.id = area.section_id
  JOIN events_seatcategory category ON category.id = area.category_id
 WHERE area.event_id = %s
 ORDER BY section.position, section.id
"""

# Tickets and revenue per day of payment: seats and general-admission places together.
_SALES_BY_DAY = """
SELECT day, sum(tickets)::int, sum(revenue) FROM (
    SELECT (b.paid_at AT TIME ZONE %(tz)s)::date AS day, count(bs.id) AS tickets, COALESCE(sum(bs.price), 0) AS revenue
      FROM ticketing_booking b
      JOIN ticketing_bookingseat bs ON bs.booking_id = b.id
     WHERE b.event_id = %(event_id)s AND b.paid_at IS NOT NULL
     GROUP BY day
    UNION ALL
    SELECT (b.paid_at AT TIME ZONE %(tz)s)::date, count(bp.id), COALESCE(sum(bp.price), 0)
      FROM ticketing_booking b
      JOIN ticketing_bookingplace bp ON bp.booking_id = b.id
     WHERE b.event_id = %(event_id)s AND b.paid_at IS NOT NULL
     GROUP BY 1
) AS sales GROUP BY day ORDER BY day
"""


# event → {"admitted", "valid_tickets", "rate"}: how far check-in has got (see checkin.selectors).
CheckinProgress = Callable[[Event], dict]
_checkin_progress: CheckinProgress | None = None


def checkin_progress_register(progress: CheckinProgress) -> None:
    global _checkin_progress
    _checkin_progress = progress


@dataclass
class EventReport:
    event: Event
    categories: list[dict]
    totals: dict
    revenue: Decimal
    refunds: Decimal
    bookings_by_status: dict[str, int]
    box_office_bookings: int
    sales_by_day: list[tuple[date, int, Decimal]]
    conversion: dict
    checkin: dict | None = field(default=None)
    vouchers: list[dict] = field(default_factory=list)


def event_report(*, event: Event) -> EventReport:
    with connection.cursor() as cursor:
        cursor.execute(_CATEGORY_COUNTS, [event.pk])
        columns = [column.name for column in cursor.description]
        categories = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(_AREA_COUNTS, [event.pk])
        categories += [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(_SALES_BY_DAY, {"tz": event.venue.timezone or "UTC", "event_id": event.pk})
        sales_by_day = [(day, count, Decimal(revenue)) for day, count, revenue in cursor.fetchall()]
    totals = {key: sum(row[key] for row in categories) for key in ("sold", "held", "blocked", "available", "total")}
    bookings = Booking.objects.filter(event=event)
    by_status = dict(bookings.values_list("status").annotate(count=Count("id")).order_by())
    # A paid booking may have had some seats cancelled and refunded: what it keeps is total − refunds.
    money = bookings.aggregate(
        kept=Sum(F("total") - F("refund_amount"),
                 filter=Q(status__in=[BookingStatus.PAID, BookingStatus.CANCELLED])),
        refunds=Sum("refund_amount"),
    )
    refunds = money["refunds"] or Decimal("0")
    revenue = money["kept"] or Decimal("0")
    box_office = bookings.filter(buyer__startswith="boxoffice:").count()
    return EventReport(
        event=event, categories=categories, totals=totals, revenue=revenue, refunds=refunds,
        bookings_by_status=by_status, box_office_bookings=box_office, sales_by_day=sales_by_day,
        conversion=_conversion(event), checkin=_checkin_progress(event) if _checkin_progress else None,
        vouchers=_voucher_figures(event),
    )


# Per voucher: its uses now, the paid bookings it was used in, what those bookings kept (after
# refunds) and what the voucher took off their tickets still valid.
_VOUCHER_FIGURES = """
SELECT v.id, v.code, v.kind, v.value, v.quota, v.used, v.is_active,
       count(b.id) FILTER (WHERE b.paid_at IS NOT NULL) AS bookings,
       COALESCE(sum(b.total - b.refund_amount) FILTER (WHERE b.status IN ('paid', 'cancelled')), 0) AS revenue,
       COALESCE((SELECT sum(bs.discount) FROM ticketing_bookingseat bs
                   JOIN ticketing_booking paid ON paid.id = bs.booking_id
                  WHERE paid.voucher_id = v.id AND paid.status = 'paid' AND bs.is_active), 0)
       + COALESCE((SELECT sum(bp.discount) FROM ticketing_bookingplace bp
                     JOIN ticketing_booking paid ON paid.id = bp.booking_id
                    WHERE paid.voucher_id = v.id AND paid.status = 'paid' AND bp.is_active), 0) AS discount
  FROM ticketing_voucher v LEFT JOIN ticketing_booking b ON b.voucher_id = v.id
 WHERE v.event_id = %s
 GROUP BY v.id ORDER BY v.code
"""


def _voucher_figures(event: Event) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(_VOUCHER_FIGURES, [event.pk])
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _conversion(event: Event) -> dict:
    online = Booking.objects.filter(event=event).exclude(buyer__startswith="boxoffice:")
    attempts = online.count()
    paid = online.filter(status=BookingStatus.PAID).count() + online.filter(
        status=BookingStatus.CANCELLED, paid_at__isnull=False).count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT hold_owner) FROM ticketing_eventseat WHERE event_id = %s AND status = 'held' "
            "AND booking_id IS NULL AND held_until > now()", [event.pk])
        holding_now = cursor.fetchone()[0]
    denominator = attempts + holding_now
    return {"paid": paid, "attempts": attempts, "holding_now": holding_now,
            "rate": round(100 * paid / denominator, 1) if denominator else None}


BOOKING_CSV_HEADER = ["reference", "status", "channel", "customer_name", "customer_email", "customer_phone", "seats",
                      "total", "refund", "currency", "payment_reference", "created_at", "paid_at", "cancelled_at",
                      "voucher", "discount"]


def booking_csv_rows(*, event: Event):
    bookings = (Booking.objects.filter(event=event).select_related("voucher")
                .annotate(seat_count=Count("booking_seats")).order_by("created_at", "id"))
    zone = event.venue.timezone
    for booking in bookings.iterator(chunk_size=2000):
        yield [booking.reference, booking.status, "box office" if booking.buyer.startswith("boxoffice:") else "online",
               booking.customer_name, booking.customer_email, booking.customer_phone, booking.seat_count,
               booking.total, booking.refund_amount, booking.currency, booking.payment_reference,
               *(_local_iso(moment, zone) for moment in (booking.created_at, booking.paid_at, booking.cancelled_at)),
               booking.voucher.code if booking.voucher else "", booking.discount]


def _local_iso(moment, zone) -> str:
    """ISO 8601 on the venue's clock with its offset ("2030-12-01T20:00:00+01:00"): what a spreadsheet
    shows is the venue's time, and the offset keeps it exact."""
    return venue_local(moment, zone).isoformat() if moment else ""


ATTENDEE_CSV_HEADER = ["ticket_id", "ticket_status", "holder_name", "section", "row", "seat", "category", "price",
                       "booking_reference", "customer_email"]


def attendee_csv_rows(*, event: Event):
    tickets = (Ticket.objects.filter(booking__event=event)
               .select_related("booking", "booking_seat__event_seat__seat__section",
                               "booking_seat__event_seat__category", "booking_place__event_area__section",
                               "booking_place__event_area__category")
               .order_by("booking_seat__event_seat__seat__section__position", "booking_seat__event_seat__seat_id",
                         "id"))
    for ticket in tickets.iterator(chunk_size=2000):
        if ticket.booking_seat_id is None:  # general admission (issue 15): the area, no row or seat
            place = ticket.booking_place
            yield [ticket.pk, ticket.status, ticket.holder_name, place.event_area.section.name, "", "",
                   place.event_area.category.name, place.price, ticket.booking.reference,
                   ticket.booking.customer_email]
            continue
        event_seat = ticket.booking_seat.event_seat
        seat = event_seat.seat
        yield [ticket.pk, ticket.status, ticket.holder_name, seat.section.name, seat.row_label, seat.number,
               event_seat.category.name, ticket.booking_seat.price, ticket.booking.reference,
               ticket.booking.customer_email]
