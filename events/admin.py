from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from events.models import CancellationPolicy, Event, EventStatus, PricingTier, SeatCategory
from events.pricing import categories_current_price, tier_seats_used
from events.services import event_next_transition, event_publish


class SeatCategoryInline(admin.TabularInline):
    model = SeatCategory
    extra = 0
    show_change_link = True  # tiers are edited on the category's page
    fields = ["name", "colour", "price", "position", "current_price"]
    readonly_fields = ["current_price"]

    @admin.display(description="Current price (tier)")
    def current_price(self, category):
        if not category.pk:
            return "—"
        current = categories_current_price([category])[category.pk]
        tier = current["tier"]
        return f"{current['price']} ({tier['name'] if tier else 'base price'})"


class CancellationPolicyInline(admin.StackedInline):
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
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "venue", "starts_at", "status", "next_transition", "organizer"]
    list_filter = ["status", "category"]
    search_fields = ["title", "venue__name"]
    date_hierarchy = "starts_at"
    inlines = [SeatCategoryInline, CancellationPolicyInline]
    list_select_related = ["venue", "organizer"]
    readonly_fields = ["next_transition"]
    actions = ["publish_events", "cancel_events"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(organizer=request.user)

    @admin.display(description="Next scheduled change")
    def next_transition(self, event):
        transition = event_next_transition(event) if event.pk else None
        if transition is None:
            return "—"
        when = timezone.localtime(transition.at).strftime("%Y-%m-%d %H:%M")
        return f"{EventStatus(transition.status).label} at {when}"

    @admin.action(description="Publish selected draft events")
    def publish_events(self, request, queryset):
        for event in queryset:
            event_publish(event_id=event.pk)
        self.message_user(request, "Published; sales open on schedule.", messages.SUCCESS)

    @admin.action(description="Cancel selected events (refund every booking in full)")
    def cancel_events(self, request, queryset):
        from ticketing.services import event_cancel

        if request.POST.get("confirm") != "yes":
            return TemplateResponse(request, "admin/events/event_cancel_confirm.html", {
                **self.admin_site.each_context(request), "title": "Cancel events?", "events": queryset,
                "opts": self.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        for event in queryset:
            count = event_cancel(event_id=event.pk, user=request.user)
            self.message_user(request, f"{event}: cancelled; {count} bookings refunded in full.", messages.SUCCESS)
        return None


class PricingTierInline(admin.TabularInline):
    model = PricingTier
    extra = 0
    fields = ["position", "name", "price", "available_from", "available_until", "quota", "seats_used", "is_active"]
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


@admin.register(SeatCategory)
class SeatCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "event", "price", "position"]
    list_select_related = ["event"]
    search_fields = ["name", "event__title"]
    inlines = [PricingTierInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(event__organizer=request.user)
