"""Getting tickets to people: cached PDFs, calendar files, and e-mails that go out once.

E-mails are rows in `OutgoingEmail`, created inside the transaction that makes them due (a paid
booking, a transfer, a waitlist offer) and sent after commit by a django-q2 task. Nothing here
runs inside a transaction that holds seat locks.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import deque
from datetime import UTC, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django_q.tasks import async_task

from ticketing.models import (
    BOX_OFFICE_REFUND_PREFIX,
    Booking,
    Cancellation,
    OutgoingEmail,
    Ticket,
    TicketStatus,
    TicketTransfer,
    WaitlistEntry,
)
from ticketing.pdf import ticket_pages, tickets_pdf_render
from ticketing.services.magic_links import magic_link_token
from ticketing.services.waitlist_links import waitlist_claim_url, waitlist_confirm_url, waitlist_entry_url
from venues.localtime import venue_time_label

logger = logging.getLogger(__name__)

EMAIL_MAX_ATTEMPTS = 5
BOOKING_LINK_SALT = "evently.booking-link"


# --- who may fetch a booking's PDF without a session ---------------------------------------------

def booking_link_key(booking_id: int) -> str:
    """A signed key for one booking, put in e-mailed links: whoever has the e-mail may fetch the tickets
    until BOOKING_LINK_DAYS_AFTER_EVENT days after the event ends (see booking_link_key_is_valid)."""
    return signing.dumps(booking_id, salt=BOOKING_LINK_SALT, compress=True)


def booking_link_key_is_valid(key: str, booking: Booking) -> bool:
    """The key was made for this booking and its link has not expired: links in e-mails work until
    a few days after the event (not forever: a forwarded or leaked e-mail stops opening tickets)."""
    try:
        if signing.loads(key, salt=BOOKING_LINK_SALT) != booking.pk:
            return False
    except signing.BadSignature:
        return False
    return timezone.now() < booking.event.ends_at + timedelta(days=settings.BOOKING_LINK_DAYS_AFTER_EVENT)


def booking_pdf_url(booking: Booking, *, signed: bool = False) -> str:
    path = f"/api/bookings/{booking.pk}/tickets.pdf"
    return f"{path}?key={booking_link_key(booking.pk)}" if signed else path


# --- PDFs ----------------------------------------------------------------------------------------

def _tickets_for_pdf(queryset):
    return list(
        queryset.select_related(
            "booking__event__venue", "booking_seat__event_seat__seat__section", "booking_seat__event_seat__category",
            "booking_place__event_area__section", "booking_place__event_area__category",
        ).order_by("booking_seat__event_seat_id", "id")
    )


def booking_pdf_tickets(booking: Booking) -> list[Ticket]:
    """The tickets the booking's buyer holds: valid ones they did not give away."""
    return _tickets_for_pdf(Ticket.objects.filter(booking=booking, status=TicketStatus.VALID, transferred_from=None))


