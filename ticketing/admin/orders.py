"""Managing an order from its booking page (issue 18): cancel all or chosen seats with a full refund
or the event's policy, e-mail the tickets again, correct a holder's name (same QR or a new one), and
the booking's history.

The booking itself stays read-only: every change goes through a service (`booking_seats_cancel`,
`booking_tickets_resend`, `ticket_holder_correct`). Each view fetches the booking through the
scoped `get_queryset`, so another organizer's booking is a 404, and changing needs the
"change booking" permission on top.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from evently.errors import DomainError
from ticketing.admin import records
from ticketing.models import Booking, BookingSeat, BookingStatus, Ticket, TicketStatus
from ticketing.services.cancellation import (
    ORGANIZER_REFUND_FULL,
    ORGANIZER_REFUND_POLICY,
    booking_seats_cancel,
    cancellation_policy_text,
    cancellation_quote,
)
from ticketing.services.delivery import booking_pdf
from ticketing.services.orders import booking_history, booking_tickets_resend, ticket_holder_correct
from venues.localtime import venue_time_label

REFUND_CHOICES = [
    (ORGANIZER_REFUND_FULL, "Full refund of every cancelled seat"),
    (ORGANIZER_REFUND_POLICY, "The event's cancellation policy (its fees, non-refundable seats and deadline)"),
]


class CancelSeatsForm(forms.Form):
    seats = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Seats to cancel")
    refund = forms.ChoiceField(choices=REFUND_CHOICES, widget=forms.RadioSelect, initial=ORGANIZER_REFUND_FULL)

    def __init__(self, *args, booking_seats: list[BookingSeat], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seats"].choices = [(str(bs.event_seat_id), f"{bs.event_seat.seat.label} — {bs.price}")
                                        for bs in booking_seats]
        self.fields["seats"].initial = [str(bs.event_seat_id) for bs in booking_seats]


class HolderForm(forms.Form):
    holder_name = forms.CharField(max_length=200, label="Holder's name")
    reissue = forms.BooleanField(required=False, label="Reissue the ticket with a new QR code",
                                 help_text="The old code stops admitting anyone. Leave unticked to keep the QR "
                                           "code the guest already has; the name changes on the PDF either way.")


class BookingAdmin(records.BookingAdmin):
    readonly_fields = ["manage", "history"]
    change_form_template = "admin/ticketing/booking/change_form_tools.html"
    fieldsets = [
        (None, {"fields": ["event", "reference", "status", "customer_name", "customer_email", "customer_phone",
                           "total", "voucher", "discount", "refund_amount", "currency", "created_at", "paid_at",
                           "cancelled_at"]}),
        ("Manage", {"fields": ["manage"]}),
        ("History", {"fields": ["history"]}),
        ("Payment and technical details", {"classes": ["collapse"], "fields": [
            "payment_reference", "refund_reference", "failure_reason", "buyer", "user", "idempotency_key",
            "client_key", "expires_at", "hold_expires_at"]}),
    ]

    @admin.display(description="Manage")
    def manage(self, booking):
        if not booking.pk:
            return "—"
        links = [(reverse("admin:ticketing_booking_cancel", args=[booking.pk]), "Cancel seats…"),
                 (reverse("admin:ticketing_booking_receipt", args=[booking.pk]), "Receipt"),
                 (reverse("admin:ticketing_booking_tickets_pdf", args=[booking.pk]), "Tickets (PDF)")]
        links += [(reverse("admin:ticketing_booking_holder", args=[booking.pk, ticket.pk]),
                   f"Holder of ticket {ticket.pk} ({ticket.holder_name})")
                  for ticket in booking.tickets.filter(status=TicketStatus.VALID).order_by("pk")]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description="History")
    def history(self, booking):
        if not booking.pk:
            return "—"
        venue = booking.event.venue
        rows = format_html_join("", "<tr><td style='white-space:nowrap'>{}</td><td>{}</td><td>{}</td></tr>",
                                ((venue_time_label(entry.at, venue, "%Y-%m-%d %H:%M:%S"), entry.kind, entry.text)
                                 for entry in booking_history(booking=booking)))
        return format_html('<table class="booking-history"><thead><tr><th>When (venue time)</th><th>What</th>'
                           "<th>Details</th></tr></thead><tbody>{}</tbody></table>", rows)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:booking_id>/cancel/", wrap(self.cancel_view), name="ticketing_booking_cancel"),
            path("<int:booking_id>/resend/", wrap(require_POST(self.resend_view)), name="ticketing_booking_resend"),
            path("<int:booking_id>/tickets/<int:ticket_id>/holder/", wrap(self.holder_view),
                 name="ticketing_booking_holder"),
            path("<int:booking_id>/receipt/", wrap(self.receipt_view), name="ticketing_booking_receipt"),
            path("<int:booking_id>/tickets.pdf", wrap(self.tickets_pdf_view), name="ticketing_booking_tickets_pdf"),
        ] + super().get_urls()

    def may_manage(self, request, booking) -> bool:
        """Change permission on bookings, and the booking is the organizer's (a superuser's: any)."""
        return request.user.has_perm("ticketing.change_booking") and self.is_own(request, booking)

    def _booking(self, request, booking_id: int) -> Booking:
        booking = self.get_queryset(request).select_related("event__venue").filter(pk=booking_id).first()
        if booking is None:
            raise Http404("No such booking.")
        if not self.may_manage(request, booking):
            raise PermissionDenied
        return booking

    def _context(self, request, booking, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "original": booking,
                "booking": booking, "title": title, **extra}

    def _back(self, booking):
        return redirect("admin:ticketing_booking_change", booking.pk)

    def cancel_view(self, request, booking_id: int):
        booking = self._booking(request, booking_id)
        active = list(booking.booking_seats.filter(is_active=True)
                      .select_related("event_seat__seat__section").order_by("event_seat_id"))
        if booking.status != BookingStatus.PAID or not active:
            messages.error(request, f"Booking {booking.reference} has no paid seats left to cancel.")
            return self._back(booking)
        form = CancelSeatsForm(request.POST or None, booking_seats=active)
        if request.method == "POST" and form.is_valid():
            chosen = sorted(int(seat_id) for seat_id in form.cleaned_data["seats"])
            try:
                cancellation = booking_seats_cancel(
                    booking_id=booking.pk, owner=None, user=request.user,
                    seat_ids=None if len(chosen) == len(active) else chosen,
                    organizer_refund=form.cleaned_data["refund"])
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Cancelled {len(chosen)} seat(s) of {booking.reference}: "
                                          f"{cancellation.get_reason_display().lower()}, refund {cancellation.refund} "
                                          f"{booking.currency}.")
                return self._back(booking)
        now_quotes = {
            choice: cancellation_quote(event=booking.event, booking_seats=active,
                                       full_refund=choice == ORGANIZER_REFUND_FULL,
                                       at=None if choice == ORGANIZER_REFUND_FULL else timezone.now())
            for choice, _ in REFUND_CHOICES
        }
        return TemplateResponse(request, "admin/ticketing/booking/cancel.html", self._context(
            request, booking, f"Cancel seats of {booking.reference}", form=form,
            policy=cancellation_policy_text(booking.event),
            full_refund=now_quotes[ORGANIZER_REFUND_FULL].refund,
            policy_refund=now_quotes[ORGANIZER_REFUND_POLICY].refund))

    def receipt_view(self, request, booking_id: int):
        """A printable receipt (what was sold, at which price and tier, how it was paid) with the tickets' PDF."""
        booking = self._booking(request, booking_id)
        seats = list(booking.booking_seats.select_related("event_seat__seat__section", "event_seat__category", "tier")
                     .order_by("event_seat_id"))
        sale = getattr(booking, "box_office_sale", None) if booking.buyer.startswith("boxoffice:") else None
        return TemplateResponse(request, "admin/ticketing/booking/receipt.html", self._context(
            request, booking, f"Receipt {booking.reference}", seats=seats, sale=sale,
            paid_at=venue_time_label(booking.paid_at, booking.event.venue),
            starts_at=venue_time_label(booking.event.starts_at, booking.event.venue, "%a %d %b %Y, %H:%M")))

    def tickets_pdf_view(self, request, booking_id: int):
        booking = self._booking(request, booking_id)
        if not Ticket.objects.filter(booking=booking, status=TicketStatus.VALID).exists():
            raise Http404("This booking has no valid tickets.")
        return FileResponse(booking_pdf(booking.pk).open("rb"), content_type="application/pdf",
                            filename=f"tickets-{booking.reference}.pdf")

    def resend_view(self, request, booking_id: int):
        booking = self._booking(request, booking_id)
        try:
            booking_tickets_resend(booking_id=booking.pk, user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"The tickets of {booking.reference} are being e-mailed again to "
                                      f"{booking.customer_email}.")
        return self._back(booking)

    def holder_view(self, request, booking_id: int, ticket_id: int):
        booking = self._booking(request, booking_id)
        ticket = Ticket.objects.filter(pk=ticket_id, booking=booking, status=TicketStatus.VALID).first()
        if ticket is None:
            raise Http404("No such valid ticket in this booking.")
        form = HolderForm(request.POST or None, initial={"holder_name": ticket.holder_name})
        if request.method == "POST" and form.is_valid():
            try:
                ticket_holder_correct(ticket_id=ticket.pk, name=form.cleaned_data["holder_name"],
                                      reissue=form.cleaned_data["reissue"], user=request.user)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Ticket {ticket.pk} now reads “{form.cleaned_data['holder_name']}”"
                                 + (" with a new QR code." if form.cleaned_data["reissue"] else "; same QR code."))
                return self._back(booking)
        return TemplateResponse(request, "admin/ticketing/booking/holder.html", self._context(
            request, booking, f"Holder of ticket {ticket.pk}", form=form, ticket=ticket))


admin.site.unregister(Booking)
admin.site.register(Booking, BookingAdmin)
