"""Check-in of general-admission tickets (issue 15): admitted like seat tickets, counted per area."""

from __future__ import annotations

import pytest

from tests.checkin.conftest import Door, doors_open, make_door_staff
from tests.conftest import Buyer
from tests.test_general_admission import add_area, area_hold_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def standing(event):
    section = add_area(event, places=30)
    event.standing = section
    doors_open(event)
    return section


def buy_places(event, quantity) -> dict:
    buyer = Buyer()
    assert area_hold_json(buyer, event, quantity).status_code == 200
    response = buyer.confirm(event)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_place_ticket_is_admitted_once_and_names_its_area(event, standing):
    door = Door(make_door_staff("door-ga", event=event))
    token = buy_places(event, 2)["tickets"][0]["token"]

    first = door.scan(token).json()
    second = door.scan(token).json()

    assert first["result"] == "admit"
    assert first["ticket"]["section"] == "Standing floor"
    assert (first["ticket"]["row"], first["ticket"]["seat"]) == (None, None)
    assert second["result"] == "already_admitted"


def test_the_door_counts_who_is_in_per_area(event, standing):
    door = Door(make_door_staff("door-ga", event=event))
    tickets = buy_places(event, 3)["tickets"]
    door.scan(tickets[0]["token"])
    door.scan(tickets[1]["token"])

    stats = door.get(f"/api/checkin/events/{event.pk}/stats").json()

    assert stats["areas"] == [{"area_id": standing.pk, "name": "Standing floor", "capacity": 30, "expected": 3,
                               "inside": 2}]
    assert stats["admitted"] == 2


def test_the_offline_manifest_lists_place_tickets_with_their_area(event, standing):
    door = Door(make_door_staff("door-ga", event=event))
    tickets = buy_places(event, 1)["tickets"]

    manifest = door.get(f"/api/checkin/events/{event.pk}/manifest").json()

    assert [row[0] for row in manifest["tickets"]] == [tickets[0]["id"]]
    assert manifest["tickets"][0][3] == "Standing floor · General admission"
