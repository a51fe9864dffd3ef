"""Bench-only: fresh events to sell, their free seats, the consistency audit, and the clean-up.

Never used by the app. Each benchmark sells a *fresh copy* of the demo stadium event ("[bench] …": same
venue, seat categories, pricing tiers, limits and cancellation policy), so that runs start from the same
state and never touch the demo data; `purge_bench_events` deletes earlier copies with their bookings,
because leftover bookings would make later runs slower (a query that scans bookings grows with them).

    .venv/bin/python -m bench.inventory --purge      # delete every "[bench] …" event (bench database)
"""

from __future__ import annotations

import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path

BENCH_PREFIX = "[bench] "
BENCH_EMAIL_DOMAIN = "bench.example.com"
DEMO_STADIUM_TITLE = "Championship Final"  # seed_demo's 50,000-seat event


class AuditFailed(AssertionError):
    """The sale broke an invariant: a seat sold twice, a paid booking lost, tickets missing."""


# --- events ---------------------------------------------------------------------------------------------------


def demo_stadium_event():
    """The seed's stadium event, or the on-sale event with the most seats if the demo data differs."""
    from django.db.models import Count

    from events.models import Event, EventStatus

    events = Event.objects.exclude(title__startswith=BENCH_PREFIX)
    return (events.filter(title=DEMO_STADIUM_TITLE).order_by("id").first()
            or events.filter(status=EventStatus.ON_SALE).annotate(n=Count("seats")).order_by("-n").first())


def create_bench_event(*, source=None, venue_params: dict | None = None):
    """A fresh event to sell: a copy of `source` (default: the demo stadium event) with its own inventory.

    Without a source (a database without demo data, e.g. the tests' one) a small stadium venue is built
    from `venue_params` (the stadium template's parameters) with one seat category and no tiers.
    """
    source = source if source is not None else (None if venue_params else demo_stadium_event())
    event = _event_on_new_venue(venue_params or {}) if source is None else _event_copy(source)
    vacuum_analyze()
    return event


def vacuum_analyze() -> None:
    """Tidy the sale's tables after bulk inserts and deletes, before anything is timed: otherwise
    autovacuum does it during the timed window and Postgres' CPU per booking is inflated."""
    from django.db import connection

    from ticketing.models import Booking, BookingSeat, EventSeat, Ticket

    with connection.cursor() as cursor:
        for model in (EventSeat, Booking, BookingSeat, Ticket):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


def _event_copy(source):
    from django.db import transaction

    from events.models import CancellationPolicy, Event, PricingTier
    from ticketing.models import EventSeat
    from ticketing.services import event_inventory_create

    with transaction.atomic():
        event = Event.objects.get(pk=source.pk)
        event.pk = None
        event._state.adding = True
        event.title = f"{BENCH_PREFIX}{source.title} {time.strftime('%H:%M:%S')}"
        event.save()
        categories = {}
        for category in source.categories.all():
            old = category.pk
            category.pk, category.event = None, event
            category._state.adding = True
            category.save()
            categories[old] = category.pk
        for tier in PricingTier.objects.filter(category__event=source):
            tier.pk, tier.category_id = None, categories[tier.category_id]
            tier._state.adding = True
            tier.save()
        policy = CancellationPolicy.objects.filter(event=source).first()
        if policy:
            policy.pk, policy.event = None, event
            policy._state.adding = True
            policy.save()
        mapping = dict(EventSeat.objects.filter(event=source).values_list("seat__section_id", "category_id")
                       .distinct())
        event_inventory_create(event=event, section_categories={section: categories[category]
                                                                for section, category in mapping.items()})
    return event


def _event_on_new_venue(venue_params: dict):
    from django.contrib.auth.models import User
    from django.utils import timezone

    from events.models import Event, EventStatus, SeatCategory
    from ticketing.services import event_inventory_create
    from venues.models import Venue
    from venues.services import venue_build_from_template

    organizer, _ = User.objects.get_or_create(username="bench-organizer")
    venue = Venue.objects.create(name=f"{BENCH_PREFIX}stadium {uuid.uuid4().hex[:6]}", city="Bench")
    venue_build_from_template(venue=venue, template="stadium", params=venue_params)
    now = timezone.now()
    event = Event.objects.create(organizer=organizer, venue=venue, title=f"{BENCH_PREFIX}sale",
                                 status=EventStatus.ON_SALE, starts_at=now + timedelta(days=30),
                                 ends_at=now + timedelta(days=30, hours=3), sales_open_at=now - timedelta(days=1))
    category = SeatCategory.objects.create(event=event, name="Standard", price="50.00")
    event_inventory_create(event=event, section_categories={s.pk: category.pk for s in venue.sections.all()})
    return event


def free_seat_ids(event_id: int) -> list[int]:
    """The event's available seats in id order: neighbours in a row are adjacent ids."""
    from ticketing.models import EventSeat

    return list(EventSeat.objects.filter(event_id=event_id, status="available").order_by("id")
                .values_list("id", flat=True))


