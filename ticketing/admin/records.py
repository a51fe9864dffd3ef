"""Bookings and the records only services write, read-only in the admin, scoped to the organizer's events."""

from django.contrib import admin, messages

from evently.admin import OrganizerScopedAdmin, ReadOnlyAdmin, ReadOnlyInline, SuperuserOnlyAdmin
from evently.errors import DomainError
from ticketing.models import (
    Booking,
    BookingSeat,
    Cancellation,
    EventArea,
    OutgoingEmail,
    PaymentWebhookEvent,
    Ticket,
    TicketTransfer,
    WaitlistEntry,
)
from ticketing.services.areas import area_blocked_set
from venues.admin_localtime import RECENT_DAYS, VenueLocalTimesAdmin, venue_local_date_filter, venue_time_column


class BookingSeatInline(ReadOnlyInline, admin.TabularInline):
    model = BookingSeat
    extra = 0
    can_delete = False
    readonly_fields = ["event_seat", "price", "discount", "is_active"]


class TicketInline(ReadOnlyInline, admin.TabularInline):
    model = Ticket
    extra = 0
    can_delete = False
    fields = ["booking_seat", "booking_place", "status", "holder_name", "holder_email", "transferred_from",
              "admitted_at", "created_at"]
    readonly_fields = fields


class CancellationInline(ReadOnlyInline, admin.TabularInline):
    model = Cancellation
    extra = 0
    can_delete = False
    fields = ["created_at", "reason", "cancelled_by", "amount", "fee", "refund", "refund_reference"]
    readonly_fields = fields


@admin.register(PaymentWebhookEvent)
class PaymentWebhookEventAdmin(SuperuserOnlyAdmin):
    """Read-only log of provider webhooks (superusers)."""

    list_display = ["event_id", "type", "received_at", "processed_at", "outcome"]
    list_filter = ["type"]
    search_fields = ["event_id"]


@admin.register(Booking)
class BookingAdmin(VenueLocalTimesAdmin, OrganizerScopedAdmin, ReadOnlyAdmin):
    """Read-only, its inlines too: bookings, their seats and tickets change only through the booking
    services (cancel, reconcile, transfer, check-in); nobody edits a nonce or an admission here."""

    list_display = ["reference", "event", "customer_name", "customer_email", "status", "total", "created_local"]
    list_filter = [venue_local_date_filter("created_at", "event__venue", "booking date (venue time)", RECENT_DAYS),
                   "status", "voucher"]
    search_fields = ["reference", "customer_email", "customer_name", "event__title", "voucher__code"]
    inlines = [BookingSeatInline, TicketInline, CancellationInline]
    list_select_related = ["event__venue"]
    organizer_path = "event__organizer"
    venue_path = "event__venue"

    created_local = venue_time_column("created_at", "event__venue", "Booked (venue time)")


# --- issue 5: transfers, e-mails, waitlist (read-only: they change through the services) -------------

@admin.register(TicketTransfer)
class TicketTransferAdmin(OrganizerScopedAdmin, ReadOnlyAdmin):
    organizer_path = "from_ticket__booking__event__organizer"
    list_display = ["from_ticket", "to_ticket", "from_name", "to_name", "to_email", "transferred_by", "created_at"]
    search_fields = ["to_email", "to_name", "from_name"]


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(SuperuserOnlyAdmin):
    list_display = ["key", "to", "attempts", "claimed_at", "sent_at", "last_error"]
    list_filter = ["kind"]
    search_fields = ["key", "to"]  # the outbox is the operator's: organizers see none of it


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(VenueLocalTimesAdmin, OrganizerScopedAdmin, ReadOnlyAdmin):
    list_display = ["event", "email", "party_size", "category", "status", "offer_expires_local", "created_local"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_select_related = ["event__venue", "category"]
    organizer_path = "event__organizer"
    venue_path = "event__venue"

    offer_expires_local = venue_time_column("offer_expires_at", "event__venue", "Offer expires (venue time)")
    created_local = venue_time_column("created_at", "event__venue", "Joined (venue time)")


@admin.register(EventArea)
class EventAreaAdmin(OrganizerScopedAdmin):
    """General-admission areas of events (issue 15): sold / held / blocked / free per area. Only
    `blocked` (places held back) is edited, through `area_blocked_set`; the rest moves with sales."""

    list_display = ["area_name", "event", "capacity", "sold", "held", "blocked", "free"]
    list_select_related = ["event", "section"]
    search_fields = ["event__title", "section__name"]
    fields = ["event", "section", "category", "capacity", "sold", "held", "blocked"]
    readonly_fields = ["event", "section", "category", "capacity", "sold", "held"]
    organizer_path = "event__organizer"

    def has_add_permission(self, request):
        return False  # areas come from the event's inventory step

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="area")
    def area_name(self, area):
        return area.section.name

    @admin.display(description="free")
    def free(self, area):
        return area.capacity - area.sold - area.held - area.blocked

    def save_model(self, request, obj, form, change):
        try:
            area_blocked_set(event_id=obj.event_id, area_id=obj.section_id, blocked=obj.blocked)
        except (DomainError, ValueError) as error:
            messages.error(request, getattr(error, "message", str(error)))
