"""Ticketing's screens on an event in the admin: the section → category step that creates the seat
inventory, the seat map (block, unblock, box-office sale), the report with its CSV exports, and
cancelling events with full refunds; plus the sales figures on categories and pricing tiers.

Events owns its admin (`events.admin`); ticketing extends it here and registers the extension in
its place, so the URLs and templates stay where they were (`admin:events_event_*`,
`admin/events/event/*.html`). Every custom view fetches its event through `get_queryset`, so
another organizer's event is a 404.
"""

from __future__ import annotations

import csv
import re
import time

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from evently.errors import DomainError, InvalidInput
from events import admin as events_admin
from events.models import Event, SeatCategory
from ticketing.admin.vouchers import VoucherInline
from ticketing.charts import category_status_svg, sales_over_time_svg
from ticketing.event_seatmap import event_seatmap_data, event_section_overview
from ticketing.models import EventArea, EventSeat
from ticketing.reports import (
    ATTENDEE_CSV_HEADER,
    BOOKING_CSV_HEADER,
    attendee_csv_rows,
    booking_csv_rows,
    event_report,
)
from ticketing.services import (
    Customer,
    boxoffice_sell,
    boxoffice_sell_card,
    event_cancel,
    event_inventory_create,
    seats_block,
    seats_unblock,
)
from ticketing.services.pricing import categories_current_price, tier_seats_used
from venues.admin import seat_ids_posted, seatmap_response
from venues.localtime import venue_time_label
from venues.models import Section


class SeatCategoryInline(events_admin.SeatCategoryInline):
    fields = [*events_admin.SeatCategoryInline.fields, "current_price", "tiers"]
    readonly_fields = ["current_price", "tiers"]

    @admin.display(description="Pricing tiers")
    def tiers(self, category):
        """The category's tiers on the event page, in venue time, with a link to edit them (issue 18)."""
        if not category.pk:
            return "—"
        tiers = list(category.tiers.order_by("position", "id"))
        used = tier_seats_used(tier.pk for tier in tiers if tier.quota is not None)
        venue = category.event.venue
        parts = []
        for tier in tiers:
            quota = f", {used.get(tier.pk, 0)}/{tier.quota} used" if tier.quota is not None else ""
            start = f", from {venue_time_label(tier.available_from, venue)}" if tier.available_from else ""
            until = f", until {venue_time_label(tier.available_until, venue)}" if tier.available_until else ""
            parts.append(f"{tier.name} {tier.price}{quota}{start}{until}")
        link = reverse("admin:events_seatcategory_change", args=[category.pk]) + "#tiers-group"
        return format_html('{} · <a href="{}">{}</a>', "; ".join(parts) or "none",
                           link, "edit tiers" if tiers else "add tiers")

    @admin.display(description="Current price (tier)")
    def current_price(self, category):
        if not category.pk:
            return "—"
        current = categories_current_price([category])[category.pk]
        tier = current["tier"]
        return f"{current['price']} ({tier['name'] if tier else 'base price'})"


class PricingTierInline(events_admin.PricingTierInline):
    fields = [*events_admin.PricingTierInline.fields, "seats_used", "is_active"]
    readonly_fields = ["seats_used", "is_active"]

    @admin.display(description="Held or sold")
    def seats_used(self, tier):
        if not tier.pk:
            return "—"
        used = tier_seats_used([tier.pk]).get(tier.pk, 0)
        return f"{used} / {tier.quota}" if tier.quota is not None else str(used)

    @admin.display(description="Selling now", boolean=True)
    def is_active(self, tier):
        if not tier.pk:
            return None
        current = categories_current_price([tier.category])[tier.category_id]["tier"]
        return bool(current and current["id"] == tier.pk)


