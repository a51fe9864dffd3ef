"""The permission matrix: every admin model, custom admin view and API endpoint × every role.

Roles: anonymous, buyer (owns the booking), other buyer, organizer (owns the event), other
organizer, door staff of this event, door staff of another event, superuser. Each cell is
allowed (the endpoint does its job) or denied (401/403/404, or the admin's login redirect) —
and a denied write changes nothing. New admin models and API endpoints must be added here: the
last tests fail if one is missing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from checkin.models import Admission, DoorAssignment, DoorSchedule, Scan
from checkin.selectors import checkin_caches_clear
from events.models import EventStatus, SeatCategory
from tests.checkin.conftest import make_door_staff
from tests.conftest import Buyer, make_event
from tests.organizer.conftest import make_organizer
from tests.test_general_admission import add_area
from ticketing.models import (
    Booking,
    EventArea,
    EventSeat,
    OutgoingEmail,
    PaymentWebhookEvent,
    Ticket,
    TicketTransfer,
    Voucher,
    WaitlistEntry,
)
from venues.bookings import venue_booking_request
from venues.models import Venue, VenueBooking

ROLES = ["anonymous", "buyer", "other_buyer", "organizer", "other_organizer", "door_this", "door_other",
         "superuser"]
STAFF = {"organizer", "other_organizer", "superuser"}
DENIED = {401, 403, 404}


class World:
    """Everything the matrix needs, made once per test."""

    def __init__(self):
        self.organizer = _organizer("org")
        self.rival = _organizer("rival")
        self.superuser = User.objects.create_superuser("root", password="pw-root-123456")
        self.event = make_event(self.organizer, title="Org Gala")
        self.area = add_area(self.event)  # general admission (issue 15)
        self.rival_event = make_event(self.rival, title="Rival Night")
        DoorSchedule.objects.create(event=self.event, doors_open_at=timezone.now() - timedelta(hours=1))
        checkin_caches_clear()
        self.door_this = make_door_staff("door-this", event=self.event)
        self.door_other = make_door_staff("door-other", event=self.rival_event)
        self.seats = list(EventSeat.objects.filter(event=self.event).order_by("id").values_list("id", flat=True))
        self.clients = {role: Buyer() for role in ROLES}
        for role, user in [("organizer", self.organizer), ("other_organizer", self.rival),
                           ("superuser", self.superuser), ("door_this", self.door_this),
                           ("door_other", self.door_other)]:
            self.clients[role].force_login(user)
            self.clients[role].get("/api/session")
        self.booking = self.buy("buyer", self.seats[0:2])
        self.other_booking = self.buy("other_buyer", self.seats[2:3])
        # a third buyer's booking with a transfer, an admission and its log
        third = Buyer()
        assert third.hold(self.event, self.seats[3:5]).status_code == 200
        third_booking = third.confirm(self.event).json()
        self.third_tickets = third_booking["tickets"]
        third.post_json(f"/api/tickets/{self.third_tickets[0]['id']}/transfer",
                        {"name": "Grace Hopper", "email": "grace@example.com"})
        door = Buyer()
        door.force_login(self.door_this)
        door.get("/api/session")
        door.post_json("/api/checkin/scan", {"token": self.third_tickets[1]["token"], "nonce": uuid.uuid4().hex})
        self.venue_booking = venue_booking_request(
            venue=self.event.venue, title="Org rehearsal", start=self.event.starts_at + timedelta(days=30),
            end=self.event.starts_at + timedelta(days=30, hours=2), organizer=self.organizer,
            deposit_amount=Decimal("50"))
        self.waitlist_entry = WaitlistEntry.objects.create(event=self.event, email="wait@example.com", party_size=1)
        PaymentWebhookEvent.objects.create(event_id="evt_matrix", type="charge.succeeded", payload={})
        OutgoingEmail.objects.get_or_create(key="matrix", defaults={"kind": "magic-link", "object_id": 0,
                                                                     "to": "ada@example.com"})
        self.voucher = Voucher.objects.create(event=self.event, code="MATRIX", value=Decimal("10"))

    def buy(self, role, seat_ids) -> dict:
        client = self.clients[role]
        assert client.hold(self.event, seat_ids).status_code == 200
        response = client.confirm(self.event)
        assert response.status_code == 201, response.content
        return response.json()

    def owned_object(self, model):
        """The organizer's own row of each admin model."""
        return {
            "events.event": self.event,
            "events.seatcategory": self.event.categories.first(),
            "venues.venue": self.event.venue,
            "venues.venuebooking": self.venue_booking,
            "ticketing.booking": Booking.objects.get(pk=self.booking["booking_id"]),
            "ticketing.eventarea": EventArea.objects.get(event=self.event),
            "ticketing.tickettransfer": TicketTransfer.objects.first(),
            "ticketing.waitlistentry": self.waitlist_entry,
            "ticketing.outgoingemail": OutgoingEmail.objects.first(),
            "ticketing.paymentwebhookevent": PaymentWebhookEvent.objects.first(),
            "ticketing.voucher": self.voucher,
            "checkin.doorassignment": DoorAssignment.objects.get(user=self.door_this),
            "checkin.doorschedule": DoorSchedule.objects.get(event=self.event),
            "checkin.admission": Admission.objects.first(),
            "checkin.scan": Scan.objects.first(),
        }.get(model._meta.label_lower)


