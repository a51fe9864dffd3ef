"""Transfer: once per ticket, a new token for the new holder, the old one revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tests.tickets.conftest import pdf_qr_codes
from ticketing.models import EventSigningKey, Ticket, TicketTransfer
from ticketing.tokens import token_verify


def transfer(client, ticket, *, name="Grace Hopper", email="grace@example.com", capture=None):
    if capture is None:
        return client.post_json(f"/api/tickets/{ticket.pk}/transfer", {"name": name, "email": email})
    with capture(execute=True):
        return client.post_json(f"/api/tickets/{ticket.pk}/transfer", {"name": name, "email": email})


@pytest.fixture
def ticket(paid_booking):
    return paid_booking.tickets.order_by("booking_seat__event_seat_id").first()


def test_transfer_issues_a_new_ticket_with_a_new_token_and_revokes_the_old(buyer, ticket, event,
                                                                          django_capture_on_commit_callbacks):
    # when the buyer transfers a ticket
    response = transfer(buyer, ticket, capture=django_capture_on_commit_callbacks)
    # then a new valid ticket exists for the new holder, with its own token for the same seat
    assert response.status_code == 201, response.content
    new = Ticket.objects.get(pk=response.json()["ticket_id"])
    assert response.json() == {"ticket_id": new.pk, "transferred_ticket_id": ticket.pk,
                               "holder_name": "Grace Hopper", "status": "valid"}
    ticket.refresh_from_db()
    assert (ticket.status, new.status) == ("transferred", "valid")
    assert (new.holder_name, new.holder_email, new.transferred_from_id) == ("Grace Hopper", "grace@example.com",
                                                                            ticket.pk)
    assert new.booking_seat_id == ticket.booking_seat_id
    assert new.token != ticket.token and new.nonce != ticket.nonce
    claims = token_verify(new.token, bytes(EventSigningKey.objects.get(pk=event.pk).public_key), event_id=event.pk)
    assert (claims.ticket_id, claims.nonce) == (new.pk, new.nonce)
    # and who/when is recorded
    record = TicketTransfer.objects.get()
    assert (record.from_ticket_id, record.to_ticket_id, record.from_name, record.to_email) == (
        ticket.pk, new.pk, "Ada Lovelace", "grace@example.com")
    assert record.transferred_by == f"buyer:{buyer.buyer_id()}"


def test_new_holder_gets_an_email_with_their_ticket_pdf(buyer, ticket, django_capture_on_commit_callbacks):
    transfer(buyer, ticket, capture=django_capture_on_commit_callbacks)
    new = Ticket.objects.get(transferred_from=ticket)
    message = mail.outbox[-1]
    assert message.to == ["grace@example.com"]
    assert message.subject == "A ticket for Test Concert from Ada Lovelace"
    assert pdf_qr_codes(message.attachments[0][1]) == [[new.token]]


def test_the_buyers_pdf_no_longer_contains_the_transferred_ticket(buyer, paid_booking, ticket,
                                                                  django_capture_on_commit_callbacks):
    transfer(buyer, ticket, capture=django_capture_on_commit_callbacks)
    pdf = b"".join(buyer.get(f"/api/bookings/{paid_booking.pk}/tickets.pdf").streaming_content)
    remaining = paid_booking.tickets.get(status="valid", transferred_from=None)
    assert pdf_qr_codes(pdf) == [[remaining.token]]


def test_a_transferred_ticket_cannot_be_transferred_again(buyer, ticket):
    transfer(buyer, ticket)
    new = Ticket.objects.get(transferred_from=ticket)
    response = transfer(buyer, new, name="Someone Else", email="else@example.com")
    assert (response.status_code, response.json()["error"]) == (422, "transfer_limit")
    assert Ticket.objects.count() == 3
    assert TicketTransfer.objects.count() == 1


def test_the_original_cannot_be_transferred_twice(buyer, ticket):
    transfer(buyer, ticket)
    response = transfer(buyer, ticket, name="Someone Else", email="else@example.com")
    assert (response.status_code, response.json()["error"]) == (422, "ticket_transferred")
    assert TicketTransfer.objects.count() == 1


def test_a_used_ticket_cannot_be_transferred(buyer, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(admitted_at=timezone.now())
    response = transfer(buyer, ticket)
    assert (response.status_code, response.json()["error"]) == (422, "ticket_used")
    assert TicketTransfer.objects.count() == 0
    assert Ticket.objects.get(pk=ticket.pk).status == "valid"


def test_a_cancelled_ticket_cannot_be_transferred(buyer, ticket, paid_booking):
    assert buyer.post_json(f"/api/bookings/{paid_booking.pk}/cancel").status_code == 200
    response = transfer(buyer, ticket)
    assert (response.status_code, response.json()["error"]) == (422, "ticket_cancelled")
    assert TicketTransfer.objects.count() == 0


def test_a_ticket_for_an_event_that_started_cannot_be_transferred(buyer, ticket, event):
    with time_machine.travel(event.starts_at + timedelta(minutes=1)):
        response = transfer(buyer, ticket)
    assert (response.status_code, response.json()["error"]) == (422, "event_started")
    assert TicketTransfer.objects.count() == 0


def test_someone_else_cannot_transfer_the_ticket(other_buyer, ticket):
    response = transfer(other_buyer, ticket)
    assert (response.status_code, response.json()["error"]) == (404, "ticket_not_found")
    assert TicketTransfer.objects.count() == 0


def test_transfer_rejects_a_bad_email_without_writing(buyer, ticket):
    response = transfer(buyer, ticket, email="not-an-email")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert Ticket.objects.get(pk=ticket.pk).status == "valid"
    assert TicketTransfer.objects.count() == 0


def test_cancelling_the_booking_leaves_the_transferred_ticket_to_its_holder(buyer, ticket, paid_booking):
    """Issue 12: the seller's cancel covers only the tickets the seller still holds."""
    transfer(buyer, ticket)
    assert buyer.post_json(f"/api/bookings/{paid_booking.pk}/cancel").status_code == 200
    assert Ticket.objects.get(transferred_from=ticket).status == "valid"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transfers_of_one_ticket_make_one_new_ticket(organizer):
    import threading

    from django.db import connection

    from tests.conftest import make_event
    from ticketing import services
    from ticketing.exceptions import TicketNotTransferable
    from ticketing.models import EventSeat
    from ticketing.services.transfers import ticket_transfer

    event = make_event(organizer)
    seat_id = EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True)[0]
    services.seat_hold(event_id=event.pk, seat_ids=[seat_id], owner="ada")
    booking = services.booking_confirm(event_id=event.pk, owner="ada", payment_token="tok_ok",
                                       customer=services.Customer("Ada", "ada@example.com"))
    ticket = booking.tickets.get()
    barrier = threading.Barrier(2)
    outcomes = []

    def give(name):
        try:
            barrier.wait()
            ticket_transfer(ticket_id=ticket.pk, to_name=name, to_email=f"{name}@example.com", owner="ada")
            outcomes.append("transferred")
        except TicketNotTransferable as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=(name,)) for name in ("grace", "linus")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ticket_transferred", "transferred"]
    assert Ticket.objects.filter(booking=booking, status="valid").count() == 1
    assert TicketTransfer.objects.count() == 1
