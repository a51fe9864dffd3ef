"""Seat counts for search come from the maintained summaries, never from counting seat rows per request."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import CategorySummary, EventSummary, PricingTier, SeatCountChange
from events.summary import seat_counts_fold
from tests.discovery.conftest import make_venue, search
from ticketing.models import EventSeat
from ticketing.services.blocking import seats_block
from ticketing.services.search_counts import search_summaries_recount


def counts(event) -> tuple[int, int, int, int]:
    seat_counts_fold()
    summary = EventSummary.objects.get(event=event)
    return summary.available_seats, summary.held_seats, summary.sold_seats, summary.blocked_seats


def test_every_seat_change_reaches_the_summary(listed, buyer, organizer):
    event = listed("Show", venue=make_venue("Big Hall", seats=6), days=1)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    assert counts(event) == (6, 0, 0, 0)

    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    assert counts(event) == (4, 2, 0, 0)

    assert buyer.confirm(event).status_code == 201
    assert counts(event) == (4, 0, 2, 0)

    seats_block(event_id=event.pk, seat_ids=seat_ids[4:])
    assert counts(event) == (2, 0, 2, 2)

    assert buyer.hold(event, seat_ids[2:3]).status_code == 200
    assert buyer.release(event, seat_ids[2:3]).status_code == 200
    assert counts(event) == (2, 0, 2, 2)


def test_the_summary_equals_a_recount_from_the_seats(listed, buyer):
    event = listed("Show", venue=make_venue("Big Hall", seats=6), days=1)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    buyer.hold(event, seat_ids[:3])
    buyer.confirm(event)
    buyer.hold(event, seat_ids[3:4])
    folded = counts(event)

    search_summaries_recount()

    assert counts(event) == folded == (2, 1, 3, 0)
    assert CategorySummary.objects.get(category__event=event).available_seats == 2


def test_a_statement_that_changes_no_status_records_nothing(listed):
    event = listed("Show", days=1)
    seat_counts_fold()

    EventSeat.objects.filter(event=event).update(hold_owner="nobody")

    assert SeatCountChange.objects.count() == 0


def test_one_row_per_statement_however_many_seats_it_changes(listed):
    event = listed("Show", venue=make_venue("Big Hall", seats=40), days=1)
    seat_counts_fold()

    EventSeat.objects.filter(event=event).update(status="blocked")

    assert list(SeatCountChange.objects.values_list("available", "blocked")) == [(-40, 40)]


def test_a_search_never_reads_seat_rows(client, listed, buyer):
    event = listed("Show", days=1)
    buyer.hold(event, list(EventSeat.objects.filter(event=event).values_list("id", flat=True))[:1])

    with CaptureQueriesContext(connection) as queries:
        body = search(client, "q=show&available=1&sort=price")

    assert body["results"][0]["available_seats"] == 1
    assert not [query["sql"] for query in queries if "ticketing_eventseat" in query["sql"]]


def test_a_search_does_not_wait_for_a_fold_running_elsewhere(client, listed):
    """A reader that finds the fold lock taken goes on with the summaries as they are."""
    from django.db import connections

    from events.summary import FOLD_LOCK_KEY

    listed("Show", days=1)  # its seats wait in SeatCountChange for the next fold
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [FOLD_LOCK_KEY])
    try:
        body = search(client)
    finally:
        other.close()

    assert [(r["title"], r["available_seats"]) for r in body["results"]] == [("Show", 0)]
    assert SeatCountChange.objects.exists()
    assert search(client)["results"][0]["available_seats"] == 2  # the lock is free again: folded


def test_deleting_an_event_with_pricing_tiers_leaves_nothing_to_price(listed, django_capture_on_commit_callbacks):
    """The tiers' deletion re-prices their category after the commit, when the category is gone too."""
    event = listed("Tiered", with_seats=False)
    PricingTier.objects.create(category=event.categories.get(), name="Early Bird", price="25.00", quota=1)
    with django_capture_on_commit_callbacks(execute=True):
        event.delete()
    assert not CategorySummary.objects.filter(event_id=event.pk).exists()
