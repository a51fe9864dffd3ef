"""Waitlist: FIFO among those who fit, freed seats held 30 minutes for the next entry, never double-offered."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from tests.conftest import Buyer, seat_statuses
from tests.tickets.conftest import waitlist_joined
from ticketing import services
from ticketing.models import Booking, EventSeat, OutgoingEmail, WaitlistEntry
from ticketing.services.waitlist import waitlist_confirm_key, waitlist_entry_from_key, waitlist_entry_key


def sell_out(event) -> None:
    """Every seat still on sale becomes unavailable (as if sold elsewhere)."""
    EventSeat.objects.filter(event=event, status="available").update(status="blocked")


def join(client, event, email, party_size=2, **extra):
    """Join through the API, then confirm through the link e-mailed to `email` (double opt-in);
    answers the confirmation (the entry), or the join's error."""
    joined = client.post_json(f"/api/events/{event.pk}/waitlist", {"email": email, "party_size": party_size, **extra})
    if joined.status_code != 202:
        return joined
    outgoing = OutgoingEmail.objects.filter(kind="waitlist-confirm", to=email.lower()).latest("pk")
    key = waitlist_confirm_key(WaitlistEntry.objects.get(pk=outgoing.object_id))
    return client.post_json(f"/api/waitlist/{key}/confirm")


def cancel(booking: Booking, capture=None):
    if capture is None:
        return services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)
    with capture(execute=True):
        return services.booking_cancel(booking_id=booking.pk, owner=booking.buyer)


def expire_offer(entry: WaitlistEntry) -> None:
    """Thirty minutes pass for this offer (moved into the past rather than travelling: Postgres keeps its clock)."""
    past = timezone.now() - timedelta(seconds=1)
    EventSeat.objects.filter(hold_owner=f"waitlist:{entry.pk}").update(held_until=past)
    WaitlistEntry.objects.filter(pk=entry.pk).update(offer_expires_at=past)


@pytest.fixture
def sold_out_booking(paid_booking, event):
    """Ada's two seats are the only ones sold; the rest of the house is unavailable."""
    sell_out(event)
    mail.outbox.clear()
    return paid_booking


def test_joining_is_refused_while_enough_seats_are_on_sale(buyer, event):
    response = join(buyer, event, "bob@example.com")
    assert (response.status_code, response.json()["error"], response.json()["available"]) == (
        409, "seats_available", 40)
    assert WaitlistEntry.objects.count() == 0


def test_joining_a_sold_out_event_shows_the_place_in_line(buyer, other_buyer, event, sold_out_booking):
    first = join(buyer, event, "bob@example.com", party_size=2)
    second = join(other_buyer, event, "cy@example.com", party_size=1)
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["position"]) == ("waiting", 1)
    assert second.json()["position"] == 2
    assert buyer.get(f"/api/waitlist/{first.json()['key']}").json()["position"] == 1


def test_one_entry_per_email_per_event(buyer, other_buyer, event, sold_out_booking, settings):
    settings.WAITLIST_CONFIRM_RESEND_SECONDS = 0
    first = join(buyer, event, "bob@example.com")
    again = join(other_buyer, event, "BOB@example.com", party_size=1)
    # confirming a second request of the same address answers the entry already in line
    assert (again.status_code, again.json()["entry_id"]) == (200, first.json()["entry_id"])
    assert WaitlistEntry.objects.filter(status="waiting").count() == 1


def test_party_size_above_the_order_limit_is_refused(buyer, event, sold_out_booking):
    response = join(buyer, event, "bob@example.com", party_size=event.max_seats_per_order + 1)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_party_size")
    assert WaitlistEntry.objects.count() == 0