class InventoryForm(forms.Form):
    """One category choice per venue section; "not sold" leaves the section out."""

    def __init__(self, *args, sections, categories, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not sold —")] + [(str(c.pk), f"{c.name} (€{c.price})") for c in categories]
        for section in sections:
            self.fields[f"section_{section.pk}"] = forms.ChoiceField(
                label=f"{section.name} ({section.seat_count} seats)", choices=choices, required=False,
                initial=initial_mapping.get(section.pk, ""))

    def mapping(self) -> dict[int, int]:
        return {int(name.removeprefix("section_")): int(value) for name, value in self.cleaned_data.items() if value}


class BoxOfficeForm(forms.Form):
    customer_name = forms.CharField(max_length=200)
    customer_email = forms.EmailField()
    customer_phone = forms.CharField(max_length=40, required=False)
    method = forms.ChoiceField(choices=[("cash", "Cash"), ("card", "Card (payment provider)"),
                                        ("comp", "Complimentary")])
    payment_token = forms.CharField(
        max_length=100, required=False, label="Card payment token",
        help_text="For a card: the token the card terminal or payment form gives (demo provider: tok_ok).")

    def clean(self):
        data = super().clean()
        if data.get("method") == "card" and not data.get("payment_token"):
            self.add_error("payment_token", "A card sale needs the payment token.")
        return data


class EventAdmin(events_admin.EventAdmin):
    list_display = [*events_admin.EventAdmin.list_display, "tools"]
    inlines = [SeatCategoryInline, events_admin.CancellationPolicyInline]

    def get_inlines(self, request, obj):
        # Vouchers name the event's categories: offered once the event (and so its categories) exists.
        return [*self.inlines, VoucherInline] if obj is not None else self.inlines
    readonly_fields = ["tools", *events_admin.EventAdmin.readonly_fields]
    actions = [*events_admin.EventAdmin.actions, "cancel_events"]
    change_form_template = "admin/events/event/change_form_tools.html"

    def get_readonly_fields(self, request, obj=None):
        # Once seats exist they belong to this venue's layout: moving the event would orphan them.
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and EventSeat.objects.filter(event=obj).exists():
            return [*readonly, "venue"]
        return readonly

    def response_add(self, request, obj, post_url_continue=None):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            messages.info(request, "Next: map the venue's sections to seat categories to create the seats.")
            return redirect("admin:events_event_inventory", obj.pk)
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="Tools")
    def tools(self, event):
        if not event.pk:
            return "-"
        return format_html('<a href="{}">Seats</a> · <a href="{}">Seat map</a> · <a href="{}">Report</a>',
                           reverse("admin:events_event_inventory", args=[event.pk]),
                           reverse("admin:events_event_seatmap", args=[event.pk]),
                           reverse("admin:events_event_report", args=[event.pk]))

    @admin.action(description="Cancel selected events (refund every booking in full)")
    def cancel_events(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(request, "admin/events/event_cancel_confirm.html", {
                **self.admin_site.each_context(request), "title": "Cancel events?", "events": queryset,
                "opts": self.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        for event in queryset:
            count = event_cancel(event_id=event.pk, user=request.user)
            self.message_user(request, f"{event}: cancelled; {count} bookings refunded in full.", messages.SUCCESS)
        return None

    # --- custom views --------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:event_id>/inventory/", wrap(self.inventory_view), name="events_event_inventory"),
            path("<int:event_id>/seatmap/", wrap(self.seatmap_view), name="events_event_seatmap"),
            path("<int:event_id>/report/", wrap(self.report_view), name="events_event_report"),
            path("<int:event_id>/report/bookings.csv", wrap(self.bookings_csv_view),
                 name="events_event_bookings_csv"),
            path("<int:event_id>/report/attendees.csv", wrap(self.attendees_csv_view),
                 name="events_event_attendees_csv"),
        ] + super().get_urls()

    def _event(self, request, event_id: int, *, change: bool = False) -> Event:
        event = self.get_queryset(request).select_related("venue").filter(pk=event_id).first()
        if event is None:
            raise Http404("No such event.")
        if change and not self.has_change_permission(request, event):
            raise PermissionDenied
        return event

    def _context(self, request, event: Event, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "original": event,
                "event": event, "title": title, **extra}

    def inventory_view(self, request, event_id: int):
        event = self._event(request, event_id, change=request.method == "POST")
        sections = list(Section.objects.filter(venue=event.venue).annotate(seat_count=Count("seats"))
                        .order_by("position", "id"))
        categories = list(event.categories.all())
        existing = dict(EventSeat.objects.filter(event=event).values_list("seat__section_id", "category_id")
                        .distinct())
        by_name = {category.name.lower(): category.pk for category in categories}
        initial = {section.pk: str(existing.get(section.pk) or by_name.get(section.name.lower())
                                   or (categories[-1].pk if categories else "")) for section in sections}
        form = InventoryForm(request.POST or None, sections=sections, categories=categories, initial_mapping=initial)
        if request.method == "POST" and form.is_valid():
            mapping = form.mapping()
            started = time.perf_counter()
            created = event_inventory_create(event=event, section_categories=mapping)
            elapsed = time.perf_counter() - started
            messages.success(request, f"Created {created:,} seats in {elapsed:.2f} s."
                             + (" Sections that already had seats keep their category." if existing else "")
                             + " Block house seats on the seat map any time.")
            return redirect(_next_setup_step(event))
        return TemplateResponse(request, "admin/events/event/inventory.html", self._context(
            request, event, f"Seats for {event.title}", form=form, categories=categories,
            inventory_count=EventSeat.objects.filter(event=event).count(), existing=existing))

    def seatmap_view(self, request, event_id: int):
        event = self._event(request, event_id, change=request.method == "POST")
        box_office_form = BoxOfficeForm(request.POST if request.POST.get("action") == "sell" else None)
        if request.method == "POST":
            seat_ids = seat_ids_posted(request)
            action = request.POST.get("action")
            try:
                places = _places_posted(request) if action == "sell" else {}  # general admission (issue 15)
                if not seat_ids and not places:
                    messages.error(request, "Select seats first.")
                elif action == "block":
                    done = seats_block(event_id=event.pk, seat_ids=seat_ids)
                    messages.success(request, f"Blocked {len(done)} seat(s).")
                elif action == "unblock":
                    done = seats_unblock(event_id=event.pk, seat_ids=seat_ids)
                    messages.success(request, f"Unblocked {len(done)} seat(s).")
                elif action == "sell" and box_office_form.is_valid():
                    data = box_office_form.cleaned_data
                    customer = Customer(name=data["customer_name"], email=data["customer_email"],
                                        phone=data["customer_phone"])
                    if data["method"] == "card" and places:
                        messages.error(request, "Standing places sell for cash or as complimentary tickets at the "
                                                "box office: sell them apart from the card sale.")
                        return self._seatmap_page(request, event, box_office_form)
                    if data["method"] == "card":
                        booking = boxoffice_sell_card(event_id=event.pk, seat_ids=seat_ids, customer=customer,
                                                      payment_token=data["payment_token"], sold_by=request.user)
                    else:
                        booking = boxoffice_sell(event_id=event.pk, seat_ids=seat_ids, places=places,
                                                 method=data["method"], sold_by=request.user, customer=customer)
                    url = reverse("admin:ticketing_booking_change", args=[booking.pk])
                    sold = f"{len(seat_ids)} seat(s)" + (f" and {sum(places.values())} place(s)" if places else "")
                    messages.success(request, format_html(
                        'Sold {} to {}: booking <a href="{}">{}</a>, total €{} ({}).', sold,
                        booking.customer_name, url, booking.reference, booking.total, booking.get_status_display()))
                    if booking.status == "paid":  # the receipt and tickets, ready to print
                        return redirect("admin:ticketing_booking_receipt", booking.pk)
                elif action == "sell":
                    messages.error(request, "Enter the customer's name and a valid e-mail to sell.")
                    return self._seatmap_page(request, event, box_office_form)
                else:
                    messages.error(request, "Unknown action.")
            except DomainError as error:
                messages.error(request, error.message)
            return redirect(request.get_full_path())
        return self._seatmap_page(request, event, box_office_form)

    def _seatmap_page(self, request, event, box_office_form):
        venue = event.venue
        return seatmap_response(
            self, request, venue=venue, original=event, template="admin/events/event/seatmap.html",
            title=f"Seat map: {event.title}",
            seats=lambda section_id: event_seatmap_data(venue=venue, event_id=event.pk, section_id=section_id),
            overview=lambda: event_section_overview(venue=venue, event_id=event.pk),
            extra={"box_office_form": box_office_form, "categories": event.categories.all(),
                   "areas": EventArea.objects.filter(event=event).select_related("section").order_by(
                       "section__position", "section_id")})

    def report_view(self, request, event_id: int):
        event = self._event(request, event_id)
        report = event_report(event=event)
        return TemplateResponse(request, "admin/events/event/report.html", self._context(
            request, event, f"Report: {event.title}", report=report,
            sales_chart=mark_safe(sales_over_time_svg(report.sales_by_day)),
            category_chart=mark_safe(category_status_svg(report.categories))))

    def bookings_csv_view(self, request, event_id: int):
        event = self._event(request, event_id)
        return csv_response(f"bookings-event-{event.pk}.csv", BOOKING_CSV_HEADER, booking_csv_rows(event=event))

    def attendees_csv_view(self, request, event_id: int):
        event = self._event(request, event_id)
        return csv_response(f"attendees-event-{event.pk}.csv", ATTENDEE_CSV_HEADER, attendee_csv_rows(event=event))


def _next_setup_step(event: Event) -> str:
    """After the seats: the guided setup's door-staff step where the check-in app offers one, else the seat map."""
    try:
        return reverse("admin:checkin_event_doorstaff", args=[event.pk])
    except NoReverseMatch:
        return reverse("admin:events_event_seatmap", args=[event.pk])


class SeatCategoryAdmin(events_admin.SeatCategoryAdmin):
    inlines = [PricingTierInline]


# "+49 30 1234-567", "+1 (555) 010-9999": a plus, then only digits and the usual separators.
PHONE_NUMBER = re.compile(r"\+?[0-9][0-9 ()./-]{4,39}")


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """A streamed CSV download; cells that a spreadsheet would run as a formula are defused."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            # A leading =, +, - or @ would make a spreadsheet run the cell as a formula; a phone number
            # ("+49 30 1234-567": digits and separators only) cannot run anything and stays as typed.
            yield writer.writerow([f"'{cell}" if isinstance(cell, str) and cell and cell[0] in "=+-@"
                                   and not PHONE_NUMBER.fullmatch(cell) else cell for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# Events' own admin, extended with the screens above, in its place.
for model, model_admin in ((Event, EventAdmin), (SeatCategory, SeatCategoryAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)


def _places_posted(request) -> dict[int, int]:
    """The box office's general-admission quantities: `place_<area id>` fields (blank or 0 = none)."""
    places = {}
    for key, value in request.POST.items():
        if key.startswith("place_") and value.strip():
            try:
                area_id, quantity = int(key.removeprefix("place_")), int(value)
            except ValueError:
                raise InvalidInput("Quantities of places are whole numbers.") from None
            if quantity < 0:
                raise InvalidInput("A quantity of places cannot be negative.")
            if quantity:
                places[area_id] = quantity
    return places