def seat_sections(seat_ids: list[int]) -> dict[int, int]:
    """seat id → venue section id, for viewers that follow one section."""
    from ticketing.models import EventSeat

    return dict(EventSeat.objects.filter(pk__in=seat_ids).values_list("id", "seat__section_id"))


# --- clean-up ---------------------------------------------------------------------------------------------------


def purge_bench_events(*, keep: tuple[int, ...] = (), files_under: Path | None = None) -> dict:
    """Delete every "[bench] …" event (except `keep`) with its bookings, tickets and seats.

    Set-based SQL over the tables a sale writes (the ORM's cascade fetches every row first and takes
    minutes for a sold-out stadium); if another table still points at these rows, the transaction rolls
    back and the ORM's generic cascade does it. `files_under`: the bench's own var dir, whose e-mails and
    PDFs are deleted too.
    """
    from django.db import IntegrityError, transaction

    from events.models import Event
    from venues.models import Venue

    started = time.monotonic()
    ids = list(Event.objects.filter(title__startswith=BENCH_PREFIX).exclude(pk__in=keep).values_list("pk", flat=True))
    if ids:
        try:
            with transaction.atomic():
                _delete_sales_sql(ids)
                Event.objects.filter(pk__in=ids).delete()
        except IntegrityError:
            for event_id in ids:
                _delete_sales_orm(event_id)
        Venue.objects.filter(name__startswith=BENCH_PREFIX, events__isnull=True).delete()
    if files_under:
        for name in ("mail", "tickets"):
            shutil.rmtree(files_under / name, ignore_errors=True)
    return {"events_deleted": len(ids), "seconds": round(time.monotonic() - started, 1)}


def _delete_sales_sql(event_ids: list[int]) -> None:
    from django.db import connection

    from checkin.models import Admission
    from ticketing.models import (
        Booking,
        BookingSeat,
        BoxOfficeSale,
        Cancellation,
        EventSeat,
        OutgoingEmail,
        Ticket,
        TicketTransfer,
    )

    t = {model.__name__: model._meta.db_table for model in
         (Admission, Booking, BookingSeat, BoxOfficeSale, Cancellation, EventSeat, OutgoingEmail, Ticket,
          TicketTransfer)}
    cancellation_seats = Cancellation.booking_seats.through._meta.db_table
    bookings = f"SELECT id FROM {t['Booking']} WHERE event_id = ANY(%(ids)s)"
    tickets = f"SELECT id FROM {t['Ticket']} WHERE booking_id IN ({bookings})"
    statements = [
        f"DELETE FROM {t['Admission']} WHERE event_id = ANY(%(ids)s)",
        f"DELETE FROM {t['TicketTransfer']} WHERE from_ticket_id IN ({tickets}) OR to_ticket_id IN ({tickets})",
        f"DELETE FROM {cancellation_seats} WHERE cancellation_id IN "
        f"(SELECT id FROM {t['Cancellation']} WHERE booking_id IN ({bookings}))",
        f"DELETE FROM {t['Cancellation']} WHERE booking_id IN ({bookings})",
        f"UPDATE {t['Ticket']} SET transferred_from_id = NULL WHERE booking_id IN ({bookings})",
        f"DELETE FROM {t['Ticket']} WHERE booking_id IN ({bookings})",
        f"DELETE FROM {t['BookingSeat']} WHERE booking_id IN ({bookings})",
        f"DELETE FROM {t['BoxOfficeSale']} WHERE booking_id IN ({bookings})",
        f"UPDATE {t['EventSeat']} SET booking_id = NULL WHERE event_id = ANY(%(ids)s) AND booking_id IS NOT NULL",
        f"DELETE FROM {t['Booking']} WHERE event_id = ANY(%(ids)s)",
        f"DELETE FROM {t['EventSeat']} WHERE event_id = ANY(%(ids)s)",
        # the bench's buyers use their own domain: their e-mails are safe to drop
        f"DELETE FROM {t['OutgoingEmail']} WHERE \"to\" LIKE %(bench_mail)s",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, {"ids": event_ids, "bench_mail": f"%@{BENCH_EMAIL_DOMAIN}"})


def _delete_sales_orm(event_id: int) -> None:
    from django.db import transaction

    from events.models import Event
    from ticketing.models import Booking, Cancellation, TicketTransfer

    with transaction.atomic():
        TicketTransfer.objects.filter(from_ticket__booking__event_id=event_id).delete()
        Cancellation.objects.filter(booking__event_id=event_id).delete()
        Booking.objects.filter(event_id=event_id).delete()
        Event.objects.filter(pk=event_id).delete()


# --- the audit ----------------------------------------------------------------------------------------------------

