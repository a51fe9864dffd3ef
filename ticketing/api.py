"""Ticketing endpoints: thin adapters from HTTP to services and selectors."""

import orjson
from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from evently.errors import DomainError
from ticketing import selectors, services, throttle
from ticketing.api_sales import cancel_body_places, cancel_body_seat_ids
from ticketing.buyer import buyer_id_if_known, csrf_buyer
from ticketing.exceptions import BookingNotFound, SectionNotFound
from ticketing.layout_responses import layout_response
from ticketing.models import Booking
from ticketing.schemas import BestSeatsIn, ConfirmIn, PathId, SeatSelection
from ticketing.services.best_seats import seats_best_hold
from ticketing.services.delivery import booking_pdf_url
from ticketing.services.seat_gaps import seat_gap_check
from ticketing.services.vouchers import cart_voucher_quote

router = Router(tags=["ticketing"])


@router.get("/session")
def session(request):
    """Sets the csrftoken cookie; POSTs send its value back in X-CSRFToken (the buyer cookie comes with a hold)."""
    user = request.user
    return {
        "csrf_token": get_token(request),
        "user": {"username": user.get_username(), "is_staff": user.is_staff} if user.is_authenticated else None,
        "hold_ttl_seconds": settings.HOLD_TTL_SECONDS,
        "max_seats_per_hold": settings.MAX_SEATS_PER_HOLD,
    }


@router.get("/events/{event_id}/layout")
def event_layout(request, event_id: PathId):
    """The whole seat map: shared by all pages for a second, gzip, ETag/304 (ticketing.layout_responses)."""
    event = selectors.event_for_buyers(event_id)
    return layout_response(request, event=event, owner=buyer_id_if_known(request))


@router.get("/events/{event_id}/sections")
def event_sections(request, event_id: PathId):
    """Per-section availability and price range: the overview of a large venue."""
    event = selectors.event_for_buyers(event_id)
    version, sections = selectors.event_section_summaries_cached(event=event)
    return {"version": version, "sections": sections}


@router.get("/events/{event_id}/sections/{section_id}/layout")
def event_section_layout(request, event_id: PathId, section_id: PathId):
    """The layout of one section (same shape as the event layout), loaded when a buyer zooms in."""
    event = selectors.event_for_buyers(event_id)
    if not event.venue.sections.filter(pk=section_id).exists():
        raise SectionNotFound()
    layout = selectors.event_layout(event=event, owner=buyer_id_if_known(request), section_id=section_id)
    return HttpResponse(orjson.dumps(layout), content_type="application/json")


class ChangesQuery(Schema):
    since: int = Field(0, ge=0)
    section: int | None = Field(None, ge=1, le=2**63 - 1)


@router.get("/events/{event_id}/seats/changes")
def seat_changes(request, event_id: PathId, query: Query[ChangesQuery]):
    """Seat changes from `since` on; with `section`, only that section's (a zoomed-in page's catch-up)."""
    selectors.event_for_buyers(event_id)
    return selectors.seat_changes_since(event_id=event_id, since=query.since, section_id=query.section)


@router.post("/seats/hold", auth=csrf_buyer)
def seat_hold(request, payload: SeatSelection):
    with throttle.hold_throttled(request, owner=request.auth, event_id=payload.event_id, seat_ids=payload.seat_ids):
        hold = services.seat_hold(event_id=payload.event_id, seat_ids=payload.seat_ids, owner=request.auth)
    return hold_as_dict(hold)


@router.post("/seats/best", auth=csrf_buyer)
def seats_best(request, payload: BestSeatsIn):
    """Best available: the server picks `quantity` adjacent seats in one row and holds them all or none
    (ticketing.services.best_seats); 409 `no_adjacent_seats` with `largest_block` when no row has them."""
    with throttle.best_hold_throttled(request, owner=request.auth, event_id=payload.event_id) as seats_count:
        hold = seats_best_hold(event_id=payload.event_id, quantity=payload.quantity, owner=request.auth,
                               category=payload.category, max_price=payload.max_price,
                               section_id=payload.section_id)
        try:
            seats_count(hold.seat_ids)
        except DomainError:
            services.seat_release(event_id=payload.event_id, seat_ids=hold.seat_ids, owner=request.auth)
            raise
    return hold_as_dict(hold)


def hold_as_dict(hold: services.Hold) -> dict:
    """A hold's answer: the seats, their shared expiry, and the price fixed for each (what the cart shows)."""
    return {"seat_ids": hold.seat_ids, "expires_at": hold.expires_at.isoformat(),
            "seats": [{"seat_id": seat_id, "price": str(hold.prices[seat_id])}
                      for seat_id in hold.seat_ids if seat_id in hold.prices]}


@router.get("/events/{event_id}/cart")
def event_cart(request, event_id: PathId, voucher: str = ""):
    """The asking buyer's live holds with the prices fixed at hold time, and what each category costs now.

    Pages re-read it when a pricing tier changes under them, so the cart, the legend and the
    checkout always show what the confirm will charge. With `?voucher=CODE`, also what that
    code takes off the cart (or why it cannot be used: the voucher error codes).
    """
    event = selectors.event_for_buyers(event_id)
    owner = buyer_id_if_known(request) or ""
    cart = selectors.buyer_cart(event=event, owner=owner)
    if voucher.strip():
        throttle.voucher_tried(request, owner=owner)
        cart["voucher"] = voucher_quote_as_dict(cart_voucher_quote(event_id=event.pk, owner=owner, code=voucher[:60]))
    return cart


