"""The other bugs found in review, each pinned by a regression test."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from django.core import mail
from django.test import Client

from events.models import EventStatus
from tests.conftest import make_event
from tests.sales.conftest import ADA, buy
from ticketing.models import Booking, EventSeat, OutgoingEmail
from ticketing.services import boxoffice_sell


def test_an_event_may_allow_groups_larger_than_the_global_hold_default(buyer, event, seat_ids, settings):
    # given the platform default of 10 seats, and an event that sells up to 12 per order
    settings.MAX_SEATS_PER_HOLD = 10
    event.max_seats_per_order = 12
    event.save()
    # when a group of 12 holds and pays
    held = buyer.hold(event, seat_ids[:12])
    assert held.status_code == 200, held.content
    confirmed = buyer.confirm(event)
    # then they get 12 tickets
    assert confirmed.status_code == 201, confirmed.content
    assert len(confirmed.json()["tickets"]) == 12
    # and the 13th seat is still refused by the event's own limit
    assert buyer.hold(event, seat_ids[12:13]).status_code == 200
    assert buyer.hold(event, seat_ids[13:25]).json()["error"] == "order_limit_exceeded"


def test_the_event_page_lets_buyers_select_up_to_the_events_limit(client, event):
    event.max_seats_per_order = 14
    event.save()
    page = client.get(event.get_absolute_url()).content.decode()
    assert '"max_seats": 14' in page or "&quot;max_seats&quot;: 14" in page


def test_releasing_seats_of_an_unknown_event_is_404(buyer):
    response = buyer.post_json("/api/seats/release", {"event_id": 999_999, "seat_ids": [1]})
    assert (response.status_code, response.json()["error"]) == (404, "event_not_found")


def test_releasing_seats_one_does_not_hold_is_still_200(buyer, event, seat_ids):
    response = buyer.release(event, seat_ids[:1])
    assert (response.status_code, response.json()) == (200, {"seat_ids": []})


async def _connect(event_id: int):
    from evently.asgi import application

    communicator = WebsocketCommunicator(application, f"/ws/events/{event_id}/seats",
                                         headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")])
    connected, code = await communicator.connect()
    await communicator.disconnect()
    return connected, code


@pytest.mark.django_db(transaction=True)
def test_the_seat_websocket_refuses_a_draft_event(organizer):
    draft = make_event(organizer, status=EventStatus.DRAFT, rows=1, seats_per_block=1, blocks=1)
    assert async_to_sync(_connect)(draft.pk) == (False, 4404)


@pytest.mark.django_db(transaction=True)
def test_the_seat_websocket_refuses_an_unknown_event():
    assert async_to_sync(_connect)(987_654) == (False, 4404)


@pytest.mark.django_db(transaction=True)
def test_the_seat_websocket_accepts_an_event_on_sale(organizer):
    on_sale = make_event(organizer, rows=1, seats_per_block=1, blocks=1)
    assert async_to_sync(_connect)(on_sale.pk)[0] is True


def test_magic_link_emails_go_through_the_send_once_outbox(buyer, event, seat_ids,
                                                          django_capture_on_commit_callbacks):
    buy(buyer, event, seat_ids[:1])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # the same address twice within a minute
            Client().post("/api/my-bookings/link", {"email": "ada@example.com"}, content_type="application/json")
    sent = OutgoingEmail.objects.filter(kind="magic-link")
    assert [(row.to, row.sent_at is not None) for row in sent] == [("ada@example.com", True)]
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert "/my-bookings/?token=" in mail.outbox[0].body


def test_cancellation_emails_go_through_the_send_once_outbox(buyer, event, seat_ids,
                                                            django_capture_on_commit_callbacks):
    booking = buy(buyer, event, seat_ids[:1])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert buyer.post_json(f"/api/bookings/{booking['booking_id']}/cancel").status_code == 200
    assert list(OutgoingEmail.objects.filter(kind="cancellation").values_list("to", flat=True)) == ["ada@example.com"]
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert "Refund: 40.00 EUR" in mail.outbox[0].body


def test_a_box_office_sale_of_the_last_seat_marks_the_event_sold_out(organizer):
    event = make_event(organizer, rows=1, seats_per_block=2, blocks=1)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[:1], customer=ADA, method="cash", sold_by=organizer)
    event.refresh_from_db()
    assert event.status == EventStatus.ON_SALE
    boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[1:], customer=ADA, method="comp", sold_by=organizer)
    event.refresh_from_db()
    assert event.status == EventStatus.SOLD_OUT
    assert Booking.objects.count() == 2
