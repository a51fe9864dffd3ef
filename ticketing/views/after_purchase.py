"""Server-rendered pages after the purchase: "my bookings", waitlist entry, joining, claiming an offer.

Thin: each action calls one service and shows its DomainError as a message on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from evently.errors import DomainError
from evently.payments import payment_provider_is_demo
from evently.ratelimit import rate_limit
from events.models import Event
from events.seatmap import money
from ticketing import selectors, services
from ticketing.api_tickets import MY_BOOKINGS_SESSION_KEY, session_email
from ticketing.buyer import buyer_id, buyer_id_if_known
from ticketing.exceptions import BookingNotFound
from ticketing.models import Booking, Ticket, WaitlistStatus
from ticketing.services.access import booking_is_accessible
from ticketing.services.delivery import booking_pdf_url
from ticketing.services.my_bookings import bookings_of, magic_link_email, magic_link_request, tickets_received
from ticketing.services.transfers import ticket_transfer
from ticketing.services.waitlist import (
    waitlist_claim,
    waitlist_confirm,
    waitlist_entry_from_confirm_key,
    waitlist_entry_from_key,
    waitlist_entry_url,
    waitlist_join,
    waitlist_leave,
    waitlist_position,
)


def _valid_email(value: str) -> str | None:
    value = (value or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        return None
    return value


@require_http_methods(["GET", "POST"])
def my_bookings(request):
    token = request.GET.get("token")
    if token:
        try:
            email = magic_link_email(token)
        except DomainError as error:
            return render(request, "ticketing/my_bookings.html", {"link_error": error.message}, status=400)
        request.session.cycle_key()  # a new session id once the visitor is known: no fixation
        request.session[MY_BOOKINGS_SESSION_KEY] = email
        return redirect("my_bookings")
    if request.method == "POST":
        _my_bookings_action(request)
        return redirect("my_bookings")
    email = session_email(request)
    bookings = list(bookings_of(email=email, user=request.user, owner=buyer_id_if_known(request))[:100])
    tickets = Ticket.objects.filter(booking__in=bookings).select_related(
        "booking_seat__event_seat__seat__section", "transfer_out"
    ).order_by("booking_seat__event_seat_id", "id")
    by_booking: dict[int, list[Ticket]] = {}
    for ticket in tickets:
        by_booking.setdefault(ticket.booking_id, []).append(ticket)
    rows = [{"booking": booking, "tickets": by_booking.get(booking.pk, []),
             "pdf_url": booking_pdf_url(booking) if booking.status == "paid" else None,
             # Access is proven (session, account or e-mail), so preview as the booking's own buyer.
             "cancel_preview": services.booking_cancel_preview(booking_id=booking.pk, owner=booking.buyer)
             if booking.status == "paid" else None}
            for booking in bookings]
    for row in rows:  # each ticket's own refund, for "cancel this seat" (per-seat preview)
        refunds = {seat["seat_id"]: seat for seat in (row["cancel_preview"] or {}).get("seats", [])}
        active = sum(1 for ticket in row["tickets"] if ticket.status == "valid")
        for ticket in row["tickets"]:
            seat_refund = refunds.get(ticket.booking_seat.event_seat_id)
            ticket.seat_cancel = seat_refund if (seat_refund and active > 1 and ticket.status == "valid"
                                                 and row["cancel_preview"]["allowed"]) else None
    signed_in = bool(email) or request.user.is_authenticated
    received = list(tickets_received(email=email)[:100])
    return render(request, "ticketing/my_bookings.html", {"rows": rows, "email": email, "signed_in": signed_in,
                                                          "received": received})


def _my_bookings_action(request) -> None:
    action = request.POST.get("action")
    owner, user, email = buyer_id_if_known(request), request.user, session_email(request)
    try:
        if action == "link":
            address = _valid_email(request.POST.get("email", ""))
            if address is None:
                messages.error(request, "Please enter a valid e-mail address.")
                return
            rate_limit("magic_link", request=request)
            magic_link_request(email=address)
            messages.info(request, f"If {address} has bookings, a link to them is on its way. It works for an hour.")
        elif action == "forget":
            request.session.pop(MY_BOOKINGS_SESSION_KEY, None)
        elif action == "cancel":
            booking = Booking.objects.select_related("event").filter(pk=_int(request.POST.get("booking_id"))).first()
            if booking is None or not booking_is_accessible(booking, owner=owner, user=user, email=email):
                raise BookingNotFound()
            # Access is proven above (possibly by e-mail), so cancel as the booking's own buyer.
            seat_id = _int(request.POST.get("seat_id")) or None  # one seat of the booking, or all of it
            cancellation = services.booking_seats_cancel(booking_id=booking.pk, owner=booking.buyer, user=user,
                                                         seat_ids=[seat_id] if seat_id else None)
            what = f"One seat of booking {booking.reference} is" if seat_id else f"Booking {booking.reference} is"
            messages.info(request, f"{what} cancelled; {cancellation.refund} "
                                   f"{booking.currency} will be refunded (fee {cancellation.fee}).")
        elif action == "transfer":
            to_email = _valid_email(request.POST.get("email", ""))
            to_name = request.POST.get("name", "").strip()[:200]
            if to_email is None or not to_name:
                messages.error(request, "Please give the new holder's name and a valid e-mail address.")
                return
            rate_limit("transfer", request=request, session=owner or request.session.session_key)
            transfer = ticket_transfer(ticket_id=_int(request.POST.get("ticket_id")), to_name=to_name,
                                       to_email=to_email, owner=owner, user=user, email=email)
            messages.info(request, f"The ticket now belongs to {transfer.to_name}; we e-mailed it to {to_email}.")
        else:
            messages.error(request, "Unknown action.")
    except DomainError as error:
        messages.error(request, error.message)


def _int(value) -> int:
    return int(value) if str(value or "").isdigit() else 0


@require_http_methods(["GET", "POST"])
def waitlist_join_page(request, event_id: int):
    event = Event.objects.select_related("venue").exclude(status="draft").filter(pk=event_id).first()
    if event is None:
        raise Http404("No such event.")
    if request.method == "POST":
        email = _valid_email(request.POST.get("email", ""))
        if email is None:
            messages.error(request, "Please enter a valid e-mail address.")
        else:
            try:
                rate_limit("waitlist_join", request=request, session=buyer_id(request))
                waitlist_join(event_id=event.pk, email=email, party_size=_int(request.POST.get("party_size")),
                              category_id=_int(request.POST.get("category_id")) or None,
                              name=request.POST.get("name", "")[:200])
                # Double opt-in: the place in line (and its page) comes through the e-mailed link only.
                messages.info(request, f"Almost there: open the link we sent to {email} to take your place in line.")
                return redirect(request.path)
            except DomainError as error:
                messages.error(request, error.message)
    # The price selling now (the active pricing tier's), as on the event page, not the base price.
    categories = [{**category, "price_text": money(category["price"])}
                  for category in selectors.categories_selling_now(event=event)]
    return render(request, "ticketing/waitlist_join.html", {"event": event, "categories": categories,
                                                            "party_sizes": range(1, event.max_seats_per_order + 1)})


@require_http_methods(["GET", "POST"])
def waitlist_confirm_page(request, key: str):
    """The double opt-in link: GET shows a button (mail scanners that follow links confirm nothing);
    POST puts the entry in line and opens its page."""
    try:
        entry = waitlist_entry_from_confirm_key(key)
        if request.method == "POST":
            entry = waitlist_confirm(entry_id=entry.pk)
            return redirect(waitlist_entry_url(entry))
    except DomainError as error:
        return render(request, "ticketing/waitlist_confirm.html", {"error": error.message}, status=404)
    return render(request, "ticketing/waitlist_confirm.html", {"entry": entry, "event": entry.event})


@require_http_methods(["GET", "POST"])
def waitlist_entry_page(request, key: str):
    try:
        entry = waitlist_entry_from_key(key)
        if request.method == "POST":
            entry = waitlist_leave(entry_id=entry.pk)
            messages.info(request, "You have left the waitlist.")
            return redirect(request.path)
    except DomainError as error:
        raise Http404(error.message) from None
    return render(request, "ticketing/waitlist_entry.html",
                  {"entry": entry, "position": waitlist_position(entry), "key": key})


@require_http_methods(["GET", "POST"])
def waitlist_claim_page(request, key: str):
    """GET shows the offer (mail scanners that follow links claim nothing); POST binds it to this browser."""
    try:
        entry = waitlist_entry_from_key(key)
    except DomainError as error:
        raise Http404(error.message) from None
    if request.method == "POST":
        try:
            entry = waitlist_claim(entry_id=entry.pk, owner=buyer_id(request))
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(request.path)
        # The offered seats are now this browser's hold: the normal checkout (seats, prices, total, countdown).
        return redirect("checkout", event_id=entry.event_id)
    claimed_here = entry.status == WaitlistStatus.CLAIMED and entry.claimed_by == buyer_id_if_known(request)
    return render(request, "ticketing/waitlist_claim.html", {
        "entry": entry, "event": entry.event, "claimed_here": claimed_here, "key": key,
        "seat_count": len(entry.offered_seat_ids), "demo_payments": payment_provider_is_demo(),
    })

