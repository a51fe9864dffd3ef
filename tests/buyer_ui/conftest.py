"""Buyer UI fixtures: a small theater (every seat drawn) and a stadium big enough for the overview."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from events.models import Event, EventStatus, SeatCategory
from events.seatmap import FULL_MAP_MAX_SEATS
from ticketing.services import event_inventory_create
from venues.models import Venue
from venues.services import venue_build_from_template

# Playwright's sync API keeps an event loop running in the main thread; Django then refuses ORM calls
# from that thread (SynchronousOnlyOperation) although nothing here is async. The tests' own DB work
# (fixtures, asserts, flush) is plain synchronous code, so this is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
AXE_JS = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"


def make_venue_event(organizer, *, template, params, categories, title, timezone_name="Europe/Berlin"):
    """An on-sale event; `categories` is [(name, colour, price, section names or None for the rest)]."""
    venue = Venue.objects.create(name=f"{title} Venue", city="Berlin", timezone=timezone_name)
    venue_build_from_template(venue=venue, template=template, params=params)
    now = timezone.now()
    event = Event.objects.create(
        organizer=organizer, venue=venue, title=title, status=EventStatus.ON_SALE,
        starts_at=now + timedelta(days=10), ends_at=now + timedelta(days=10, hours=3),
        sales_open_at=now - timedelta(days=1), single_seat_rule=True,  # as the admin makes them
    )
    mapping = {}
    sections = list(venue.sections.order_by("position", "id"))
    for position, (name, colour, price, covers) in enumerate(categories):
        category = SeatCategory.objects.create(event=event, name=name, colour=colour, price=Decimal(price),
                                               position=position)
        for section in sections:
            if section.pk not in mapping and (covers is None or section.name in covers):
                mapping[section.pk] = category.pk
    event_inventory_create(event=event, section_categories=mapping)
    return event


@pytest.fixture
def theater_event(organizer):
    """A 3-level theater of about 130 seats: Orchestra €45, Mezzanine €35, Balcony €25."""
    return make_venue_event(
        organizer, template="theater", title="Hamlet",
        params={"orchestra_rows": 4, "mezzanine_rows": 2, "balcony_rows": 2, "seats_per_row": 12, "row_growth": 1,
                "wheelchair_spaces": 2},
        categories=[("Orchestra", "#2563eb", "45.00", ["Orchestra"]), ("Mezzanine", "#16a34a", "35.00", ["Mezzanine"]),
                    ("Balcony", "#d97706", "25.00", None)],
    )


@pytest.fixture
def stadium_event(organizer):
    """12 sections × 20 rows × 25 seats = 6,000 seats: above FULL_MAP_MAX_SEATS, so the page shows the overview."""
    event = make_venue_event(
        organizer, template="stadium", title="Cup Final",
        params={"sections_per_side": 4, "end_sections": 2, "rows_per_section": 20, "seats_per_row": 25},
        categories=[("Long side", "#dc2626", "120.00", ["101", "102", "103", "104", "301", "302", "303", "304"]),
                    ("Behind the goals", "#7c3aed", "65.00", None)],
    )
    assert event.venue.capacity > FULL_MAP_MAX_SEATS
    return event


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / re.sub(r"[^\w.-]", "_", name)


def axe_scan(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": violation["id"], "impact": violation["impact"], "help": violation["help"],
         "nodes": [node["target"] for node in violation["nodes"][:5]]}
        for violation in result["violations"] if violation["impact"] in ("serious", "critical")
    ]


def fill_customer(page, *, name="Ada Lovelace", email="ada@example.com", phone="+44 20 7946 0000"):
    page.fill("#id_name", name)
    page.fill("#id_email", email)
    page.fill("#id_phone", phone)


def pay_with(page, card="4242 4242 4242 4242", *, expiry="12 / 34", cvc="123", holder="Ada Lovelace", terms=True):
    """Fill the card form (as a buyer types) and press Pay."""
    page.fill("#card-number", card)
    page.fill("#card-expiry", expiry)
    page.fill("#card-cvc", cvc)
    page.fill("#card-holder", holder)
    if terms:
        page.check("#id_terms")
    page.click("#pay-button")
