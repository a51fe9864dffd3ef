"""Blocking seats, box-office sales and venue regeneration: the rules organizers rely on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.conftest import make_event, seat_statuses
from ticketing.exceptions import BoxOfficeNotAllowed, SeatsNotBlockable, SeatsUnavailable, UnknownSeats
from ticketing.models import Booking, BookingStatus, BoxOfficeSale, EventSeat, Ticket
from ticketing.services import Customer, boxoffice_sell, seat_hold, seats_block, seats_unblock
from venues.exceptions import InvalidLayout, VenueHasSales
from venues.generators import TEMPLATES, conference, stadium, theater
from venues.models import Seat, Section
from venues.services import venue_regenerate

ADA = Customer(name="Ada Lovelace", email="ada@example.com")


# --- template generators ------------------------------------------------------------------------

@pytest.mark.parametrize(("template", "params", "expected"), [
    ("conference", {"rows": 4, "seats_per_block": 5, "blocks": 2}, 40),
    ("stadium", {"sections_per_side": 2, "end_sections": 1, "rows_per_section": 3, "seats_per_row": 4}, 72),
    ("theater", {"orchestra_rows": 2, "mezzanine_rows": 1, "balcony_rows": 1, "seats_per_row": 10,
                 "row_growth": 2}, 10 + 12 + 14 + 18),  # rows grow by 2, each level starts 4 wider
])
def test_generators_make_the_expected_seat_count(template, params, expected):
    assert TEMPLATES[template](**params).capacity == expected


@pytest.mark.parametrize("layout", [theater(), stadium(sections_per_side=3, end_sections=2, rows_per_section=10),
                                    conference()])
def test_generated_seats_are_unique_and_inside_the_canvas(layout):
    labels = [(section.name, seat.row_label, seat.number) for section in layout.sections for seat in section.seats]
    points = [(seat.x, seat.y) for section in layout.sections for seat in section.seats]
    assert len(set(labels)) == len(labels)
    assert len(set(points)) == len(points)
    assert all(0 <= x <= layout.map_meta["width"] and 0 <= y <= layout.map_meta["height"] for x, y in points)


def test_the_demo_stadium_has_about_fifty_thousand_seats():
    layout = stadium(sections_per_side=12, end_sections=8, rows_per_section=50, seats_per_row=25)
    assert layout.capacity == 50_000


# --- blocking -----------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # stamps are transaction ids: the block must commit on its own
def test_blocking_available_seats_takes_them_off_sale_and_stamps_the_change(event, seat_ids):
    assert seats_block(event_id=event.pk, seat_ids=seat_ids[:3]) == seat_ids[:3]
    statuses = seat_statuses(event)
    assert [statuses[seat_id] for seat_id in seat_ids[:4]] == ["blocked", "blocked", "blocked", "available"]
    versions = dict(EventSeat.objects.filter(pk__in=seat_ids[:4]).values_list("id", "version"))
    assert versions[seat_ids[0]] > versions[seat_ids[3]]  # stamped after the inventory was


def test_blocking_a_held_seat_is_refused_naming_it_and_nothing_changes(event, seat_ids):
    seat_hold(event_id=event.pk, seat_ids=[seat_ids[1]], owner="someone")
    with pytest.raises(SeatsNotBlockable) as refused:
        seats_block(event_id=event.pk, seat_ids=seat_ids[:3])
    assert refused.value.extra["seat_ids"] == [seat_ids[1]]
    assert refused.value.extra["seats"] == ["Left row A seat 2"]
    assert "Left row A seat 2 (held)" in refused.value.message
    statuses = seat_statuses(event)
    assert [statuses[seat_id] for seat_id in seat_ids[:3]] == ["available", "held", "available"]


def test_blocking_a_sold_seat_is_refused(event, seat_ids, organizer):
    boxoffice_sell(event_id=event.pk, seat_ids=[seat_ids[0]], customer=ADA, method="cash", sold_by=organizer)
    with pytest.raises(SeatsNotBlockable) as refused:
        seats_block(event_id=event.pk, seat_ids=seat_ids[:2])
    assert refused.value.extra["seat_ids"] == [seat_ids[0]]
    assert seat_statuses(event)[seat_ids[1]] == "available"


def test_an_expired_hold_can_be_blocked(event, seat_ids):
    seat_hold(event_id=event.pk, seat_ids=[seat_ids[0]], owner="someone")
    # the database's clock decides expiry, so age the hold rather than the clock
    EventSeat.objects.filter(pk=seat_ids[0]).update(held_until=timezone.now() - timedelta(seconds=1))
    assert seats_block(event_id=event.pk, seat_ids=[seat_ids[0]]) == [seat_ids[0]]
    assert seat_statuses(event)[seat_ids[0]] == "blocked"


def test_blocking_another_events_seat_is_unknown(event, other_event, seat_ids):
    with pytest.raises(UnknownSeats):
        seats_block(event_id=other_event.pk, seat_ids=seat_ids[:1])
    assert set(seat_statuses(other_event).values()) == {"available"}


def test_a_blocked_seat_cannot_be_held(event, seat_ids):
    seats_block(event_id=event.pk, seat_ids=[seat_ids[0]])
    with pytest.raises(SeatsUnavailable):
        seat_hold(event_id=event.pk, seat_ids=[seat_ids[0]], owner="buyer")


def test_unblocking_puts_only_blocked_seats_back_on_sale(event, seat_ids):
    seats_block(event_id=event.pk, seat_ids=seat_ids[:2])
    seat_hold(event_id=event.pk, seat_ids=[seat_ids[2]], owner="someone")
    assert seats_unblock(event_id=event.pk, seat_ids=seat_ids[:3]) == seat_ids[:2]
    statuses = seat_statuses(event)
    assert [statuses[seat_id] for seat_id in seat_ids[:3]] == ["available", "available", "held"]


# --- box office ---------------------------------------------------------------------------------

def test_box_office_cash_sale_makes_a_paid_booking_with_tickets(event, seat_ids, organizer):
    booking = boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[:2], customer=ADA, method="cash",
                             sold_by=organizer)
    assert (booking.status, booking.total, booking.payment_reference) == (
        BookingStatus.PAID, Decimal("80.00"), f"cash:{booking.reference}")
    assert Ticket.objects.filter(booking=booking, status="valid").count() == 2
    assert all(len(token) == 114 for token in Ticket.objects.values_list("token", flat=True))
    assert BoxOfficeSale.objects.get(booking=booking).sold_by == organizer
    statuses = seat_statuses(event)
    assert [statuses[seat_id] for seat_id in seat_ids[:2]] == ["sold", "sold"]
    assert set(EventSeat.objects.filter(pk__in=seat_ids[:2]).values_list("booking_id", flat=True)) == {booking.pk}


def test_complimentary_tickets_cost_nothing(event, seat_ids, organizer):
    booking = boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[:2], customer=ADA, method="comp",
                             sold_by=organizer)
    assert (booking.total, booking.payment_reference) == (Decimal("0"), "comp")
    assert list(booking.booking_seats.values_list("price", flat=True)) == [Decimal("0.00")] * 2


def test_box_office_can_sell_a_blocked_house_seat(event, seat_ids, organizer):
    seats_block(event_id=event.pk, seat_ids=[seat_ids[0]])
    boxoffice_sell(event_id=event.pk, seat_ids=[seat_ids[0]], customer=ADA, method="comp", sold_by=organizer)
    assert seat_statuses(event)[seat_ids[0]] == "sold"


def test_box_office_never_sells_a_held_seat_and_writes_nothing(event, seat_ids, organizer):
    seat_hold(event_id=event.pk, seat_ids=[seat_ids[1]], owner="online-buyer")
    with pytest.raises(SeatsUnavailable) as refused:
        boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[:2], customer=ADA, method="cash", sold_by=organizer)
    assert refused.value.extra["seat_ids"] == [seat_ids[1]]
    assert Booking.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert seat_statuses(event)[seat_ids[0]] == "available"


def test_box_office_refuses_a_draft_event(organizer):
    draft = make_event(organizer, status="draft")
    seat_id = EventSeat.objects.filter(event=draft).values_list("id", flat=True).first()
    with pytest.raises(BoxOfficeNotAllowed):
        boxoffice_sell(event_id=draft.pk, seat_ids=[seat_id], customer=ADA, method="cash", sold_by=organizer)
    assert Booking.objects.count() == 0


# --- regeneration -------------------------------------------------------------------------------

def test_regenerating_a_venue_without_sales_replaces_its_seats_and_drops_free_inventory(event):
    venue = event.venue
    result = venue_regenerate(venue=venue, template="conference", params={"rows": 2, "seats_per_block": 3,
                                                                            "blocks": 1})
    venue.refresh_from_db()
    assert (venue.capacity, Seat.objects.filter(venue=venue).count()) == (6, 6)
    assert list(Section.objects.filter(venue=venue).values_list("name", flat=True)) == ["Center"]
    assert result.event_ids == [event.pk]
    assert EventSeat.objects.filter(event=event).count() == 0


def test_regeneration_is_refused_while_a_future_event_has_held_or_sold_seats(event, seat_ids, organizer):
    seat_hold(event_id=event.pk, seat_ids=[seat_ids[0]], owner="someone")
    boxoffice_sell(event_id=event.pk, seat_ids=seat_ids[1:3], customer=ADA, method="cash", sold_by=organizer)
    with pytest.raises(VenueHasSales) as refused:
        venue_regenerate(venue=event.venue, template="conference", params={"rows": 1})
    assert "Test Concert: 1 held; Test Concert: 2 sold" in refused.value.message
    assert Seat.objects.filter(venue=event.venue).count() == 40
    assert EventSeat.objects.filter(event=event).count() == 40


def test_regeneration_with_bad_parameters_changes_nothing(event):
    with pytest.raises(InvalidLayout):
        venue_regenerate(venue=event.venue, template="conference", params={"rows": 0})
    with pytest.raises(InvalidLayout):
        venue_regenerate(venue=event.venue, template="conference", params={"colour": "red"})
    assert Seat.objects.filter(venue=event.venue).count() == 40
    assert EventSeat.objects.filter(event=event).count() == 40


def _race(*calls):
    """Run the calls at the same instant on their own threads and connections; return 'ok' or the error code."""
    import threading

    from django.db import connection

    from evently.errors import DomainError

    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except DomainError as error:
            outcomes[index] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_box_office_and_an_online_hold_racing_for_one_seat_exactly_one_wins():
    from django.contrib.auth.models import User

    seller = User.objects.create_user("seller", is_staff=True)
    event = make_event(seller)
    seat_id = EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True).first()
    outcomes = _race(
        lambda: boxoffice_sell(event_id=event.pk, seat_ids=[seat_id], customer=ADA, method="cash", sold_by=seller),
        lambda: seat_hold(event_id=event.pk, seat_ids=[seat_id], owner="online"),
    )
    assert sorted(outcomes) == ["ok", "seats_unavailable"]
    status = seat_statuses(event)[seat_id]
    assert status == ("sold" if outcomes[0] == "ok" else "held")
    assert Booking.objects.count() == (1 if outcomes[0] == "ok" else 0)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_blocking_and_an_online_hold_racing_for_one_seat_exactly_one_wins():
    from django.contrib.auth.models import User

    event = make_event(User.objects.create_user("owner", is_staff=True))
    seat_id = EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True).first()
    outcomes = _race(lambda: seats_block(event_id=event.pk, seat_ids=[seat_id]),
                     lambda: seat_hold(event_id=event.pk, seat_ids=[seat_id], owner="online"))
    assert sorted(outcomes) == ["ok", "seats_not_blockable"] or sorted(outcomes) == ["ok", "seats_unavailable"]
    assert seat_statuses(event)[seat_id] == ("blocked" if outcomes[0] == "ok" else "held")
