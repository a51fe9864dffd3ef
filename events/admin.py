"""Events in the admin: the event itself, its seat categories, pricing tiers and cancellation
policy, and the publish / open-sale actions.

Organizers see only their own events; a superuser sees all (`OrganizerScopedAdmin`). The
ticketing screens of an event (seat inventory, seat map and box office, reports, CSV exports,
cancelling with refunds) are added by `ticketing.admin.events`, which re-registers this admin
with them: events knows nothing of seats sold.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from evently.admin import OrganizerScopedAdmin, OrganizerScopedInline
from evently.errors import DomainError
from events.models import CancellationPolicy, Event, EventStatus, PricingTier, SeatCategory
from events.services import event_next_transition, event_open_sale, event_publish


class SeatCategoryInline(OrganizerScopedInline, admin.TabularInline):
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


@admin.register(Event)
class EventAdmin(OrganizerScopedAdmin):
    list_display = ["title", "venue", "starts_at", "status", "next_transition", "organizer"]
    list_filter = ["status", "category"]
    search_fields = ["title", "venue__name"]
    date_hierarchy = "starts_at"
    inlines = [SeatCategoryInline, CancellationPolicyInline]
    list_select_related = ["venue", "organizer"]
    readonly_fields = ["next_transition"]
    actions = ["publish_selected", "open_sale_now"]
    organizer_path = "organizer"
    organizer_owner_field = "organizer"

    def get_changeform_initial_data(self, request):
        # New events keep the single-seat rule unless the organizer switches it off (docs/admin.md).
        return {"single_seat_rule": True, **super().get_changeform_initial_data(request)}

    @admin.display(description="Next scheduled change")
    def next_transition(self, event):
        transition = event_next_transition(event) if event.pk else None
        if transition is None:
            return "—"
        when = timezone.localtime(transition.at).strftime("%Y-%m-%d %H:%M")
        return f"{EventStatus(transition.status).label} at {when}"

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


class PricingTierInline(OrganizerScopedInline, admin.TabularInline):
    model = PricingTier
    extra = 0
    fields = ["position", "name", "price", "available_from", "available_until", "quota"]


@admin.register(SeatCategory)
class SeatCategoryAdmin(OrganizerScopedAdmin):
    list_display = ["name", "event", "price", "position"]
    list_select_related = ["event"]
    search_fields = ["name", "event__title"]
    inlines = [PricingTierInline]
    organizer_path = "event__organizer"
