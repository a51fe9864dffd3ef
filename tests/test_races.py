"""Races with real threads, each on its own database connection: a seat is never sold twice."""

import random
import threading
from collections import Counter

import pytest
from django.db import connection

from evently.models import PaymentAttempt
from ticketing.exceptions import NoHeldSeats, SeatsUnavailable
from ticketing.models import Booking, BookingSeat, EventSeat
from ticketing.services import Customer, booking_confirm, seat_hold

pytestmark = [pytest.mark.concurrency]


def run_together(count, work):
    """Run work(index) in `count` threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_one_seat_exactly_one_holds_it(event, seat_ids):
    results = run_together(50, lambda i: seat_hold(event_id=event.pk, seat_ids=[seat_ids[0]], owner=f"buyer-{i}"))

    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, SeatsUnavailable) for r in results if isinstance(r, Exception))
    seat = EventSeat.objects.get(pk=seat_ids[0])
    assert seat.status == "held"
    assert seat.hold_owner == f"buyer-{results.index(winners[0])}"


@pytest.mark.django_db(transaction=True)
def test_overlapping_pairs_never_share_a_seat(event, seat_ids):
    pool = seat_ids[:30]
    rng = random.Random(7)
    pairs = [rng.sample(pool, 2) for _ in range(100)]

    results = run_together(100, lambda i: seat_hold(event_id=event.pk, seat_ids=pairs[i], owner=f"buyer-{i}"))

    granted = {f"buyer-{i}": set(r.seat_ids) for i, r in enumerate(results) if not isinstance(r, Exception)}
    taken = Counter(seat for seats in granted.values() for seat in seats)
    assert granted, "someone must win"
    assert max(taken.values()) == 1  # no seat granted to two owners
    assert all(len(seats) == 2 for seats in granted.values())  # all-or-nothing under contention
    in_db = dict(EventSeat.objects.filter(status="held").values_list("id", "hold_owner"))
    assert in_db == {seat: owner for owner, seats in granted.items() for seat in seats}


@pytest.mark.django_db(transaction=True)
def test_twenty_confirms_of_one_hold_make_one_booking(event, seat_ids):
    seat_hold(event_id=event.pk, seat_ids=seat_ids[:2], owner="buyer-1")
    customer = Customer("Ada Lovelace", "ada@example.com")

    results = run_together(20, lambda i: booking_confirm(
        event_id=event.pk, owner="buyer-1", customer=customer, payment_token="tok_ok", idempotency_key=f"key-{i}"))

    bookings = [r for r in results if not isinstance(r, Exception)]
    assert len(bookings) == 1
    assert all(isinstance(r, NoHeldSeats) for r in results if isinstance(r, Exception))
    assert Booking.objects.filter(status="paid").count() == 1
    assert BookingSeat.objects.filter(is_active=True).count() == 2
    assert PaymentAttempt.objects.count() == 1
    assert set(EventSeat.objects.filter(pk__in=seat_ids[:2]).values_list("status", flat=True)) == {"sold"}


@pytest.mark.django_db(transaction=True)
def test_twenty_retries_with_one_idempotency_key_answer_with_one_booking(event, seat_ids):
    seat_hold(event_id=event.pk, seat_ids=seat_ids[:2], owner="buyer-1")
    customer = Customer("Ada Lovelace", "ada@example.com")

    results = run_together(20, lambda i: booking_confirm(
        event_id=event.pk, owner="buyer-1", customer=customer, payment_token="tok_ok", idempotency_key="same-key"))

    assert not [r for r in results if isinstance(r, Exception)]
    assert {r.pk for r in results} == {Booking.objects.get().pk}
    assert PaymentAttempt.objects.count() == 1


@pytest.mark.django_db
def test_confirm_locks_seats_in_id_order(event, seat_ids):
    from django.test.utils import CaptureQueriesContext

    seat_hold(event_id=event.pk, seat_ids=seat_ids[:3], owner="buyer-1")
    with CaptureQueriesContext(connection) as queries:
        booking_confirm(event_id=event.pk, owner="buyer-1", customer=Customer("Ada", "ada@example.com"),
                        payment_token="tok_ok")

    locking = [" ".join(q["sql"].split()) for q in queries
               if "FOR UPDATE" in q["sql"] and "ticketing_eventseat" in q["sql"]]
    assert locking, "seat rows must be locked"
    assert all('ORDER BY "ticketing_eventseat"."id" ASC' in sql or "ORDER BY es.id FOR UPDATE OF es" in sql
               for sql in locking)
