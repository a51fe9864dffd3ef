"""Events in the admin: the event itself, its seat categories, pricing tiers and cancellation
policy, and the publish / open-sale actions.

Organizers see only their own events; a superuser sees all (`OrganizerScopedAdmin`). The
ticketing screens of an event (seat inventory, seat map and box office, reports, CSV exports,
cancelling with refunds) are added by `ticketing.admin.events`, which re-registers this admin
with them: events knows nothing of seats sold.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect

from evently.admin import OrganizerScopedAdmin, OrganizerScopedInline
from evently.errors import DomainError
from events.models import CancellationPolicy, Event, EventStatus, PricingTier, SeatCategory
from events.services import event_next_transition, event_open_sale, event_publish
from venues.admin_localtime import (
    VenueLocalTimesAdmin,
    VenueLocalTimesInline,
    venue_local_date_filter,
    venue_time_column,
)
from venues.bookings import venue_booking_clash_text, venue_booking_clashes, venue_booking_request
from venues.localtime import venue_time_label
from venues.models import VenueBooking

# What the clock does next, in words an organizer reads at a glance (the status the event moves to).
TRANSITION_WORDS = {
    EventStatus.ON_SALE: "Sale opens",
    EventStatus.PUBLISHED: "Sale closes",
    EventStatus.FINISHED: "Event ends",
}


class SeatCategoryInline(VenueLocalTimesInline, OrganizerScopedInline, admin.TabularInline):
    model = SeatCategory
    extra = 0
    show_change_link = True  # tiers are edited on the category's page
    fields = ["name", "colour", "price", "position"]


class CancellationPolicyInline(OrganizerScopedInline, admin.StackedInline):
    model = CancellationPolicy
    extra = 0
    max_num = 1
    filter_horizontal = ["non_refundable_categories", "non_refundable_tiers"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Only this event's categories and tiers can be non-refundable.
        object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if db_field.name == "non_refundable_categories":
            kwargs["queryset"] = SeatCategory.objects.filter(event_id=object_id)
        elif db_field.name == "non_refundable_tiers":
            kwargs["queryset"] = PricingTier.objects.filter(category__event_id=object_id).select_related("category")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class EventAddForm(forms.ModelForm):
    """Creating an event books its venue (issue 18): the event's times plus setup and teardown. A
    clash is refused here, with the message naming it, before anything is saved."""

    setup_hours = forms.IntegerField(min_value=0, max_value=240, initial=4, required=False,
                                     help_text="Hours before the start the venue is needed for setup.")
    teardown_hours = forms.IntegerField(min_value=0, max_value=240, initial=2, required=False,
                                        help_text="Hours after the end the venue is needed for teardown.")

    def clean(self):
        cleaned = super().clean()
        venue, start, end = cleaned.get("venue"), cleaned.get("starts_at"), cleaned.get("ends_at")
        if venue and start and end and end > start:
            probe = VenueBooking(start=start, end=end, setup_hours=cleaned.get("setup_hours") or 0,
                                 teardown_hours=cleaned.get("teardown_hours") or 0)
            clash = venue_booking_clashes(venue_id=venue.pk, blocked_from=probe.blocked_from,
                                          blocked_until=probe.blocked_until).first()
            if clash:
                raise forms.ValidationError(
                    venue_booking_clash_text(venue.name, clash, viewer_id=getattr(self, "organizer_id", None))
                    + " Choose other times (or less setup/teardown), or another venue.")
        return cleaned


@admin.register(Event)
class EventAdmin(VenueLocalTimesAdmin, OrganizerScopedAdmin):
    list_display = ["title", "venue", "starts_at_local", "status", "next_transition", "organizer"]
    list_filter = [venue_local_date_filter("starts_at", "venue", "start date (venue time)"), "status", "category"]
    search_fields = ["title", "venue__name"]
    inlines = [SeatCategoryInline, CancellationPolicyInline]
    list_select_related = ["venue", "organizer"]
    readonly_fields = ["next_transition"]
    actions = ["publish_selected", "open_sale_now"]
    organizer_path = "organizer"
    organizer_owner_field = "organizer"
    venue_path = "venue"

    starts_at_local = venue_time_column("starts_at", "venue", "Starts (venue time)")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EventAddForm
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:
            # Clash messages name only this organizer's own bookings (a superuser's, all).
            form.organizer_id = None if request.user.is_superuser else request.user.pk
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # the venue booking's padding, right under the times
            fields = [f for f in fieldsets[0][1]["fields"] if f not in ("setup_hours", "teardown_hours")]
            at = fields.index("ends_at") + 1 if "ends_at" in fields else len(fields)
            fields[at:at] = ["setup_hours", "teardown_hours"]
            return [(None, {"fields": fields})]
        return fieldsets

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # In the admin's transaction: a booking refused now (a race past the form's check) undoes the event.
            venue_booking_request(venue=obj.venue, title=obj.title, start=obj.starts_at, end=obj.ends_at,
                                  setup_hours=form.cleaned_data.get("setup_hours") or 0,
                                  teardown_hours=form.cleaned_data.get("teardown_hours") or 0,
                                  organizer=obj.organizer, event=obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # the venue was booked by someone else between the check and the save
            messages.error(request, error.message)
            return redirect(request.get_full_path())

    def get_changeform_initial_data(self, request):
        # New events keep the single-seat rule unless the organizer switches it off (docs/admin.md).
        return {"single_seat_rule": True, **super().get_changeform_initial_data(request)}

    @admin.display(description="Next scheduled change")
    def next_transition(self, event):
        transition = event_next_transition(event) if event.pk else None
        if transition is None:
            return "—"
        words = TRANSITION_WORDS.get(transition.status, f"Becomes {EventStatus(transition.status).label.lower()}")
        return f"{words}: {venue_time_label(transition.at, event.venue)}"

    # --- actions -------------------------------------------------------------------------------

    @admin.action(description="Publish selected events")
    def publish_selected(self, request, queryset):
        self.run_each(request, queryset, event_publish, "published")

    @admin.action(description="Open sale now")
    def open_sale_now(self, request, queryset):
        self.run_each(request, queryset, event_open_sale, "on sale")

    def run_each(self, request, queryset, service, done: str):
        """Run `service(event_id=…)` for each selected event; a DomainError becomes a message."""
        changed = 0
        for event in queryset:
            try:
                service(event_id=event.pk)
                changed += 1
            except DomainError as error:
                messages.error(request, error.message)
        if changed:
            messages.success(request, f"{changed} event(s) {done}.")


class PricingTierInline(VenueLocalTimesInline, OrganizerScopedInline, admin.TabularInline):
    model = PricingTier
    extra = 0
    fields = ["position", "name", "price", "available_from", "available_until", "quota"]


@admin.register(SeatCategory)
class SeatCategoryAdmin(VenueLocalTimesAdmin, OrganizerScopedAdmin):
    list_display = ["name", "event", "price", "position"]
    list_select_related = ["event"]
    search_fields = ["name", "event__title"]
    inlines = [PricingTierInline]
    organizer_path = "event__organizer"
    venue_path = "event__venue"
