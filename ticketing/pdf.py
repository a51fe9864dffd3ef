"""E-ticket PDFs: one A4 page per ticket, its QR code holding the ticket's signed token.

Pure rendering: `tickets_pdf_render` takes plain `TicketPage` values and returns PDF bytes, so
it can run anywhere (a django-q2 worker, a test) without a request. `ticket_pages` reads the
database into those values. Caching lives in `ticketing.services.delivery`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import qrcode
import reportlab
from django.conf import settings
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

TERMS = (
    "This ticket admits one person to the seat shown, once. Its QR code is checked at the door; "
    "a copy is worth nothing once the original has been scanned. A transferred or cancelled ticket "
    "is void. Keep it private: anyone holding the code can use it."
)
QR_SIZE = 90 * mm  # large: it must scan from a phone screen at arm's length
QR_QUIET_ZONE_MODULES = 4  # the minimum white border the QR standard asks for


@dataclass(frozen=True)
class TicketPage:
    ticket_id: int
    token: str
    event_title: str
    venue_name: str
    venue_address: str
    starts_at: datetime  # aware, in the venue's time zone
    doors_at: datetime
    section: str
    row: str
    seat_number: int
    category: str
    price: Decimal
    currency: str
    holder_name: str
    booking_reference: str


def ticket_pages(tickets) -> list[TicketPage]:
    """Tickets (with booking, event, venue and seat loaded or loadable) → what their pages show."""
    pages = []
    for ticket in tickets:
        booking = ticket.booking
        event = booking.event
        venue = event.venue
        if ticket.booking_seat_id is not None:
            event_seat = ticket.booking_seat.event_seat
            seat = event_seat.seat
            section, row, seat_number = seat.section.name, seat.row_label, seat.number
            category, price = event_seat.category.name, ticket.booking_seat.price
        else:  # general admission (issue 15): an area, no row or seat
            place = ticket.booking_place
            section, row, seat_number = place.event_area.section.name, "", 0
            category, price = place.event_area.category.name, place.price
        zone = ZoneInfo(venue.timezone or settings.TIME_ZONE)
        starts_at = event.starts_at.astimezone(zone)
        pages.append(TicketPage(
            ticket_id=ticket.pk, token=ticket.token, event_title=event.title, venue_name=venue.name,
            venue_address=", ".join(part for part in (venue.address, venue.city) if part),
            starts_at=starts_at, doors_at=starts_at - timedelta(minutes=settings.TICKET_DOORS_BEFORE_MINUTES),
            section=section, row=row, seat_number=seat_number,
            category=category, price=price, currency=booking.currency,
            holder_name=ticket.holder_name, booking_reference=booking.reference,
        ))
    return pages


# A fixed mask: choosing the "best" of eight (qrcode's default) was most of a ticket's rendering
# time, and any mask reads the same to a scanner.
QR_MASK_PATTERN = 2


def qr_matrix(token: str) -> list[list[bool]]:
    """The token's QR modules, the standard quiet zone included (True = dark)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QR_QUIET_ZONE_MODULES, mask_pattern=QR_MASK_PATTERN)
    code.add_data(token)
    code.make(fit=True)
    return code.get_matrix()


def qr_draw(canvas: Canvas, token: str, *, x: float, y: float, size: float) -> None:
    """Draw the token's QR code as vectors: one rectangle per run of dark modules, in module units
    (whole numbers, cheap to write), scaled onto the page. No image to encode."""
    matrix = qr_matrix(token)
    count = len(matrix)
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(size / count, size / count)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(0, 0, count, count, fill=1, stroke=0)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        bottom = count - row_index - 1
        column = 0
        while column < count:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < count and row[column]:
                column += 1
            path.rect(start, bottom, column - start, 1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, fill=1, stroke=0)
    canvas.restoreState()


def _fonts() -> tuple[str, str]:
    """Bitstream Vera (ships with reportlab): unlike the built-in Helvetica it draws any holder's name."""
    if "EventlyVera" not in pdfmetrics.getRegisteredFontNames():
        fonts = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont("EventlyVera", str(fonts / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("EventlyVeraBold", str(fonts / "VeraBd.ttf")))
    return "EventlyVera", "EventlyVeraBold"


def tickets_pdf_render(pages: list[TicketPage]) -> bytes:
    """One A4 page per ticket; the same pages always give a PDF that shows the same."""
    regular, bold = _fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle("Tickets")
    width, height = A4
    left = 20 * mm
    for page in pages:
        y = height - 25 * mm
        canvas.setFont(bold, 20)
        canvas.drawString(left, y, page.event_title[:60])
        y -= 9 * mm
        canvas.setFont(regular, 12)
        canvas.drawString(left, y, page.venue_name)
        y -= 6 * mm
        if page.venue_address:
            canvas.drawString(left, y, page.venue_address[:90])
            y -= 6 * mm
        zone = page.starts_at.tzname() or ""
        canvas.drawString(left, y, f"{page.starts_at:%A %d %B %Y}, starts {page.starts_at:%H:%M} {zone}")
        y -= 6 * mm
        canvas.drawString(left, y, f"Doors open {page.doors_at:%H:%M} {zone}")
        y -= 12 * mm
        canvas.setFont(bold, 16)
        canvas.drawString(left, y, f"{page.section} · Row {page.row} · Seat {page.seat_number}" if page.seat_number
                          else f"{page.section} · General admission")
        y -= 8 * mm
        canvas.setFont(regular, 12)
        canvas.drawString(left, y, f"{page.category} · {page.price} {page.currency}")
        y -= 6 * mm
        canvas.drawString(left, y, f"Holder: {page.holder_name[:80]}")
        y -= 6 * mm
        canvas.drawString(left, y, f"Booking {page.booking_reference} · Ticket {page.ticket_id}")
        y -= 6 * mm
        qr_top = y
        qr_draw(canvas, page.token, x=(width - QR_SIZE) / 2, y=qr_top - QR_SIZE, size=QR_SIZE)
        text = canvas.beginText(left, qr_top - QR_SIZE - 10 * mm)
        text.setFont(regular, 8)
        for line in _wrap(TERMS, 110):
            text.textLine(line)
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])
