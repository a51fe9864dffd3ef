"""Search filters, sorts and pages, with their boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from events.models import PricingTier
from tests.discovery.conftest import make_venue, search, titles
from ticketing.models import EventSeat

BERLIN = (52.5200, 13.4050)


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def next_year() -> int:
    return timezone.now().year + 1


def test_category_takes_several_values_repeated_or_comma_separated(client, listed):
    listed("Gig", category="concert", days=1)
    listed("Play", category="theater", days=2)
    listed("Match", category="sports", days=3)

    assert titles(client, "category=concert&category=sports") == ["Gig", "Match"]
    assert titles(client, "category=theater,concert") == ["Gig", "Play"]


def test_city_ignores_case(client, listed):
    listed("Berlin Gig", days=1)
    listed("Vienna Gig", venue=make_venue("Donau Saal", city="Vienna", latitude=48.21, longitude=16.38), days=2)

    assert titles(client, "city=vienna") == ["Vienna Gig"]
    assert titles(client, "city=BERLIN") == ["Berlin Gig"]


def test_dates_are_the_venues_local_dates_at_both_edges(client, listed):
    year = next_year()
    london = make_venue("Camden Cellar", city="London", latitude=51.539, longitude=-0.1426,
                        timezone_name="Europe/London")
    # Both start at 23:30 UTC on 24 December: still the 24th in London, already the 25th in Berlin.
    listed("London late show", venue=london, starts_at=local("Europe/London", year, 12, 24, 23, 30))
    listed("Berlin midnight show", starts_at=local("Europe/Berlin", year, 12, 25, 0, 30))
    listed("Berlin Christmas Eve", starts_at=local("Europe/Berlin", year, 12, 24, 0, 0))

    assert titles(client, f"date_from={year}-12-24&date_to={year}-12-24") == [
        "Berlin Christmas Eve", "London late show"]
    assert titles(client, f"date_from={year}-12-25&date_to={year}-12-25") == ["Berlin midnight show"]
    assert titles(client, f"date_to={year}-12-23") == []


def test_a_given_time_zone_replaces_the_venues(client, listed):
    year = next_year()
    listed("Berlin midnight show", starts_at=local("Europe/Berlin", year, 12, 25, 0, 30))  # 23:30 UTC on the 24th

    assert titles(client, f"date_from={year}-12-24&date_to={year}-12-24&tz=UTC") == ["Berlin midnight show"]
    assert titles(client, f"date_from={year}-12-24&date_to={year}-12-24") == []


def test_price_limits_include_the_price_itself(client, listed):
    listed("Cheap", price="20.00", days=1)
    listed("Middle", price="30.00", days=2)
    listed("Dear", price="30.01", days=3)

    assert titles(client, "price_max=30") == ["Cheap", "Middle"]
    assert titles(client, "price_min=30&price_max=30.00") == ["Middle"]
    assert titles(client, "price_min=30.01") == ["Dear"]


def test_price_filters_and_sorts_by_the_price_selling_now(client, listed):
    early = listed("Early bird on", price="50.00", days=1)
    listed("Flat price", price="40.00", days=2)
    PricingTier.objects.create(category=early.categories.get(), name="Early Bird", price="25.00", quota=1)

    assert titles(client, "price_max=30") == ["Early bird on"]
    assert titles(client, "sort=price") == ["Early bird on", "Flat price"]


def test_price_moves_on_when_the_early_bird_quota_sells(client, listed, buyer):
    early = listed("Early bird on", price="50.00", days=1)
    PricingTier.objects.create(category=early.categories.get(), name="Early Bird", price="25.00", quota=1)
    seat = EventSeat.objects.filter(event=early).order_by("id").first()

    assert buyer.hold(early, [seat.pk]).status_code == 200

    assert search(client)["results"][0]["min_price"] == "50.00"


def test_price_moves_on_when_the_clock_passes_a_tier(client, listed, time_machine):
    event = listed("Early bird on", price="50.00", days=10)
    PricingTier.objects.create(category=event.categories.get(), name="Early Bird", price="25.00",
                               available_until=timezone.now() + timedelta(days=2))
    assert search(client)["results"][0]["min_price"] == "25.00"

    time_machine.move_to(timezone.now() + timedelta(days=3))
    from events.summary import event_summaries_tick

    event_summaries_tick()

    assert search(client)["results"][0]["min_price"] == "50.00"


def test_available_leaves_out_events_without_free_seats(client, listed, buyer):
    listed("Free seats", days=1)
    full = listed("All held", days=2)
    seats = list(EventSeat.objects.filter(event=full).values_list("id", flat=True))
    assert buyer.hold(full, seats).status_code == 200

    body = search(client)
    assert [(r["title"], r["available_seats"], r["availability"]) for r in body["results"]] == [
        ("Free seats", 2, "few_left"), ("All held", 0, "sold_out")]
    assert titles(client, "available=1") == ["Free seats"]
    assert titles(client, "available=0") == ["Free seats", "All held"]


def test_near_finds_venues_within_the_radius_edge_included(client, listed):
    # One degree of latitude is 111.2 km on earthdistance's sphere: 0.0890° ≈ 9.90 km, 0.0908° ≈ 10.10 km.
    inside = make_venue("Inside", latitude=BERLIN[0] + 0.0890, longitude=BERLIN[1])
    outside = make_venue("Outside", latitude=BERLIN[0] + 0.0908, longitude=BERLIN[1])
    listed("In reach", venue=inside, days=1)
    listed("Out of reach", venue=outside, days=2)

    body = search(client, f"near={BERLIN[0]},{BERLIN[1]}&radius_km=10")

    assert [(r["title"], r["distance_km"]) for r in body["results"]] == [("In reach", 9.9)]
    assert titles(client, f"near={BERLIN[0]},{BERLIN[1]}&radius_km=10.2") == ["In reach", "Out of reach"]


def test_near_without_a_radius_means_fifty_kilometres(client, listed):
    listed("Potsdam", venue=make_venue("Potsdam Hall", city="Potsdam", latitude=52.3906, longitude=13.0645), days=1)
    listed("Leipzig", venue=make_venue("Leipzig Hall", city="Leipzig", latitude=51.3397, longitude=12.3731), days=2)

    assert titles(client, f"near={BERLIN[0]},{BERLIN[1]}") == ["Potsdam"]


def test_sort_by_distance_puts_the_nearest_first(client, listed):
    far = make_venue("Far", latitude=BERLIN[0] + 0.2, longitude=BERLIN[1])
    near = make_venue("Near", latitude=BERLIN[0] + 0.01, longitude=BERLIN[1])
    listed("Far away", venue=far, days=1)
    listed("Close by", venue=near, days=2)

    assert titles(client, f"near={BERLIN[0]},{BERLIN[1]}&sort=distance") == ["Close by", "Far away"]
    assert titles(client, f"near={BERLIN[0]},{BERLIN[1]}") == ["Far away", "Close by"]  # date, the default


def test_venues_without_coordinates_are_never_near(client, listed):
    listed("Somewhere", venue=make_venue("Unknown place", latitude=None, longitude=None), days=1)

    assert titles(client, f"near={BERLIN[0]},{BERLIN[1]}&radius_km=20000") == []
    assert titles(client) == ["Somewhere"]


def test_sort_by_date_is_the_default_without_words(client, listed):
    listed("Later", days=5)
    listed("Sooner", days=1)

    assert titles(client) == ["Sooner", "Later"]
    assert search(client)["sort"] == "date"
    assert search(client, "q=later")["sort"] == "relevance"


def test_sort_by_price_puts_events_without_a_price_last(client, listed, django_capture_on_commit_callbacks):
    listed("Dear", price="90.00", days=1)
    listed("Cheap", price="10.00", days=2)
    with django_capture_on_commit_callbacks(execute=True):  # a deleted category re-prices after the commit
        listed("No categories yet", days=3, with_seats=False).categories.all().delete()

    assert titles(client, "sort=price") == ["Cheap", "Dear", "No categories yet"]


def test_pages_say_the_total_and_link_to_each_other(client, listed):
    for day in range(1, 6):
        listed(f"Show {day}", days=day)

    first = search(client, "page_size=2")
    last = search(client, "page_size=2&page=3")
    beyond = search(client, "page_size=2&page=9")

    assert (first["total"], first["pages"], [r["title"] for r in first["results"]]) == (5, 3, ["Show 1", "Show 2"])
    assert first["next"] == "/api/events?page_size=2&page=2" and first["previous"] is None
    assert ([r["title"] for r in last["results"]], last["next"], last["previous"]) == (
        ["Show 5"], None, "/api/events?page_size=2&page=2")
    assert (beyond["results"], beyond["total"]) == ([], 5)


@pytest.mark.parametrize("page_size", ["1", "100"])
def test_page_size_limits_are_allowed(client, listed, page_size):
    listed("Show", days=1)

    assert search(client, f"page_size={page_size}")["page_size"] == int(page_size)


def test_the_total_is_counted_up_to_the_paging_window(client, listed, monkeypatch):
    from events import search as search_module

    monkeypatch.setattr(search_module, "RESULTS_WINDOW", 3)
    for day in range(1, 6):
        listed(f"Show {day}", days=day)

    body = search(client, "page_size=2")

    assert (body["total"], body["total_is_capped"], body["pages"]) == (3, True, 2)
    assert search(client, "page_size=2&page=2")["next"] is None


@pytest.mark.parametrize("query", ["q=night", "q=night&sort=date", "sort=trending", "", "q=night&sort=trending",
                                   "sort=price&page_size=3&page=2"])
def test_the_plans_for_many_and_for_few_matches_give_the_same_order(client, listed, buyer, monkeypatch, query):
    """With many matches a page is found by walking the date index (two branches for relevance and trending);
    with few, by sorting the matches. Same events, same order."""
    from events import search as search_module

    for day in range(1, 8):
        listed(f"Night {day}" if day % 2 else f"Show {day}", description="A night out." if day % 3 else "",
               price=f"{10 + day % 4}.00", days=day)
    sold = listed("Night Trending", days=9)
    seat = EventSeat.objects.filter(event=sold).values_list("id", flat=True)[0]
    buyer.hold(sold, [seat])
    buyer.confirm(sold)
    few = [r["id"] for r in search(client, query)["results"]]

    monkeypatch.setattr(search_module, "SORT_UP_TO", 0)  # the probe decides
    monkeypatch.setattr(search_module, "WALK_BUDGET", 10**9)  # and always walks
    many = [r["id"] for r in search(client, query)["results"]]

    assert many == few and few