def _fingerprint(tickets: list[Ticket]) -> str:
    """Changes whenever what a page shows changes (a transfer's new nonce, a new holder, the event's time or place)."""
    parts = [f"{t.pk}:{t.nonce}:{t.status}:{t.holder_name}" for t in tickets]
    if tickets:
        event = tickets[0].booking.event
        parts.append(f"{event.title}:{event.starts_at.isoformat()}:{event.venue.name}:{event.venue.address}"
                     f":{event.venue.city}:{event.venue.timezone}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _pdf_cached(prefix: str, tickets: list[Ticket]) -> Path:
    """Render once per distinct content; an older file of the same prefix is removed."""
    directory = Path(settings.TICKETS_PDF_DIR)
    path = directory / f"{prefix}-{_fingerprint(tickets)}.pdf"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{timezone.now().timestamp()}.part")
    partial.write_bytes(tickets_pdf_render(ticket_pages(tickets)))
    partial.replace(path)  # atomic: a reader never sees half a file
    for stale in directory.glob(f"{prefix}-*.pdf"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return path


def booking_pdf(booking_id: int) -> Path:
    """The booking's ticket PDF (cached under TICKETS_PDF_DIR, re-rendered when a ticket changed)."""
    booking = Booking.objects.get(pk=booking_id)
    return _pdf_cached(f"booking-{booking.pk}", booking_pdf_tickets(booking))


def ticket_pdf(ticket_id: int) -> Path:
    """A single ticket's PDF: what the new holder of a transferred ticket receives."""
    return _pdf_cached(f"ticket-{ticket_id}", _tickets_for_pdf(Ticket.objects.filter(pk=ticket_id)))


# --- calendar file -------------------------------------------------------------------------------

def event_ics(event) -> str:
    """A one-event iCalendar file (RFC 5545), times in UTC."""
    def stamp(moment):
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")

    venue = event.venue
    location = ", ".join(part for part in (venue.name, venue.address, venue.city) if part)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Evently//Tickets//EN", "METHOD:PUBLISH",
        "BEGIN:VEVENT", f"UID:event-{event.pk}@evently", f"DTSTAMP:{stamp(timezone.now())}",
        f"DTSTART:{stamp(event.starts_at)}", f"DTEND:{stamp(event.ends_at)}",
        f"SUMMARY:{escape(event.title)}", f"LOCATION:{escape(location)}",
        f"URL:{settings.PUBLIC_URL}{event.get_absolute_url()}",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


# --- e-mails that go out once --------------------------------------------------------------------

def email_enqueue(*, kind: str, object_id: int, to: str, key: str | None = None) -> None:
    """Record that an e-mail is due and send it after the surrounding transaction commits.

    The same key twice is one e-mail: a re-run of the caller never queues a second one.
    """
    key = key or f"{kind}:{object_id}"
    outgoing, created = OutgoingEmail.objects.get_or_create(key=key, defaults={"kind": kind, "object_id": object_id,
                                                                                 "to": to})
    if created:
        email_send_after_commit(outgoing.pk)


class _RushMeter:
    """How many e-mails this process queued in the last second: above RUSH_EMAILS_PER_SECOND, a sale is
    running here, and e-mails wait for the sweep instead of taking CPU from it (docs/performance.md)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._times: deque[float] = deque()

    def is_rush(self) -> bool:
        now = time.monotonic()
        with self._lock:
            self._times.append(now)
            while self._times and self._times[0] < now - 1.0:
                self._times.popleft()
            return len(self._times) > settings.RUSH_EMAILS_PER_SECOND


_rush = _RushMeter()


def email_send_after_commit(outgoing_id: int) -> None:
    """Hand a due e-mail to the worker once this transaction commits — unless a sale is rushing.

    In a rush the row simply stays due: `emails_send_due` sends it when the rush is over. Either
    way the e-mail goes out once (`email_send` claims the row), and a lost hand-over (Redis down)
    only delays it until the sweep.
    """
    transaction.on_commit(lambda: None if _rush.is_rush() else _email_send_async(outgoing_id))


def _email_send_async(outgoing_id: int) -> None:
    try:
        async_task("ticketing.tasks.email_send", outgoing_id)
    except Exception:  # noqa: BLE001 - the sweep sends it; a committed sale must not answer 500
        logger.warning("could not queue e-mail %s; the sweep will send it", outgoing_id, exc_info=True)


def email_send(outgoing_id: int) -> bool:
    """Send one due e-mail, at most once. Returns whether this call sent it.

    Delivery semantics, explicitly: **at most once**. A conditional UPDATE claims the row
    (`claimed_at`, only if unsent and unclaimed) before the backend is called, so two workers or
    a repeated task never both send. If sending raises, the claim is released and
    `emails_retry_due` tries again later (up to EMAIL_MAX_ATTEMPTS). If the process dies between
    the claim and the backend's answer, the row stays claimed and unsent and is not retried:
    we prefer a missing e-mail (the buyer can download the tickets from "my bookings", and the
    row shows up in `emails_stuck`) to a duplicate one. An SMTP server that accepts a message
    and then times out is the one case where a retry can still duplicate.
    """
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(
        pk=outgoing_id, sent_at__isnull=True, claimed_at__isnull=True, attempts__lt=EMAIL_MAX_ATTEMPTS
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    outgoing = OutgoingEmail.objects.get(pk=outgoing_id)
    try:
        message = EMAIL_BUILDERS[outgoing.kind](outgoing)
        if message is not None:
            message.send(fail_silently=False)
    except Exception as error:
        OutgoingEmail.objects.filter(pk=outgoing_id, claimed_at=now).update(
            claimed_at=None, last_error=f"{type(error).__name__}: {error}"[:300]
        )
        logger.warning("e-mail %s failed (attempt %s): %s", outgoing.key, outgoing.attempts, error)
        raise
    OutgoingEmail.objects.filter(pk=outgoing_id).update(sent_at=timezone.now(), last_error="")
    return True


def emails_retry_due() -> int:
    """The scheduled sweep: e-mails due and not sent — failed ones after a minute's pause, ones never
    handed to a worker (held back during a rush, or lost with Redis) after EMAIL_SWEEP_DELAY_SECONDS.

    While bookings are still rushing in it sends only a small batch, so the sale keeps the CPU;
    afterwards it drains the backlog. Returns how many it tried.
    """
    now = timezone.now()
    due = OutgoingEmail.objects.filter(sent_at__isnull=True, claimed_at__isnull=True,
                                       attempts__lt=EMAIL_MAX_ATTEMPTS).filter(
        Q(attempts__gt=0, created_at__lte=now - timedelta(seconds=60))
        | Q(attempts=0, created_at__lte=now - timedelta(seconds=settings.EMAIL_SWEEP_DELAY_SECONDS))
    ).order_by("created_at")
    batch = settings.EMAIL_SWEEP_BATCH_IN_RUSH if _bookings_rushing() else settings.EMAIL_SWEEP_BATCH
    outgoing_ids = list(due.values_list("pk", flat=True)[:batch])
    for outgoing_id in outgoing_ids:
        try:
            email_send(outgoing_id)
        except Exception:  # noqa: BLE001 - logged in email_send; the next sweep tries again
            pass
    return len(outgoing_ids)


def _bookings_rushing() -> bool:
    """Whether more than RUSH_EMAILS_PER_SECOND e-mails were recorded per second over the last 10 s."""
    recent = OutgoingEmail.objects.filter(created_at__gte=timezone.now() - timedelta(seconds=10))[
        : settings.RUSH_EMAILS_PER_SECOND * 10 + 1].count()
    return recent > settings.RUSH_EMAILS_PER_SECOND * 10


def emails_stuck():
    """E-mails claimed but never confirmed sent (a worker died mid-send): for a person to check."""
    return OutgoingEmail.objects.filter(sent_at__isnull=True, claimed_at__lte=timezone.now() - timedelta(minutes=10))


URL_PATTERN = re.compile(r"(https?://[^\s<>\"]+)")


def _message(*, subject: str, body: str, to: str, action: tuple[str, str] | None = None) -> EmailMessage:
    """A plain-text e-mail with an HTML alternative (the same words, links clickable, `action` as a button).

    Mail programs show the HTML part; the text part is for those that cannot (and for spam filters).
    """
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    paragraphs = [mark_safe(URL_PATTERN.sub(r'<a href="\1">\1</a>', escape(paragraph.strip())).replace("\n", "<br>"))
                  for paragraph in body.split("\n\n") if paragraph.strip()]
    html = render_to_string("ticketing/email/message.html", {
        "subject": subject, "paragraphs": paragraphs, "site": settings.PUBLIC_URL,
        "action_label": action[0] if action else "", "action_url": action[1] if action else "",
    })
    message.attach_alternative(html, "text/html")
    return message


def _booking_tickets_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    booking = Booking.objects.select_related("event__venue").get(pk=outgoing.object_id)
    tickets = booking_pdf_tickets(booking)
    if not tickets:  # cancelled (or all given away) before the e-mail went out
        return None
    event = booking.event
    link = f"{settings.PUBLIC_URL}{booking_pdf_url(booking, signed=True)}"
    body = (
        f"Hello {booking.customer_name},\n\n"
        f"thank you for your booking {booking.reference}: {len(tickets)} ticket(s) for {event.title}.\n"
        f"Your tickets are attached as a PDF (one page per seat; show the QR code at the door) and\n"
        f"the event as a calendar file. You can also download them here:\n{link}\n\n"
        + (f"Voucher {booking.voucher.code}: {booking.discount} {booking.currency} off; total paid {booking.total} "
           f"{booking.currency}.\n\n" if booking.discount else "")
        + f"Manage your bookings (cancel, transfer a ticket): {settings.PUBLIC_URL}/my-bookings/\n"
    )
    message = _message(subject=f"Your tickets for {event.title} ({booking.reference})", body=body,
                       to=booking.customer_email, action=("Manage booking", f"{settings.PUBLIC_URL}/my-bookings/"))
    message.attach(f"tickets-{booking.reference}.pdf", booking_pdf(booking.pk).read_bytes(), "application/pdf")
    message.attach("event.ics", event_ics(event), "text/calendar")
    return message


def _ticket_transfer_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    transfer = TicketTransfer.objects.select_related("to_ticket__booking__event__venue").get(pk=outgoing.object_id)
    ticket = transfer.to_ticket
    if ticket.status != TicketStatus.VALID:
        return None
    event = ticket.booking.event
    body = (
        f"Hello {transfer.to_name},\n\n"
        f"{transfer.from_name} has transferred a ticket for {event.title} to you.\n"
        f"It is attached as a PDF: show its QR code at the door. The calendar file is attached too.\n"
        f"Tickets received by transfer cannot be transferred again.\n"
    )
    message = _message(subject=f"A ticket for {event.title} from {transfer.from_name}", body=body,
                       to=transfer.to_email)
    message.attach(f"ticket-{ticket.pk}.pdf", ticket_pdf(ticket.pk).read_bytes(), "application/pdf")
    message.attach("event.ics", event_ics(event), "text/calendar")
    return message


def _offered_text(entry: WaitlistEntry) -> str:
    """"2 seat(s)", or for general-admission places (issue 15, no seat ids) "2 place(s)"."""
    if entry.offered_seat_ids:
        return f"{len(entry.offered_seat_ids)} seat(s)"
    return f"{entry.party_size} place(s)"


def _waitlist_offer_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    entry = WaitlistEntry.objects.select_related("event__venue").get(pk=outgoing.object_id)
    if entry.status != "offered":
        return None
    expires = venue_time_label(entry.offer_expires_at, entry.event.venue, "%H:%M")
    body = (
        f"Hello,\n\n"
        f"{_offered_text(entry)} for {entry.event.title} are now held for you until "
        f"{expires} ({settings.WAITLIST_OFFER_SECONDS // 60} minutes).\n"
        f"Open this link to check out:\n{settings.PUBLIC_URL}{waitlist_claim_url(entry)}\n\n"
        f"If you do not, they go to the next person on the waitlist.\n"
        f"Your waitlist entry: {settings.PUBLIC_URL}{waitlist_entry_url(entry)}\n"
    )
    return _message(subject=f"Seats for {entry.event.title} are waiting for you", body=body, to=entry.email,
                    action=("Check out now", f"{settings.PUBLIC_URL}{waitlist_claim_url(entry)}"))


def _waitlist_confirm_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    """Double opt-in: the link that puts the entry in line (and, from then on, its own page)."""
    entry = WaitlistEntry.objects.select_related("event").get(pk=outgoing.object_id)
    if entry.status != "pending":
        return None
    hours = settings.WAITLIST_CONFIRM_MAX_AGE_SECONDS // 3600
    body = (
        f"Hello,\n\n"
        f"someone (we hope you) asked to put this address on the waitlist for {entry.event.title} "
        f"({entry.party_size} seat(s)).\n"
        f"Open this link within {hours} hours to take your place in line:\n"
        f"{settings.PUBLIC_URL}{waitlist_confirm_url(entry)}\n\n"
        f"If it was not you, ignore this e-mail: nothing happens without the link.\n"
    )
    return _message(subject=f"Confirm your waitlist place for {entry.event.title}", body=body, to=entry.email,
                    action=("Confirm my place", f"{settings.PUBLIC_URL}{waitlist_confirm_url(entry)}"))


def _cancellation_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    cancellation = Cancellation.objects.select_related("booking__event").get(pk=outgoing.object_id)
    booking = cancellation.booking
    currency = booking.currency
    if not cancellation.refund:
        refund_text = "No refund is due."
    elif booking.is_box_office or cancellation.refund_reference.startswith(BOX_OFFICE_REFUND_PREFIX):
        refund_text = f"Refund: {cancellation.refund} {currency}, paid out at the box office."
    else:
        refund_text = f"Refund: {cancellation.refund} {currency} to the card you paid with."
    body = (
        f"Hello {booking.customer_name},\n\n{cancellation.get_reason_display()}.\n"
        f"Seats cancelled: {cancellation.booking_seats.count()}. {refund_text}"
        f" (fee {cancellation.fee} {currency}).\n\nEvently\n"
    )
    return _message(subject=f"{booking.event.title}: booking {booking.reference} — "
                            f"{cancellation.get_reason_display()}", body=body, to=booking.customer_email,
                    action=("My bookings", f"{settings.PUBLIC_URL}/my-bookings/"))


def _ticket_cancelled_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    """To the holder of a transferred ticket the organizer (or an event cancellation) cancelled."""
    ticket = Ticket.objects.select_related("booking__event", "booking_seat__event_seat__seat__section").get(
        pk=outgoing.object_id)
    event, seat = ticket.booking.event, ticket.booking_seat.event_seat.seat
    body = (
        f"Hello {ticket.holder_name},\n\n"
        f"your ticket for {event.title} ({seat.section.name}, row {seat.row_label}, seat {seat.number}) has been "
        f"cancelled by the organizer{' because the event was cancelled' if event.status == 'cancelled' else ''}.\n"
        f"Its QR code no longer admits anyone. The refund goes to the person who bought it.\n\nEvently\n"
    )
    return _message(subject=f"Your ticket for {event.title} was cancelled", body=body, to=outgoing.to)


def _magic_link_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    """The "my bookings" sign-in link, signed when it is sent (its lifetime starts then)."""
    url = f"{settings.PUBLIC_URL}/my-bookings/?{urlencode({'token': magic_link_token(outgoing.to)})}"
    body = (
        f"Hello,\n\nopen this link to see your bookings and tickets (it works for "
        f"{settings.MAGIC_LINK_MAX_AGE_SECONDS // 60} minutes):\n{url}\n\n"
        f"If you did not ask for it, ignore this e-mail.\n"
    )
    return _message(subject="Your bookings at Evently", body=body, to=outgoing.to, action=("See my bookings", url))


def _event_reminder_email(outgoing: OutgoingEmail) -> EmailMessage | None:
    """The day before: when the doors open, where the venue is, which seats, and the tickets again."""
    booking = Booking.objects.select_related("event__venue").get(pk=outgoing.object_id)
    tickets = booking_pdf_tickets(booking)
    event, venue = booking.event, booking.event.venue
    if not tickets or booking.status != "paid" or event.status == "cancelled" or event.starts_at <= timezone.now():
        return None
    zone = ZoneInfo(venue.timezone)
    starts = event.starts_at.astimezone(zone)
    doors = starts - timedelta(minutes=settings.TICKET_DOORS_BEFORE_MINUTES)
    place = ", ".join(part for part in (venue.name, venue.address, venue.city) if part)
    seats = "\n".join(f"- {ticket.booking_seat.event_seat.seat}" for ticket in tickets)
    body = (
        f"Hello {booking.customer_name},\n\n"
        f"{event.title} is tomorrow: doors open at {doors:%H:%M}, the event starts at {starts:%H:%M} "
        f"({starts:%A %d %B}, {venue.timezone}).\n\n"
        f"Where: {place}\nMap: https://www.openstreetmap.org/search?{urlencode({'query': place})}\n\n"
        f"Your seats (booking {booking.reference}):\n{seats}\n\n"
        f"Your tickets: {settings.PUBLIC_URL}{booking_pdf_url(booking, signed=True)}\n"
        f"Show the QR code at the door. Manage your booking: {settings.PUBLIC_URL}/my-bookings/\n"
    )
    return _message(subject=f"Tomorrow: {event.title} — doors open {doors:%H:%M}", body=body,
                    to=booking.customer_email, action=("Download tickets", f"{settings.PUBLIC_URL}"
                                                                           f"{booking_pdf_url(booking, signed=True)}"))


REMINDER_AHEAD = timedelta(hours=24)


def event_reminders_due() -> int:
    """Queue the reminder of every paid booking whose event starts within the next 24 hours, once each.

    Runs every minute; the outbox key (`event-reminder:<booking>`) keeps it to one e-mail per booking,
    and bookings already reminded are left out by the query, so a large sale is not re-read each minute.
    """
    now = timezone.now()
    reminded = OutgoingEmail.objects.filter(kind="event-reminder").values("object_id")
    due = (Booking.objects.filter(status="paid", event__status__in=["on_sale", "published", "sold_out"],
                                  event__starts_at__gt=now, event__starts_at__lte=now + REMINDER_AHEAD)
           .exclude(pk__in=reminded).values_list("pk", "customer_email")[:1000])
    queued = 0
    for booking_id, email in due:
        with transaction.atomic():
            email_enqueue(kind="event-reminder", object_id=booking_id, to=email)
        queued += 1
    return queued


EMAIL_BUILDERS = {
    "event-reminder": _event_reminder_email,
    "booking-tickets": _booking_tickets_email,
    "ticket-transfer": _ticket_transfer_email,
    "waitlist-offer": _waitlist_offer_email,
    "waitlist-confirm": _waitlist_confirm_email,
    "cancellation": _cancellation_email,
    "ticket-cancelled": _ticket_cancelled_email,
    "magic-link": _magic_link_email,
}


def magic_link_send(*, email: str, url: str = "") -> None:
    """Kept for tasks queued before magic links went through the outbox (`url` is made afresh)."""
    email_enqueue(kind="magic-link", object_id=0, to=email,
                  key=f"magic-link:{hashlib.sha256(email.encode()).hexdigest()[:32]}:{int(timezone.now().timestamp())}")
