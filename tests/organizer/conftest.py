"""Fixtures for the organizer tools: users in each role, logged-in clients, a venue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from venues.models import Venue

PASSWORD = "pw-organizer-tools"


def organizers_group() -> Group:
    group, _ = Group.objects.get_or_create(name="Organizers")
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=["venues", "events", "ticketing"]))
    return group


def make_organizer(username: str) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(organizers_group())
    return user


@pytest.fixture
def organizer(db):
    """Overrides the shared fixture: a staff organizer in the Organizers group, as the demo makes them."""
    return make_organizer("org")


@pytest.fixture
def rival(db):
    return make_organizer("rival")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def door(db):
    user = User.objects.create_user("door", password=PASSWORD)
    group, _ = Group.objects.get_or_create(name="Door staff")
    user.groups.add(group)
    return user


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def venue(db):
    return Venue.objects.create(name="Kesselhaus", city="Berlin")


def at(day: int, hour: int) -> datetime:
    """A fixed time in December 2030 (UTC), so ranges in tests read like a calendar."""
    return datetime(2030, 12, day, hour, tzinfo=UTC)


def hours(n: int) -> timedelta:
    return timedelta(hours=n)
