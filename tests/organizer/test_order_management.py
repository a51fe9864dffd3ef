"""Issue 18, part 2: managing an order from its booking page — cancel all or chosen seats with a
full refund or the event's policy (the choice recorded), e-mail the tickets again, correct a
holder's name (same QR unless reissued), and the booking's history. Only the event's organizer
(or a superuser) may; another organizer gets a 404 and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pypdfium2
import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import CancellationPolicy, Event, PricingTier
from tests.checkin.conftest import buy_tickets
from tests.conftest import make_event
from tests.organizer.conftest import login
from ticketing.exceptions import PaymentDeclined
from ticketing.models import (
    Booking,
    BookingLogEntry,
    Cancellation,
    CancellationReason,
    EventSeat,
    OutgoingEmail,
    Ticket,
)
from ticketing.services import Customer, boxoffice_sell, boxoffice_sell_card
from ticketing.services.delivery import booking_pdf


@pytest.fixture
def show(organizer):
    return make_event(organizer, title="Org Show")


@pytest.fixture
def booking(show) -> Booking:
    """Ada's paid online booking of two €40 seats (charged through the fake provider)."""
    seat_ids = list(EventSeat.objects.filter(event=show).order_by("id").values_list("id", flat=True)[:2])
    return Booking.objects.get(pk=buy_tickets(show, seat_ids)["booking_id"])


def url(name: str, *args) -> str:
    return reverse(f"admin:ticketing_booking_{name}", args=args)


def seat_ids_of(booking) -> list[int]:
    return sorted(booking.booking_seats.values_list("event_seat_id", flat=True))


def test_organizer_cancels_one_chosen_seat_with_a_full_refund(organizer, booking):
    first, second = seat_ids_of(booking)
    response = login(organizer).post(url("cancel", booking.pk), {"seats": [str(first)], "refund": "full"})
    assert response.status_code == 302
    cancellation = Cancellation.objects.get()
    assert (cancellation.reason, cancellation.refund, cancellation.fee) == (
        CancellationReason.ORGANIZER, Decimal("40.00"), Decimal("0.00"))
    assert cancellation.cancelled_by == organizer
    booking.refresh_from_db()
    assert (booking.status, booking.refund_amount) == ("paid", Decimal("40.00"))
    assert dict(EventSeat.objects.filter(pk__in=[first, second]).values_list("pk", "status")) == {
        first: "available", second: "sold"}


def test_organizer_applies_the_events_policy_and_the_choice_is_recorded(organizer, show, booking):
    CancellationPolicy.objects.create(event=show, allows_cancellation=True, deadline_hours=24,
                                      fee_fixed=Decimal("5.00"))
    login(organizer).post(url("cancel", booking.pk), {"seats": [str(s) for s in seat_ids_of(booking)],
                                                      "refund": "policy"})
    cancellation = Cancellation.objects.get()
    assert (cancellation.reason, cancellation.fee, cancellation.refund) == (
        CancellationReason.ORGANIZER_POLICY, Decimal("10.00"), Decimal("70.00"))
    assert cancellation.get_reason_display() == "Cancelled by the organizer (event's policy)"
    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_policy_past_its_deadline_refunds_nothing_but_the_organizer_may_still_cancel(organizer, show, booking):
    CancellationPolicy.objects.create(event=show, allows_cancellation=True, deadline_hours=24 * 30)
    login(organizer).post(url("cancel", booking.pk), {"seats": [str(seat_ids_of(booking)[0])], "refund": "policy"})
    cancellation = Cancellation.objects.get()
    assert (cancellation.refund, cancellation.fee) == (Decimal("0.00"), Decimal("40.00"))


def test_cancel_page_shows_both_refunds_before_anything_happens(organizer, show, booking):
    CancellationPolicy.objects.create(event=show, allows_cancellation=True, deadline_hours=24,
                                      fee_percent=Decimal("10"))
    page = login(organizer).get(url("cancel", booking.pk)).content.decode()
    assert "would refund <strong>80.00</strong> with a full refund, or <strong>72.00</strong>" in page
    assert Cancellation.objects.count() == 0


