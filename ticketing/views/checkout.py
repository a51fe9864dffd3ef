"""Checkout and confirmation pages: HTML interfaces onto the same services as the JSON API."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from evently.errors import DomainError
from evently.payments import payment_client_script, payment_provider_is_demo
from events.seatmap import money
from events.selectors import PUBLIC_STATUSES
from ticketing import selectors, services, throttle
from ticketing.buyer import buyer_id_if_known
from ticketing.exceptions import NoHeldSeats, PaymentDeclined, SingleSeatGap, VoucherError
from ticketing.forms import CheckoutForm
from ticketing.models import Booking
from ticketing.services.calendar import booking_ics
from ticketing.services.cancellation import cancellation_policy_text
from ticketing.services.delivery import booking_pdf_url
from ticketing.services.seat_gaps import seat_gap_check


def checkout(request, event_id: int):
    """The buyer's held seats, a validated customer form and the (demo) card; pay → confirmation."""
    event = selectors.event_for_buyers_or_none(event_id, statuses=PUBLIC_STATUSES)
    if event is None:
        raise Http404("No such event.")
    owner = buyer_id_if_known(request) or ""
    seats = _cart_lines(event_id=event.pk, owner=owner)
    try:
        seat_gap_check(event_id=event.pk, owner=owner)  # the single-seat rule: fix the seats on the map first
    except SingleSeatGap as gap:
        messages.error(request, gap.message)
        return redirect(event.get_absolute_url())
    voucher_code = (request.POST if request.method == "POST" else request.GET).get("voucher", "").strip()[:60]
    quote, voucher_error = _voucher_quote(request, event=event, owner=owner, code=voucher_code) if (
        voucher_code and seats) else (None, "")
    is_free = quote is not None and quote.subtotal == quote.discount
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        form.fields["card"].required = not is_free  # a voucher paid for everything: no card to ask for
        if voucher_error:
            form.is_valid()
        elif form.is_valid():
            data = form.cleaned_data
            try:
                with throttle.confirm_throttled(request, owner=owner, event_id=event.pk):
                    booking = services.booking_confirm(
                        event_id=event.pk, owner=owner,
                        customer=services.Customer(data["name"], data["email"], data["phone"]),
                        payment_token=data["card"] or "none", idempotency_key=data["idempotency_key"],
                        user=request.user, voucher=quote.voucher.code if quote else "",
                    )
            except NoHeldSeats:
                messages.warning(request, "Your hold has expired, so there is nothing to pay for. "
                                          "Please choose seats again.")
                return redirect(event.get_absolute_url())
            except VoucherError as error:  # used up or switched off since it was applied
                form = _form_with_new_key(request.POST)
                quote, voucher_error = None, error.message
            except PaymentDeclined as declined:
                # A new key for the next attempt: the declined one always answers "declined".
                form = _form_with_new_key(request.POST)
                form.add_error("card", decline_message(declined.extra.get("reason", "")))
            except DomainError as error:
                form = _form_with_new_key(request.POST)
                form.add_error(None, error.message)
            else:
                return redirect("booking_confirmation", booking_id=booking.pk)
            seats = _cart_lines(event_id=event.pk, owner=owner)
    else:
        if not seats:
            messages.info(request, "Choose your seats first; they are held for you while you check out.")
            return redirect(event.get_absolute_url())
        form = CheckoutForm(initial={"idempotency_key": uuid.uuid4().hex})
    total = sum((Decimal(seat["price"]) for seat in seats), Decimal("0")) - (quote.discount if quote else 0)
    for seat in seats:
        seat["price_text"] = money(seat["price"])
    return render(request, "ticketing/checkout.html", {
        "event": event, "form": form, "seats": seats, "total": money(total),
        "voucher_code": voucher_code, "voucher": quote, "voucher_error": voucher_error,
        "discount": money(quote.discount) if quote else None, "is_free": is_free,
        # Evently adds no booking fee: the seats' prices are the total (said, so nobody expects one at the end).
        "fees": "None",
        "cancellation_policy": cancellation_policy_text(event),
        "demo_payments": payment_provider_is_demo(),
        "payment_script": payment_client_script(),
        "payment_config": {"is_demo": payment_provider_is_demo(), "currency": settings.CURRENCY},
        "expires_at": min((seat["held_until"] for seat in seats), default=None),
    })


def _voucher_quote(request, *, event, owner: str, code: str):
    """(the voucher's quote on the cart, "") or (None, why it cannot be used)."""
    try:
        throttle.voucher_tried(request, owner=owner)
        return services.cart_voucher_quote(event_id=event.pk, owner=owner, code=code), ""
    except DomainError as error:  # the voucher's own errors, or too many codes tried
        return None, error.message


def _cart_lines(*, event_id: int, owner: str) -> list[dict]:
    """The cart's held seats, then its general-admission places (one line per area, issue 15)."""
    return selectors.seats_held_by(event_id=event_id, owner=owner) + selectors.places_held_by(
        event_id=event_id, owner=owner)
def decline_message(reason: str) -> str:
    """What a buyer reads under the card fields after the provider declined the card."""
    why = " (insufficient funds)" if reason.lower() == "insufficient funds" else ""
    return (f"Your card was declined{why}. Your seats are still held for you — "
            "try another card before the time runs out.")


def _form_with_new_key(post) -> CheckoutForm:
    data = post.copy()
    data["idempotency_key"] = uuid.uuid4().hex
    form = CheckoutForm(data)
    form.is_valid()
    return form


def booking_confirmation(request, booking_id: int):
    """The booking's reference, seats and total; only for the buyer who made it (or its organiser)."""
    booking = _booking_of_this_buyer(request, booking_id)
    seats = selectors.booking_seats(booking_id=booking.pk) + selectors.booking_places(booking_id=booking.pk)
    for seat in seats:
        seat["price_text"] = money(seat["price"])
    return render(request, "ticketing/booking_confirmation.html", {
        "booking": booking, "event": booking.event, "seats": seats, "total": money(booking.total),
        "discount": money(booking.discount),
        "pdf_url": booking_pdf_url(booking) if booking.status == "paid" else None,
        "calendar_url": reverse("booking_calendar", args=[booking.pk]) if booking.status == "paid" else None,
        "manage_url": reverse("my_bookings"),
    })


def booking_calendar(request, booking_id: int):
    """The booked event as an iCalendar file (Add to calendar); same access as the confirmation page."""
    booking = _booking_of_this_buyer(request, booking_id)
    if booking.status != "paid":
        raise Http404("No such booking.")
    seats = selectors.booking_seats(booking_id=booking.pk)
    response = HttpResponse(booking_ics(booking, seats=seats, url=request.build_absolute_uri(reverse("my_bookings"))),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="evently-{booking.reference}.ics"'
    return response


def _booking_of_this_buyer(request, booking_id: int) -> Booking:
    """The booking, if this browser's buyer made it (or it is the organizer's); else 404."""
    booking = Booking.objects.select_related("event__venue").filter(pk=booking_id).first()
    if booking is None or not services.booking_is_visible_to(
        booking, owner=buyer_id_if_known(request) or "", user=request.user
    ):
        raise Http404("No such booking.")
    return booking


def buyer_page(request, page: str):
    """The terms of sale and the privacy notice the checkout asks buyers to accept."""
    return render(request, f"ticketing/{page}.html")
