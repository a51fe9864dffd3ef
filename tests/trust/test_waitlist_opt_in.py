"""Waitlist double opt-in: joining hands out nothing; the place in line comes by e-mail only; a
join with someone else's address blocks nobody."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from tests.conftest import Buyer
from tests.tickets.conftest import buy
from ticketing import services
from ticketing.models import EventSeat, WaitlistEntry


@pytest.fixture
def sold_out(buyer, event, seat_ids, django_capture_on_commit_callbacks):
    """Ada bought two seats; every other seat is off sale."""
    booking = buy(buyer, event, seat_ids[:2], capture=django_capture_on_commit_callbacks)
    EventSeat.objects.filter(event=event, status="available").update(status="blocked")
    mail.outbox.clear()
    return booking


def join(event, email, party_size=2, capture=None):
    client = Buyer()
    if capture is None:
        return client.post_json(f"/api/events/{event.pk}/waitlist", {"email": email, "party_size": party_size})
    with capture(execute=True):
        return client.post_json(f"/api/events/{event.pk}/waitlist", {"email": email, "party_size": party_size})


def confirm_link(message) -> str:
    return re.search(r"http://testserver(/waitlist/\S+/confirm/)", message.body).group(1)


def press_confirm(client: Buyer, link: str):
    return client.post(link, {"csrfmiddlewaretoken": client.csrf_token})


def test_joining_answers_nothing_that_opens_the_entry(event, sold_out):
    response = join(event, "bob@example.com")
    assert response.status_code == 202, response.content
    assert set(response.json()) == {"status", "message"}
    assert response.json()["status"] == "pending_confirmation"
    assert WaitlistEntry.objects.get().status == "pending"


def test_the_place_in_line_comes_only_through_the_emailed_link(event, sold_out, django_capture_on_commit_callbacks):
    join(event, "bob@example.com", capture=django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    bob = Buyer()
    page = bob.get(confirm_link(message))
    assert b"Confirm my place in line" in page.content
    confirmed = press_confirm(bob, confirm_link(message))
    assert confirmed.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.status == "waiting"
    assert b"You are number <strong>1</strong>" in bob.get(confirmed["Location"]).content


def test_unconfirmed_joins_get_no_seats(event, sold_out):
    # given a bot that joined with three addresses it cannot read
    for n in range(3):
        assert join(event, f"bot{n}@example.com", party_size=1).status_code == 202
    # when seats free up, nobody pending is offered them: they go back on sale
    services.booking_cancel(booking_id=sold_out.pk, owner=sold_out.buyer)
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {"pending"}
    seats = sold_out.booking_seats.values_list("event_seat_id", flat=True)
    assert set(EventSeat.objects.filter(pk__in=seats).values_list("status", flat=True)) == {"available"}


def test_a_join_with_someone_elses_address_does_not_block_them(event, sold_out, settings,
                                                               django_capture_on_commit_callbacks):
    settings.WAITLIST_CONFIRM_RESEND_SECONDS = 0
    # given Mallory joined first with Bob's address (and can never confirm it)
    join(event, "bob@example.com", party_size=1, capture=django_capture_on_commit_callbacks)
    # when Bob joins himself and confirms his own link
    join(event, "bob@example.com", party_size=2, capture=django_capture_on_commit_callbacks)
    response = press_confirm(Buyer(), confirm_link(mail.outbox[-1]))
    # then Bob waits in line with what he asked for
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(status="waiting")
    assert (entry.email, entry.party_size) == ("bob@example.com", 2)


def test_repeated_joins_send_one_email_per_address_and_the_link_confirms_the_latest(
    event, sold_out, django_capture_on_commit_callbacks,
):
    for party_size in (1, 3):
        join(event, "bob@example.com", party_size=party_size, capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    press_confirm(Buyer(), confirm_link(mail.outbox[0]))
    assert list(WaitlistEntry.objects.values_list("status", "party_size")) == [("waiting", 3)]


def test_the_confirmation_link_expires(event, sold_out, django_capture_on_commit_callbacks, settings):
    join(event, "bob@example.com", capture=django_capture_on_commit_callbacks)
    link = confirm_link(mail.outbox[0])
    with time_machine.travel(timedelta(seconds=settings.WAITLIST_CONFIRM_MAX_AGE_SECONDS + 60)):
        response = press_confirm(Buyer(), link)
    assert response.status_code == 404
    assert WaitlistEntry.objects.get().status == "pending"


def test_the_api_confirms_with_the_emailed_key(event, sold_out, django_capture_on_commit_callbacks):
    join(event, "bob@example.com", capture=django_capture_on_commit_callbacks)
    key = confirm_link(mail.outbox[0]).split("/")[2]
    bob = Buyer()
    response = bob.post_json(f"/api/waitlist/{key}/confirm")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["position"]) == ("waiting", 1)
    assert bob.get(f"/api/waitlist/{response.json()['key']}").json()["status"] == "waiting"
    forged = bob.post_json(f"/api/waitlist/{key[:-2]}xx/confirm")
    assert (forged.status_code, forged.json()["error"]) == (404, "waitlist_entry_not_found")
