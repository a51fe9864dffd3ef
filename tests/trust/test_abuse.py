"""Bots and abuse at an on-sale: token buckets per session, IP and network; a seat cap per IP;
declined cards throttled; login throttling; what happens when Redis is down."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from evently.models import PaymentAttempt
from evently.ratelimit import client_addresses, rate_limits_reset
from tests.conftest import Buyer, seat_statuses
from ticketing.models import Booking


@pytest.fixture
def limits(settings):
    """Set some buckets for one test: limits(hold={"ip": "3/10"})."""

    def set_limits(**actions):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **actions}

    return set_limits


def test_hold_is_limited_per_ip_across_sessions(event, seat_ids, limits):
    limits(hold={"session": "30/10", "ip": "3/10", "net": "100/10"})
    buyers = [Buyer() for _ in range(4)]
    assert [buyer.hold(event, [seat_ids[i]]).status_code for i, buyer in enumerate(buyers[:3])] == [200] * 3
    response = buyers[3].hold(event, [seat_ids[3]])
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert int(response["Retry-After"]) == response.json()["retry_after"] >= 1
    assert seat_statuses(event)[seat_ids[3]] == "available"


def test_hold_is_limited_per_ipv4_network(event, seat_ids, limits):
    limits(hold={"ip": "100/10", "net": "2/10"})
    same_net = [Buyer(REMOTE_ADDR=f"203.0.113.{n}") for n in (1, 2, 3)]
    assert [b.hold(event, [seat_ids[i]]).status_code for i, b in enumerate(same_net)] == [200, 200, 429]
    assert Buyer(REMOTE_ADDR="203.0.114.1").hold(event, [seat_ids[5]]).status_code == 200


def test_ipv6_clients_are_counted_per_64_and_48():
    class Request:
        META = {"REMOTE_ADDR": "2001:db8:1:2:aaaa::1"}

    assert client_addresses(Request) == ("2001:db8:1:2::/64", "2001:db8:1::/48")
    Request.META = {"REMOTE_ADDR": "::ffff:198.51.100.7"}
    assert client_addresses(Request) == ("198.51.100.7", "198.51.100.0/24")


def test_seats_held_per_ip_per_event_are_capped(event, other_event, seat_ids, settings):
    settings.MAX_SEATS_HELD_PER_IP = 4
    first, second = Buyer(), Buyer()
    assert first.hold(event, seat_ids[:3]).status_code == 200
    # a second session from the same address may not take the IP past 4 seats of this event
    response = second.hold(event, seat_ids[3:5])
    assert (response.status_code, response.json()["error"]) == (429, "ip_seat_limit")
    assert "Retry-After" in response
    assert second.hold(event, seat_ids[3:4]).status_code == 200
    # another address, or another event, is not affected
    assert Buyer(REMOTE_ADDR="198.51.100.9").hold(event, seat_ids[10:14]).status_code == 200
    other_seats = list(other_event.seats.order_by("id").values_list("id", flat=True)[:4])
    assert second.hold(other_event, other_seats).status_code == 200
    # releasing seats frees room under the cap
    assert first.release(event, seat_ids[:2]).status_code == 200
    assert second.hold(event, seat_ids[4:6]).status_code == 200


def test_a_failed_hold_does_not_count_against_the_ip_cap(event, seat_ids, settings):
    settings.MAX_SEATS_HELD_PER_IP = 4
    assert Buyer(REMOTE_ADDR="198.51.100.1").hold(event, seat_ids[:1]).status_code == 200
    buyer = Buyer()
    assert buyer.hold(event, seat_ids[:4]).status_code == 409  # the first seat is taken
    assert buyer.hold(event, seat_ids[4:8]).status_code == 200


def test_paid_seats_leave_the_ip_cap(buyer, event, seat_ids, settings):
    settings.MAX_SEATS_HELD_PER_IP = 4
    assert buyer.hold(event, seat_ids[:4]).status_code == 200
    assert buyer.confirm(event).status_code == 201
    assert Buyer().hold(event, seat_ids[4:8]).status_code == 200


def test_confirms_are_limited_per_session(event, seat_ids, limits):
    limits(confirm={"session": "2/60"})
    buyer = Buyer()
    for index in range(2):
        assert buyer.hold(event, seat_ids[index:index + 1]).status_code == 200
        assert buyer.confirm(event).status_code == 201
    assert buyer.hold(event, seat_ids[2:3]).status_code == 200
    response = buyer.confirm(event)
    assert (response.status_code, response.json()["error"]) == (429, "rate_limited")
    assert Booking.objects.count() == 2


def test_declined_cards_are_throttled_per_buyer(event, seat_ids, limits):
    limits(payment_declined={"session": "2/600", "ip": "100/600"})
    buyer = Buyer()
    assert buyer.hold(event, seat_ids[:1]).status_code == 200
    assert [buyer.confirm(event, token="tok_declined").status_code for _ in range(2)] == [402, 402]
    # then even a good card is not tried for this buyer: no charge reaches the provider
    response = buyer.confirm(event, token="tok_ok")
    assert (response.status_code, response.json()["error"]) == (429, "rate_limited")
    assert PaymentAttempt.objects.filter(status="succeeded").count() == 0
    # another buyer on the same address still pays
    other = Buyer()
    assert other.hold(event, seat_ids[5:6]).status_code == 200
    assert other.confirm(event).status_code == 201


def test_declined_cards_are_throttled_per_ip(event, seat_ids, limits):
    limits(payment_declined={"session": "100/600", "ip": "2/600"})
    for index in range(2):
        buyer = Buyer()
        assert buyer.hold(event, seat_ids[index:index + 1]).status_code == 200
        assert buyer.confirm(event, token="tok_declined").status_code == 402
    third = Buyer()
    assert third.hold(event, seat_ids[2:3]).status_code == 200
    assert third.confirm(event).status_code == 429


def test_transfers_are_limited(buyer, event, seat_ids, limits):
    limits(transfer={"session": "1/600"})
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    tickets = buyer.confirm(event).json()["tickets"]
    first = buyer.post_json(f"/api/tickets/{tickets[0]['id']}/transfer", {"name": "G", "email": "g@example.com"})
    second = buyer.post_json(f"/api/tickets/{tickets[1]['id']}/transfer", {"name": "L", "email": "l@example.com"})
    assert (first.status_code, second.status_code, second.json()["error"]) == (201, 429, "rate_limited")


def test_magic_links_are_limited_per_ip(buyer, limits):
    limits(magic_link={"ip": "2/600"})
    codes = [buyer.post_json("/api/my-bookings/link", {"email": f"fan{n}@example.com"}).status_code
             for n in range(3)]
    assert codes == [202, 202, 429]


def test_waitlist_joins_are_limited_per_ip(event, limits):
    limits(waitlist_join={"ip": "1/600"})
    first = Buyer().post_json(f"/api/events/{event.pk}/waitlist", {"email": "a@example.com", "party_size": 1})
    second = Buyer().post_json(f"/api/events/{event.pk}/waitlist", {"email": "b@example.com", "party_size": 1})
    assert first.status_code != 429  # 409 seats_available: the event is not sold out
    assert (second.status_code, second.json()["error"]) == (429, "rate_limited")


# --- logins -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_logins_are_throttled_per_ip(path, limits, db):
    limits(login={"ip": "2/300"})
    User.objects.create_user("door", password="right-password-123")
    client = Client()
    wrong = [client.post(path, {"username": "door", "password": f"guess-{n}"}).status_code for n in range(2)]
    assert wrong == [200, 200]  # the form again, with an error
    blocked = client.post(path, {"username": "door", "password": "right-password-123"})
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session


def test_logins_are_throttled_per_username_from_many_addresses(limits, db):
    limits(login={"ip": "100/300", "username": "3/900"})
    User.objects.create_user("organizer", password="right-password-123")
    codes = [Client(REMOTE_ADDR=f"192.0.2.{n}").post("/accounts/login/", {"username": "organizer",
                                                                           "password": "x"}).status_code
             for n in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_throttled_login_answers_json_to_api_clients(limits, db):
    limits(login={"ip": "1/300"})
    client = Client()
    client.post("/accounts/login/", {"username": "a", "password": "b"})
    response = client.post("/accounts/login/", {"username": "a", "password": "b"}, HTTP_ACCEPT="application/json")
    assert (response.status_code, response.json()["error"]) == (429, "rate_limited")


def test_passwords_are_checked_by_djangos_standard_validators(db):
    user = User(username="organizer", email="organizer@example.com")
    for weak in ["password123", "1234567890123", "organizer1", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak, user)
    validate_password("correct horse battery staple", user)


# --- one round trip, and Redis down ----------------------------------------------------------------------

def _script_calls() -> int:
    client = redis.Redis.from_url(django_settings.RATE_LIMIT_REDIS_URL)
    stats = client.info("commandstats")
    client.close()
    return sum(stats.get(name, {}).get("calls", 0) for name in ("cmdstat_evalsha", "cmdstat_eval"))


def test_a_hold_and_a_confirm_make_one_rate_limit_round_trip_each(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])  # loads the script once
    before = _script_calls()
    assert buyer.hold(event, seat_ids[1:2]).status_code == 200
    after_hold = _script_calls()
    assert buyer.confirm(event).status_code == 201
    assert (after_hold - before, _script_calls() - after_hold) == (1, 1)


@pytest.fixture
def redis_down(settings):
    """The rate limiter's Redis is unreachable (nothing listens on this port of our range)."""
    settings.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:8299/0"
    rate_limits_reset()
    yield
    rate_limits_reset()


def test_with_redis_down_buyers_can_still_buy(buyer, event, seat_ids, redis_down, settings):
    settings.MAX_SEATS_HELD_PER_IP = 1  # the seat cap needs Redis: skipped while it is down
    assert buyer.hold(event, seat_ids[:2]).status_code == 200
    assert buyer.confirm(event).status_code == 201


def test_with_redis_down_each_process_still_throttles_a_flood(event, seat_ids, redis_down, limits):
    limits(hold={"ip": "3/10"})
    codes = [Buyer().hold(event, [seat_ids[i]]).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
