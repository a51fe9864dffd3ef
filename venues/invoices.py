"""The venue invoice: the rental fee and add-ons summed, the deposit paid deducted; as data and as PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from venues.models import VenueBooking, VenueBookingStatus


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    amount: Decimal


@dataclass(frozen=True)
class Invoice:
    number: str
    booking: VenueBooking
    lines: list[InvoiceLine]
    total: Decimal
    deposit_paid: Decimal
    balance_due: Decimal


def venue_booking_invoice(booking: VenueBooking) -> Invoice:
    lines = [InvoiceLine(f"Venue hire: {booking.venue.name}, {booking.blocked_from:%d %b %Y %H:%M} – "
                         f"{booking.blocked_until:%d %b %Y %H:%M} (setup {booking.setup_hours} h, "
                         f"teardown {booking.teardown_hours} h)", booking.rental_fee)]
    lines += [InvoiceLine(f"{add_on.get_type_display()}: {add_on.description}", add_on.cost)
              for add_on in booking.add_ons.all()]
    total = sum((line.amount for line in lines), Decimal("0"))
    paid = booking.deposit_amount if (booking.deposit_payment_reference
                                      or (booking.status == VenueBookingStatus.CONFIRMED
                                          and not booking.deposit_amount)) else Decimal("0")
    return Invoice(number=f"VB-{booking.pk:06d}", booking=booking, lines=lines, total=total, deposit_paid=paid,
                   balance_due=total - paid)


def venue_booking_invoice_pdf(booking: VenueBooking) -> bytes:
    """An A4 PDF of the invoice (reportlab); pure rendering, no database writes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    invoice = venue_booking_invoice(booking)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"Invoice {invoice.number}")
    width, height = A4
    y = height - 25 * mm
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(20 * mm, y, f"Invoice {invoice.number}")
    pdf.setFont("Helvetica", 10)
    y -= 10 * mm
    for text in (booking.venue.name, booking.venue.address or booking.venue.city,
                 f"Booking #{booking.pk}: {booking.title} ({booking.get_status_display()})",
                 f"Organizer: {booking.organizer.get_username() if booking.organizer else '-'}"):
        pdf.drawString(20 * mm, y, text)
        y -= 6 * mm
    y -= 6 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(20 * mm, y, "Item")
    pdf.drawRightString(width - 20 * mm, y, "Amount (EUR)")
    pdf.line(20 * mm, y - 2 * mm, width - 20 * mm, y - 2 * mm)
    pdf.setFont("Helvetica", 10)
    y -= 8 * mm
    for line in invoice.lines:
        if y < 40 * mm:
            pdf.showPage()
            pdf.setFont("Helvetica", 10)
            y = height - 25 * mm
        pdf.drawString(20 * mm, y, line.description[:95])
        pdf.drawRightString(width - 20 * mm, y, f"{line.amount:,.2f}")
        y -= 6 * mm
    pdf.line(20 * mm, y + 2 * mm, width - 20 * mm, y + 2 * mm)
    y -= 4 * mm
    for label, amount, bold in (("Total", invoice.total, True), ("Deposit paid", -invoice.deposit_paid, False),
                                ("Balance due", invoice.balance_due, True)):
        pdf.setFont("Helvetica-Bold" if bold else "Helvetica", 10)
        pdf.drawString(120 * mm, y, label)
        pdf.drawRightString(width - 20 * mm, y, f"{amount:,.2f}")
        y -= 6 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
