"""Issue 18: the date filter above a change list picks days on each row's venue's calendar, not UTC's.

Every time here is near midnight on the venue's clock, where the UTC date is another day: Django's
`date_hierarchy` (UTC days) would list these rows under the wrong day. The app's clock is pinned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from checkin.models import Scan
from events.models import Event
from tests.organizer.conftest import login
from venues.localtime import venue_time_at
from venues.models import Venue

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def venue_in(zone: str, organizer=None) -> Venue:
    return Venue.objects.create(name=f"Hall in {zone}", city=zone.split("/")[-1], timezone=zone,
                                organizer=organizer)


def event_at(organizer, venue: Venue, title: str, *wall_clock: int) -> Event:
    """An event starting when the venue's wall clock shows `wall_clock` (year, month, day, hour, minute)."""
    starts_at = venue_time_at(venue, *wall_clock)
    return Event.objects.create(organizer=organizer, venue=venue, title=title, starts_at=starts_at,
                                ends_at=starts_at + timedelta(hours=2))


def listed(client, admin_url: str, parameter: str, choice: str | None, key: str = "title") -> set[str]:
    response = client.get(reverse(admin_url), {parameter: choice} if choice else {})
    assert response.status_code == 200
    return {getattr(row, key) for row in response.context["cl"].result_list}


def events_listed(client, choice: str | None) -> set[str]:
    return listed(client, "admin:events_event_changelist", "starts_at_venue_date", choice)


# --- one venue: Berlin's today, though UTC's date is yesterday ------------------------------------

def test_half_past_midnight_in_berlin_is_today_when_berlins_clock_says_so(organizer):
    berlin = venue_in(BERLIN)
    early = event_at(organizer, berlin, "Early show", 2030, 12, 2, 0, 30)
    event_at(organizer, berlin, "Next early show", 2030, 12, 3, 0, 30)
    # the premise: in UTC the early show is on the day before
    assert early.starts_at.astimezone(UTC).date() == datetime(2030, 12, 1).date()
    with time_machine.travel(venue_time_at(berlin, 2030, 12, 2, 10, 0)):
        client = login(organizer)
        assert events_listed(client, "today") == {"Early show"}
        assert events_listed(client, "tomorrow") == {"Next early show"}


# --- one list, two zones: each row on its own venue's calendar -----------------------------------

# Pinned at 03:00 UTC on 1 January 2031: 04:00 on New Year's Day in Berlin, 22:00 on New Year's Eve in New York.
NOW = datetime(2031, 1, 1, 3, 0, tzinfo=UTC)
ROWS = {
    "Berlin Jan 1 00:30": (BERLIN, 2031, 1, 1, 0, 30),     # UTC Dec 31 23:30; Berlin's today
    "Berlin Dec 31 23:30": (BERLIN, 2030, 12, 31, 23, 30),  # UTC Dec 31 22:30; Berlin's yesterday
    "Berlin Jan 7 23:30": (BERLIN, 2031, 1, 7, 23, 30),     # Berlin's today + 6
    "Berlin Jan 8 00:30": (BERLIN, 2031, 1, 8, 0, 30),      # UTC Jan 7 23:30; Berlin's today + 7
    "New York Dec 31 23:30": (NEW_YORK, 2030, 12, 31, 23, 30),  # UTC Jan 1 04:30; New York's today
    "New York Jan 1 00:30": (NEW_YORK, 2031, 1, 1, 0, 30),      # UTC Jan 1 05:30; New York's tomorrow
}
EXPECTED = {
    "today": {"Berlin Jan 1 00:30", "New York Dec 31 23:30"},
    "tomorrow": {"New York Jan 1 00:30"},
    "next_7_days": {"Berlin Jan 1 00:30", "Berlin Jan 7 23:30", "New York Dec 31 23:30", "New York Jan 1 00:30"},
    # January in Berlin, still December in New York
    "this_month": {"Berlin Jan 1 00:30", "Berlin Jan 7 23:30", "Berlin Jan 8 00:30", "New York Dec 31 23:30"},
    "upcoming": {"Berlin Jan 7 23:30", "Berlin Jan 8 00:30", "New York Dec 31 23:30", "New York Jan 1 00:30"},
    "past": {"Berlin Jan 1 00:30", "Berlin Dec 31 23:30"},
    None: set(ROWS),
}