def test_resend_queues_a_new_tickets_email_and_logs_it(organizer, booking):
    before = OutgoingEmail.objects.filter(kind="booking-tickets", object_id=booking.pk).count()
    response = login(organizer).post(url("resend", booking.pk))
    assert response.status_code == 302
    assert OutgoingEmail.objects.filter(kind="booking-tickets", object_id=booking.pk).count() == before + 1
    entry = BookingLogEntry.objects.get()
    assert (entry.action, entry.user, entry.message) == (
        "tickets_resent", organizer, f"Tickets e-mailed again to {booking.customer_email}.")


def pdf_text(path) -> str:
    document = pypdfium2.PdfDocument(path)
    return "".join(page.get_textpage().get_text_range() for page in document)


def test_correcting_a_holder_name_renders_a_new_pdf_with_the_same_qr(organizer, booking, settings, tmp_path):
    settings.TICKETS_PDF_DIR = tmp_path
    ticket = booking.tickets.order_by("pk").first()
    old_token, old_nonce = ticket.token, ticket.nonce
    response = login(organizer).post(url("holder", booking.pk, ticket.pk), {"holder_name": "Grace Hopper"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.holder_name, ticket.token, ticket.nonce) == ("Grace Hopper", old_token, old_nonce)
    assert "Grace Hopper" in pdf_text(booking_pdf(booking.pk))
    assert BookingLogEntry.objects.get().action == "holder_corrected"


def test_reissuing_gives_the_ticket_a_new_qr_code(organizer, booking):
    ticket = booking.tickets.order_by("pk").first()
    old_token = ticket.token
    login(organizer).post(url("holder", booking.pk, ticket.pk), {"holder_name": "Grace Hopper", "reissue": "on"})
    ticket.refresh_from_db()
    assert ticket.token != old_token and ticket.status == "valid"
    assert BookingLogEntry.objects.get().action == "ticket_reissued"


def test_booking_history_tells_the_whole_story_in_venue_time(organizer, booking):
    client = login(organizer)
    client.post(url("resend", booking.pk))
    client.post(url("cancel", booking.pk), {"seats": [str(seat_ids_of(booking)[0])], "refund": "full"})
    page = client.get(url("change", booking.pk)).content.decode()
    for kind in ("hold", "payment", "cancellation", "email", "change"):
        assert f"<td>{kind}</td>" in page
    assert "When (venue time)" in page and "Cancelled by the organizer (full refund) by org" in page


# --- scoping ----------------------------------------------------------------------------------------

def test_another_organizer_cannot_see_or_act_on_the_booking(rival, booking):
    client = login(rival)
    ticket = booking.tickets.first()
    responses = [client.get(url("cancel", booking.pk)),
                 client.post(url("cancel", booking.pk), {"seats": [str(s) for s in seat_ids_of(booking)],
                                                         "refund": "full"}),
                 client.post(url("resend", booking.pk)),
                 client.post(url("holder", booking.pk, ticket.pk), {"holder_name": "Mallory"})]
    assert [response.status_code for response in responses] == [404, 404, 404, 404]
    # and nothing was written
    assert Cancellation.objects.count() == 0 and BookingLogEntry.objects.count() == 0
    ticket.refresh_from_db()
    assert ticket.holder_name != "Mallory"
    booking.refresh_from_db()
    assert booking.status == "paid"


def test_a_ticket_of_another_booking_is_not_found_through_this_one(organizer, show, booking):
    seat = EventSeat.objects.filter(event=show, status="available").order_by("id").first()
    other = Booking.objects.get(pk=buy_tickets(show, [seat.pk])["booking_id"])
    foreign = other.tickets.get()
    response = login(organizer).post(url("holder", booking.pk, foreign.pk), {"holder_name": "X"})
    assert response.status_code == 404
    assert Ticket.objects.get(pk=foreign.pk).holder_name != "X"


def test_a_finished_events_booking_cannot_be_cancelled(organizer, show, booking):
    Event.objects.filter(pk=show.pk).update(status="finished", starts_at=timezone.now() - timedelta(days=2),
                                            ends_at=timezone.now() - timedelta(days=1))
    response = login(organizer).post(url("cancel", booking.pk), {"seats": [str(seat_ids_of(booking)[0])],
                                                                "refund": "full"}, follow=True)
    assert "This booking cannot be cancelled in its current state." in response.content.decode()
    assert Cancellation.objects.count() == 0


# --- box office: the price selling now, quotas, card through the provider, receipt ----------------

def free_seats(event, count: int) -> list[int]:
    return list(EventSeat.objects.filter(event=event, status="available").order_by("id")
                .values_list("id", flat=True)[:count])


def test_box_office_cash_sells_at_the_tier_selling_now_within_its_quota(organizer, show):
    category = show.categories.get()
    early = PricingTier.objects.create(category=category, name="Early bird", price=Decimal("25.00"), quota=1,
                                       position=0)
    # when two seats are sold for cash while the early-bird tier has one place left
    booking = boxoffice_sell(event_id=show.pk, seat_ids=free_seats(show, 2), method="cash", sold_by=organizer,
                             customer=Customer(name="Ada", email="ada@example.com", phone=""))
    # then one seat is at the early-bird price (its quota is now used) and the next at the base price
    assert sorted((bs.price, bs.tier_id) for bs in booking.booking_seats.all()) == [
        (Decimal("25.00"), early.pk), (Decimal("40.00"), None)]
    assert booking.total == Decimal("65.00")
    assert EventSeat.objects.filter(tier=early, status="sold").count() == 1


def test_box_office_card_is_charged_through_the_provider(organizer, show):
    booking = boxoffice_sell_card(event_id=show.pk, seat_ids=free_seats(show, 2), payment_token="tok_ok",
                                  sold_by=organizer, customer=Customer(name="Ada", email="ada@example.com", phone=""))
    assert (booking.status, booking.total) == ("paid", Decimal("80.00"))
    assert booking.box_office_sale.method == "card"
    assert not booking.payment_reference.startswith("cash:") and booking.is_box_office is False  # refunds by card
    assert booking.tickets.filter(status="valid").count() == 2


def test_a_declined_card_at_the_box_office_sells_nothing_and_frees_the_seats(organizer, show):
    seat_ids = free_seats(show, 2)
    with pytest.raises(PaymentDeclined):
        boxoffice_sell_card(event_id=show.pk, seat_ids=seat_ids, payment_token="tok_declined", sold_by=organizer,
                            customer=Customer(name="Ada", email="ada@example.com", phone=""))
    assert set(EventSeat.objects.filter(pk__in=seat_ids).values_list("status", flat=True)) == {"available"}
    assert not Booking.objects.filter(status="paid").exists()


def test_seat_map_card_sale_leads_to_a_printable_receipt_and_tickets(organizer, show):
    client = login(organizer)
    seat_ids = free_seats(show, 1)
    response = client.post(reverse("admin:events_event_seatmap", args=[show.pk]), {
        "action": "sell", "seat_ids": ",".join(map(str, seat_ids)), "customer_name": "Ada",
        "customer_email": "ada@example.com", "customer_phone": "+49 30 1234", "method": "card",
        "payment_token": "tok_ok"})
    booking = Booking.objects.get()
    assert response["Location"] == url("receipt", booking.pk)
    receipt = client.get(response["Location"]).content.decode()
    assert f"receipt {booking.reference}" in receipt and "Card (through the payment provider)" in receipt
    assert "40.00" in receipt
    pdf = client.get(url("tickets_pdf", booking.pk))
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")


def test_a_card_sale_without_a_token_is_refused_and_sells_nothing(organizer, show):
    response = login(organizer).post(reverse("admin:events_event_seatmap", args=[show.pk]), {
        "action": "sell", "seat_ids": str(free_seats(show, 1)[0]), "customer_name": "Ada",
        "customer_email": "ada@example.com", "method": "card", "payment_token": ""})
    assert "A card sale needs the payment token." in response.content.decode()
    assert Booking.objects.count() == 0


def test_another_organizer_gets_no_receipt_or_tickets(rival, booking):
    client = login(rival)
    assert [client.get(url("receipt", booking.pk)).status_code,
            client.get(url("tickets_pdf", booking.pk)).status_code] == [404, 404]
