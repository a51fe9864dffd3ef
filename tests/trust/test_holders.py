"""Tickets belong to their holder: after a transfer the seller neither sees nor cancels the new
ticket; whoever holds a cancelled ticket hears of it; the new holder finds it in "my bookings"."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from tests.tickets.conftest import buy, pdf_qr_codes
from ticketing.models import Cancellation, OutgoingEmail, Ticket
from ticketing.services.my_bookings import magic_link_token


@pytest.fixture
def paid(buyer, event, seat_ids, django_capture_on_commit_callbacks):
    """Ada's paid booking of two seats."""
    return buy(buyer, event, seat_ids[:2], capture=django_capture_on_commit_callbacks)


@pytest.fixture
def given(buyer, paid, django_capture_on_commit_callbacks):
    """Ada transferred her first ticket to Grace; returns Grace's new ticket."""
    ticket = paid.tickets.order_by("booking_seat__event_seat_id").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = buyer.post_json(f"/api/tickets/{ticket.pk}/transfer",
                                   {"name": "Grace Hopper", "email": "grace@example.com"})
    assert response.status_code == 201, response.content
    return Ticket.objects.get(pk=response.json()["ticket_id"])


def signed_in(email: str) -> Client:
    client = Client()
    assert client.get(f"/my-bookings/?token={magic_link_token(email)}").status_code == 302
    return client


def test_the_seller_no_longer_sees_the_new_holders_token(buyer, paid, given):
    body = buyer.get(f"/api/bookings/{paid.pk}").json()
    tokens = [ticket["token"] for ticket in body["tickets"]]
    assert given.token not in tokens
    assert {ticket["id"]: ticket["token"] for ticket in body["tickets"]}[given.pk] is None


def test_the_seller_signed_in_by_email_does_not_see_it_either(paid, given):
    seller = signed_in("ada@example.com")
    assert given.token not in seller.get(f"/api/bookings/{paid.pk}").content.decode()
    assert given.token not in seller.get("/api/my-bookings").content.decode()
    assert seller.get(f"/api/tickets/{given.pk}/ticket.pdf").status_code == 404
    pdf = b"".join(seller.get(f"/api/bookings/{paid.pk}/tickets.pdf").streaming_content)
    assert given.token not in sum(pdf_qr_codes(pdf), [])


def test_the_new_holder_finds_the_ticket_in_my_bookings(given):
    grace = signed_in("grace@example.com")
    page = grace.get("/my-bookings/").content.decode()
    assert "Tickets transferred to you" in page and f"/api/tickets/{given.pk}/ticket.pdf" in page
    received = grace.get("/api/my-bookings").json()["tickets"]
    assert [(t["ticket_id"], t["token"]) for t in received] == [(given.pk, given.token)]
    pdf = b"".join(grace.get(f"/api/tickets/{given.pk}/ticket.pdf").streaming_content)
    assert pdf_qr_codes(pdf) == [[given.token]]


def test_the_new_holder_can_ask_for_a_magic_link(given, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/my-bookings/", {"action": "link", "email": "grace@example.com"})
    assert [m.to for m in mail.outbox] == [["grace@example.com"]]


def test_the_sellers_cancel_covers_only_the_tickets_they_still_hold(buyer, paid, given,
                                                                    django_capture_on_commit_callbacks):
    # when the seller cancels the whole booking
    with django_capture_on_commit_callbacks(execute=True):
        response = buyer.post_json(f"/api/bookings/{paid.pk}/cancel")
    # then only the ticket they kept is cancelled and refunded; Grace's stays valid
    assert response.status_code == 200, response.content
    assert response.json()["refund"] == "40.00"
    assert Ticket.objects.get(pk=given.pk).status == "valid"
    assert paid.tickets.get(status="cancelled", transferred_from=None)
    paid.refresh_from_db()
    assert paid.status == "paid"  # Grace's seat is still sold under it


def test_the_seller_cannot_cancel_a_transferred_seat_by_name(buyer, paid, given):
    seat_id = given.booking_seat.event_seat_id
    response = buyer.post_json(f"/api/bookings/{paid.pk}/cancel", {"seat_ids": [seat_id]})
    assert (response.status_code, response.json()["error"]) == (409, "seats_transferred")
    assert response.json()["seat_ids"] == [seat_id]
    assert Ticket.objects.get(pk=given.pk).status == "valid"
    assert Cancellation.objects.count() == 0


def test_nothing_to_cancel_once_every_ticket_was_transferred(buyer, paid, given):
    other = paid.tickets.get(status="valid", transferred_from=None)
    assert buyer.post_json(f"/api/tickets/{other.pk}/transfer",
                           {"name": "Linus", "email": "linus@example.com"}).status_code == 201
    response = buyer.post_json(f"/api/bookings/{paid.pk}/cancel")
    assert (response.status_code, response.json()["error"]) == (409, "seats_transferred")
    preview = buyer.get(f"/api/bookings/{paid.pk}/cancel-preview").json()
    assert (preview["allowed"], preview["reason"]["error"]) == (False, "seats_transferred")
    assert Cancellation.objects.count() == 0


def test_the_holder_of_a_ticket_the_organizer_cancels_is_emailed(organizer, paid, given,
                                                                 django_capture_on_commit_callbacks):
    # when the organizer cancels the booking
    client = Client()
    client.force_login(organizer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/bookings/{paid.pk}/cancel", content_type="application/json")
    # then Grace's ticket is cancelled too, and both the buyer and Grace are told, once each
    assert response.status_code == 200, response.content
    assert Ticket.objects.get(pk=given.pk).status == "cancelled"
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
    grace_mail = next(m for m in mail.outbox if m.to == ["grace@example.com"])
    assert "cancelled" in grace_mail.subject
    assert set(OutgoingEmail.objects.values_list("kind", flat=True)) >= {"cancellation", "ticket-cancelled"}