@pytest.mark.parametrize("choice", list(EXPECTED), ids=lambda choice: choice or "all")
def test_berlin_and_new_york_rows_in_one_list_are_each_filtered_by_their_own_day(organizer, choice):
    venues = {BERLIN: venue_in(BERLIN), NEW_YORK: venue_in(NEW_YORK)}
    for title, (zone, *wall_clock) in ROWS.items():
        event_at(organizer, venues[zone], title, *wall_clock)
    with time_machine.travel(NOW):
        assert events_listed(login(organizer), choice) == EXPECTED[choice]


# --- the organizer scope ---------------------------------------------------------------------------

def test_an_organizers_filter_lists_only_their_own_events(organizer, rival, superuser):
    berlin = venue_in(BERLIN)
    event_at(organizer, berlin, "Ours", 2030, 12, 2, 0, 30)
    event_at(rival, berlin, "Theirs", 2030, 12, 2, 0, 30)
    with time_machine.travel(venue_time_at(berlin, 2030, 12, 2, 10, 0)):
        assert events_listed(login(organizer), "today") == {"Ours"}
        assert events_listed(login(rival), "today") == {"Theirs"}
        assert events_listed(login(superuser), "today") == {"Ours", "Theirs"}


# --- logs look back: the scan log --------------------------------------------------------------------

def test_the_scan_log_filters_by_the_days_of_each_scans_venue(organizer, superuser):
    berlin = venue_in(BERLIN)
    event = event_at(organizer, berlin, "Hamlet", 2030, 12, 2, 20, 0)

    def scan(nonce: str, received_at: datetime, event=event):
        Scan.objects.create(nonce=nonce, event=event, result="invalid", scanned_at=received_at,
                            received_at=received_at)

    scan("today 00:30", venue_time_at(berlin, 2030, 12, 2, 0, 30))        # UTC Dec 1
    scan("yesterday 00:30", venue_time_at(berlin, 2030, 12, 1, 0, 30))    # UTC Nov 30
    scan("6 days ago 00:30", venue_time_at(berlin, 2030, 11, 26, 0, 30))
    scan("7 days ago 00:30", venue_time_at(berlin, 2030, 11, 25, 0, 30))
    scan("no event, UTC today", datetime(2030, 12, 2, 0, 30, tzinfo=UTC), event=None)  # no venue: UTC's day
    expected = {
        "today": {"today 00:30", "no event, UTC today"},
        "yesterday": {"yesterday 00:30"},
        "last_7_days": {"today 00:30", "yesterday 00:30", "6 days ago 00:30", "no event, UTC today"},
        "this_month": {"today 00:30", "yesterday 00:30", "no event, UTC today"},
    }
    with time_machine.travel(venue_time_at(berlin, 2030, 12, 2, 10, 0)):
        client = login(superuser)
        for choice, nonces in expected.items():
            assert listed(client, "admin:checkin_scan_changelist", "received_at_venue_date", choice, "nonce") == nonces


# --- every list that had a UTC date hierarchy has the venue-time filter instead ------------------------

@pytest.mark.parametrize(("admin_url", "parameter", "title", "choices"), [
    ("admin:events_event_changelist", "starts_at_venue_date", "start date (venue time)",
     ["today", "tomorrow", "next_7_days", "this_month", "upcoming", "past"]),
    ("admin:venues_venuebooking_changelist", "start_venue_date", "start date (venue time)",
     ["today", "tomorrow", "next_7_days", "this_month", "upcoming", "past"]),
    ("admin:checkin_admission_changelist", "admitted_at_venue_date", "admission date (venue time)",
     ["today", "yesterday", "last_7_days", "this_month"]),
    ("admin:checkin_scan_changelist", "received_at_venue_date", "scan date (venue time)",
     ["today", "yesterday", "last_7_days", "this_month"]),
    ("admin:ticketing_booking_changelist", "created_at_venue_date", "booking date (venue time)",
     ["today", "yesterday", "last_7_days", "this_month"]),
])
def test_lists_offer_the_venue_time_filter_and_no_utc_date_hierarchy(superuser, admin_url, parameter, title,
                                                                     choices):
    client = login(superuser)
    page = client.get(reverse(admin_url)).content.decode()
    assert f"By {title}" in page
    assert "toplinks" not in page  # Django's date_hierarchy bar
    for choice in choices:
        assert f"?{parameter}={choice}" in page
        assert client.get(reverse(admin_url), {parameter: choice}).status_code == 200
