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

from events.models import CancellationPolicy, Event
from tests.checkin.conftest import buy_tickets
from tests.conftest import make_event
from tests.organizer.conftest import login
from ticketing.models import (
    Booking,
    BookingLogEntry,
    Cancellation,
    CancellationReason,
    EventSeat,
    OutgoingEmail,
    Ticket,
)
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