def test_a_cancellation_offers_the_seats_to_the_first_entry_and_emails_them(
    buyer, event, sold_out_booking, django_capture_on_commit_callbacks,
):
    entry_id = join(buyer, event, "bob@example.com").json()["entry_id"]
    seat_ids = sorted(sold_out_booking.booking_seats.values_list("event_seat_id", flat=True))
    # when Ada cancels
    cancel(sold_out_booking, django_capture_on_commit_callbacks)
    # then her seats are held for Bob for 30 minutes, not put back on sale
    entry = WaitlistEntry.objects.get(pk=entry_id)
    assert (entry.status, entry.offered_seat_ids) == ("offered", seat_ids)
    seats = EventSeat.objects.filter(pk__in=seat_ids)
    assert {(s.status, s.hold_owner) for s in seats} == {("held", f"waitlist:{entry_id}")}
    assert abs((entry.offer_expires_at - timezone.now()) - timedelta(minutes=30)) < timedelta(seconds=5)
    layout = buyer.get(f"/api/events/{event.pk}/layout").json()
    public = {seat["id"]: seat["status"] for s in layout["sections"] for r in s["rows"] for seat in r["seats"]}
    assert {public[seat_id] for seat_id in seat_ids} == {"held"}
    # and Bob has an e-mail with the claim link (Ada gets her cancellation note)
    to_bob = [m for m in mail.outbox if m.to == ["bob@example.com"]]
    assert len(to_bob) == 1
    claim_key = re.search(r"/waitlist/([^/\s]+)/claim/", to_bob[0].body).group(1)
    assert waitlist_entry_from_key(claim_key).pk == entry.pk
    # the offer's deadline is told on the venue's clock, with its zone (issue 18)
    expires = entry.offer_expires_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert f"held for you until {expires:%H:%M} {expires.tzname()} (" in to_bob[0].body


def test_the_first_entry_whose_party_fits_is_served(buyer, other_buyer, event, sold_out_booking):
    big = join(buyer, event, "big@example.com", party_size=3).json()["entry_id"]
    small = join(other_buyer, event, "small@example.com", party_size=2).json()["entry_id"]
    cancel(sold_out_booking)
    assert WaitlistEntry.objects.get(pk=big).status == "waiting"
    assert WaitlistEntry.objects.get(pk=small).status == "offered"
    assert buyer.get(f"/api/waitlist/{waitlist_entry_key(WaitlistEntry.objects.get(pk=big))}").json()["position"] == 1


def test_seats_nobody_fits_go_back_on_sale(buyer, event, sold_out_booking):
    join(buyer, event, "big@example.com", party_size=3)
    cancel(sold_out_booking)
    seat_ids = sold_out_booking.booking_seats.values_list("event_seat_id", flat=True)
    assert {seat_statuses(event)[seat_id] for seat_id in seat_ids} == {"available"}


def test_an_unclaimed_offer_passes_to_the_next_entry_after_30_minutes(buyer, other_buyer, event, sold_out_booking):
    first = join(buyer, event, "bob@example.com").json()["entry_id"]
    second = join(other_buyer, event, "cy@example.com").json()["entry_id"]
    cancel(sold_out_booking)
    offered = WaitlistEntry.objects.get(pk=first).offered_seat_ids
    # when Bob's 30 minutes pass and the sweeper runs
    expire_offer(WaitlistEntry.objects.get(pk=first))
    services.holds_expire()
    # then Bob's offer has expired and Cy holds the same seats
    assert WaitlistEntry.objects.get(pk=first).status == "expired"
    cy = WaitlistEntry.objects.get(pk=second)
    assert (cy.status, cy.offered_seat_ids) == ("offered", offered)
    assert set(EventSeat.objects.filter(pk__in=offered).values_list("hold_owner", flat=True)) == {f"waitlist:{second}"}
    # and Bob can no longer claim
    response = buyer.post_json(f"/api/waitlist/{waitlist_entry_key(WaitlistEntry.objects.get(pk=first))}/claim")
    assert (response.status_code, response.json()["error"]) == (409, "not_offered")