def _organizer(username: str) -> User:
    user = make_organizer(username)
    user.groups.get().permissions.add(*Permission.objects.filter(content_type__app_label="checkin"))
    return user


@pytest.fixture
def world(db):
    return World()


SUPERUSER_ONLY = {"ticketing.outgoingemail", "ticketing.paymentwebhookevent"}
OUR_APPS = {"venues", "events", "ticketing", "checkin"}


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- admin models ------------------------------------------------------------------------------------

def _admin_models():
    return sorted((model for model in admin.site._registry if model._meta.app_label in OUR_APPS),
                  key=lambda model: model._meta.label_lower)


def test_admin_model_list_and_change_views(world):
    models = _admin_models()
    missing = [model._meta.label_lower for model in models if world.owned_object(model) is None]
    assert missing == [], "the matrix has no row of these admin models: add them to World.owned_object"
    for model in models:
        _check_admin_model(world, model)


def _check_admin_model(world, model):
    label = model._meta.label_lower
    obj = world.owned_object(model)
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    changelist = reverse(f"{prefix}_changelist")
    change = reverse(f"{prefix}_change", args=[obj.pk])
    for role in ROLES:
        client = world.clients[role]
        listed, opened = client.get(changelist), client.get(change)
        cell = f"{label} × {role}"
        if role not in STAFF:
            assert _is_login_redirect(listed) and _is_login_redirect(opened), cell
        elif role == "superuser":
            assert (listed.status_code, opened.status_code) == (200, 200), cell
        elif label in SUPERUSER_ONLY:
            assert (listed.status_code, opened.status_code) == (403, 403), cell
        elif role == "organizer":
            assert (listed.status_code, opened.status_code) == (200, 200), cell
            assert change in listed.content.decode(), cell
        elif label == "venues.venue":  # shared: every organizer sees venues, changes only their own
            assert listed.status_code == opened.status_code == 200, cell
            assert b'name="_save"' not in opened.content, cell
        else:  # the other organizer: their list lacks the row; the row itself "does not exist"
            assert listed.status_code == 200 and change not in listed.content.decode(), cell
            assert opened.status_code in (302, 403, 404), cell
            if opened.status_code == 302:
                assert opened["Location"] == reverse("admin:index"), cell


# --- custom admin views -------------------------------------------------------------------------------------

