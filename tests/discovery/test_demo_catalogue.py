"""The demo catalogue: enough events in enough cities to make search, filters and trending meaningful."""

from __future__ import annotations

from django.core.management import call_command

from checkin.management.commands._demo_catalogue import CITIES
from events.models import Event, EventStatus
from tests.discovery.conftest import search
from venues.models import Venue


def test_seed_demo_builds_a_catalogue_once_with_sales_for_trending(client, db, monkeypatch, settings):
    from checkin.management.commands import seed_demo

    # the flagship venues small (their layout is tested elsewhere); the catalogue at 30 events instead of 300
    monkeypatch.setattr(seed_demo, "VENUES", [
        {**venue, "template": "conference", "params": {"rows": 1, "seats_per_block": 2, "blocks": 1}}
        for venue in seed_demo.VENUES])
    settings.DEMO_CATALOGUE_EVENTS = 30
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # idempotent

    catalogue = Event.objects.filter(venue__name__in=[name for _, _, venues in CITIES for name, *_ in venues])
    assert catalogue.count() == 30 and Event.objects.count() == 30 + len(seed_demo.EVENTS)
    assert Venue.objects.filter(latitude__isnull=True).count() == 0  # every venue can be found "near"
    assert catalogue.values("venue__city").distinct().count() >= 8
    assert catalogue.values("category").distinct().count() >= 5
    assert catalogue.filter(status=EventStatus.SOLD_OUT).count() == 2
    trending = search(client, "sort=trending&page_size=3")["results"]
    assert trending[0]["tickets_sold_24h"] > 0
    assert search(client, "q=koln&page_size=1")["total"] > 0  # Köln, accents ignored
    assert search(client, "near=51.5072,-0.1276&radius_km=15")["total"] > 0  # London
