"""Endpoints after the purchase: ticket PDFs, transfer, "my bookings" sign-in, the waitlist."""

from __future__ import annotations

from django.http import FileResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field, StrictInt, StrictStr, field_validator

from evently.ratelimit import rate_limit
from ticketing.buyer import buyer_id_if_known, csrf_buyer
from ticketing.exceptions import BookingNotFound, TicketNotFound, TicketsNotIssued
from ticketing.models import Booking, BookingStatus, Ticket, WaitlistEntry
from ticketing.schemas import CustomerIn
from ticketing.services.access import booking_is_accessible
from ticketing.services.delivery import booking_link_key_is_valid, booking_pdf, ticket_pdf
from ticketing.services.my_bookings import bookings_of, magic_link_request, tickets_received
from ticketing.services.transfers import ticket_transfer
from ticketing.services.waitlist import (
    waitlist_claim,
    waitlist_confirm,
    waitlist_entry_from_confirm_key,
    waitlist_entry_from_key,
    waitlist_entry_key,
    waitlist_entry_url,
    waitlist_join,
    waitlist_leave,
    waitlist_position,
)

router = Router(tags=["tickets"])

MY_BOOKINGS_SESSION_KEY = "my_bookings_email"


def session_email(request) -> str | None:
    """The address this browser proved it reads, by opening a "my bookings" magic link."""
    return request.session.get(MY_BOOKINGS_SESSION_KEY)


