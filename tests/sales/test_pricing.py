"""Pricing tiers (sales waves): the price is the active tier's when a seat is held, and stays so."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.conftest import Buyer, make_event
from tests.sales.conftest import seat_prices, tier
from ticketing.models import EventSeat
from ticketing.services import seat_hold


def test_hold_fixes_the_active_tier_price(buyer, event, seat_ids):
    # given an Early Bird tier at €30 before the standard €40
    early = tier(event, "Early Bird", "30.00", quota=5)
    # when a seat is held
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    # then it carries the tier's price and tier
    seat = EventSeat.objects.get(pk=seat_ids[0])
    assert (seat.price, seat.tier_id) == (Decimal("30.00"), early.pk)


def test_category_price_applies_without_tiers(buyer, event, seat_ids):
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    assert [seat_prices(event)[seat_id] for seat_id in seat_ids[:2]] == [Decimal("40.00")] * 2


def test_next_tier_takes_over_when_quota_is_used_up_within_one_hold(buyer, event, seat_ids):
    # given Early Bird (2 seats at €30), then Standard (€45, no quota)
    early = tier(event, "Early Bird", "30.00", quota=2, position=0)
    standard = tier(event, "Standard", "45.00", position=1)
    # when one hold takes 3 seats
    assert buyer.hold(event, seat_ids[:3]).status_code == 200
    # then the first two are Early Bird, the third Standard
    seats = EventSeat.objects.filter(pk__in=seat_ids[:3]).order_by("id")
    assert [(s.price, s.tier_id) for s in seats] == [
        (Decimal("30.00"), early.pk), (Decimal("30.00"), early.pk), (Decimal("45.00"), standard.pk)
    ]


def test_next_tier_takes_over_when_the_window_ends(buyer, other_buyer, event, seat_ids):
    # given Early Bird until tomorrow, Standard after
    now = timezone.now()
    tier(event, "Early Bird", "30.00", available_until=now + timedelta(days=1), position=0)
    tier(event, "Standard", "45.00", position=1)
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    # when a buyer holds the day after tomorrow
    with time_machine.travel(now + timedelta(days=2)):
        assert other_buyer.hold(event, seat_ids[1:2]).status_code == 200
    # then the first seat kept €30, the second costs €45
    assert [seat_prices(event)[seat_id] for seat_id in seat_ids[:2]] == [Decimal("30.00"), Decimal("45.00")]


def test_tier_not_yet_open_is_skipped(buyer, event, seat_ids):
    tier(event, "Last Chance", "60.00", available_from=timezone.now() + timedelta(days=3), position=0)
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    assert seat_prices(event)[seat_ids[0]] == Decimal("40.00")


def test_price_fixed_at_hold_is_charged_even_after_the_tier_changes(buyer, event, seat_ids):
    # given two seats held at the Early Bird price
    early = tier(event, "Early Bird", "30.00", position=0)
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    # when the organizer raises the tier's price before the buyer pays
    early.price = Decimal("99.00")
    early.save()
    confirmed = buyer.confirm(event)
    # then the buyer pays what the seats cost when held
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["total"] == "60.00"
    assert EventSeat.objects.filter(pk__in=seat_ids[:2], status="sold", tier=early).count() == 2


def test_holding_a_seat_again_keeps_its_price(buyer, event, seat_ids):
    early = tier(event, "Early Bird", "30.00", quota=1, position=0)
    tier(event, "Standard", "45.00", position=1)
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    seats = EventSeat.objects.filter(pk__in=seat_ids[:2]).order_by("id")
    assert [(s.price, s.tier_id) for s in seats] == [(Decimal("30.00"), early.pk), (Decimal("45.00"), seats[1].tier_id)]


def test_released_hold_gives_its_quota_back(buyer, other_buyer, event, seat_ids):
    # given the only Early Bird place held, then released
    early = tier(event, "Early Bird", "30.00", quota=1, position=0)
    tier(event, "Standard", "45.00", position=1)
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    assert buyer.release(event, seat_ids[:1]).status_code == 200
    # when another buyer holds a different seat, then it gets the Early Bird price
    assert other_buyer.hold(event, seat_ids[5:6]).status_code == 200
    seat = EventSeat.objects.get(pk=seat_ids[5])
    assert (seat.price, seat.tier_id) == (Decimal("30.00"), early.pk)


def test_expired_hold_gives_its_quota_back_before_any_sweep(buyer, other_buyer, event, seat_ids):
    early = tier(event, "Early Bird", "30.00", quota=1, position=0)
    tier(event, "Standard", "45.00", position=1)
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    EventSeat.objects.filter(pk=seat_ids[0]).update(held_until=timezone.now() - timedelta(seconds=1))
    assert other_buyer.hold(event, seat_ids[5:6]).status_code == 200
    assert EventSeat.objects.get(pk=seat_ids[5]).tier_id == early.pk


def test_sold_seats_use_the_quota(buyer, other_buyer, event, seat_ids):
    tier(event, "Early Bird", "30.00", quota=1, position=0)
    tier(event, "Standard", "45.00", position=1)
    buyer.hold(event, seat_ids[:1])
    assert buyer.confirm(event).status_code == 201
    assert other_buyer.hold(event, seat_ids[5:6]).status_code == 200
    assert seat_prices(event)[seat_ids[5]] == Decimal("45.00")


def test_layout_shows_the_current_tier_price_and_quota(buyer, event, seat_ids):
    # given Early Bird with 1 of 2 places held
    early = tier(event, "Early Bird", "30.00", quota=2, position=0)
    tier(event, "Standard", "45.00", position=1)
    buyer.hold(event, seat_ids[:1])
    # when anyone loads the seat map
    layout = Buyer().get(f"/api/events/{event.pk}/layout").json()
    # then the category and every seat show the current tier price
    category = layout["categories"][0]
    assert category["price"] == "30.00"
    assert category["tier"] == {"id": early.pk, "name": "Early Bird", "available_until": None, "quota": 2,
                                "remaining": 1}
    assert {seat["price"] for s in layout["sections"] for r in s["rows"] for seat in r["seats"]} == {"30.00"}
    # when the last Early Bird place goes, then the map shows Standard
    buyer.hold(event, seat_ids[1:2])
    layout = Buyer().get(f"/api/events/{event.pk}/layout").json()
    assert (layout["categories"][0]["price"], layout["categories"][0]["tier"]["name"]) == ("45.00", "Standard")


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_racing_holds_never_oversell_a_tier_quota(organizer):
    """Four buyers, two seats each, at once, for a tier with three places: exactly three seats get it."""
    # given
    event = make_event(organizer)
    early = tier(event, "Early Bird", "30.00", quota=3, position=0)
    standard = tier(event, "Standard", "45.00", position=1)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    barrier = threading.Barrier(4)
    errors = []

    def hold(index):
        try:
            barrier.wait()
            seat_hold(event_id=event.pk, seat_ids=seat_ids[index * 2: index * 2 + 2], owner=f"buyer-{index}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=hold, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert EventSeat.objects.filter(event=event, status="held", tier=early).count() == 3
    assert EventSeat.objects.filter(event=event, status="held", tier=standard).count() == 5


def test_event_page_shows_the_current_tier_price(client, event):
    tier(event, "Early Bird", "30.00", quota=5)
    page = client.get(f"/events/{event.pk}/")
    assert page.status_code == 200
    assert ('Standard <strong class="legend-price">€30</strong> <span class="muted legend-tier">(Early Bird)</span>'
            in page.content.decode())


def test_hold_of_unknown_seats_with_tiers_is_a_400(buyer, event, other_event):
    tier(event, "Early Bird", "30.00", quota=5)
    foreign = EventSeat.objects.filter(event=other_event).values_list("id", flat=True).first()
    response = buyer.hold(event, [foreign])
    assert (response.status_code, response.json()["error"]) == (400, "unknown_seats")
    assert EventSeat.objects.filter(status="held").count() == 0


def test_event_list_shows_the_cheapest_price_selling_now(client, event):
    tier(event, "Early Bird", "30.00", quota=5)

    listed = client.get("/api/events").json()["results"]

    assert [e["min_price"] for e in listed if e["id"] == event.pk] == ["30.00"]