def test_claiming_binds_the_seats_to_the_buyer_who_then_checks_out(
    event, sold_out_booking, django_capture_on_commit_callbacks,
):
    bob = Buyer()
    entry_id = join(bob, event, "bob@example.com").json()["entry_id"]
    cancel(sold_out_booking)
    entry = WaitlistEntry.objects.get(pk=entry_id)
    # when Bob opens the link (on any device) and claims
    claimed = bob.post_json(f"/api/waitlist/{waitlist_entry_key(entry)}/claim")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["status"] == "claimed"
    # then checkout is the ordinary confirm, and he gets exactly the offered seats
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = bob.confirm(event)
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["seat_ids"] == entry.offered_seat_ids
    assert {seat_statuses(event)[seat_id] for seat_id in entry.offered_seat_ids} == {"sold"}


def test_someone_else_cannot_claim_a_claimed_offer(buyer, other_buyer, event, sold_out_booking):
    entry_id = join(buyer, event, "bob@example.com").json()["entry_id"]
    cancel(sold_out_booking)
    key = waitlist_entry_key(WaitlistEntry.objects.get(pk=entry_id))
    assert buyer.post_json(f"/api/waitlist/{key}/claim").status_code == 200
    response = other_buyer.post_json(f"/api/waitlist/{key}/claim")
    assert (response.status_code, response.json()["error"]) == (409, "offer_claimed")


def test_an_expired_offer_cannot_be_claimed(buyer, event, sold_out_booking):
    entry_id = join(buyer, event, "bob@example.com").json()["entry_id"]
    cancel(sold_out_booking)
    entry = WaitlistEntry.objects.get(pk=entry_id)
    expire_offer(entry)
    response = buyer.post_json(f"/api/waitlist/{waitlist_entry_key(entry)}/claim")
    assert (response.status_code, response.json()["error"]) == (409, "offer_expired")
    assert WaitlistEntry.objects.get(pk=entry_id).status == "offered"


def test_leaving_while_offered_passes_the_seats_on(buyer, other_buyer, event, sold_out_booking):
    first = join(buyer, event, "bob@example.com").json()
    second = join(other_buyer, event, "cy@example.com").json()["entry_id"]
    cancel(sold_out_booking)
    left = buyer.post_json(f"/api/waitlist/{first['key']}/leave")
    assert (left.status_code, left.json()["status"]) == (200, "left")
    assert WaitlistEntry.objects.get(pk=second).status == "offered"


def test_waitlist_pages_show_position_and_let_people_leave(client, event, sold_out_booking):
    response = client.post(f"/events/{event.pk}/waitlist/", {"email": "bob@example.com", "party_size": "2"},
                           follow=True)
    assert "open the link we sent to bob@example.com" in response.content.decode()
    # the e-mailed link shows a button (a mail scanner following it confirms nothing) ...
    confirm_url = f"/waitlist/{waitlist_confirm_key(WaitlistEntry.objects.get())}/confirm/"
    assert "Confirm my place in line" in client.get(confirm_url).content.decode()
    assert WaitlistEntry.objects.get().status == "pending"
    # ... which puts Bob in line and opens his entry's page
    response = client.post(confirm_url)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "You are number <strong>1</strong> in line." in page
    client.post(response["Location"])
    assert WaitlistEntry.objects.get().status == "left"


