"""The whole seat map of an event, served to crowds: built once a second per process, compressed once.

A 50,000-seat layout is ~5 MB of JSON and ~300 ms to assemble. When a sale opens, thousands of
pages load it within seconds, so each process keeps the layout it built last for
`LAYOUT_SHARED_SECONDS` (a setting), already serialised and with its gzip stream open, and adds only what differs
per buyer (`my_holds`, `hold_expires_at`) at the end of the JSON. The shared copy is safe to serve a
second late: its `version` was taken before its seats were read, so `changes?since=version` brings
the page up to date (the same reasoning as `ticketing.selectors.seat_changes_since`).

The ETag names the layout's version and the buyer's holds: a page that asks again with
`If-None-Match` while nothing changed gets 304 and no body.
"""

from __future__ import annotations

import hashlib
import threading
import time
import zlib
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers

from events.models import Event
from ticketing.selectors import event_layout, places_held_by, seats_held_by

GZIP_LEVEL = 5
_PER_BUYER_KEYS = ("my_holds", "hold_expires_at", "my_areas")


@dataclass
class _SharedLayout:
    built_at: float
    version: int
    head: bytes  # the JSON without its closing brace and without the per-buyer keys
    gzip_head: bytes  # what the gzip stream has written for `head` so far
    gzip_state: object  # the stream's state after `head`: copied per response to finish it
    has_areas: bool = False  # general admission: the buyer's places are added too


_shared: dict[int, _SharedLayout] = {}
_lock = threading.Lock()


def _shared_layout(event: Event) -> _SharedLayout:
    max_age = settings.LAYOUT_SHARED_SECONDS
    shared = _shared.get(event.pk)
    if shared is not None and time.monotonic() - shared.built_at < max_age:
        return shared
    with _lock:  # one build per event and process at a time; the others wait for it
        shared = _shared.get(event.pk)
        if shared is not None and time.monotonic() - shared.built_at < max_age:
            return shared
        layout = event_layout(event=event, owner=None)
        for key in _PER_BUYER_KEYS:
            layout.pop(key)
        head = orjson.dumps(layout)[:-1]
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip container
        shared = _shared[event.pk] = _SharedLayout(
            built_at=time.monotonic(), version=layout["version"], head=head,
            gzip_head=compressor.compress(head), gzip_state=compressor, has_areas=bool(layout["areas"]),
        )
        return shared


def _per_buyer_tail(event: Event, owner: str | None, *, has_areas: bool = False) -> tuple[bytes, list]:
    holds = seats_held_by(event_id=event.pk, owner=owner) if owner else []
    expires = min((hold["held_until"] for hold in holds), default=None)
    my_holds = [hold["id"] for hold in holds]
    if not has_areas:
        return (b',"my_holds":' + orjson.dumps(my_holds) + b',"hold_expires_at":' + orjson.dumps(expires) + b"}",
                my_holds)
    # General admission (issue 15): the buyer's places per area share the cart's expiry.
    places = places_held_by(event_id=event.pk, owner=owner) if owner else []
    expiries = [expires, *(place["held_until"] for place in places)]
    expires = min(filter(None, expiries), default=None)
    my_areas = [{"area_id": place["area_id"], "quantity": place["quantity"]} for place in places]
    return (b',"my_holds":' + orjson.dumps(my_holds) + b',"hold_expires_at":' + orjson.dumps(expires)
            + b',"my_areas":' + orjson.dumps(my_areas) + b"}", [my_holds, my_areas])


def layout_response(request, *, event: Event, owner: str | None) -> HttpResponse:
    """The event's whole layout as JSON (gzip when the client accepts it), or 304 for a matching ETag."""
    shared = _shared_layout(event)
    tail, my_holds = _per_buyer_tail(event, owner, has_areas=shared.has_areas)
    holds_digest = hashlib.blake2s(orjson.dumps(my_holds), digest_size=6).hexdigest()
    etag = f'W/"layout-{event.pk}-{shared.version}-{holds_digest}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        finish = shared.gzip_state.copy()
        response = HttpResponse(shared.gzip_head + finish.compress(tail) + finish.flush(),
                                content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(shared.head + tail, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Accept-Encoding", "Cookie"))
    return response
