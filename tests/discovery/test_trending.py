"""Trending: tickets sold in the last 24 hours, kept in Redis, rebuilt from Postgres when Redis lost it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from events import summary, trending
from events.models import EventSalesHour
from tests.discovery.conftest import make_venue, search
from ticketing.models import EventSeat


def buy(buyer, event, count: int):
    seat_ids = list(EventSeat.objects.filter(event=event, status="available").order_by("id")
                    .values_list("id", flat=True)[:count])
    assert buyer.hold(event, seat_ids).status_code == 200
    assert buyer.confirm(event).status_code == 201


def trending_list(client) -> list[tuple[str, float]]:
    return [(r["title"], r["tickets_sold_24h"]) for r in search(client, "sort=trending")["results"]]


def forget_redis():
    client = trending._redis()
    for key in client.scan_iter(f"{settings.TRENDING_KEY_PREFIX}:*"):
        client.delete(key)


@pytest.fixture
def big_hall(db):
    return make_venue("Big Hall", seats=6)


def test_confirmed_bookings_make_an_event_trend(client, listed, buyer, other_buyer, big_hall):
    quiet = listed("Quiet", venue=big_hall, days=1)
    popular = listed("Popular", venue=big_hall, days=2)
    somewhat = listed("Somewhat", venue=big_hall, days=3)
    buy(buyer, popular, 3)
    buy(other_buyer, somewhat, 1)

    assert trending_list(client) == [("Popular", 3.0), ("Somewhat", 1.0), ("Quiet", 0.0)]
    assert quiet.pk not in [event_id for event_id, _ in summary.trending_scores()]


def test_holds_and_releases_do_not_count(client, listed, buyer, big_hall):
    event = listed("Held only", venue=big_hall, days=1)
    seat_ids = list(EventSeat.objects.filter(event=event).values_list("id", flat=True)[:2])
    buyer.hold(event, seat_ids)
    buyer.release(event, seat_ids)

    assert trending_list(client) == [("Held only", 0.0)]


def test_box_office_sales_count_too(client, listed, organizer, big_hall):
    from ticketing.services import Customer, boxoffice_sell

    event = listed("At the counter", venue=big_hall, days=1)
    seat_ids = list(EventSeat.objects.filter(event=event).values_list("id", flat=True)[:2])
    boxoffice_sell(event_id=event.pk, seat_ids=seat_ids, customer=Customer("Bo", "bo@example.com"), method="cash",
                   sold_by=organizer)

    assert trending_list(client) == [("At the counter", 2.0)]


def test_sales_fall_out_of_the_window_after_twenty_four_hours(listed):
    old, edge, recent = listed("Old", days=1), listed("Edge", days=2), listed("Recent", days=3)
    at = trending._hour_start(trending.timezone.now()) + timedelta(minutes=30)
    hour = trending._hour_start(at)
    summary.trending_rebuild(at=at)  # marks Redis as built, empty
    trending.sales_record([
        (old.pk, 10, hour - timedelta(hours=25)),  # ended 24.5 h before `at`: out
        (edge.pk, 10, hour - timedelta(hours=24)),  # half of it is inside the window
        (recent.pk, 4, hour - timedelta(hours=23)),  # inside
        (recent.pk, 2, hour),
    ])

    assert summary.trending_scores(at=at) == [(recent.pk, 6.0), (edge.pk, 5.0)]
    later = at + timedelta(minutes=20)
    assert summary.trending_scores(at=later) == [(recent.pk, 6.0), (edge.pk, pytest.approx(10 / 6))]


def test_trending_is_rebuilt_from_postgres_after_redis_lost_it(client, listed, buyer, other_buyer, big_hall):
    first, second = listed("First", venue=big_hall, days=1), listed("Second", venue=big_hall, days=2)
    buy(buyer, second, 3)
    buy(other_buyer, first, 1)
    assert trending_list(client) == [("Second", 3.0), ("First", 1.0)]

    forget_redis()

    assert trending_list(client) == [("Second", 3.0), ("First", 1.0)]
    assert list(EventSalesHour.objects.values_list("event__title", "tickets").order_by("event__title")) == [
        ("First", 1), ("Second", 3)]


def test_the_worker_and_the_command_rebuild_trending(listed, buyer, big_hall):
    from events.summary import event_summaries_tick

    event = listed("Sold", venue=big_hall, days=1)
    buy(buyer, event, 2)
    event_summaries_tick()
    forget_redis()

    assert summary.trending_ensure() is True  # the worker's minute: the marker is gone, so it rebuilds
    assert summary.trending_ensure() is False
    assert summary.trending_scores() == [(event.pk, 2.0)]
    forget_redis()
    call_command("trending_rebuild", stdout=open("/dev/null", "w"))
    assert summary.trending_scores() == [(event.pk, 2.0)]


def test_trending_shows_only_public_events(client, listed, buyer, big_hall):
    from events.models import EventStatus

    event = listed("Was popular", venue=big_hall, days=1)
    buy(buyer, event, 2)
    search(client)  # folds the sale into trending
    event.status = EventStatus.CANCELLED
    event.save(update_fields=["status"])

    assert trending_list(client) == []


def test_a_process_reuses_the_ranking_briefly_and_forgets_it_when_it_folds_a_sale(listed, buyer, big_hall, settings):
    settings.TRENDING_CACHE_SECONDS = 60
    event = listed("Sold", venue=big_hall, days=1)
    assert summary.trending_scores() == []
    trending.sales_record([(event.pk, 3, trending._hour_start(trending.timezone.now()))])  # another process's sale

    assert summary.trending_scores() == []  # still the ranking of a moment ago
    buy(buyer, event, 1)
    summary.seat_counts_fold()
    assert summary.trending_scores() == [(event.pk, 4.0)]
