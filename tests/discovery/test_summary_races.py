"""Seat counts stay exact while holds, releases, confirms and folds run at once on separate connections.

Marked `concurrency`, so CI also runs it against the machine's Postgres 15 (and with it the discovery
migrations: extensions, text search configurations, triggers)."""

from __future__ import annotations

import random

import pytest

from events.models import EventSummary
from events.summary import seat_counts_fold
from tests.test_races import run_together
from ticketing.exceptions import NoHeldSeats, SeatsUnavailable
from ticketing.models import EventSeat
from ticketing.services import Customer, booking_confirm, seat_hold, seat_release
from ticketing.services.search_counts import search_summaries_recount

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_counts_match_a_recount_after_concurrent_sales_and_folds(event, seat_ids):
    rng = random.Random(11)
    plans = [rng.sample(seat_ids, 2) for _ in range(32)]
    customer = Customer("Ada Lovelace", "ada@example.com")

    def work(index):
        if index % 4 == 3:  # every fourth thread folds while the others sell
            return [seat_counts_fold(wait=bool(index % 8 == 3)) for _ in range(5)]
        owner = f"buyer-{index}"
        try:
            seat_hold(event_id=event.pk, seat_ids=plans[index], owner=owner)
        except SeatsUnavailable:
            return "taken"
        if index % 2:
            seat_release(event_id=event.pk, seat_ids=plans[index], owner=owner)
            return "released"
        try:
            booking_confirm(event_id=event.pk, owner=owner, customer=customer, payment_token="tok_ok",
                            idempotency_key=f"race-{index}")
        except NoHeldSeats:
            return "lost"
        return "sold"

    results = run_together(32, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    seat_counts_fold()
    folded = EventSummary.objects.values_list("available_seats", "held_seats", "sold_seats", "blocked_seats").get(
        event=event)
    statuses = list(EventSeat.objects.filter(event=event).values_list("status", flat=True))
    recount = tuple(statuses.count(status) for status in ("available", "held", "sold", "blocked"))
    assert folded == recount
    assert recount[2] == 2 * results.count("sold") and recount[2] > 0
    search_summaries_recount()
    assert EventSummary.objects.values_list("available_seats", "held_seats", "sold_seats", "blocked_seats").get(
        event=event) == recount
