"""Check-in fixtures: door staff with logged-in clients, doors open, paid tickets."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from checkin.models import DoorAssignment, DoorSchedule
from checkin.selectors import checkin_caches_clear
from tests.conftest import Buyer


@pytest.fixture(autouse=True)
def _fresh_checkin_caches():
    checkin_caches_clear()
    yield
    checkin_caches_clear()


class Door(Client):
    """A logged-in check-in device: CSRF enforced like the browser page."""

    def __init__(self, user, device="door-1", **kwargs):
        super().__init__(enforce_csrf_checks=True, **kwargs)
        self.force_login(user)
        self.get("/api/session")
        self.device = device

    def post_json(self, path, data):
        return self.post(path, json.dumps(data), content_type="application/json",
                         HTTP_X_CSRFTOKEN=self.cookies["csrftoken"].value)

    def scan(self, token, *, nonce=None, gate="Main", event=None, **extra):
        payload = {"token": token, "nonce": nonce or uuid.uuid4().hex, "gate": gate, "device": self.device, **extra}
        if event is not None:
            payload["event_id"] = event.pk
        return self.post_json("/api/checkin/scan", payload)

    def sync(self, scans):
        return self.post_json("/api/checkin/sync", {"scans": [{"device": self.device, **scan} for scan in scans]})


def make_door_staff(username, *, event=None, venue=None) -> User:
    user = User.objects.create_user(username, password="pw-door")
    user.groups.add(Group.objects.get_or_create(name="Door staff")[0])
    if event is not None or venue is not None:
        DoorAssignment.objects.create(user=user, event=event, venue=venue)
    return user


def doors_open(event, *, hours_ago=1):
    DoorSchedule.objects.update_or_create(
        event=event, defaults={"doors_open_at": timezone.now() - timedelta(hours=hours_ago)})
    checkin_caches_clear()


def buy_tickets(event, seat_ids) -> dict:
    """A paid booking through the real API; returns the booking JSON (tickets with tokens)."""
    buyer = Buyer()
    assert buyer.hold(event, seat_ids).status_code == 200
    response = buyer.confirm(event)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def door_user(event):
    return make_door_staff("door-a", event=event)


@pytest.fixture
def door(door_user):
    return Door(door_user)


@pytest.fixture
def open_event(event):
    doors_open(event)
    return event


@pytest.fixture
def booking(open_event, seat_ids):
    return buy_tickets(open_event, seat_ids[:2])


@pytest.fixture
def token(booking):
    return booking["tickets"][0]["token"]