def test_claim_page_shows_the_offer_and_claims_only_on_post(client, event, sold_out_booking):
    entry = waitlist_joined(event_id=event.pk, email="bob@example.com", party_size=2)
    cancel(sold_out_booking)
    url = f"/waitlist/{waitlist_entry_key(entry)}/claim/"
    assert "Continue to checkout" in client.get(url).content.decode()
    assert WaitlistEntry.objects.get().status == "offered"  # a mail scanner following the link claims nothing
    claimed = client.post(url)
    # the claim leads to the normal checkout, and the offer page points there too
    assert claimed["Location"] == f"/events/{event.pk}/checkout/"
    assert f'id="checkout" href="/events/{event.pk}/checkout/"' in client.get(url).content.decode()
    assert WaitlistEntry.objects.get().status == "claimed"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_frees_never_offer_one_seat_to_two_entries(organizer):
    from tests.conftest import make_event

    for _round in range(3):
        event = make_event(organizer, title=f"Race {_round}")
        seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
        bookings = []
        for index in range(4):  # four bookings of two seats each
            owner = f"buyer-{_round}-{index}"
            services.seat_hold(event_id=event.pk, seat_ids=seat_ids[2 * index: 2 * index + 2], owner=owner)
            bookings.append(services.booking_confirm(event_id=event.pk, owner=owner, payment_token="tok_ok",
                                                     customer=services.Customer("A", f"a{index}@example.com")))
        sell_out(event)
        for index in range(6):
            waitlist_joined(event_id=event.pk, email=f"w{index}@example.com", party_size=1 + index % 2)
        barrier = threading.Barrier(len(bookings))
        errors = []

        def free(booking, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                cancel(booking)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=free, args=(booking,)) for booking in bookings]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        offers = list(WaitlistEntry.objects.filter(event=event, status="offered"))
        offered_seats = [seat_id for entry in offers for seat_id in entry.offered_seat_ids]
        assert len(offered_seats) == len(set(offered_seats))  # no seat offered twice
        for entry in offers:
            assert len(entry.offered_seat_ids) == entry.party_size
            owners = set(EventSeat.objects.filter(pk__in=entry.offered_seat_ids).values_list("hold_owner", flat=True))
            assert owners == {f"waitlist:{entry.pk}"}
        # 8 seats freed, parties 1,2,1,2,1,2 in line (9 seats): the first five entries fit (7 seats), one seat left
        assert sorted(e.email for e in offers) == [f"w{i}@example.com" for i in range(5)]
        assert EventSeat.objects.filter(event=event, status="available").count() == 1


def test_an_expired_public_hold_is_offered_to_the_waitlist_by_the_sweeper(buyer, other_buyer, event, seat_ids):
    # given the last two seats are held by a buyer, and Bob waits for two
    EventSeat.objects.filter(event=event).exclude(pk__in=seat_ids[:2]).update(status="blocked")
    assert other_buyer.hold(event, seat_ids[:2]).status_code == 200
    EventSeat.objects.filter(pk__in=seat_ids[:2]).update(held_until=timezone.now() + timedelta(seconds=2))
    entry = waitlist_joined(event_id=event.pk, email="bob@example.com", party_size=2)
    # when the hold runs out and the sweeper runs
    EventSeat.objects.filter(pk__in=seat_ids[:2]).update(held_until=timezone.now() - timedelta(seconds=1))
    services.holds_expire()
    # then the seats are Bob's offer
    entry.refresh_from_db()
    assert (entry.status, entry.offered_seat_ids) == ("offered", seat_ids[:2])


def test_released_seats_are_offered_to_the_waitlist(other_buyer, event, seat_ids):
    EventSeat.objects.filter(event=event).exclude(pk__in=seat_ids[:1]).update(status="blocked")
    assert other_buyer.hold(event, seat_ids[:1]).status_code == 200
    entry = waitlist_joined(event_id=event.pk, email="bob@example.com", party_size=1)
    assert other_buyer.release(event, seat_ids[:1]).status_code == 200
    entry.refresh_from_db()
    assert (entry.status, entry.offered_seat_ids) == ("offered", seat_ids[:1])


def test_an_entry_for_one_category_is_not_offered_seats_of_another(buyer, event, sold_out_booking):
    from events.models import SeatCategory

    vip = SeatCategory.objects.create(event=event, name="VIP", price="90.00")
    vip_fan = waitlist_joined(event_id=event.pk, email="vip@example.com", party_size=2, category_id=vip.pk)
    anyone = waitlist_joined(event_id=event.pk, email="any@example.com", party_size=2)
    cancel(sold_out_booking)  # frees two Standard seats
    assert WaitlistEntry.objects.get(pk=vip_fan.pk).status == "waiting"
    assert WaitlistEntry.objects.get(pk=anyone.pk).status == "offered"
