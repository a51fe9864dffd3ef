"""Event lifecycle: the clock and the seats move the status; holds follow the sales window."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from events.models import EventStatus
from events.services import Transition, event_next_transition, event_publish, events_lifecycle_tick
from tests.conftest import make_event
from tests.sales.conftest import buy
from ticketing.models import EventSeat


def scheduled_event(organizer, *, status=EventStatus.PUBLISHED):
    event = make_event(organizer, rows=1, seats_per_block=1, blocks=2, status=status)
    now = timezone.now()
    event.sales_open_at = now + timedelta(days=1)
    event.sales_close_at = now + timedelta(days=9)
    event.save()
    return event


def status_at(event, moment) -> str:
    with time_machine.travel(moment):
        events_lifecycle_tick()
    event.refresh_from_db()
    return event.status


def test_published_event_goes_on_sale_when_sales_open(organizer):
    event = scheduled_event(organizer)
    assert status_at(event, event.sales_open_at - timedelta(seconds=1)) == EventStatus.PUBLISHED
    assert status_at(event, event.sales_open_at) == EventStatus.ON_SALE


def test_sales_close_then_the_event_finishes(organizer):
    event = scheduled_event(organizer, status=EventStatus.ON_SALE)
    assert status_at(event, event.sales_close_at) == EventStatus.PUBLISHED
    assert status_at(event, event.ends_at) == EventStatus.FINISHED


def test_a_sold_out_event_finishes_too(organizer):
    event = scheduled_event(organizer, status=EventStatus.SOLD_OUT)
    assert status_at(event, event.ends_at + timedelta(minutes=1)) == EventStatus.FINISHED


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED, EventStatus.FINISHED])
def test_draft_cancelled_and_finished_events_never_move_by_themselves(organizer, status):
    event = scheduled_event(organizer, status=status)
    assert status_at(event, event.sales_open_at) == status
    assert status_at(event, event.ends_at) == status


def test_publishing_inside_the_sales_window_puts_the_event_on_sale(organizer):
    event = scheduled_event(organizer, status=EventStatus.DRAFT)
    event.sales_open_at = timezone.now() - timedelta(hours=1)
    event.save()
    assert event_publish(event_id=event.pk) == EventStatus.ON_SALE


def test_holds_outside_the_sales_window_are_refused_even_before_the_tick(organizer, buyer):
    # given an event marked on sale whose sales close in 9 days
    event = scheduled_event(organizer, status=EventStatus.ON_SALE)
    seat_id = EventSeat.objects.filter(event=event).values_list("id", flat=True).first()
    # when a buyer tries to hold after the close (no tick has run yet)
    with time_machine.travel(event.sales_close_at + timedelta(seconds=1)):
        response = buyer.hold(event, [seat_id])
    # then 422 sale_not_active and nothing is held
    assert (response.status_code, response.json()["error"]) == (422, "sale_not_active")
    assert EventSeat.objects.get(pk=seat_id).status == "available"


def test_selling_the_last_seat_makes_the_event_sold_out_and_holds_are_refused(organizer, buyer, other_buyer):
    # given an event with two seats
    event = make_event(organizer, rows=1, seats_per_block=1, blocks=2)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    buy(buyer, event, seat_ids[:1])
    event.refresh_from_db()
    assert event.status == EventStatus.ON_SALE
    # when the last seat is sold
    buy(other_buyer, event, seat_ids[1:])
    # then the event is sold out at once
    event.refresh_from_db()
    assert event.status == EventStatus.SOLD_OUT
    response = buyer.hold(event, seat_ids[:1])
    assert (response.status_code, response.json()["error"]) == (422, "sale_not_active")


def test_tick_puts_a_sold_out_event_with_a_free_seat_back_on_sale(organizer):
    event = make_event(organizer, rows=1, seats_per_block=1, blocks=2, status=EventStatus.SOLD_OUT)
    events_lifecycle_tick()
    event.refresh_from_db()
    assert event.status == EventStatus.ON_SALE


def test_next_transition_for_the_admin(organizer):
    event = scheduled_event(organizer)
    assert event_next_transition(event) == Transition(EventStatus.ON_SALE, event.sales_open_at)
    event.status = EventStatus.ON_SALE
    assert event_next_transition(event) == Transition(EventStatus.PUBLISHED, event.sales_close_at)
    event.status = EventStatus.DRAFT
    assert event_next_transition(event) is None


def test_lifecycle_schedule_exists(db):
    from django_q.models import Schedule

    assert Schedule.objects.filter(func="ticketing.tasks.events_lifecycle_tick", minutes=1).exists()
