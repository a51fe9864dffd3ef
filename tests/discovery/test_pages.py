"""The home page by city and the search results page, as a browser without JavaScript gets them."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from tests.discovery.conftest import make_venue
from ticketing.models import EventSeat


def page_text(response) -> str:
    return response.content.decode()


def card_titles(html: str, section_id: str | None = None) -> list[str]:
    if section_id:
        html = html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<h3><a href="/events/\d+/">([^<]+)</a></h3>', html)


def sell(buyer, event, count):
    seat_ids = list(EventSeat.objects.filter(event=event, status="available").values_list("id", flat=True)[:count])
    assert buyer.hold(event, seat_ids).status_code == 200
    assert buyer.confirm(event).status_code == 201


def test_home_shows_trending_upcoming_and_categories(client, listed, buyer):
    listed("Hamlet", category="theater", days=2)
    gig = listed("Jazz Night", category="concert", venue=make_venue("Club", seats=4), days=5)
    sell(buyer, gig, 2)

    html = page_text(client.get("/"))

    assert card_titles(html, "trending-title") == ["Jazz Night"]
    assert card_titles(html, "upcoming-title") == ["Hamlet", "Jazz Night"]
    assert '<a href="/search/?category=theater">' in html and "Theater <span class=\"count\">(1)</span>" in html
    assert 'action="/search/"' in html and 'method="get"' in html


def test_the_chosen_city_is_remembered_and_narrows_the_home_page(client, listed, buyer):
    vienna = make_venue("Donau Saal", city="Vienna", latitude=48.21, longitude=16.38, timezone_name="Europe/Vienna")
    listed("Berlin Gig", days=1)
    vienna_gig = listed("Vienna Gig", venue=vienna, days=2)
    sell(buyer, vienna_gig, 1)

    response = client.post("/city/", {"city": "Vienna", "next": "/"})
    html = page_text(client.get("/"))

    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.session["city"] == "Vienna"
    assert card_titles(html, "upcoming-title") == ["Vienna Gig"]
    assert card_titles(html, "trending-title") == ["Vienna Gig"]
    assert '<option value="Vienna" selected>' in html and "Find your next event in Vienna" in html
    client.post("/city/", {"city": ""})
    assert card_titles(page_text(client.get("/")), "upcoming-title") == ["Berlin Gig", "Vienna Gig"]


def test_an_unknown_city_means_all_cities(client, listed):
    listed("Berlin Gig", days=1)

    client.post("/city/", {"city": "Atlantis"})

    assert client.session["city"] == ""
    assert card_titles(page_text(client.get("/")), "upcoming-title") == ["Berlin Gig"]


def test_the_city_form_never_redirects_off_site(client, db):
    response = client.post("/city/", {"city": "", "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_a_returning_buyer_gets_a_for_you_row(listed, buyer, client):
    comedy = listed("Stand-up Night", category="comedy", venue=make_venue("Club", seats=4), days=3)
    listed("Improv Jam", category="comedy", days=4)
    listed("String Quartet", category="concert", days=5)
    sell(buyer, comedy, 1)

    assert card_titles(page_text(buyer.get("/")), "for-you-title") == ["Stand-up Night", "Improv Jam"]
    assert "for-you-title" not in page_text(client.get("/"))


def test_search_page_lists_result_cards_with_date_price_and_availability(client, listed, buyer):
    starts = datetime(timezone.now().year + 1, 3, 14, 19, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    event = listed("Hamlet", description="Shakespeare's tragedy.", starts_at=starts, price="25.00")
    sell(buyer, event, 1)

    html = page_text(client.get("/search/?q=hamlet"))

    assert card_titles(html) == ["Hamlet"]
    assert "1 event</h2>" in html
    assert f"{starts:%a} 14 Mar {starts.year}, 19:30 CET</time>" in html
    assert '<span class="result-price">€25</span>' in html
    assert '<span class="badge badge-few_left">Only 1 seat left</span>' in html
    assert '<img src="/static/events/img/concert.svg" alt=""' in html


def test_search_page_keeps_the_filters_it_was_given(client, listed):
    listed("Hamlet", category="theater", days=1)

    html = page_text(client.get("/search/?q=hamlet&category=theater&sort=date&available=1&price_max=50"))

    assert 'value="theater" checked' in html
    assert '<option value="date" selected>' in html
    assert 'name="available" value="1" checked' in html
    assert 'id="price_max" name="price_max" type="number" min="0" step="1" inputmode="numeric" value="50"' in html
    assert card_titles(html) == ["Hamlet"]


def test_search_page_pages_through_results_with_links(client, listed):
    for day in range(1, 26):
        listed(f"Show {day:02}", days=day)

    first = page_text(client.get("/search/"))
    second = page_text(client.get("/search/?page=2"))

    assert len(card_titles(first)) == 20 and "25 events · showing 1–20" in first
    assert '<a href="?page=2" rel="next">Next</a>' in first
    assert card_titles(second) == ["Show 21", "Show 22", "Show 23", "Show 24", "Show 25"]
    assert '<a href="?page=1" rel="prev">Previous</a>' in second and 'aria-current="page">2</a>' in second


def test_bad_input_on_the_search_page_is_a_400_with_the_message_at_the_field(client, db):
    response = client.get("/search/?date_from=2026-12-31&date_to=2026-01-01")
    html = page_text(response)

    assert response.status_code == 400
    assert ('<p class="message-error" role="alert" id="search-error">“date_from” must not be after “date_to”.</p>'
            in html)
    assert 'id="date_from" name="date_from" type="date" value="2026-12-31" aria-invalid="true"' in html


def test_search_page_snippets_are_escaped(client, listed):
    listed("Night Show", description="jazz <img src=x onerror=alert(1)>", days=1)

    html = page_text(client.get("/search/?q=jazz"))

    assert "<img src=x" not in html
