"""E-tickets: the PDF with a scannable QR per ticket, and the e-mail that carries it, sent once."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from tests.tickets.conftest import pdf_qr_codes, pdf_text
from ticketing.models import Booking, OutgoingEmail, Ticket
from ticketing.services.delivery import (
    booking_link_key,
    booking_pdf,
    email_enqueue,
    email_send,
    event_reminders_due,
)


def test_pdf_has_one_page_per_ticket_whose_qr_decodes_to_its_token(paid_booking):
    # given a paid booking of two seats
    tickets = list(Ticket.objects.filter(booking=paid_booking).order_by("booking_seat__event_seat_id"))
    # when its PDF is rendered, then each page's QR code reads back as that ticket's token
    assert pdf_qr_codes(booking_pdf(paid_booking.pk).read_bytes()) == [[t.token] for t in tickets]


def test_pdf_page_shows_event_venue_seat_price_holder_and_reference(paid_booking, event):
    event.venue.address = "Unter den Linden 1"
    event.venue.save()
    text = pdf_text(booking_pdf(paid_booking.pk).read_bytes())[0]
    seat = Ticket.objects.filter(booking=paid_booking).order_by("booking_seat__event_seat_id")[0]
    seat = seat.booking_seat.event_seat.seat
    # times are in the venue's time zone (Europe/Berlin), doors an hour before the start
    starts = event.starts_at.astimezone(ZoneInfo("Europe/Berlin"))
    for expected in [
        "Test Concert", event.venue.name, "Unter den Linden 1, Berlin",
        f"starts {starts:%H:%M}", f"Doors open {starts - timedelta(hours=1):%H:%M}",
        f"{seat.section.name} · Row {seat.row_label} · Seat {seat.number}", "Standard · 40.00 EUR",
        "Holder: Ada Lovelace", f"Booking {paid_booking.reference}",
    ]:
        assert expected in text, expected


def test_pdf_is_cached_and_rerendered_when_a_ticket_changes(paid_booking):
    first = booking_pdf(paid_booking.pk)
    assert booking_pdf(paid_booking.pk) == first
    # when a ticket's holder name changes, then the next request renders a new file and drops the old one
    Ticket.objects.filter(booking=paid_booking).update(holder_name="Grace Hopper")
    second = booking_pdf(paid_booking.pk)
    assert second != first
    assert not first.exists()
    assert "Holder: Grace Hopper" in pdf_text(second.read_bytes())[0]


def test_payment_sends_one_email_with_the_pdf_and_a_calendar_file(paid_booking):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == f"Your tickets for Test Concert ({paid_booking.reference})"
    names = [(name, mimetype) for name, _content, mimetype in message.attachments]
    assert names == [(f"tickets-{paid_booking.reference}.pdf", "application/pdf"), ("event.ics", "text/calendar")]
    pdf = message.attachments[0][1]
    assert pdf_qr_codes(pdf) == [[t.token] for t in paid_booking.tickets.order_by("booking_seat__event_seat_id")]
    ics = message.attachments[1][1]
    assert "BEGIN:VEVENT" in ics and "SUMMARY:Test Concert" in ics
    outgoing = OutgoingEmail.objects.get()
    assert (outgoing.key, outgoing.attempts, outgoing.sent_at is not None) == (
        f"booking-tickets:{paid_booking.pk}", 1, True)


def test_the_same_email_is_never_sent_twice(paid_booking):
    # given the tickets e-mail went out
    outgoing = OutgoingEmail.objects.get()
    # when the task runs again (a duplicate delivery by the queue)
    sent = email_send(outgoing.pk)
    # then nothing more is sent
    assert sent is False
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_and_then_sent_once(buyer, event, seat_ids, settings,
                                                     django_capture_on_commit_callbacks):
    from tests.tickets.conftest import buy
    from ticketing.services.delivery import emails_retry_due

    # given the mail server is down when the booking is paid
    settings.EMAIL_BACKEND = "tests.tickets.failing_backend.FailingBackend"
    # the task fails, but the paid sale still answers 201 (a failing e-mail never fails a checkout)
    buy(buyer, event, seat_ids[:1], capture=django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    assert booking.status == "paid"
    outgoing = OutgoingEmail.objects.get()
    assert (outgoing.sent_at, outgoing.claimed_at, outgoing.attempts) == (None, None, 1)
    assert outgoing.last_error == "ConnectionRefusedError: mail server down"
    # when it is back and the retry sweep runs (a minute later)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutgoingEmail.objects.update(created_at=outgoing.created_at.replace(year=2000))
    assert emails_retry_due() == 1
    assert emails_retry_due() == 0
    # then exactly one e-mail went out
    assert [m.subject for m in mail.outbox] == [f"Your tickets for Test Concert ({booking.reference})"]


def test_pdf_endpoint_serves_the_buyer_and_the_signed_link_but_not_others(paid_booking, buyer, other_buyer, client):
    url = f"/api/bookings/{paid_booking.pk}/tickets.pdf"
    response = buyer.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert other_buyer.get(url).json()["error"] == "booking_not_found"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}?key={booking_link_key(paid_booking.pk)}").status_code == 200
    assert client.get(f"{url}?key={booking_link_key(paid_booking.pk + 1)}").status_code == 404


def test_pdf_endpoint_serves_the_event_organizer(paid_booking, organizer, client):
    client.force_login(organizer)
    assert client.get(f"/api/bookings/{paid_booking.pk}/tickets.pdf").status_code == 200


def test_booking_detail_names_the_pdf_url(paid_booking, buyer):
    body = buyer.get(f"/api/bookings/{paid_booking.pk}").json()
    assert body["pdf_url"] == f"/api/bookings/{paid_booking.pk}/tickets.pdf"
    assert {t["pdf_url"] for t in body["tickets"]} == {body["pdf_url"]}


@pytest.mark.parametrize("status", ["pending", "cancelled"])
def test_pdf_endpoint_refuses_a_booking_without_valid_tickets(paid_booking, buyer, status):
    paid_booking.status = status
    paid_booking.save()
    response = buyer.get(f"/api/bookings/{paid_booking.pk}/tickets.pdf")
    assert (response.status_code, response.json()["error"]) == (409, "tickets_not_issued")


def test_local_backend_writes_one_eml_file_per_message(paid_booking, settings, tmp_path):
    from email import message_from_bytes

    from ticketing.mail import EmlFileBackend

    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    assert EmlFileBackend().send_messages(mail.outbox) == 1
    [path] = (tmp_path / "mail").glob("*.eml")
    parsed = message_from_bytes(path.read_bytes())
    assert parsed["To"] == "ada@example.com"
    parts = [part.get_content_type() for part in parsed.walk()]
    assert parts == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf",
                     "text/calendar"]


def test_tickets_email_has_an_html_part_with_a_manage_booking_button_and_the_same_words(paid_booking):
    message = mail.outbox[0]
    # the plain text stays the body; the HTML is an alternative of the same message
    assert "Manage your bookings" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert '<a href="http://testserver/my-bookings/" style=' in html and ">Manage booking</a>" in html
    assert f"Your tickets for Test Concert ({paid_booking.reference})" in html
    assert "Hello Ada Lovelace," in html
    # links in the text are clickable, and the text is escaped
    assert '<a href="http://testserver/api/bookings/' in html
    assert "<script" not in html


def test_html_email_escapes_what_buyers_typed(paid_booking, django_capture_on_commit_callbacks):
    Booking.objects.filter(pk=paid_booking.pk).update(customer_name="<img src=x onerror=alert(1)>")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        email_enqueue(kind="booking-tickets", object_id=paid_booking.pk, to="ada@example.com", key="again")
    html = mail.outbox[-1].alternatives[0][0]
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_day_before_each_paid_booking_gets_one_reminder_with_doors_address_and_seats(
        paid_booking, event, django_capture_on_commit_callbacks):
    event.venue.address = "Unter den Linden 1"
    event.venue.save()
    mail.outbox.clear()
    # ten days ahead: nothing is due
    assert event_reminders_due() == 0
    # the day before: one reminder, and only one however often the schedule runs
    with time_machine.travel(event.starts_at - timedelta(hours=20)):
        with django_capture_on_commit_callbacks(execute=True):
            assert event_reminders_due() == 1
            assert event_reminders_due() == 0
    [message] = mail.outbox
    starts = event.starts_at.astimezone(ZoneInfo("Europe/Berlin"))
    doors = starts - timedelta(hours=1)
    assert message.subject == f"Tomorrow: Test Concert — doors open {doors:%H:%M}"
    assert f"doors open at {doors:%H:%M}, the event starts at {starts:%H:%M}" in message.body
    assert f"Where: {event.venue.name}, Unter den Linden 1, Berlin" in message.body
    assert f"booking {paid_booking.reference}" in message.body
    assert ">Download tickets</a>" in message.alternatives[0][0]
