"""Every path that changes a seat is visible to `changes?since=`: a page that reconnects misses nothing.

Each test takes a cursor the way a page does (`GET …/seats/changes?since=0` answers `version`),
makes one change through the path under test, and asks for the changes since that cursor: the
seat must be there, with its new public status. Transactions really commit here (the stamp is
the writing transaction's id), so a path that forgets to stamp is caught.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import SeatCategory
from tests.tickets.conftest import waitlist_joined
from ticketing import services
from ticketing.models import Booking, EventSeat, WaitlistEntry
from ticketing.services import Customer
from ticketing.services.waitlist import waitlist_claim, waitlist_leave

pytestmark = pytest.mark.django_db(transaction=True)


def cursor_now(client, event) -> int:
    return client.get(f"/api/events/{event.pk}/seats/changes?since=0").json()["version"]


def changes_since(client, event, since: int) -> dict[int, str]:
    response = client.get(f"/api/events/{event.pk}/seats/changes?since={since}")
    assert response.status_code == 200
    return {change["seat_id"]: change["status"] for change in response.json()["changes"]}


def assert_reported(client, event, since, expected: dict[int, str]) -> None:
    seen = changes_since(client, event, since)
    assert {seat_id: seen.get(seat_id) for seat_id in expected} == expected


def pay(buyer, event, seat_ids, token="tok_ok") -> Booking | None:
    assert buyer.hold(event, seat_ids).status_code == 200
    response = buyer.confirm(event, token=token)
    booking_id = response.json().get("booking_id")
    return Booking.objects.get(pk=booking_id) if booking_id else None


def expire_holds(seat_ids) -> None:
    """The hold's time passes (moved into the past: Postgres keeps its own clock)."""
    EventSeat.objects.filter(pk__in=seat_ids).update(held_until=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def waiting_entry(event, seat_ids):
    """The house is sold out but for nothing; someone waits for two seats."""
    EventSeat.objects.filter(event=event).exclude(pk__in=seat_ids[:2]).update(status="blocked")
    EventSeat.objects.filter(pk__in=seat_ids[:2]).update(status="sold")
    entry = waitlist_joined(event_id=event.pk, email="wait@example.com", party_size=2)
    EventSeat.objects.filter(pk__in=seat_ids[:2]).update(status="available")
    return entry


def test_hold(buyer, event, seat_ids):
    since = cursor_now(buyer, event)
    buyer.hold(event, seat_ids[:2])
    assert_reported(buyer, event, since, {seat_ids[0]: "held", seat_ids[1]: "held"})


def test_release(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])
    since = cursor_now(buyer, event)
    buyer.release(event, seat_ids[:2])
    assert_reported(buyer, event, since, {seat_ids[0]: "available", seat_ids[1]: "available"})


