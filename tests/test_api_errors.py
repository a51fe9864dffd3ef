"""Bad input gets a clear JSON error with a stable code, the right status, and changes nothing."""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import Buyer
from ticketing.models import Booking, EventSeat


def nothing_written(event):
    return (
        not EventSeat.objects.filter(event=event).exclude(status="available").exists()
        and not Booking.objects.exists()
        # every seat still carries the stamp of the transaction that created the inventory
        and EventSeat.objects.filter(event=event).values("version").distinct().count() == 1
    )


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]


MALFORMED_HOLDS = [
    ("invalid JSON", "{not json", 400, "invalid_json"),
    ("JSON array", "[1, 2]", 400, "invalid_request"),
    ("JSON string", '"hold"', 400, "invalid_request"),
    ("empty object", "{}", 400, "invalid_request"),
    ("missing seat_ids", '{"event_id": %(event)s}', 400, "invalid_request"),
    ("missing event_id", '{"seat_ids": [%(seat)s]}', 400, "invalid_request"),
    ("string event id", '{"event_id": "%(event)s", "seat_ids": [%(seat)s]}', 400, "invalid_request"),
    ("string seat id", '{"event_id": %(event)s, "seat_ids": ["%(seat)s"]}', 400, "invalid_request"),
    ("float seat id", '{"event_id": %(event)s, "seat_ids": [1.5]}', 400, "invalid_request"),
    ("null seat ids", '{"event_id": %(event)s, "seat_ids": null}', 400, "invalid_request"),
    ("seat_ids not a list", '{"event_id": %(event)s, "seat_ids": %(seat)s}', 400, "invalid_request"),
    ("empty seat list", '{"event_id": %(event)s, "seat_ids": []}', 400, "invalid_request"),
    ("duplicate seats", '{"event_id": %(event)s, "seat_ids": [%(seat)s, %(seat)s]}', 400, "invalid_request"),
    ("negative seat id", '{"event_id": %(event)s, "seat_ids": [-1]}', 400, "invalid_request"),
    ("zero event id", '{"event_id": 0, "seat_ids": [%(seat)s]}', 400, "invalid_request"),
    ("huge array", '{"event_id": %(event)s, "seat_ids": [%(many)s]}', 400, "invalid_request"),
    # the event's per-order limit (10 here) is the hold limit (issue 12)
    ("more than the hold limit", '{"event_id": %(event)s, "seat_ids": [%(eleven)s]}', 422, "order_limit_exceeded"),
    ("boolean seat id", '{"event_id": %(event)s, "seat_ids": [true]}', 400, "invalid_request"),
    ("64-bit overflow", '{"event_id": %(event)s, "seat_ids": [99999999999999999999999]}', 400, "invalid_request"),
    ("unknown seat", '{"event_id": %(event)s, "seat_ids": [987654321]}', 400, "unknown_seats"),
    ("unknown event", '{"event_id": 987654321, "seat_ids": [%(seat)s]}', 404, "event_not_found"),
]


@pytest.mark.parametrize("label, body, status, code", MALFORMED_HOLDS, ids=[m[0] for m in MALFORMED_HOLDS])
def test_malformed_hold_is_rejected_and_writes_nothing(buyer, event, seat_ids, label, body, status, code):
    raw = body % {"event": event.pk, "seat": seat_ids[0], "many": ",".join(str(i) for i in range(1, 5001)),
                  "eleven": ",".join(str(s) for s in seat_ids[:11])}

    response = buyer.post_json("/api/seats/hold", raw=raw)

    assert_error_shape(response, status, code)
    assert nothing_written(event)


MALFORMED_CONFIRMS = [
    ("no customer", {"payment_token": "tok_ok"}),
    ("customer not an object", {"customer": "Ada", "payment_token": "tok_ok"}),
    ("blank name", {"customer": {"name": "  ", "email": "ada@example.com"}, "payment_token": "tok_ok"}),
    ("bad e-mail", {"customer": {"name": "Ada", "email": "not-an-email"}, "payment_token": "tok_ok"}),
    ("bad phone", {"customer": {"name": "Ada", "email": "ada@example.com", "phone": "call me"},
                   "payment_token": "tok_ok"}),
    ("no payment token", {"customer": {"name": "Ada", "email": "ada@example.com"}}),
    ("numeric token", {"customer": {"name": "Ada", "email": "ada@example.com"}, "payment_token": 42}),
    ("short idempotency key", {"customer": {"name": "Ada", "email": "ada@example.com"}, "payment_token": "tok_ok",
                               "idempotency_key": "x"}),
    ("name too long", {"customer": {"name": "A" * 500, "email": "ada@example.com"}, "payment_token": "tok_ok"}),
]


@pytest.mark.parametrize("label, payload", MALFORMED_CONFIRMS, ids=[m[0] for m in MALFORMED_CONFIRMS])
def test_malformed_confirm_is_rejected_and_keeps_the_hold(buyer, event, seat_ids, label, payload):
    buyer.hold(event, seat_ids[:1])

    response = buyer.post_json("/api/bookings/confirm", {"event_id": event.pk, **payload})

    assert_error_shape(response, 400, "invalid_request")
    assert not Booking.objects.exists()
    assert EventSeat.objects.get(pk=seat_ids[0]).status == "held"


def test_post_without_csrf_token_is_forbidden(event, seat_ids):
    buyer = Buyer()
    response = buyer.post("/api/seats/hold", json.dumps({"event_id": event.pk, "seat_ids": [seat_ids[0]]}),
                          content_type="application/json")

    assert_error_shape(response, 403, "csrf_failed")
    assert nothing_written(event)


@pytest.mark.parametrize("path", ["/api/events/987654321/layout", "/api/events/987654321/seats/changes",
                                  "/api/bookings/987654321", "/api/no-such-endpoint"])
def test_unknown_things_are_404_in_the_error_shape(buyer, path):
    assert buyer.get(path).status_code == 404
    assert buyer.get(path).json()["error"] in {"event_not_found", "booking_not_found", "not_found"}


@pytest.mark.parametrize("query", ["since=-1", "since=abc", "since=1e9999"])
def test_bad_changes_query_is_400(buyer, event, query):
    assert_error_shape(buyer.get(f"/api/events/{event.pk}/seats/changes?{query}"), 400, "invalid_request")


@pytest.mark.parametrize(("query", "code"), [("page=0", "invalid_page"), ("page=abc", "invalid_page"),
                                            ("category=nope", "invalid_category")])
def test_bad_event_list_query_is_400(buyer, query, code):
    # Every search parameter has its own code: tests/discovery/test_search_errors.py
    assert_error_shape(buyer.get(f"/api/events?{query}"), 400, code)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=json_values, endpoint=st.sampled_from(["/api/seats/hold", "/api/seats/release", "/api/bookings/confirm"]))
def test_fuzzed_bodies_never_crash_or_sell(event, buyer, body, endpoint):
    response = buyer.post_json(endpoint, body)

    assert 400 <= response.status_code < 500 or (endpoint == "/api/seats/release" and response.status_code == 200)
    assert "error" in response.json() or response.status_code == 200
    assert not Booking.objects.exists()
    assert not EventSeat.objects.filter(event=event, status__in=["held", "sold"]).exists()


@pytest.mark.parametrize("path", ["/api/events/99999999999999999999999/layout", "/api/events/abc/layout",
                                  "/api/events/0/seats/changes", "/api/bookings/-4"])
def test_ids_out_of_range_in_the_path_are_400(buyer, path):
    assert_error_shape(buyer.get(path), 400, "invalid_request")