@router.get("/bookings/{booking_id}/tickets.pdf", response={200: None})
def booking_tickets_pdf(request, booking_id: int, key: str = ""):
    """The booking's tickets, one page each. For its buyer (session, account or magic link), the
    event's organizer, or anyone with the signed `key` from the tickets e-mail."""
    booking = Booking.objects.select_related("event").filter(pk=booking_id).first()
    if booking is None or not (
        (key and booking_link_key_is_valid(key, booking))
        or booking_is_accessible(booking, owner=buyer_id_if_known(request), user=request.user,
                                 email=session_email(request))
    ):
        raise BookingNotFound()
    if booking.status != BookingStatus.PAID:
        raise TicketsNotIssued(status=booking.status)
    response = FileResponse(booking_pdf(booking.pk).open("rb"), content_type="application/pdf",
                            filename=f"tickets-{booking.reference}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response


class TransferIn(Schema):
    name: StrictStr = Field(min_length=1, max_length=200)
    email: StrictStr = Field(max_length=254)

    _name_not_blank = field_validator("name")(CustomerIn.name_not_blank.__func__)
    _email_valid = field_validator("email")(CustomerIn.email_valid.__func__)


@router.post("/tickets/{ticket_id}/transfer", auth=csrf_buyer, response={201: dict})
def ticket_transfer_view(request, ticket_id: int, payload: TransferIn):
    rate_limit("transfer", request=request, session=request.auth)
    transfer = ticket_transfer(ticket_id=ticket_id, to_name=payload.name, to_email=payload.email, owner=request.auth,
                               user=request.user, email=session_email(request))
    return Status(201, {"ticket_id": transfer.to_ticket_id, "transferred_ticket_id": transfer.from_ticket_id,
                        "holder_name": transfer.to_name, "status": "valid"})


class EmailIn(Schema):
    email: StrictStr = Field(min_length=3, max_length=254)


@router.post("/my-bookings/link", auth=csrf_buyer, response={202: dict})
def my_bookings_link(request, payload: EmailIn):
    """E-mails a sign-in link if the address has bookings; answers the same either way."""
    rate_limit("magic_link", request=request)
    magic_link_request(email=payload.email)
    return Status(202, {"message": "If this address has bookings, a link to them is on its way."})


@router.get("/my-bookings")
def my_bookings(request):
    """Bookings this browser may manage, and (`tickets`) tickets transferred to the proven e-mail address."""
    email = session_email(request)
    bookings = bookings_of(email=email, user=request.user, owner=buyer_id_if_known(request))
    return {"email": email, "results": [
        {"booking_id": booking.pk, "reference": booking.reference, "status": booking.status,
         "event": {"id": booking.event_id, "title": booking.event.title, "starts_at": booking.event.starts_at},
         "total": str(booking.total),
         "pdf_url": f"/api/bookings/{booking.pk}/tickets.pdf" if booking.status == BookingStatus.PAID else None}
        for booking in bookings[:200]
    ], "tickets": [received_ticket_as_dict(ticket) for ticket in tickets_received(email=email)[:200]]}


def received_ticket_as_dict(ticket: Ticket) -> dict:
    event = ticket.booking.event
    if ticket.booking_seat_id is not None:
        seat = ticket.booking_seat.event_seat.seat
        place = {"section": seat.section.name, "row": seat.row_label, "number": seat.number}
    else:  # general admission (issue 15): the area, no row or number
        area = ticket.booking_place.event_area
        place = {"section": area.section.name, "row": None, "number": None, "area_id": area.section_id}
    return {"ticket_id": ticket.pk, "status": ticket.status, "holder_name": ticket.holder_name, "token": ticket.token,
            "event": {"id": event.pk, "title": event.title, "starts_at": event.starts_at},
            "seat": place,
            "pdf_url": f"/api/tickets/{ticket.pk}/ticket.pdf"}


@router.get("/tickets/{ticket_id}/ticket.pdf", response={200: None})
def ticket_pdf_view(request, ticket_id: int):
    """One ticket received by transfer, for its holder (signed in to "my bookings" with its e-mail)."""
    email = session_email(request)
    ticket = tickets_received(email=email).filter(pk=ticket_id).first() if email else None
    if ticket is None:
        raise TicketNotFound()
    response = FileResponse(ticket_pdf(ticket.pk).open("rb"), content_type="application/pdf",
                            filename=f"ticket-{ticket.pk}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response


class WaitlistIn(Schema):
    email: StrictStr = Field(max_length=254)
    name: StrictStr = Field(default="", max_length=200)
    party_size: StrictInt = Field(ge=1, le=100)  # and at most the event's per-order limit
    category_id: StrictInt | None = Field(default=None, gt=0)

    _email_valid = field_validator("email")(CustomerIn.email_valid.__func__)


def waitlist_entry_as_dict(entry: WaitlistEntry) -> dict:
    return {
        "entry_id": entry.pk, "event_id": entry.event_id, "status": entry.status, "party_size": entry.party_size,
        "category_id": entry.category_id, "position": waitlist_position(entry),
        "offered_seat_ids": entry.offered_seat_ids if entry.status == "offered" else [],
        "offer_expires_at": entry.offer_expires_at if entry.status == "offered" else None,
        "key": waitlist_entry_key(entry), "url": waitlist_entry_url(entry),
    }


@router.post("/events/{event_id}/waitlist", auth=csrf_buyer, response={202: dict})
def waitlist_join_view(request, event_id: int, payload: WaitlistIn):
    """Double opt-in: answers 202 and e-mails a confirmation link; the entry's key comes only by e-mail."""
    rate_limit("waitlist_join", request=request, session=request.auth)
    waitlist_join(event_id=event_id, email=payload.email, party_size=payload.party_size,
                  category_id=payload.category_id, name=payload.name)
    return Status(202, {"status": "pending_confirmation",
                        "message": "Check your inbox: open the link we sent to take your place on the waitlist."})


@router.post("/waitlist/{key}/confirm", auth=csrf_buyer)
def waitlist_confirm_view(request, key: str):
    """The link from the confirmation e-mail: puts the entry in line; answers the entry (with its key)."""
    return waitlist_entry_as_dict(waitlist_confirm(entry_id=waitlist_entry_from_confirm_key(key).pk))


@router.get("/waitlist/{key}")
def waitlist_entry_view(request, key: str):
    return waitlist_entry_as_dict(waitlist_entry_from_key(key))


@router.post("/waitlist/{key}/leave", auth=csrf_buyer)
def waitlist_leave_view(request, key: str):
    return waitlist_entry_as_dict(waitlist_leave(entry_id=waitlist_entry_from_key(key).pk))


@router.post("/waitlist/{key}/claim", auth=csrf_buyer)
def waitlist_claim_view(request, key: str):
    """Moves the offered seats into this session's hold; then POST /api/bookings/confirm as usual."""
    entry = waitlist_claim(entry_id=waitlist_entry_from_key(key).pk, owner=request.auth)
    return {**waitlist_entry_as_dict(entry), "seat_ids": entry.offered_seat_ids,
            "hold_expires_at": entry.offer_expires_at}
