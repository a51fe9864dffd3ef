"""A booking as an iCalendar event (RFC 5545): what "Add to calendar" downloads."""

from __future__ import annotations

from datetime import UTC, datetime

from ticketing.models import Booking


def _ics_text(value: str) -> str:
    """Escape TEXT per RFC 5545 3.3.11 (backslash, semicolon, comma, newline)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start = [], 0
    while start < len(data):
        end = min(start + (75 if not parts else 74), len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def booking_ics(booking: Booking, *, seats: list[dict], url: str) -> str:
    """One VEVENT: the event's time and place, the booking reference and its seats, a link to manage it."""
    event, venue = booking.event, booking.event.venue
    place = ", ".join(part for part in (venue.name, venue.address, venue.city) if part)
    seat_lines = "\n".join(seat["label"] for seat in seats)
    description = f"Booking {booking.reference}\n{seat_lines}\nManage your booking: {url}"
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Evently//Tickets//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:booking-{booking.pk}-{booking.reference}@evently",
        f"DTSTAMP:{_ics_time(booking.created_at)}",
        f"DTSTART:{_ics_time(event.starts_at)}",
        f"DTEND:{_ics_time(event.ends_at)}",
        f"SUMMARY:{_ics_text(event.title)}",
        f"LOCATION:{_ics_text(place)}",
        f"DESCRIPTION:{_ics_text(description)}",
        f"URL:{url}",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