def _custom_views(world):
    event, venue, booking = world.event.pk, world.event.venue_id, world.venue_booking.pk
    own = {"organizer", "superuser"}
    all_staff = {"organizer", "other_organizer", "superuser"}
    return [
        ("events_event_inventory", [event], own), ("events_event_seatmap", [event], own),
        ("events_event_report", [event], own), ("events_event_bookings_csv", [event], own),
        ("events_event_attendees_csv", [event], own),
        ("venues_venue_seats", [venue], all_staff), ("venues_venue_calendar", [venue], all_staff),
        ("venues_venue_regenerate", [venue], own),
        ("venues_venuebooking_deposit", [booking], own), ("venues_venuebooking_invoice", [booking], own),
        ("checkin_report_index", [], all_staff), ("checkin_report", [event], own),
    ]


def test_custom_admin_views_and_rivals_posting_outside_their_scope(world):
    for name, args, allowed in _custom_views(world):
        url = reverse(f"admin:{name}", args=args)
        for role in ROLES:
            response = world.clients[role].get(url)
            cell = f"{name} × {role}"
            if role not in STAFF:
                assert _is_login_redirect(response), cell
            elif role in allowed:
                assert response.status_code == 200, cell
            else:
                assert response.status_code in (403, 404), cell
    # a rival POSTing ids outside their scope changes nothing
    rival = world.clients["other_organizer"]
    event, category = world.event, world.event.categories.get(name="Standard")
    csrf = {"csrfmiddlewaretoken": rival.csrf_token}
    responses = [
        rival.post(reverse("admin:events_event_seatmap", args=[event.pk]),
                   {**csrf, "action": "block", "seat_ids": ",".join(map(str, world.seats[10:12]))}),
        rival.post(reverse("admin:events_event_changelist"),
                   {**csrf, "action": "cancel_events", "_selected_action": [event.pk], "confirm": "yes"}),
        rival.post(reverse("admin:events_seatcategory_changelist"),
                   {**csrf, "action": "delete_selected", "_selected_action": [category.pk], "post": "yes"}),
        rival.post(reverse("admin:events_event_change", args=[event.pk]), {**csrf, "title": "Hijacked"}),
        rival.post(reverse("admin:venues_venuebooking_deposit", args=[world.venue_booking.pk]),
                   {**csrf, "payment_token": "tok_ok"}),
        rival.post(reverse("admin:checkin_doorassignment_add"), {**csrf, "user": world.door_other.pk,
                                                                  "event": event.pk}),
        rival.post(reverse("admin:venues_venuebooking_changelist"),
                   {**csrf, "action": "cancel_selected", "_selected_action": [world.venue_booking.pk]}),
    ]
    assert all(response.status_code in (200, 302, 403, 404) for response in responses)
    event.refresh_from_db()
    assert (event.title, event.status) == ("Org Gala", EventStatus.ON_SALE)
    assert SeatCategory.objects.filter(pk=category.pk).exists()
    assert not EventSeat.objects.filter(pk__in=world.seats[10:12], status="blocked").exists()
    assert VenueBooking.objects.get(pk=world.venue_booking.pk).status == "requested"
    assert not DoorAssignment.objects.filter(user=world.door_other, event=event).exists()


# --- the API ------------------------------------------------------------------------------------------------

EVERYONE = set(ROLES)
BOOKING_MANAGERS = {"buyer", "organizer", "superuser"}


