"""The whole-event layout for crowds: shared for a second, gzip on the wire, 304 by ETag, per-buyer holds."""

from __future__ import annotations

import gzip

import orjson
import pytest


@pytest.fixture
def shared_layouts(settings):
    settings.LAYOUT_SHARED_SECONDS = 60


def layout(client, event, **headers):
    return client.get(f"/api/events/{event.pk}/layout", **headers)


def test_layout_is_gzipped_for_clients_that_accept_it(buyer, event, shared_layouts):
    plain = layout(buyer, event)
    zipped = layout(buyer, event, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert orjson.loads(gzip.decompress(zipped.content)) == orjson.loads(plain.content)
    assert len(zipped.content) < len(plain.content) / 3


def test_unchanged_layout_answers_304_to_its_etag(buyer, event, shared_layouts):
    first = layout(buyer, event)
    again = layout(buyer, event, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (again.status_code, again.content) == (304, b"")


def test_each_buyer_sees_their_own_holds_in_a_shared_layout(buyer, other_buyer, event, seat_ids, shared_layouts):
    layout(buyer, event)  # builds the shared copy before the hold
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    mine = layout(buyer, event, HTTP_ACCEPT_ENCODING="gzip")
    theirs = layout(other_buyer, event)
    assert orjson.loads(gzip.decompress(mine.content))["my_holds"] == seat_ids[:2]
    assert orjson.loads(theirs.content)["my_holds"] == []
    assert mine["ETag"] != theirs["ETag"]


def test_a_shared_layout_is_never_ahead_of_its_version(buyer, event, seat_ids, shared_layouts):
    """A page that loads the shared copy and then asks for changes since its version sees the hold."""
    version = orjson.loads(layout(buyer, event).content)["version"]
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    stale = orjson.loads(layout(buyer, event).content)
    assert stale["version"] == version
    changes = buyer.get(f"/api/events/{event.pk}/seats/changes?since={version}").json()["changes"]
    assert {"seat_id": seat_ids[0], "status": "held"}.items() <= changes[0].items()


def test_pages_go_out_gzipped_with_a_random_length_and_json_answers_stay_as_they_are(buyer, event):
    """The event page (most of it the seat map's SVG) is compressed for browsers that accept it; each
    response's gzip stream is padded to a random length (BREACH), so two are rarely the same size."""
    page = f"/events/{event.pk}/"
    plain = buyer.get(page)
    zipped = [buyer.get(page, HTTP_ACCEPT_ENCODING="gzip, deflate, br") for _ in range(5)]

    assert "Content-Encoding" not in plain
    assert all(response["Content-Encoding"] == "gzip" for response in zipped)
    assert b"<svg" in gzip.decompress(zipped[0].content)
    assert len(zipped[0].content) < len(plain.content) / 3
    assert len({len(response.content) for response in zipped}) > 1
    api = layout(buyer, event, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in buyer.get(f"/api/events/{event.pk}/cart", HTTP_ACCEPT_ENCODING="gzip")
    assert api["Content-Encoding"] == "gzip"  # the layout's own precomputed stream, untouched
