"""My bookings: a signed, expiring e-mail link shows someone their bookings; no password."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from ticketing.models import Ticket, TicketTransfer
from ticketing.services.my_bookings import magic_link_token


def magic_link_from(message) -> str:
    return re.search(r"http://testserver(/my-bookings/\?token=\S+)", message.body).group(1)


def request_link(client: Client, email: str, capture):
    with capture(execute=True):
        return client.post("/my-bookings/", {"action": "link", "email": email})


def test_magic_link_is_emailed_and_shows_the_bookings(paid_booking, client, django_capture_on_commit_callbacks):
    # given a visitor on another device asks for a link
    mail.outbox.clear()
    assert request_link(client, "ADA@example.com", django_capture_on_commit_callbacks).status_code == 302
    # then one e-mail with a link arrives
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    # when they open it
    response = client.get(magic_link_from(mail.outbox[0]))
    assert (response.status_code, response["Location"]) == (302, "/my-bookings/")
    page = client.get("/my-bookings/").content.decode()
    # then their booking is listed with its PDF and transfer/cancel actions
    assert paid_booking.reference in page
    assert f"/api/bookings/{paid_booking.pk}/tickets.pdf" in page
    assert 'value="transfer"' in page and 'value="cancel"' in page
    assert client.get(f"/api/bookings/{paid_booking.pk}/tickets.pdf").status_code == 200
    assert [b["reference"] for b in client.get("/api/my-bookings").json()["results"]] == [paid_booking.reference]


def test_no_email_is_sent_for_an_address_without_bookings(paid_booking, client, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    response = request_link(client, "nobody@example.com", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert mail.outbox == []


def test_only_one_link_a_minute_per_address(paid_booking, client, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    request_link(client, "ada@example.com", django_capture_on_commit_callbacks)
    request_link(client, "ada@example.com", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_an_expired_link_is_refused(paid_booking, client, settings):
    token = magic_link_token("ada@example.com")
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.MAGIC_LINK_MAX_AGE_SECONDS + 5)):
        response = client.get("/my-bookings/", {"token": token})
    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    assert paid_booking.reference not in client.get("/my-bookings/").content.decode()


def test_a_tampered_link_is_refused(paid_booking, client):
    token = magic_link_token("eve@example.com")
    value, rest = token.split(":", 1)
    forged = magic_link_token("ada@example.com").split(":", 1)[0] + ":" + rest  # Ada's payload, Eve's signature
    response = client.get("/my-bookings/", {"token": forged})
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert client.get("/api/my-bookings").json()["results"] == []


def test_the_buyers_own_browser_sees_its_bookings_without_a_link(paid_booking, buyer):
    assert paid_booking.reference in buyer.get("/my-bookings/").content.decode()


def test_my_bookings_previews_the_refund_under_the_events_policy(paid_booking, buyer):
    from events.models import CancellationPolicy

    CancellationPolicy.objects.update_or_create(event=paid_booking.event, defaults={"fee_percent": 10})

    page = buyer.get("/my-bookings/").content.decode()

    total = paid_booking.total
    assert f"Cancelling now refunds <strong>{total * 9 / 10:.2f} EUR</strong> (fee {total / 10:.2f} EUR)" in page


def test_a_logged_in_user_sees_their_bookings(paid_booking, client, django_user_model):
    user = django_user_model.objects.create_user("ada", password="pw-ada-12345")
    paid_booking.user = user
    paid_booking.save()
    client.force_login(user)
    assert paid_booking.reference in client.get("/my-bookings/").content.decode()


def test_cancel_and_transfer_from_my_bookings(paid_booking, client, django_capture_on_commit_callbacks):
    # given Ada opened her magic link on a new device
    client.get("/my-bookings/", {"token": magic_link_token("ada@example.com")})
    ticket = paid_booking.tickets.order_by("booking_seat__event_seat_id").first()
    # when she transfers a ticket
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/my-bookings/", {"action": "transfer", "ticket_id": ticket.pk, "name": "Grace Hopper",
                                      "email": "grace@example.com"})
    assert TicketTransfer.objects.get().to_email == "grace@example.com"
    assert mail.outbox[-1].to == ["grace@example.com"]
    # and cancels the booking
    client.post("/my-bookings/", {"action": "cancel", "booking_id": paid_booking.pk})
    # then only the ticket she still held is cancelled: Grace's stays hers (issue 12)
    paid_booking.refresh_from_db()
    assert paid_booking.status == "paid"
    assert sorted(Ticket.objects.values_list("status", flat=True)) == ["cancelled", "transferred", "valid"]


def test_a_stranger_cannot_cancel_through_my_bookings(paid_booking, client):
    client.get("/my-bookings/", {"token": magic_link_token("eve@example.com")})
    response = client.post("/my-bookings/", {"action": "cancel", "booking_id": paid_booking.pk}, follow=True)
    assert "No such booking." in response.content.decode()
    paid_booking.refresh_from_db()
    assert paid_booking.status == "paid"