def _api_cases(world):
    """(method, OpenAPI path, concrete path, body, roles allowed). Denied roles are tried first."""
    event, booking = world.event.pk, world.booking["booking_id"]
    ticket = world.booking["tickets"][0]["id"]
    token = world.booking["tickets"][1]["token"]
    section = world.event.venue.sections.first().pk

    def scan(_role):
        return {"token": token, "nonce": uuid.uuid4().hex, "gate": "Main"}

    return [
        ("get", "/api/session", "/api/session", None, EVERYONE),
        ("get", "/api/events", "/api/events", None, EVERYONE),
        ("get", "/api/events/{event_id}/layout", f"/api/events/{event}/layout", None, EVERYONE),
        ("get", "/api/events/{event_id}/sections", f"/api/events/{event}/sections", None, EVERYONE),
        ("get", "/api/events/{event_id}/sections/{section_id}/layout",
         f"/api/events/{event}/sections/{section}/layout", None, EVERYONE),
        ("get", "/api/events/{event_id}/seats/changes", f"/api/events/{event}/seats/changes", None, EVERYONE),
        ("post", "/api/seats/hold", "/api/seats/hold",
         lambda role: {"event_id": event, "seat_ids": [world.seats[20 + ROLES.index(role)]]}, EVERYONE),
        ("post", "/api/seats/release", "/api/seats/release",
         lambda role: {"event_id": event, "seat_ids": [world.seats[20 + ROLES.index(role)]]}, EVERYONE),
        ("post", "/api/areas/hold", "/api/areas/hold",
         lambda role: {"event_id": event, "area_id": world.area.pk, "quantity": 1}, EVERYONE),
        ("post", "/api/areas/release", "/api/areas/release",
         lambda role: {"event_id": event, "area_id": world.area.pk}, EVERYONE),
        ("post", "/api/bookings/confirm", "/api/bookings/confirm", None, set()),  # no hold: 422 for all
        ("get", "/api/bookings/{booking_id}", f"/api/bookings/{booking}", None, BOOKING_MANAGERS),
        ("get", "/api/bookings/{booking_id}/cancel-preview", f"/api/bookings/{booking}/cancel-preview", None,
         BOOKING_MANAGERS),
        ("get", "/api/bookings/{booking_id}/cancellations", f"/api/bookings/{booking}/cancellations", None,
         BOOKING_MANAGERS),
        ("get", "/api/bookings/{booking_id}/tickets.pdf", f"/api/bookings/{booking}/tickets.pdf", None,
         BOOKING_MANAGERS),
        ("post", "/api/tickets/{ticket_id}/transfer", f"/api/tickets/{ticket}/transfer",
         lambda role: {"name": "New Holder", "email": f"{role.replace('_', '-')}@example.com"}, BOOKING_MANAGERS),
        ("post", "/api/bookings/{booking_id}/cancel", f"/api/bookings/{booking}/cancel", None, BOOKING_MANAGERS),
        ("get", "/api/tickets/{ticket_id}/ticket.pdf", f"/api/tickets/{ticket}/ticket.pdf", None, set()),
        ("post", "/api/my-bookings/link", "/api/my-bookings/link", lambda role: {"email": "ada@example.com"},
         EVERYONE),
        ("get", "/api/my-bookings", "/api/my-bookings", None, {"buyer"}),  # everyone 200, each their own
        ("post", "/api/events/{event_id}/waitlist", f"/api/events/{event}/waitlist",
         lambda role: {"email": "w@example.com", "party_size": 1}, set()),  # seats free: 409 for everyone
        ("post", "/api/waitlist/{key}/confirm", "/api/waitlist/forged/confirm", None, set()),
        ("get", "/api/waitlist/{key}", "/api/waitlist/forged", None, set()),
        ("post", "/api/waitlist/{key}/leave", "/api/waitlist/forged/leave", None, set()),
        ("post", "/api/waitlist/{key}/claim", "/api/waitlist/forged/claim", None, set()),
        ("post", "/api/payments/webhook", "/api/payments/webhook", lambda role: {"id": "x"}, set()),
        ("post", "/api/checkin/scan", "/api/checkin/scan", scan, {"door_this"}),
        ("post", "/api/checkin/admit", "/api/checkin/admit",
         lambda role: {"ticket_id": ticket, "event_id": event, "nonce": uuid.uuid4().hex}, {"door_this"}),
        ("post", "/api/checkin/sync", "/api/checkin/sync", lambda role: {"scans": [scan(role)]}, {"door_this"}),
        ("get", "/api/checkin/events", "/api/checkin/events", None, {"door_this"}),
        ("get", "/api/checkin/events/{event_id}/manifest", f"/api/checkin/events/{event}/manifest", None,
         {"door_this"}),
        ("get", "/api/checkin/events/{event_id}/stats", f"/api/checkin/events/{event}/stats", None, {"door_this"}),
        ("get", "/api/checkin/events/{event_id}/search", f"/api/checkin/events/{event}/search?q=Ada", None,
         {"door_this"}),
        ("post", "/api/seats/best", "/api/seats/best", lambda role: {"event_id": event, "quantity": 1}, EVERYONE),
        ("get", "/api/events/{event_id}/cart", f"/api/events/{event}/cart", None, EVERYONE),  # each sees own holds
    ]


