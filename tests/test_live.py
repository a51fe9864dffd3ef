"""Live seat-map subscriptions over Channels (real Postgres, real Redis): what each kind of page receives.

The event has two sections, Left and Right, of 20 seats each (tests/conftest.py).
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.db import connection

from evently.asgi import application
from ticketing import live
from ticketing.broadcast import seat_changes_flush
from ticketing.models import EventSeat
from ticketing.seat_state import STAMP_SQL
from ticketing.services import seat_hold, seat_release

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def seats_by_section(event) -> dict[str, list[int]]:
    sections: dict[str, list[int]] = {}
    for seat_id, name in EventSeat.objects.filter(event=event).order_by("id").values_list("id", "seat__section__name"):
        sections.setdefault(name, []).append(seat_id)
    return sections


def section_ids(event) -> dict[str, int]:
    return dict(event.venue.sections.values_list("name", "id"))


async def connected(path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=HEADERS)
    is_connected, _ = await communicator.connect(timeout=10)
    assert is_connected, path
    return communicator


def test_a_section_stream_carries_only_its_sections_changes(event):
    # given a page zoomed into Left and one watching the whole event
    left, right = seats_by_section(event)["Left"], seats_by_section(event)["Right"]
    left_id = section_ids(event)["Left"]

    async def scenario():
        left_page = await connected(f"/ws/events/{event.pk}/seats?section={left_id}")
        whole = await connected(f"/ws/events/{event.pk}/seats")
        # when a buyer holds a seat in Right, then one in Left
        await sync_to_async(seat_hold)(event_id=event.pk, seat_ids=right[:1], owner="buyer-1")
        await sync_to_async(seat_changes_flush)()
        await sync_to_async(seat_hold)(event_id=event.pk, seat_ids=left[:2], owner="buyer-2")
        # then the section page gets Left's two seats and nothing of Right
        message = await left_page.receive_json_from(timeout=5)
        assert [(c["seat_id"], c["status"]) for c in message["changes"]] == [(left[0], "held"), (left[1], "held")]
        assert message["version"] > 0
        assert await left_page.receive_nothing(timeout=0.3)
        # and the whole-event page gets all three (in one message or two)
        seen = []
        while len(seen) < 3:
            seen += [(c["seat_id"], c["status"]) for c in (await whole.receive_json_from(timeout=5))["changes"]]
        assert sorted(seen) == sorted([(right[0], "held"), (left[0], "held"), (left[1], "held")])
        await left_page.disconnect()
        await whole.disconnect()

    async_to_sync(scenario)()


def test_the_counts_stream_sends_all_sections_then_each_change_of_a_count(event):
    # given the overview's counts stream
    sections, left = section_ids(event), seats_by_section(event)["Left"]

    async def scenario():
        page = await connected(f"/ws/events/{event.pk}/sections")
        # then it first gets every section's counts
        first = await page.receive_json_from(timeout=5)
        assert first["version"] > 0
        assert first["sections"] == [
            {"section_id": sections["Left"], "available": 20, "seats": 20},
            {"section_id": sections["Right"], "available": 20, "seats": 20},
        ]
        # when three seats of Left are held
        await sync_to_async(seat_hold)(event_id=event.pk, seat_ids=left[:3], owner="buyer-1")
        # then it gets Left's new count only
        update = await page.receive_json_from(timeout=5)
        assert update["sections"] == [{"section_id": sections["Left"], "available": 17, "seats": 20}]
        # when one is released, the count goes back up by one
        await sync_to_async(seat_release)(event_id=event.pk, seat_ids=left[:1], owner="buyer-1")
        update = await page.receive_json_from(timeout=5)
        assert update["sections"] == [{"section_id": sections["Left"], "available": 18, "seats": 20}]
        await page.disconnect()

    async_to_sync(scenario)()


def test_a_lapsed_hold_counts_as_available_again_without_any_sweep(event, settings):
    # given holds that last one second, and the overview's counts stream
    settings.HOLD_TTL_SECONDS = 1
    sections, right = section_ids(event), seats_by_section(event)["Right"]

    async def scenario():
        page = await connected(f"/ws/events/{event.pk}/sections")
        await page.receive_json_from(timeout=5)
        # when two seats of Right are held
        await sync_to_async(seat_hold)(event_id=event.pk, seat_ids=right[:2], owner="buyer-1")
        held = await page.receive_json_from(timeout=5)
        assert held["sections"] == [{"section_id": sections["Right"], "available": 18, "seats": 20}]
        # then once the hold has lapsed the count is back, though no seat row changed
        lapsed = await page.receive_json_from(timeout=5)
        assert lapsed["sections"] == [{"section_id": sections["Right"], "available": 20, "seats": 20}]
        await page.disconnect()

    async_to_sync(scenario)()


def test_a_change_whose_message_was_lost_reaches_pages_by_the_catch_up(event, monkeypatch):
    # given a section page, and catch-ups every 0.2 s while quiet
    monkeypatch.setattr(live, "REFRESH_IDLE", 0.2)
    left, left_id = seats_by_section(event)["Left"], section_ids(event)["Left"]

    async def scenario():
        page = await connected(f"/ws/events/{event.pk}/seats?section={left_id}")

        # when a seat is sold by a transaction whose message never reaches Redis
        def sell_silently():
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE ticketing_eventseat SET status = 'sold', version = {STAMP_SQL} WHERE id = %s",
                               [left[5]])

        await sync_to_async(sell_silently)()
        # then the page still learns it, from the hub's catch-up
        message = await page.receive_json_from(timeout=5)
        assert message["changes"] == [{"seat_id": left[5], "status": "sold"}]
        await page.disconnect()

    async_to_sync(scenario)()


def test_unknown_events_and_sections_are_refused(event, other_event):
    foreign_section = section_ids(other_event)["Left"]

    async def refused(path):
        communicator = WebsocketCommunicator(application, path, headers=HEADERS)
        is_connected, _ = await communicator.connect(timeout=10)
        await communicator.disconnect()
        return not is_connected

    async def scenario():
        assert await refused(f"/ws/events/{event.pk + other_event.pk + 1000}/seats")
        assert await refused(f"/ws/events/{event.pk + other_event.pk + 1000}/sections")
        # a section of another event's venue
        assert await refused(f"/ws/events/{event.pk}/seats?section={foreign_section}")
        assert await refused(f"/ws/events/{event.pk}/seats?section=left")

    async_to_sync(scenario)()


def test_changes_since_by_section_returns_only_that_sections_seats(buyer, event):
    # given holds in both sections after a page's version
    by_section, sections = seats_by_section(event), section_ids(event)
    version = buyer.get(f"/api/events/{event.pk}/seats/changes?since=0").json()["version"]
    buyer.hold(event, [by_section["Left"][0], by_section["Right"][0]])

    # when a Right page catches up
    missed = buyer.get(f"/api/events/{event.pk}/seats/changes?since={version}&section={sections['Right']}").json()

    # then it gets Right's seat only; the whole event's catch-up has both
    assert [(c["seat_id"], c["status"]) for c in missed["changes"]] == [(by_section["Right"][0], "held")]
    everything = buyer.get(f"/api/events/{event.pk}/seats/changes?since={version}").json()
    assert {c["seat_id"] for c in everything["changes"]} == {by_section["Left"][0], by_section["Right"][0]}


def test_section_counts_endpoint_gives_the_counts_stream_a_catch_up(buyer, event):
    sections = section_ids(event)
    buyer.hold(event, [seats_by_section(event)["Left"][0]])

    body = buyer.get(f"/api/events/{event.pk}/sections").json()

    assert body["version"] > 0
    counts = {s["section_id"]: (s["available"], s["seats"]) for s in body["sections"]}
    assert counts == {sections["Left"]: (19, 20), sections["Right"]: (20, 20)}
