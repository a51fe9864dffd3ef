"""Reads for the door: who may scan, door windows, the offline manifest, progress and search.

The scan path keeps three small facts in process memory so a scan costs one Postgres round trip
(plus the session user): event public keys (never change), door windows and staff assignments
(cached for CACHE_SECONDS; a change made in the admin reaches other processes within that time,
and this process at once through the signals in checkin.apps). Admissions themselves are never
cached: Postgres is the only place an admission is decided.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncMinute
from django.utils import timezone

from checkin.exceptions import ManifestUnavailable
from checkin.models import Admission, DoorAssignment, DoorSchedule, Scan
from events.models import Event
from ticketing.models import Ticket, TicketStatus
from ticketing.services import event_public_keys as ticketing_event_public_keys
from ticketing.services.orders import HistoryEntry

CACHE_SECONDS = 30
DOOR_STAFF_GROUP = "Door staff"

_lock = threading.Lock()
_public_keys: dict[int, tuple[float, list[bytes]]] = {}
_windows: dict[int, tuple[float, DoorWindow]] = {}
_permissions: dict[tuple[int, int], tuple[float, bool]] = {}


@dataclass(frozen=True)
class DoorWindow:
    doors_open_at: datetime
    closes_at: datetime

    def reason_at(self, moment: datetime) -> str:
        """'' when tickets may be admitted at `moment`, else the invalid reason."""
        if moment < self.doors_open_at:
            return "not_yet_valid"
        if moment > self.closes_at:
            return "event_over"
        return ""


def checkin_caches_clear() -> None:
    with _lock:
        _public_keys.clear()
        _windows.clear()
        _permissions.clear()


def event_public_keys(event_id: int, *, fresh: bool = False) -> list[bytes]:
    """The event's Ed25519 public keys, current first (more than one after a rotation), kept in
    memory for CACHE_SECONDS; `fresh` reads them again (a token signed by a key rotated in
    another process moments ago)."""
    cached = _public_keys.get(event_id)
    if cached is not None and cached[0] > time.monotonic() and not fresh:
        return cached[1]
    keys = ticketing_event_public_keys(event_id)
    with _lock:
        _public_keys[event_id] = (time.monotonic() + CACHE_SECONDS, keys)
    return keys


def event_public_key(event_id: int) -> bytes:
    """The event's current public key."""
    return event_public_keys(event_id)[0]