AUDIT_CHECKS = {
    "sold seats not in exactly one paid booking (active booking seat)": """
        SELECT count(*) FROM {EventSeat} es
         WHERE es.event_id = %(event)s AND es.status = 'sold'
           AND (SELECT count(*) FROM {BookingSeat} bs JOIN {Booking} b ON b.id = bs.booking_id
                 WHERE bs.event_seat_id = es.id AND bs.is_active AND b.status = 'paid') <> 1""",
    "seats of paid bookings that are not sold": """
        SELECT count(*) FROM {BookingSeat} bs JOIN {Booking} b ON b.id = bs.booking_id
          JOIN {EventSeat} es ON es.id = bs.event_seat_id
         WHERE b.event_id = %(event)s AND b.status = 'paid' AND bs.is_active AND es.status <> 'sold'""",
    "sold seats without exactly one valid ticket": """
        SELECT count(*) FROM {EventSeat} es
         WHERE es.event_id = %(event)s AND es.status = 'sold'
           AND (SELECT count(*) FROM {Ticket} t JOIN {BookingSeat} bs ON bs.id = t.booking_seat_id
                 WHERE bs.event_seat_id = es.id AND bs.is_active AND t.status = 'valid') <> 1""",
    "seats both sold and held (sold with a live hold)": """
        SELECT count(*) FROM {EventSeat} es
         WHERE es.event_id = %(event)s AND es.status = 'sold' AND es.held_until > now()""",
    "paid bookings without seats": """
        SELECT count(*) FROM {Booking} b
         WHERE b.event_id = %(event)s AND b.status = 'paid'
           AND NOT EXISTS (SELECT 1 FROM {BookingSeat} bs WHERE bs.booking_id = b.id AND bs.is_active)""",
}

AUDIT_COUNTS = {
    "sold_seats": "SELECT count(*) FROM {EventSeat} WHERE event_id = %(event)s AND status = 'sold'",
    "held_seats": "SELECT count(*) FROM {EventSeat} WHERE event_id = %(event)s AND status = 'held'",
    "valid_tickets": """SELECT count(*) FROM {Ticket} t JOIN {Booking} b ON b.id = t.booking_id
                         WHERE b.event_id = %(event)s AND t.status = 'valid'""",
    "paid_bookings": "SELECT count(*) FROM {Booking} WHERE event_id = %(event)s AND status = 'paid'",
    "pending_bookings": "SELECT count(*) FROM {Booking} WHERE event_id = %(event)s AND status = 'pending'",
    "failed_bookings": """SELECT count(*) FROM {Booking} WHERE event_id = %(event)s
                           AND status NOT IN ('paid', 'pending')""",
}


def _tables() -> dict[str, str]:
    from ticketing.models import Booking, BookingSeat, EventSeat, Ticket

    return {model.__name__: model._meta.db_table for model in (Booking, BookingSeat, EventSeat, Ticket)}


def wait_until_settled(event_id: int, timeout: float = 20) -> None:
    """In-flight confirms finish on the server after the load generator stops: wait (bounded) until the
    counts stop moving before auditing."""
    previous, stable_since = None, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = _counts(event_id)
        if counts != previous:
            previous, stable_since = counts, time.monotonic()
        elif time.monotonic() - stable_since >= 1.5:
            return
        time.sleep(0.3)


def _counts(event_id: int) -> dict[str, int]:
    from django.db import connection

    tables = _tables()
    with connection.cursor() as cursor:
        counts = {}
        for name, sql in AUDIT_COUNTS.items():
            cursor.execute(sql.format(**tables), {"event": event_id})
            counts[name] = cursor.fetchone()[0]
    return counts


def audit(event_id: int, *, confirmed_201: int, in_flight_slack: int) -> dict:
    """Check the invariants of the sale on the database; returns the report (see `passed`).

    `confirmed_201`: confirms the load generator saw answered 201. A confirm still in flight when the
    generator stopped may have been paid without its answer being seen, hence up to `in_flight_slack`
    more paid bookings than 201s are allowed — never fewer (that would be a paid booking lost).
    """
    from django.db import connection

    tables = _tables()
    counts = _counts(event_id)
    violations = {}
    with connection.cursor() as cursor:
        for name, sql in AUDIT_CHECKS.items():
            cursor.execute(sql.format(**tables), {"event": event_id})
            violations[name] = cursor.fetchone()[0]
    violations["valid tickets minus sold seats"] = counts["valid_tickets"] - counts["sold_seats"]
    surplus = counts["paid_bookings"] - confirmed_201
    violations["paid bookings fewer than confirms answered 201"] = max(0, -surplus)
    violations[f"paid bookings beyond 201s + in-flight slack ({in_flight_slack})"] = max(0, surplus - in_flight_slack)
    failed = {name: value for name, value in violations.items() if value}
    return {"passed": not failed, "failed": failed, "checks": violations, "counts": counts,
            "confirmed_201_seen": confirmed_201, "paid_minus_201": surplus}


def main() -> None:
    import argparse

    from bench.harness import BENCH_VAR_DIR, services

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purge", action="store_true", help="delete every [bench] event of the bench database")
    args = parser.parse_args()
    with services(url=None):
        if args.purge:
            print(purge_bench_events(files_under=BENCH_VAR_DIR))


if __name__ == "__main__":
    main()