def voucher_quote_as_dict(quote) -> dict:
    return {"code": quote.voucher.code, "discount": str(quote.discount), "uses": quote.uses,
            "subtotal": str(quote.subtotal), "total": str(quote.subtotal - quote.discount)}


@router.post("/seats/release", auth=csrf_buyer)
def seat_release(request, payload: SeatSelection):
    released = services.seat_release(event_id=payload.event_id, seat_ids=payload.seat_ids, owner=request.auth)
    throttle.seats_released(request, owner=request.auth, event_id=payload.event_id, seat_ids=released)
    return {"seat_ids": released}


@router.post("/bookings/confirm", auth=csrf_buyer, response={201: dict, 202: dict})
def booking_confirm(request, payload: ConfirmIn):
    key = payload.idempotency_key or request.headers.get("Idempotency-Key")
    seat_gap_check(event_id=payload.event_id, owner=request.auth)  # the single-seat rule (422 single_seat_gap)
    if payload.voucher.strip():
        throttle.voucher_tried(request, owner=request.auth)
    with throttle.confirm_throttled(request, owner=request.auth, event_id=payload.event_id):
        booking = services.booking_confirm(
            event_id=payload.event_id, owner=request.auth,
            customer=services.Customer(payload.customer.name, payload.customer.email, payload.customer.phone),
            payment_token=payload.payment_token, idempotency_key=key, user=request.user, voucher=payload.voucher,
        )
    status = 201 if booking.status == "paid" else 202
    return Status(status, booking_as_dict(booking))


@router.get("/bookings/{booking_id}")
def booking_detail(request, booking_id: PathId):
    booking = Booking.objects.select_related("event").filter(pk=booking_id).first()
    if booking is None or not services.booking_is_visible_to(
        booking, owner=buyer_id_if_known(request), user=request.user
    ):
        raise BookingNotFound()
    return booking_as_dict(booking)


@router.post("/bookings/{booking_id}/cancel", auth=csrf_buyer)
def booking_cancel(request, booking_id: PathId):
    """Cancel the booking, or only `{"seat_ids": [...]}` of it, under the event's cancellation policy."""
    cancellation = services.booking_seats_cancel(booking_id=booking_id, owner=request.auth, user=request.user,
                                                 seat_ids=cancel_body_seat_ids(request),
                                                 places=cancel_body_places(request))
    return {"booking_id": booking_id, "status": cancellation.booking.status, "refund": str(cancellation.refund),
            "fee": str(cancellation.fee), "cancellation_id": cancellation.pk,
            "seat_ids": sorted(cancellation.booking_seats.values_list("event_seat_id", flat=True))}


def booking_as_dict(booking: Booking) -> dict:
    # The booking's PDF (one page per ticket the buyer holds); see ticketing/api_tickets.py.
    pdf_url = booking_pdf_url(booking) if booking.status == "paid" else None
    issued = getattr(booking, "issued_tickets", None)
    if issued is not None:  # just sold: the tickets are in hand
        return {**_booking_fields(booking), "seat_ids": [ticket["seat_id"] for ticket in issued if "seat_id" in ticket],
                "pdf_url": pdf_url, "tickets": [{**ticket, "pdf_url": pdf_url} for ticket in issued]}
    tickets = booking.tickets.select_related("booking_seat", "booking_place__event_area").order_by(
        "booking_seat__event_seat_id", "id")
    return {
        **_booking_fields(booking),
        "seat_ids": sorted(booking.booking_seats.values_list("event_seat_id", flat=True)),
        "pdf_url": pdf_url,
        "tickets": [
            # A ticket given away by transfer belongs to its new holder: its QR token goes only to them
            # (their e-mail, their "my bookings"), never back to the buyer who could then use it first.
            {"id": ticket.pk, **_ticket_admits(ticket),
             "token": None if ticket.transferred_from_id else ticket.token,
             "status": ticket.status,
             # a ticket received by transfer is e-mailed to its new holder, not part of the buyer's PDF
             "pdf_url": pdf_url if ticket.status == "valid" and not ticket.transferred_from_id else None}
            for ticket in tickets
        ],
    }


def _ticket_admits(ticket) -> dict:
    """A seat ticket's `seat_id`, or a general-admission ticket's `area_id` (issue 15)."""
    if ticket.booking_seat_id is not None:
        return {"seat_id": ticket.booking_seat.event_seat_id}
    return {"area_id": ticket.booking_place.event_area.section_id}


def _booking_fields(booking: Booking) -> dict:
    return {
        "booking_id": booking.pk,
        "reference": booking.reference,
        "status": booking.status,
        "total": str(booking.total),
        "discount": str(booking.discount),
        "voucher": booking.voucher.code if booking.voucher_id else None,
        "currency": booking.currency,
        "expires_at": booking.expires_at.isoformat() if booking.status == "pending" else None,
    }
