"""Venue tools in the admin: create from a template with an SVG preview, regenerate safely,
accessibility flags on a seat map, venue bookings with deposits, add-ons, invoices and a calendar."""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from evently.admin import OrganizerScopedAdmin, OrganizerScopedInline, is_organizer_scope
from evently.errors import DomainError
from venues.admin_localtime import (
    VenueLocalTimesAdmin,
    VenueLocalTimesInline,
    venue_local_date_filter,
    venue_time_column,
)
from venues.bookings import venue_booking_cancel, venue_booking_pay_deposit, venue_booking_save
from venues.forms import (
    TEMPLATE_VENUE_TYPES,
    DepositForm,
    TemplateLayoutForm,
    VenueBookingForm,
    VenueChangeForm,
    VenueFromTemplateForm,
)
from venues.invoices import venue_booking_invoice, venue_booking_invoice_pdf
from venues.localtime import venue_time_label, zone_choices, zone_of
from venues.models import VENUE_FREEING_STATUSES, Section, Venue, VenueBooking, VenueBookingAddOn
from venues.seatmap import SECTION_VIEW_THRESHOLD, seatmap_data, section_overview
from venues.services import (
    ACCESSIBILITY_FLAGS,
    layout_generate,
    seats_accessibility_set,
    venue_build_from_template,
    venue_regenerate,
)
from venues.svg import layout_svg


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["name", "position", "is_general_admission", "capacity"]  # GA: an area of places (issue 15)
    extra = 0
    show_change_link = True


