"""Bookings and the records only services write, read-only in the admin, scoped to the organizer's events."""

from django.contrib import admin

from evently.admin import OrganizerScopedAdmin, ReadOnlyAdmin, ReadOnlyInline, SuperuserOnlyAdmin
from ticketing.models import (
    Booking,
    BookingSeat,
    Cancellation,
    OutgoingEmail,
    PaymentWebhookEvent,
    Ticket,
    TicketTransfer,
    WaitlistEntry,
)
from venues.admin_localtime import VenueLocalTimesAdmin, venue_time_column


class BookingSeatInline(ReadOnlyInline, admin.TabularInline):
    model = BookingSeat
    extra = 0
    can_delete = False
    readonly_fields = ["event_seat", "price", "is_active"]


class TicketInline(ReadOnlyInline, admin.TabularInline):
    model = Ticket
    extra = 0
    can_delete = False
    fields = ["booking_seat", "status", "holder_name", "holder_email", "transferred_from", "admitted_at", "created_at"]
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
    list_filter = ["status"]
    search_fields = ["reference", "customer_email", "customer_name", "event__title"]
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
