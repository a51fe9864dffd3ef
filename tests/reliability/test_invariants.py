"""Invariants under random operations: a hypothesis state machine over the booking services.

Several buyers, the organizer's box office and a door device work one small event in random order:
hold, release, let holds expire, confirm with every payment outcome, reconcile, cancel whole and
partial bookings, transfer tickets, join the waitlist and claim its offers, block and unblock seats,
sell at the box office, scan. After every step:

- a seat has at most one owner (one active booking seat, a held seat has one holder);
- sold seats = active seats of paid bookings = seats of valid tickets;
- per booking, the money taken = the money refunded + the money kept (seats still sold + fees),
  and every refund recorded is paid out; nothing is sold without a succeeded charge (box office aside);
- no admitted ticket is cancelled or transferred away;
- a client that loaded the map once and then only followed `changes?since=` sees every seat as it is.

`make test` runs a bounded number of examples (INVARIANT_EXAMPLES, default 10, of INVARIANT_STEPS, default 25);
`make soak-invariants` runs many more (500 of 40).
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from checkin.models import Admission, DoorAssignment, DoorSchedule
from checkin.selectors import checkin_caches_clear
from checkin.services import ScanRequest, checkin_scan
from evently.errors import DomainError
from evently.models import PaymentAttempt
from evently.payments import PaymentError
from tests.conftest import make_event
from ticketing.broadcast import seat_changes_cursor
from ticketing.models import Booking, BookingSeat, BookingStatus, EventSeat, Ticket, TicketStatus, WaitlistEntry
from ticketing.seat_state import seat_public_state
from ticketing.selectors import seat_changes_since
from ticketing.services import (
    Customer,
    booking_cancel,
    booking_confirm,
    booking_reconcile,
    booking_seats_cancel,
    boxoffice_sell,
    seat_hold,
    seat_release,
    seats_block,
    seats_unblock,
)
from ticketing.services.transfers import ticket_transfer
from ticketing.services.waitlist import waitlist_claim, waitlist_confirm, waitlist_join

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("INVARIANT_EXAMPLES", "10"))
STEPS = int(os.environ.get("INVARIANT_STEPS", "25"))
BUYERS = ["buyer-a", "buyer-b", "buyer-c"]
TOKENS = ["tok_ok", "tok_declined", "tok_timeout", "tok_error_after_charge"]
REFUSALS = (DomainError, PaymentError)  # a refused operation is fine; what it leaves behind is checked


class BookingServices(RuleBasedStateMachine):
    """One example = a fresh event of 6 seats (two sections of 3) and a fresh cast."""

    @initialize()
    def open_the_sale(self):
        tag = uuid.uuid4().hex[:8]
        self.organizer = User.objects.create_user(f"org-{tag}", password="x", is_staff=True)
        self.event = make_event(self.organizer, rows=1, seats_per_block=3, blocks=2, title=f"Invariants {tag}")
        self.seat_ids = list(EventSeat.objects.filter(event=self.event).order_by("id").values_list("id", flat=True))
        self.door = User.objects.create_user(f"door-{tag}", password="x")
        self.door.groups.add(Group.objects.get_or_create(name="Door staff")[0])
        DoorAssignment.objects.create(user=self.door, event=self.event)
        DoorSchedule.objects.create(event=self.event, doors_open_at=timezone.now() - timedelta(hours=1))
        checkin_caches_clear()
        self.tag = tag
        self.operations = 0
        # A client's map: loaded once, then kept current only through changes?since=.
        self.cursor = seat_changes_cursor()
        self.client_map = {seat["seat_id"]: seat["status"] for seat in self._public_states()}

    # --- buyers ------------------------------------------------------------------------------------

    @rule(buyer=st.sampled_from(BUYERS), seats=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True))
    def hold(self, buyer, seats):
        self._try(seat_hold, event_id=self.event.pk, seat_ids=[self.seat_ids[i] for i in seats], owner=buyer)

    @rule(buyer=st.sampled_from(BUYERS), seats=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True))
    def release(self, buyer, seats):
        self._try(seat_release, event_id=self.event.pk, seat_ids=[self.seat_ids[i] for i in seats], owner=buyer)

    @rule(buyer=st.sampled_from(BUYERS))
    def let_the_hold_expire(self, buyer):
        """The clock passes the buyer's hold expiry (Postgres decides expiry with its own now())."""
        EventSeat.objects.filter(event=self.event, hold_owner=buyer, status="held", booking=None).update(
            held_until=timezone.now() - timedelta(seconds=1))

    @rule(buyer=st.sampled_from(BUYERS), token=st.sampled_from(TOKENS), email=st.sampled_from(["x@example.com",
                                                                                                "y@example.com"]))
    def confirm(self, buyer, token, email):
        self._try(booking_confirm, event_id=self.event.pk, owner=buyer, payment_token=token,
                  customer=Customer("Buyer", email, ""), idempotency_key=uuid.uuid4().hex)

    @rule()
    def reconcile_after_the_order_time(self):
        with time_machine.travel(timezone.now() + timedelta(seconds=60 * 16)):
            for booking_id in Booking.objects.filter(event=self.event, status=BookingStatus.PENDING).values_list(
                    "pk", flat=True):
                self._try(booking_reconcile, booking_id)

    @rule(data=st.data(), partial=st.booleans())
    def cancel(self, data, partial):
        bookings = list(Booking.objects.filter(event=self.event, status=BookingStatus.PAID).order_by("pk"))
        if not bookings:
            return
        booking = data.draw(st.sampled_from(bookings))
        if partial:
            seats = list(booking.booking_seats.filter(is_active=True).values_list("event_seat_id", flat=True))
            if seats:
                self._try(booking_seats_cancel, booking_id=booking.pk, owner=booking.buyer,
                          seat_ids=[data.draw(st.sampled_from(seats))])
        else:
            self._try(booking_cancel, booking_id=booking.pk, owner=booking.buyer)

    @rule(data=st.data())
    def transfer(self, data):
        tickets = list(Ticket.objects.filter(booking__event=self.event, status=TicketStatus.VALID).order_by("pk"))
        if tickets:
            ticket = data.draw(st.sampled_from(tickets))
            self._try(ticket_transfer, ticket_id=ticket.pk, to_name="Friend", to_email="friend@example.com",
                      owner=ticket.booking.buyer)

    @rule(party=st.integers(1, 2))
    def join_the_waitlist(self, party):
        try:
            entry = waitlist_join(event_id=self.event.pk, email=f"w{party}-{uuid.uuid4().hex[:6]}@example.com",
                                  party_size=party)
            waitlist_confirm(entry_id=entry.pk)
        except REFUSALS:
            pass
        self.operations += 1

    @rule(buyer=st.sampled_from(BUYERS), data=st.data())
    def claim_a_waitlist_offer(self, buyer, data):
        offered = list(WaitlistEntry.objects.filter(event=self.event, status="offered").order_by("pk"))
        if offered:
            self._try(waitlist_claim, entry_id=data.draw(st.sampled_from(offered)).pk, owner=buyer)

    # --- the organizer and the door ----------------------------------------------------------------

    @rule(seats=st.lists(st.integers(0, 5), min_size=1, max_size=2, unique=True), block=st.booleans())
    def block_or_unblock(self, seats, block):
        self._try(seats_block if block else seats_unblock, event_id=self.event.pk,
                  seat_ids=[self.seat_ids[i] for i in seats])

    @rule(seats=st.lists(st.integers(0, 5), min_size=1, max_size=2, unique=True),
          method=st.sampled_from(["cash", "comp"]))
    def sell_at_the_box_office(self, seats, method):
        self._try(boxoffice_sell, event_id=self.event.pk, seat_ids=[self.seat_ids[i] for i in seats],
                  customer=Customer("Walk-in", "walkin@example.com", ""), method=method, sold_by=self.organizer)

    @rule(data=st.data())
    def scan(self, data):
        tickets = list(Ticket.objects.filter(booking__event=self.event).order_by("pk"))
        if tickets:
            ticket = data.draw(st.sampled_from(tickets))
            self._try(checkin_scan, user=self.door, request=ScanRequest(
                token=ticket.token, nonce=uuid.uuid4().hex, gate="Main", device="door-1"))

    def _try(self, service, *args, **kwargs):
        self.operations += 1
        try:
            service(*args, **kwargs)
        except REFUSALS:
            pass

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def a_seat_has_at_most_one_owner(self):
        if not hasattr(self, "event"):
            return
        seats = EventSeat.objects.filter(event=self.event)
        active = BookingSeat.objects.filter(event_seat__event=self.event, is_active=True,
                                            booking__status__in=[BookingStatus.PENDING, BookingStatus.PAID])
        per_seat = {}
        for seat_id in active.values_list("event_seat_id", flat=True):
            per_seat[seat_id] = per_seat.get(seat_id, 0) + 1
        assert all(count == 1 for count in per_seat.values()), per_seat
        for seat in seats:
            if seat.status == "held":
                assert seat.hold_owner or seat.booking_id, seat.pk
            if seat.status in ("available", "blocked"):
                assert seat.booking_id is None and seat.pk not in per_seat, seat.pk

    @invariant()
    def sold_seats_are_paid_booking_seats_and_valid_tickets(self):
        if not hasattr(self, "event"):
            return
        sold = set(EventSeat.objects.filter(event=self.event, status="sold").values_list("pk", flat=True))
        paid = set(BookingSeat.objects.filter(event_seat__event=self.event, is_active=True,
                                              booking__status=BookingStatus.PAID)
                   .values_list("event_seat_id", flat=True))
        valid = list(Ticket.objects.filter(booking__event=self.event, status=TicketStatus.VALID)
                     .values_list("booking_seat__event_seat_id", flat=True))
        assert sold == paid == set(valid) and len(valid) == len(set(valid)), (sold, paid, valid)

    @invariant()
    def money_taken_is_money_refunded_plus_money_kept(self):
        if not hasattr(self, "event"):
            return
        for booking in Booking.objects.filter(event=self.event).prefetch_related("cancellations", "booking_seats"):
            active = [bs for bs in booking.booking_seats.all() if bs.is_active]
            fees = sum((c.fee for c in booking.cancellations.all()), Decimal("0"))
            refunds = sum((c.refund for c in booking.cancellations.all()), Decimal("0"))
            kept = sum((bs.price for bs in active), Decimal("0")) if booking.status == BookingStatus.PAID else 0
            if booking.is_box_office:
                continue  # paid at the counter: no provider charge to compare with
            attempt = PaymentAttempt.objects.filter(idempotency_key=booking.idempotency_key,
                                                    status="succeeded").first()
            if attempt is None:
                assert booking.status != BookingStatus.PAID, booking.reference
                continue
            if booking.status == BookingStatus.PENDING:
                continue  # charged, not yet settled: reconciliation's job (checked once it ran)
            assert attempt.refunded_amount == refunds, booking.reference
            assert attempt.amount - attempt.refunded_amount == kept + fees, booking.reference

    @invariant()
    def no_admitted_ticket_is_cancelled_or_transferred_away(self):
        if not hasattr(self, "event"):
            return
        statuses = set(Admission.objects.filter(event=self.event).values_list("ticket__status", flat=True))
        assert statuses <= {TicketStatus.VALID}, statuses

    @invariant()
    def changes_since_keep_a_client_map_exact(self):
        if not hasattr(self, "event"):
            return
        answer = seat_changes_since(event_id=self.event.pk, since=self.cursor)
        for change in answer["changes"]:
            self.client_map[change["seat_id"]] = change["status"]
        self.cursor = answer["version"]
        actual = {seat["seat_id"]: seat["status"] for seat in self._public_states()}
        # A hold that lapses changes no row (nothing to stamp): the map shows it free by its held_until.
        assert self._with_lapsed_holds_free(self.client_map) == actual

    def _public_states(self) -> list[dict]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, status, held_until, booking_id FROM ticketing_eventseat WHERE event_id = %s",
                           [self.event.pk])
            return [seat_public_state(row) for row in cursor.fetchall()]

    def _with_lapsed_holds_free(self, client_map: dict[int, str]) -> dict[int, str]:
        lapsed = set(EventSeat.objects.filter(event=self.event, status="held", booking=None,
                                              held_until__lte=timezone.now()).values_list("pk", flat=True))
        return {seat_id: "available" if seat_id in lapsed else status for seat_id, status in client_map.items()}

    def teardown(self):
        _operations.append(getattr(self, "operations", 0))


_operations: list[int] = []


def test_booking_services_keep_their_invariants_under_random_operations():
    run_state_machine_as_test(BookingServices, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=EXAMPLES <= 10,
        suppress_health_check=list(HealthCheck), print_blob=True))
    print(f"\n[invariants] examples: {len(_operations)}, operations tried: {sum(_operations)}")