@admin.register(Venue)
class VenueAdmin(OrganizerScopedAdmin):
    """Venues are shared: every organizer sees them all (to book them and sell events in them) but
    changes, regenerates or deletes only the venues they created; platform venues (no organizer)
    are for superusers to change."""

    organizer_path = "organizer"
    organizer_owner_field = "organizer"
    organizer_sees_all_rows = True
    list_display = ["name", "city", "venue_type", "capacity", "is_active", "tools"]
    list_filter = ["venue_type", "is_active", "city"]
    search_fields = ["name", "city"]
    readonly_fields = ["capacity", "tools"]
    form = VenueChangeForm
    exclude = ["facilities", "map_meta"]  # edited through VenueChangeForm's fields, never as raw JSON

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "timezone":  # a list of real zones, not free text a typo could break
            return forms.ChoiceField(choices=zone_choices, initial="Europe/Berlin", label="Time zone",
                                     help_text="Every date and time of its events is typed and shown in this zone.")
        return super().formfield_for_dbfield(db_field, request, **kwargs)
    inlines = [SectionInline]
    change_form_template = "admin/venues/venue/change_form_tools.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:venue_id>/regenerate/", wrap(self.regenerate_view), name="venues_venue_regenerate"),
            path("<int:venue_id>/seats/", wrap(self.seats_view), name="venues_venue_seats"),
            path("<int:venue_id>/calendar/", wrap(self.calendar_view), name="venues_venue_calendar"),
        ] + super().get_urls()

    @admin.display(description="Tools")
    def tools(self, venue):
        if not venue.pk:
            return "-"
        return format_html(
            '<a href="{}">Seats &amp; accessibility</a> · <a href="{}">Calendar</a> · <a href="{}">Regenerate</a>',
            reverse("admin:venues_venue_seats", args=[venue.pk]),
            reverse("admin:venues_venue_calendar", args=[venue.pk]),
            reverse("admin:venues_venue_regenerate", args=[venue.pk]))

    def _venue(self, request, venue_id: int, *, change: bool = False) -> Venue:
        venue = self.get_queryset(request).filter(pk=venue_id).first()
        if venue is None:
            raise Http404("No such venue.")
        if change and not self.has_change_permission(request, venue):
            raise PermissionDenied
        return venue

    # --- create from a template, with a preview ------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = VenueFromTemplateForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            template, params = form.cleaned_data["template"], form.layout_params()
            try:
                layout = layout_generate(template=template, params=params)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if "_preview" in request.POST:
                    preview = {"svg": mark_safe(layout_svg(layout)), "capacity": layout.capacity,
                               "sections": len(layout.sections)}
                else:
                    with transaction.atomic():
                        venue = Venue.objects.create(
                            name=form.cleaned_data["name"], city=form.cleaned_data["city"],
                            address=form.cleaned_data["address"], timezone=form.cleaned_data["timezone"],
                            venue_type=TEMPLATE_VENUE_TYPES[template],
                            organizer=request.user if is_organizer_scope(request) else None)
                        venue_build_from_template(venue=venue, template=template, params=params)
                    self.log_addition(request, venue, [{"added": {}}])
                    messages.success(request, f"Venue “{venue.name}” created with {venue.capacity:,} seats.")
                    return redirect("admin:venues_venue_change", venue.pk)
        return TemplateResponse(request, "admin/venues/venue/template_form.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "preview": preview,
            "title": "Add venue from a template", "submit_label": "Save venue",
        })

    def regenerate_view(self, request, venue_id: int):
        venue = self._venue(request, venue_id, change=True)
        form = TemplateLayoutForm(request.POST or None, initial={"template": venue.venue_type
                                                                 if venue.venue_type != "other" else "theater"})
        preview = None
        if request.method == "POST" and form.is_valid():
            template, params = form.cleaned_data["template"], form.layout_params()
            try:
                if "_preview" in request.POST:
                    layout = layout_generate(template=template, params=params)
                    preview = {"svg": mark_safe(layout_svg(layout)), "capacity": layout.capacity,
                               "sections": len(layout.sections)}
                elif is_organizer_scope(request) and venue.events.filter(ends_at__gt=timezone.now()) \
                        .exclude(organizer=request.user).exists():
                    # Regenerating drops the unsold inventory of every coming event at the venue.
                    messages.error(request, "Other organizers have coming events at this venue: only a platform "
                                            "administrator can regenerate its seats.")
                else:
                    result = venue_regenerate(venue=venue, template=template, params=params)
                    note = ""
                    if result.event_ids:
                        note = (f" The unsold inventory of {len(result.event_ids)} event(s) was removed: "
                                "create their inventory again from the event page.")
                    messages.success(request, f"Seats of “{venue.name}” regenerated: {result.layout.capacity:,} "
                                              f"seats.{note}")
                    return redirect("admin:venues_venue_change", venue.pk)
            except DomainError as error:
                messages.error(request, error.message)
        return TemplateResponse(request, "admin/venues/venue/template_form.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "preview": preview,
            "original": venue, "title": f"Regenerate the seats of {venue.name}", "submit_label": "Regenerate seats",
            "current_svg": None,
        })

    # --- accessibility flags on the seat map ---------------------------------------------------

    def seats_view(self, request, venue_id: int):
        venue = self._venue(request, venue_id)
        if request.method == "POST":
            if not self.has_change_permission(request, venue):
                raise PermissionDenied
            seat_ids = seat_ids_posted(request)
            action = request.POST.get("action", "")
            flags = {"clear": dict.fromkeys(ACCESSIBILITY_FLAGS, False)}.get(action)
            if flags is None and action in ACCESSIBILITY_FLAGS:
                flags = {action: True}
            if not seat_ids or flags is None:
                messages.error(request, "Select seats and an action.")
            else:
                count = seats_accessibility_set(venue_id=venue.pk, seat_ids=seat_ids, flags=flags)
                messages.success(request, f"Updated {count} seat(s).")
            return redirect(request.get_full_path())
        return seatmap_response(
            self, request, venue=venue, original=venue, template="admin/venues/venue/seats.html",
            title=f"Seats of {venue.name}",
            seats=lambda section_id: seatmap_data(venue=venue, section_id=section_id),
            overview=lambda: section_overview(venue=venue))

    # --- calendar ------------------------------------------------------------------------------

    def calendar_view(self, request, venue_id: int):
        venue = self._venue(request, venue_id)
        tz = zone_of(venue)  # the venue's days, not the server's
        today = timezone.localdate(timezone=tz)
        try:
            year, month = (int(part) for part in request.GET.get("month", f"{today:%Y-%m}").split("-"))
            first = date(year, month, 1)
        except ValueError:
            first = today.replace(day=1)
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        range_start = datetime.combine(weeks[0][0], time.min, tz)
        range_end = datetime.combine(weeks[-1][-1] + timedelta(days=1), time.min, tz)
        bookings = list(VenueBooking.objects.filter(venue=venue).exclude(status__in=VENUE_FREEING_STATUSES)
                        .filter(blocked_period__overlap=(range_start, range_end)).select_related("organizer"))
        scoped = is_organizer_scope(request)
        grid = []
        for week in weeks:
            row = []
            for day in week:
                day_start = datetime.combine(day, time.min, tz)
                day_end = day_start + timedelta(days=1)
                entries = []
                for booking in bookings:
                    if booking.blocked_from < day_end and booking.blocked_until > day_start:
                        own = not scoped or booking.organizer_id == request.user.pk
                        entries.append({
                            "booking": booking, "own": own,
                            "label": booking.title if own else "Booked",
                            "is_padding": not (booking.start < day_end and booking.end > day_start),
                            "url": reverse("admin:venues_venuebooking_change", args=[booking.pk]) if own else "",
                        })
                row.append({"date": day, "in_month": day.month == first.month, "entries": entries})
            grid.append(row)
        previous_month = (first - timedelta(days=1)).replace(day=1)
        next_month = (first + timedelta(days=32)).replace(day=1)
        return TemplateResponse(request, "admin/venues/venue/calendar.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": venue,
            "title": f"{venue.name}: bookings in {first:%B %Y}", "grid": grid, "first": first,
            "previous_month": f"{previous_month:%Y-%m}", "next_month": f"{next_month:%Y-%m}",
            "weekdays": [calendar.day_abbr[index] for index in range(7)],
            "add_url": reverse("admin:venues_venuebooking_add") + f"?venue={venue.pk}",
        })


