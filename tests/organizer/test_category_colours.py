"""Issue 17: a seat category's colour may not look like a seat status (events.colours); the admin's event form."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from checkin.management.commands import seed_demo
from events.colours import category_colour_problem
from events.models import Event, SeatCategory
from tests.organizer.conftest import login
from venues.services import venue_build_from_template


@pytest.mark.parametrize("colour", ["#4b5563", "#6b7280", "#d1d5db", "#f3f4f6", "#111827", "#9ca3af", "#ffffff",
                                    "#000000", "#374151"])
def test_greys_and_status_colours_are_refused(colour):
    assert category_colour_problem(colour) is not None


@pytest.mark.parametrize("colour", ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#c026d3",
                                    "#0d9488", "#123456"])
def test_clear_colours_are_accepted(colour):
    assert category_colour_problem(colour) is None


def test_the_admin_refuses_a_category_in_the_sold_grey(organizer, venue):
    venue_build_from_template(venue=venue, template="conference", params={"rows": 2, "seats_per_block": 5,
                                                                          "blocks": 2})
    client = login(organizer)
    response = client.post(reverse("admin:events_event_add"), {
        "venue": venue.pk, "title": "Grey Show", "description": "", "category": "concert", "status": "draft",
        "starts_at_0": "2030-12-10", "starts_at_1": "19:00", "ends_at_0": "2030-12-10", "ends_at_1": "22:00",
        "categories-TOTAL_FORMS": "1", "categories-INITIAL_FORMS": "0",
        "categories-0-name": "Standard", "categories-0-colour": "#4b5563", "categories-0-price": "30",
        "categories-0-position": "0",
        "max_seats_per_order": "10", "max_seats_per_email": "20", "single_seat_rule": "on",
        "cancellation_policy-TOTAL_FORMS": "0", "cancellation_policy-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert "looks like the colour of seats that are sold" in response.content.decode()
    assert not Event.objects.filter(title="Grey Show").exists()


def test_the_demo_categories_do_not_clash(db):
    colours = [colour for spec in seed_demo.EVENTS for _, colour, _, _ in spec["categories"]]
    assert colours and all(category_colour_problem(colour) is None for colour in colours)
    assert not SeatCategory.objects.exists()


def test_the_admin_starts_new_events_with_the_single_seat_rule_on(organizer):
    page = login(organizer).get(reverse("admin:events_event_add")).content.decode()
    checkbox = re.search(r'<input type="checkbox" name="single_seat_rule"[^>]*>', page).group(0)
    assert " checked" in checkbox