def test_expiry_sweep(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    expire_holds(seat_ids[:1])
    since = cursor_now(buyer, event)
    services.holds_expire()
    assert_reported(buyer, event, since, {seat_ids[0]: "available"})


def test_reserve_for_a_pending_payment(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    since = cursor_now(buyer, event)
    buyer.confirm(event, token="tok_timeout")  # stays pending: the seat is reserved, still held
    assert Booking.objects.get().status == "pending"
    assert_reported(buyer, event, since, {seat_ids[0]: "held"})


def test_sell(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    since = cursor_now(buyer, event)
    assert buyer.confirm(event).status_code == 201
    assert_reported(buyer, event, since, {seat_ids[0]: "sold"})


def test_payment_failure_puts_the_seats_back_into_the_hold(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    since = cursor_now(buyer, event)
    assert buyer.confirm(event, token="tok_declined").status_code == 402
    assert_reported(buyer, event, since, {seat_ids[0]: "held"})


def test_expired_order_frees_the_seats(buyer, event, seat_ids):
    booking = pay(buyer, event, seat_ids[:1], token="tok_timeout")
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    since = cursor_now(buyer, event)
    services.booking_reconcile(booking.pk)
    assert_reported(buyer, event, since, {seat_ids[0]: "available"})


def test_cancel_whole_booking(buyer, event, seat_ids):
    booking = pay(buyer, event, seat_ids[:2])
    since = cursor_now(buyer, event)
    services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)
    assert_reported(buyer, event, since, {seat_ids[0]: "available", seat_ids[1]: "available"})


def test_cancel_some_seats(buyer, event, seat_ids):
    booking = pay(buyer, event, seat_ids[:2])
    since = cursor_now(buyer, event)
    services.booking_cancel(booking_id=booking.pk, owner=booking.buyer, seat_ids=[seat_ids[1]])
    assert_reported(buyer, event, since, {seat_ids[1]: "available"})
    assert seat_ids[0] not in changes_since(buyer, event, since)


def test_cancel_event(buyer, event, seat_ids, organizer):
    pay(buyer, event, seat_ids[:1])
    since = cursor_now(buyer, event)
    services.event_cancel(event_id=event.pk, user=organizer)
    assert_reported(buyer, event, since, {seat_ids[0]: "available"})


def test_block(buyer, event, seat_ids):
    since = cursor_now(buyer, event)
    services.seats_block(event_id=event.pk, seat_ids=seat_ids[:1])
    assert_reported(buyer, event, since, {seat_ids[0]: "blocked"})


def test_unblock(buyer, event, seat_ids):
    services.seats_block(event_id=event.pk, seat_ids=seat_ids[:1])
    since = cursor_now(buyer, event)
    services.seats_unblock(event_id=event.pk, seat_ids=seat_ids[:1])
    assert_reported(buyer, event, since, {seat_ids[0]: "available"})


def test_box_office_sale(buyer, event, seat_ids, organizer):
    since = cursor_now(buyer, event)
    services.boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[:1], customer=Customer("Ada", "ada@example.com"),
                            method="cash", sold_by=organizer)
    assert_reported(buyer, event, since, {seat_ids[0]: "sold"})


def test_waitlist_offer(buyer, event, seat_ids, waiting_entry):
    booking = pay(buyer, event, seat_ids[:2])
    since = cursor_now(buyer, event)
    services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)  # freed → offered to the entry
    assert WaitlistEntry.objects.get(pk=waiting_entry.pk).status == "offered"
    assert_reported(buyer, event, since, {seat_ids[0]: "held", seat_ids[1]: "held"})


def test_waitlist_leave(buyer, event, seat_ids, waiting_entry):
    booking = pay(buyer, event, seat_ids[:2])
    services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)
    since = cursor_now(buyer, event)
    waitlist_leave(entry_id=waiting_entry.pk)
    assert_reported(buyer, event, since, {seat_ids[0]: "available", seat_ids[1]: "available"})


def test_waitlist_claim(buyer, event, seat_ids, waiting_entry):
    booking = pay(buyer, event, seat_ids[:2])
    services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)
    since = cursor_now(buyer, event)
    waitlist_claim(entry_id=waiting_entry.pk, owner="the-claimers-session")
    assert_reported(buyer, event, since, {seat_ids[0]: "held", seat_ids[1]: "held"})


def test_waitlist_offer_expiry(buyer, event, seat_ids, waiting_entry):
    booking = pay(buyer, event, seat_ids[:2])
    services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)
    expire_holds(seat_ids[:2])
    WaitlistEntry.objects.filter(pk=waiting_entry.pk).update(offer_expires_at=timezone.now() - timedelta(seconds=1))
    since = cursor_now(buyer, event)
    services.holds_expire()
    assert_reported(buyer, event, since, {seat_ids[0]: "available", seat_ids[1]: "available"})


def test_inventory_create(buyer, event):
    since = cursor_now(buyer, event)
    EventSeat.objects.filter(event=event).delete()
    category = SeatCategory.objects.filter(event=event).first()
    services.event_inventory_create(event=event, section_categories={s.pk: category.pk
                                                                     for s in event.venue.sections.all()})
    created = EventSeat.objects.filter(event=event).values_list("pk", flat=True)
    assert_reported(buyer, event, since, {seat_id: "available" for seat_id in created})