def door_window(event_id: int) -> DoorWindow | None:
    """When the event's doors are open; None if there is no such event."""
    cached = _windows.get(event_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    event = Event.objects.filter(pk=event_id).values("starts_at", "ends_at").first()
    if event is None:
        return None
    schedule = DoorSchedule.objects.filter(pk=event_id).first()
    window = DoorWindow(
        doors_open_at=schedule.doors_open_at if schedule else
        event["starts_at"] - timedelta(minutes=settings.CHECKIN_DOORS_OPEN_MINUTES),
        closes_at=(schedule.closes_at if schedule and schedule.closes_at else event["ends_at"]),
    )
    with _lock:
        _windows[event_id] = (time.monotonic() + CACHE_SECONDS, window)
    return window


def door_staff_may_scan(*, user, event_id: int) -> bool:
    """True for an active member of "Door staff" assigned to the event or to its venue."""
    if not user.is_authenticated or not user.is_active:
        return False
    cache_key = (user.pk, event_id)
    cached = _permissions.get(cache_key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    allowed = (
        user.groups.filter(name=DOOR_STAFF_GROUP).exists()
        and DoorAssignment.objects.filter(
            Q(event_id=event_id) | Q(venue__events__id=event_id), user_id=user.pk
        ).exists()
    )
    with _lock:
        _permissions[cache_key] = (time.monotonic() + CACHE_SECONDS, allowed)
    return allowed


def door_events_for(user) -> list[Event]:
    """Events this user may scan for that have not ended more than a day ago, soonest first."""
    if not user.is_authenticated or not user.groups.filter(name=DOOR_STAFF_GROUP).exists():
        return []
    assigned = DoorAssignment.objects.filter(user_id=user.pk)
    return list(
        Event.objects.filter(
            Q(pk__in=assigned.exclude(event=None).values("event_id"))
            | Q(venue_id__in=assigned.exclude(venue=None).values("venue_id")),
            ends_at__gte=timezone.now() - timedelta(days=1),
        ).select_related("venue").order_by("starts_at", "id")
    )


def _seat_label(section: str, row: str, number: int | None) -> str:
    return f"{section} · Row {row} · Seat {number}" if number is not None else ""


def checkin_manifest(*, event_id: int) -> dict:
    """What a device needs to check tickets in offline, and nothing more.

    `tickets` is [ticket_id, nonce, refusal, seat_label] for every ticket of the event: refusal is
    "" for a valid ticket, else the reason to refuse it (cancelled, refunded, transferred); a token
    whose nonce differs from its ticket's here is a stale (transferred) one. `admitted` is
    [ticket_id, admitted_at, gate] for tickets already in. No names, e-mails or booking references:
    a lost phone must not carry the guest list (an online scan still shows the holder's name).
    Only served during the door window (see `manifest_window`). Raises ManifestUnavailable.
    """
    event = Event.objects.select_related("venue").get(pk=event_id)
    window = door_window(event_id)
    available_from = window.doors_open_at - timedelta(minutes=settings.CHECKIN_MANIFEST_LEAD_MINUTES)
    now = timezone.now()
    if not available_from <= now <= window.closes_at:
        raise ManifestUnavailable(available_from=available_from.isoformat(), closes_at=window.closes_at.isoformat())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.id, t.nonce, t.status, b.status, b.refund_amount > 0, sec.name, s.row_label, s.number
            FROM ticketing_ticket t
            JOIN ticketing_booking b ON b.id = t.booking_id
            JOIN ticketing_bookingseat bs ON bs.id = t.booking_seat_id
            JOIN ticketing_eventseat es ON es.id = bs.event_seat_id
            JOIN venues_seat s ON s.id = es.seat_id
            JOIN venues_section sec ON sec.id = s.section_id
            WHERE b.event_id = %s
            ORDER BY t.id
            """,
            [event_id],
        )
        tickets = [
            [ticket_id, nonce, _refusal(status, booking_status, is_refunded), _seat_label(sec, row, number)]
            for ticket_id, nonce, status, booking_status, is_refunded, sec, row, number in cursor.fetchall()
        ]
    admitted = [
        [ticket_id, admitted_at.isoformat(), gate]
        for ticket_id, admitted_at, gate in Admission.objects.filter(event_id=event_id)
        .order_by("ticket_id").values_list("ticket_id", "admitted_at", "gate")
    ]
    return {
        "event": {"id": event.pk, "title": event.title, "venue": event.venue.name,
                  "starts_at": event.starts_at.isoformat(), "ends_at": event.ends_at.isoformat(),
                  "doors_open_at": window.doors_open_at.isoformat(), "closes_at": window.closes_at.isoformat()},
        "public_key": _b64(event_public_key(event_id)),
        # The current key first, then keys rotated out: tickets signed with them stay valid.
        "public_keys": [_b64(key) for key in event_public_keys(event_id)],
        "generated_at": timezone.now().isoformat(),
        "tickets": tickets,
        "admitted": admitted,
    }


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii")


def _refusal(ticket_status: str, booking_status: str, is_refunded: bool) -> str:
    """Same precedence as the scan statement in checkin.services (a transferred ticket first)."""
    if ticket_status == TicketStatus.TRANSFERRED:
        return "transferred"
    if booking_status == "cancelled" and is_refunded:
        return "refunded"
    if booking_status != "paid" or ticket_status == TicketStatus.CANCELLED:
        return "cancelled"
    return ""


def checkin_stats(*, event_id: int, conflicts_limit: int = 20) -> dict:
    """Admitted / expected, admissions per gate, and the latest conflicts."""
    expected = Ticket.objects.filter(booking__event_id=event_id, status=TicketStatus.VALID,
                                     booking__status="paid").count()
    by_gate = dict(
        Admission.objects.filter(event_id=event_id).values_list("gate").annotate(n=Count("pk")).order_by("gate")
    )
    conflicts = Scan.objects.filter(event_id=event_id, is_conflict=True).order_by("-received_at")
    return {
        "event_id": event_id,
        "admitted": sum(by_gate.values()),
        "expected": expected,
        "by_gate": by_gate,
        "conflict_count": conflicts.count(),
        "conflicts": [scan_as_dict(scan) for scan in conflicts[:conflicts_limit]],
    }


def scan_as_dict(scan: Scan) -> dict:
    return {"nonce": scan.nonce, "ticket_id": scan.ticket_id, "device": scan.device, "gate": scan.gate,
            "result": scan.result, "reason": scan.reason, "scanned_at": scan.scanned_at.isoformat(),
            "is_offline": scan.is_offline, "local_result": scan.local_result}


def checkin_progress(*, event_id: int, bucket_minutes: int = 15) -> list[dict]:
    """Admissions over time by gate: [{"at", "gate", "admitted", "cumulative"}] per time bucket."""
    rows = (
        Admission.objects.filter(event_id=event_id)
        .annotate(minute=TruncMinute("admitted_at"))
        .values_list("minute", "gate")
        .annotate(n=Count("pk"))
        .order_by("minute", "gate")
    )
    buckets: dict[tuple[datetime, str], int] = {}
    for minute, gate, count in rows:
        start = minute - timedelta(minutes=minute.minute % bucket_minutes)
        buckets[(start, gate)] = buckets.get((start, gate), 0) + count
    progress, cumulative = [], 0
    for (start, gate), count in sorted(buckets.items()):
        cumulative += count
        progress.append({"at": start, "gate": gate, "admitted": count, "cumulative": cumulative})
    return progress


def ticket_search(*, event_id: int, query: str, limit: int = 20) -> list[dict]:
    """Tickets of the event by booking reference (exact) or holder/customer name (contains).

    No tokens: a token admits whoever shows it, so search hands out ticket ids only, and the door
    admits a found guest by id (`POST /api/checkin/admit`), logged as a manual admission."""
    query = query.strip()
    if len(query) < 2:
        return []
    tickets = (
        Ticket.objects.filter(booking__event_id=event_id)
        .filter(Q(booking__reference__iexact=query) | Q(holder_name__icontains=query)
                | Q(booking__customer_name__icontains=query))
        .select_related("booking", "booking_seat__event_seat__seat__section", "admission")
        .order_by("holder_name", "id")[:limit]
    )
    results = []
    for ticket in tickets:
        seat = ticket.booking_seat.event_seat.seat
        admission = getattr(ticket, "admission", None)
        results.append({
            "id": ticket.pk, "status": ticket.status, "holder_name": ticket.holder_name,
            "booking_reference": ticket.booking.reference,
            "seat": _seat_label(seat.section.name, seat.row_label, seat.number),
            "admitted_at": admission.admitted_at.isoformat() if admission else None,
        })
    return results


def event_admission_progress(event: Event) -> dict:
    """Admitted tickets of the event against its valid ones: the check-in line of ticketing's event report."""
    admitted = Admission.objects.filter(ticket__booking__event=event).count()
    valid = Ticket.objects.filter(booking__event=event, status=TicketStatus.VALID).count()
    return {"admitted": admitted, "valid_tickets": valid, "rate": round(100 * admitted / valid, 1) if valid else None}


def booking_scan_history(booking) -> list:
    """Door scans of the booking's tickets, for ticketing's booking history (`booking_history`)."""
    entries = []
    scans = Scan.objects.filter(ticket_id__in=booking.tickets.values("pk")).order_by("received_at", "id")[:500]
    for scan in scans:
        where = f" at gate {scan.gate}" if scan.gate else ""
        why = f" ({scan.reason})" if scan.reason else ""
        offline = ", offline" if scan.is_offline else ""
        entries.append(HistoryEntry(scan.scanned_at, "scan",
                                    f"Ticket {scan.ticket_id} scanned{where}: {scan.get_result_display().lower()}"
                                    f"{why}{offline}."))
    return entries
