"""Personalization: a returning buyer's booked categories rank a little higher, for that buyer only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from events.personalization import BOOST, category_affinity
from tests.conftest import Buyer
from tests.discovery.conftest import make_venue, titles
from ticketing.models import EventSeat


def buy(buyer, event, count=1):
    seat_ids = list(EventSeat.objects.filter(event=event, status="available").values_list("id", flat=True)[:count])
    assert buyer.hold(event, seat_ids).status_code == 200
    assert buyer.confirm(event).status_code == 201


@pytest.fixture
def festivals(listed):
    """Two events the word "festival" matches equally; the concert is sooner, so it comes first by default."""
    listed("Music Festival", category="concert", days=1)
    listed("Comedy Festival", category="comedy", days=2)
    return listed("Stand-up Night", category="comedy", venue=make_venue("Club", seats=4), days=20)


def test_a_buyer_who_booked_comedy_sees_comedy_first(buyer, festivals):
    buy(buyer, festivals)

    assert titles(buyer, "q=festival") == ["Comedy Festival", "Music Festival"]


def test_everyone_else_sees_the_plain_ranking(client, buyer, other_buyer, festivals):
    buy(buyer, festivals)

    assert titles(client, "q=festival") == ["Music Festival", "Comedy Festival"]
    assert titles(other_buyer, "q=festival") == ["Music Festival", "Comedy Festival"]


def test_personalization_only_reorders_relevance(buyer, festivals):
    buy(buyer, festivals)

    assert titles(buyer, "q=festival&sort=date") == ["Music Festival", "Comedy Festival"]
    assert sorted(titles(buyer, "q=festival")) == sorted(titles(Buyer(), "q=festival"))


def test_a_boost_never_lifts_a_description_match_over_a_title_match(buyer, listed, festivals):
    listed("Laughter Gala", category="comedy", description="The festival's closing night.", days=3)
    buy(buyer, festivals)

    assert titles(buyer, "q=festival") == ["Comedy Festival", "Music Festival", "Laughter Gala"]


def test_a_logged_in_user_is_known_by_their_bookings_on_any_device(festivals):
    user = User.objects.create_user("ada", password="pw-ada-lovelace")
    laptop, phone = Buyer(), Buyer()
    laptop.force_login(user)
    buy(laptop, festivals)
    phone.force_login(user)

    assert titles(phone, "q=festival") == ["Comedy Festival", "Music Festival"]


def test_a_my_bookings_session_is_known_by_its_email(festivals, buyer):
    from ticketing.api_tickets import MY_BOOKINGS_SESSION_KEY

    buy(buyer, festivals)  # as ada@example.com
    returning = Buyer()
    session = returning.session
    session[MY_BOOKINGS_SESSION_KEY] = "ADA@example.com"
    session.save()

    assert titles(returning, "q=festival") == ["Comedy Festival", "Music Festival"]


def test_the_score_is_the_share_of_the_most_booked_category(rf, buyer, festivals, listed):
    buy(buyer, festivals, count=2)
    concert = listed("Gig", category="concert", venue=make_venue("Hall", seats=2), days=5)
    buy(buyer, concert, count=1)
    request = rf.get("/")
    request.user = AnonymousUser()  # known by the buyer cookie only
    request.session = buyer.session
    request.COOKIES = {name: morsel.value for name, morsel in buyer.cookies.items()}

    assert category_affinity(request) == {"comedy": 1.0, "concert": 0.5}
    assert BOOST == 0.5