def _request(client, method, path, body):
    if method == "get":
        return client.get(path)
    return client.post_json(path, body)


def _does_its_job_for(world, path, role, response) -> bool:
    """Endpoints that answer everyone but must show each only their own."""
    body = response.content.decode()
    if path == "/api/my-bookings":
        return world.booking["reference"] in body
    if path == "/api/checkin/events":
        return f'"id":{world.event.pk}' in body.replace(" ", "")
    if path == "/api/checkin/sync":
        return response.status_code == 200 and response.json()["results"][0]["result"] != "error"
    return response.status_code not in DENIED and response.status_code < 500


def test_api_endpoints(world):
    for method, template, path, body, allowed in _api_cases(world):
        ordered = [role for role in ROLES if role not in allowed] + [role for role in ROLES if role in allowed]
        for role in ordered:
            client = world.clients[role]
            response = _request(client, method, path, body(role) if body else None)
            cell = f"{method.upper()} {template} × {role}"
            assert response.status_code < 500, cell
            if template in ("/api/my-bookings", "/api/checkin/events", "/api/checkin/sync"):
                assert _does_its_job_for(world, template, role, response) == (role in allowed), cell
            elif role in allowed:
                assert response.status_code not in DENIED, (cell, response.content[:300])
            elif allowed:  # denied: nothing of someone else's is shown or changed
                assert response.status_code in DENIED, (cell, response.status_code, response.content[:300])
    assert_endpoints_covered(world)


def test_denied_writes_of_the_api_change_nothing(world):
    booking_id = world.booking["booking_id"]
    ticket = world.booking["tickets"][0]
    for role in ROLES:
        if role in BOOKING_MANAGERS:
            continue
        client = world.clients[role]
        assert client.post_json(f"/api/bookings/{booking_id}/cancel").status_code == 404, role
        assert client.post_json(f"/api/tickets/{ticket['id']}/transfer",
                                {"name": "Mallory", "email": "m@example.com"}).status_code == 404, role
        if role != "door_this":
            assert client.post_json("/api/checkin/scan", {"token": ticket["token"], "nonce": uuid.uuid4().hex}
                                    ).status_code == 403, role
    assert Booking.objects.get(pk=booking_id).status == "paid"
    assert Ticket.objects.get(pk=ticket["id"]).status == "valid"
    assert not Admission.objects.filter(ticket_id=ticket["id"]).exists()
    # the superuser sees (and may change) every organizer's venue
    own = Venue.objects.create(name="Rival's own hall", city="Berlin", organizer=world.rival)
    page = world.clients["superuser"].get(reverse("admin:venues_venue_change", args=[own.pk]))
    assert page.status_code == 200 and b'name="_save"' in page.content


def assert_endpoints_covered(world):
    """New endpoints must join the matrix."""
    from evently.api import api

    schema = api.get_openapi_schema()
    endpoints = {(method, path) for path, operations in schema["paths"].items() for method in operations}
    covered = {(method, template) for method, template, *_ in _api_cases(world)}
    assert endpoints - covered == set()