MAX_ID = 2**63 - 1  # a bigger number would make Postgres fail the query: treat it as no such seat


def id_or_none(raw: str | None) -> int | None:
    """A positive id from a form or query value, or None for anything else."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and int(raw) <= MAX_ID else None


def seat_ids_posted(request) -> list[int]:
    """The seat ids a seat-map page posted (`seat_ids=1,2,3`), sorted and de-duplicated."""
    ids = (id_or_none(part) for part in request.POST.get("seat_ids", "").split(",")[:100_000])
    return sorted({seat_id for seat_id in ids if seat_id is not None})


def seatmap_response(model_admin, request, *, venue: Venue, original, template: str, title: str,
                     seats: Callable[[int | None], dict], overview: Callable[[], list[dict]], extra=None):
    """A seat-map page: a section overview for large venues, otherwise (or for one section) the seats.

    `seats(section_id)` and `overview()` give the data (`venues.seatmap` for a venue's own seats;
    ticketing passes an event's), so the page works for any app that draws on a venue's seats.
    """
    section_id = id_or_none(request.GET.get("section"))
    large = venue.capacity > SECTION_VIEW_THRESHOLD
    context = {
        **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
        "original": original, "venue": venue, "event": original if original is not venue else None, "title": title,
        "sections": list(Section.objects.filter(venue=venue).order_by("position", "id")),
        "section_id": section_id, **(extra or {}),
    }
    meta = venue.map_meta or {}
    if large and section_id is None:
        context["overview"] = overview()
        context["overview_viewbox"] = f"0 0 {meta.get('width', 1000)} {meta.get('height', 800)}"
        context["stage"] = meta.get("stage")
    else:
        data = seats(section_id)
        context["seatmap_json"] = mark_safe(json.dumps(data).replace("</", "<\\/"))
        context["seat_count"] = len(data["seats"])
    return TemplateResponse(request, template, context)


class VenueBookingAddOnInline(VenueLocalTimesInline, OrganizerScopedInline, admin.TabularInline):
    model = VenueBookingAddOn
    extra = 1
    fields = ["type", "description", "cost"]


@admin.register(VenueBooking)
class VenueBookingAdmin(VenueLocalTimesAdmin, OrganizerScopedAdmin):
    form = VenueBookingForm
    list_display = ["title", "venue", "start_local", "end_local", "setup_hours", "teardown_hours", "status",
                    "deposit_amount", "organizer"]
    list_filter = [venue_local_date_filter("start", "venue", "start date (venue time)"), "status", "venue"]
    search_fields = ["title", "venue__name"]
    inlines = [VenueBookingAddOnInline]
    readonly_fields = ["status", "deposit_payment_reference", "blocked_window", "invoice_summary", "organizer",
                       "confirmed_at", "cancelled_at"]
    list_select_related = ["venue", "organizer"]
    change_form_template = "admin/venues/venuebooking/change_form_tools.html"
    actions = ["cancel_selected"]
    organizer_path = "organizer"
    organizer_choice_paths = {"event": "organizer"}  # an organizer books the venue for their own events only
    organizer_owner_field = "organizer"
    venue_path = "venue"

    start_local = venue_time_column("start", "venue", "Starts (venue time)")
    end_local = venue_time_column("end", "venue", "Ends (venue time)")

    def has_delete_permission(self, request, obj=None):
        # Bookings are cancelled (which frees the venue and refunds the deposit), not deleted.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # Clash messages name only this organizer's own bookings (a superuser's, all).
        form.organizer_id = request.user.pk if is_organizer_scope(request) else None
        return form

    @admin.display(description="Venue blocked (setup → teardown)")
    def blocked_window(self, booking):
        if not booking.pk:
            return "-"
        return f"{venue_time_label(booking.blocked_from, booking.venue)} → " \
               f"{venue_time_label(booking.blocked_until, booking.venue)}"

    @admin.display(description="Invoice")
    def invoice_summary(self, booking):
        if not booking.pk:
            return "-"
        invoice = venue_booking_invoice(booking)
        return format_html('Total €{} · deposit paid €{} · balance €{} — <a href="{}">PDF</a>', invoice.total,
                           invoice.deposit_paid, invoice.balance_due,
                           reverse("admin:venues_venuebooking_invoice", args=[booking.pk]))

    def save_model(self, request, obj, form, change):
        self.organizer_owner_set(request, obj, change)
        venue_booking_save(booking=obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # the race the form's check could not see: the constraint said no
            messages.error(request, error.message)
            return redirect(request.get_full_path())

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:booking_id>/deposit/", wrap(self.deposit_view), name="venues_venuebooking_deposit"),
            path("<int:booking_id>/invoice.pdf", wrap(self.invoice_view), name="venues_venuebooking_invoice"),
        ] + super().get_urls()

    def _booking(self, request, booking_id: int) -> VenueBooking:
        booking = self.get_queryset(request).filter(pk=booking_id).first()
        if booking is None:
            raise Http404("No such venue booking.")
        return booking

    def deposit_view(self, request, booking_id: int):
        booking = self._booking(request, booking_id)
        if not self.has_change_permission(request, booking):
            raise PermissionDenied
        form = DepositForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                venue_booking_pay_deposit(booking_id=booking.pk, payment_token=form.cleaned_data["payment_token"])
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Deposit of €{booking.deposit_amount} paid: booking #{booking.pk} "
                                          "is confirmed.")
                return redirect("admin:venues_venuebooking_change", booking.pk)
        return TemplateResponse(request, "admin/venues/venuebooking/deposit.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": booking, "form": form,
            "title": f"Pay the deposit for {booking.title}",
        })

    def invoice_view(self, request, booking_id: int):
        booking = self._booking(request, booking_id)
        response = HttpResponse(venue_booking_invoice_pdf(booking), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="invoice-VB-{booking.pk:06d}.pdf"'
        return response

    @admin.action(description="Cancel selected bookings (refunds paid deposits)")
    def cancel_selected(self, request, queryset):
        for booking in queryset:
            venue_booking_cancel(booking_id=booking.pk)
        messages.success(request, f"Cancelled {queryset.count()} booking(s).")
