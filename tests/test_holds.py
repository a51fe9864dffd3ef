"""Holding and releasing seats: all-or-nothing, expiry, limits, ownership."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import EventStatus
from ticketing.models import EventSeat
from ticketing.services import holds_expire


def held_by(event):
    return dict(EventSeat.objects.filter(event=event, status="held").values_list("id", "hold_owner"))


def test_hold_returns_the_seats_and_a_shared_expiry(buyer, event, seat_ids):
    response = buyer.hold(event, seat_ids[:2])

    assert response.status_code == 200
    body = response.json()
    assert body["seat_ids"] == seat_ids[:2]
    assert held_by(event) == {seat_ids[0]: buyer.buyer_id(), seat_ids[1]: buyer.buyer_id()}


def test_hold_is_all_or_nothing(buyer, other_buyer, event, seat_ids):
    # given another buyer holds the second seat
    assert other_buyer.hold(event, [seat_ids[1]]).status_code == 200
    # when the buyer asks for the first two
    response = buyer.hold(event, seat_ids[:2])
    # then nothing is held for them and the taken seat is named
    assert response.status_code == 409
    assert response.json() == {"error": "seats_unavailable", "message": response.json()["message"],
                               "seat_ids": [seat_ids[1]]}
    assert held_by(event) == {seat_ids[1]: other_buyer.buyer_id()}


def test_expired_hold_is_free_at_once_without_the_sweeper(buyer, other_buyer, event, seat_ids):
    buyer.hold(event, [seat_ids[0]])
    EventSeat.objects.filter(pk=seat_ids[0]).update(held_until=timezone.now() - timedelta(seconds=1))

    response = other_buyer.hold(event, [seat_ids[0]])

    assert response.status_code == 200
    assert held_by(event) == {seat_ids[0]: other_buyer.buyer_id()}


def test_adding_a_seat_does_not_extend_the_countdown(buyer, event, seat_ids):
    first = buyer.hold(event, [seat_ids[0]]).json()["expires_at"]
    second = buyer.hold(event, [seat_ids[1]]).json()["expires_at"]
    assert second == first


def test_owner_may_not_hold_more_than_the_limit(buyer, event, seat_ids):
    event.max_seats_per_order = 3  # the event's per-order limit is the hold limit
    event.save()
    assert buyer.hold(event, seat_ids[:2]).status_code == 200

    response = buyer.hold(event, seat_ids[2:4])

    assert response.status_code == 422
    assert response.json()["error"] == "order_limit_exceeded"
    assert set(held_by(event)) == set(seat_ids[:2])


def test_holding_own_seat_again_is_not_counted_twice(buyer, event, seat_ids):
    event.max_seats_per_order = 2
    event.save()
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    assert buyer.hold(event, seat_ids[:2]).status_code == 200


def test_seats_of_another_event_are_rejected(buyer, event, other_event, seat_ids):
    foreign = EventSeat.objects.filter(event=other_event).values_list("id", flat=True).first()

    response = buyer.hold(event, [seat_ids[0], foreign])

    assert response.status_code == 400
    assert response.json()["error"] == "unknown_seats"
    assert response.json()["seat_ids"] == [foreign]
    assert held_by(event) == {} and held_by(other_event) == {}


def test_release_frees_only_the_owners_seats(buyer, other_buyer, event, seat_ids):
    buyer.hold(event, [seat_ids[0]])
    other_buyer.hold(event, [seat_ids[1]])

    response = buyer.release(event, seat_ids[:2])

    assert response.status_code == 200
    assert response.json() == {"seat_ids": [seat_ids[0]]}
    assert held_by(event) == {seat_ids[1]: other_buyer.buyer_id()}


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.SOLD_OUT, EventStatus.CANCELLED])
def test_no_holds_outside_a_sale(buyer, event, seat_ids, status):
    event.status = status
    event.save()

    response = buyer.hold(event, [seat_ids[0]])

    assert response.status_code == 422
    assert response.json()["error"] == "sale_not_active"
    assert held_by(event) == {}


def test_sale_opens_at_its_time_without_the_lifecycle_tick(buyer, event, seat_ids):
    """A published event whose opening time has passed sells even if the worker never moved it to on_sale."""
    event.status = EventStatus.PUBLISHED
    event.sales_open_at = timezone.now() - timedelta(seconds=1)
    event.save()

    assert buyer.hold(event, [seat_ids[0]]).status_code == 200
    assert buyer.confirm(event).status_code == 201


def test_published_event_before_its_opening_time_takes_no_holds(buyer, event, seat_ids):
    event.status = EventStatus.PUBLISHED
    event.sales_open_at = timezone.now() + timedelta(minutes=5)
    event.save()

    assert buyer.hold(event, [seat_ids[0]]).json()["error"] == "sale_not_active"
    assert held_by(event) == {}


def test_no_holds_before_sales_open(buyer, event, seat_ids):
    event.sales_open_at = timezone.now() + timedelta(hours=1)
    event.save()

    assert buyer.hold(event, [seat_ids[0]]).json()["error"] == "sale_not_active"


@pytest.mark.django_db(transaction=True)
def test_every_change_is_stamped_for_catching_up(buyer, event, seat_ids):
    cursor = buyer.get(f"/api/events/{event.pk}/seats/changes?since=0").json()["version"]
    buyer.hold(event, [seat_ids[0]])
    after_hold = EventSeat.objects.get(pk=seat_ids[0]).version
    buyer.release(event, [seat_ids[0]])

    assert cursor <= after_hold < EventSeat.objects.get(pk=seat_ids[0]).version


@pytest.mark.django_db(transaction=True)
def test_sweeper_releases_expired_holds_and_records_the_change(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])
    EventSeat.objects.filter(pk=seat_ids[0]).update(held_until=timezone.now() - timedelta(seconds=1))

    released = holds_expire()

    assert released == 1
    assert held_by(event) == {seat_ids[1]: buyer.buyer_id()}
    assert EventSeat.objects.get(pk=seat_ids[0]).version > EventSeat.objects.get(pk=seat_ids[1]).version
    assert holds_expire() == 0  # safe to run twice


def test_too_many_hold_requests_get_rate_limited_with_retry_after(buyer, event, seat_ids, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "hold": {"session": "2/10"}}
    buyer.hold(event, [seat_ids[0]])
    buyer.hold(event, [seat_ids[1]])

    response = buyer.hold(event, [seat_ids[2]])

    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert response["Retry-After"] == "5"  # a token back every 10 s / 2
    assert set(held_by(event)) == set(seat_ids[:2])


@pytest.mark.django_db(transaction=True)
def test_a_hold_waiting_too_long_for_a_locked_seat_answers_busy(buyer, event, seat_ids, settings):
    import psycopg

    from tests.asgi_server import test_database_url

    settings.SEAT_LOCK_TIMEOUT_MS = 200
    # given another transaction holds the seat row's lock (a confirm in progress, say)
    with psycopg.connect(test_database_url().replace("postgres://", "postgresql://")) as other:
        other.execute("SELECT id FROM ticketing_eventseat WHERE id = %s FOR UPDATE", [seat_ids[0]])
        # when a buyer tries to hold it
        response = buyer.hold(event, [seat_ids[0]])
        other.rollback()
    # then they are told to retry, and nothing was held
    assert response.status_code == 429
    assert response.json()["error"] == "busy"
    assert held_by(event) == {}
