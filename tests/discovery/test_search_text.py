"""Full-text search: what `q` finds, and in which order."""

from __future__ import annotations

from django.db import connection

from events.models import EventStatus
from tests.discovery.conftest import make_venue, search, titles


def test_a_title_match_ranks_above_a_description_match(client, listed):
    listed("An Evening of Songs", description="Featuring the best of Hamlet, the musical.", days=1)
    listed("Hamlet", description="Shakespeare's tragedy.", days=30)

    assert titles(client, "q=hamlet") == ["Hamlet", "An Evening of Songs"]


def test_a_venue_or_city_match_ranks_between_title_and_description(client, listed, organizer):
    lindenhof = make_venue("Lindenhof Theater")
    listed("Gala Night", description="After the show, a Lindenhof tradition.", days=1)
    listed("Winter Concert", venue=lindenhof, days=2)
    listed("Lindenhof Jubilee", days=3)

    assert titles(client, "q=lindenhof") == ["Lindenhof Jubilee", "Winter Concert", "Gala Night"]


def test_stemming_finds_other_forms_of_a_word(client, listed):
    listed("Running Club Quiz", days=1)

    assert titles(client, "q=runs") == ["Running Club Quiz"]


def test_accents_do_not_matter_either_way(client, listed):
    cologne = make_venue("Rheinhalle", city="Köln", latitude=50.9413, longitude=6.9583)
    listed("Café Müller", days=1)
    listed("Jazz Brunch", venue=cologne, days=2)

    assert titles(client, "q=cafe+muller") == ["Café Müller"]
    assert titles(client, "q=koln") == ["Jazz Brunch"]
    assert titles(client, "q=Caf%C3%A9") == ["Café Müller"]


def test_the_last_word_matches_as_a_prefix_while_typing(client, listed):
    listed("Hamlet", days=1)
    listed("Hamburg Harbour Tour", days=2)

    assert titles(client, "q=ham") == ["Hamlet", "Hamburg Harbour Tour"]
    assert titles(client, "q=haml") == ["Hamlet"]


def test_every_word_must_match(client, listed):
    listed("Hamlet", description="In Berlin.", days=1)
    listed("Hamlet", description="In Vienna.", days=2)

    assert [r["id"] for r in search(client, "q=hamlet+vienna")["results"]].__len__() == 1


def test_a_typo_in_a_longer_word_still_finds_the_event(client, listed):
    listed("Hamlet", days=1)

    body = search(client, "q=hamlte")

    assert [r["title"] for r in body["results"]] == ["Hamlet"]
    assert body["corrections"] == {"hamlte": ["hamlet"]}


def test_a_typo_in_a_short_word_still_finds_the_event(client, listed):
    listed("Rock Night", days=1)
    listed("Rose Garden Walk", days=2)

    assert titles(client, "q=rok+night") == ["Rock Night"]
    assert titles(client, "q=jaz") == []  # no such word anywhere: nothing invented


def test_a_typo_together_with_an_accent(client, listed):
    listed("Dvořák Evening", days=1)

    assert titles(client, "q=dvorka") == ["Dvořák Evening"]


def test_a_known_word_is_not_corrected(client, listed):
    listed("Rock Night", days=1)
    listed("Rocky Horror Show", days=2)

    body = search(client, "q=rock+night")

    assert (body["corrections"], [r["title"] for r in body["results"]]) == ({}, ["Rock Night"])


def test_when_no_event_has_every_word_events_with_some_are_shown(client, listed):
    listed("Hamlet", days=1)

    body = search(client, "q=hamlet+xylophone")

    assert ([r["title"] for r in body["results"]], body["matched_any_word"]) == (["Hamlet"], True)


def test_results_carry_a_highlighted_snippet_that_is_safe_html(client, listed):
    listed("Night Show", description="A <b>bold</b> evening of jazz & blues <script>alert(1)</script>", days=1)

    highlighted = search(client, "q=jazz")["results"][0]["snippet"]
    plain = search(client)["results"][0]["snippet"]  # no words: the description's opening, escaped

    assert highlighted == "bold  evening of <mark>jazz</mark> &amp; blues"  # the parser drops tags
    assert plain == "A &lt;b&gt;bold&lt;/b&gt; evening of jazz &amp; blues &lt;script&gt;alert(1)&lt;/script&gt;"


def test_injection_strings_are_just_text(client, listed):
    listed("Hamlet", days=1)
    for attack in ["'; DROP TABLE events_event; --", "hamlet' OR '1'='1", "a & | ! ( ) :* <-> \\", "%27%22%3B",
                   "hamlet:*", "!hamlet", "(hamlet|x)"]:
        response = client.get("/api/events", {"q": attack})
        assert response.status_code == 200, attack
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event")
        assert cursor.fetchone()[0] == 1
    assert titles(client, "q=hamlet%27+OR+%271%27%3D%271") == ["Hamlet"]  # the words that are words match


def test_only_public_events_that_have_not_ended_are_found(client, listed, organizer):
    from datetime import timedelta

    from django.utils import timezone

    listed("Hamlet on sale", days=1)
    listed("Hamlet published", status=EventStatus.PUBLISHED, days=2)
    listed("Hamlet sold out", status=EventStatus.SOLD_OUT, days=3)
    listed("Hamlet draft", status=EventStatus.DRAFT, days=4)
    listed("Hamlet cancelled", status=EventStatus.CANCELLED, days=5)
    listed("Hamlet finished", status=EventStatus.FINISHED, days=-5)
    listed("Hamlet ended but not swept yet", starts_at=timezone.now() - timedelta(hours=3))

    assert titles(client, "q=hamlet") == ["Hamlet on sale", "Hamlet published", "Hamlet sold out"]
    assert titles(client) == ["Hamlet on sale", "Hamlet published", "Hamlet sold out"]


def test_results_keep_the_fields_the_api_always_had(client, listed):
    event = listed("Hamlet", price="42.50", days=1)

    result = search(client, "q=hamlet")["results"][0]

    assert {key: result[key] for key in ("id", "title", "category", "status", "min_price", "available_seats")} == {
        "id": event.pk, "title": "Hamlet", "category": "concert", "status": "on_sale", "min_price": "42.50",
        "available_seats": 2}
    assert result["starts_at"] == event.starts_at.isoformat()
    assert result["venue"] == {"id": event.venue_id, "name": "Spree Hall", "city": "Berlin",
                               "timezone": "Europe/Berlin"}
    assert (result["max_price"], result["availability"], result["url"]) == ("42.50", "few_left", f"/events/{event.pk}/")
    assert result["image_url"] == "/static/events/img/concert.svg"
