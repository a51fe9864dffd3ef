from django.contrib import admin

from ticketing.models import Booking, BookingSeat, Ticket


class BookingSeatInline(admin.TabularInline):
    model = BookingSeat
    extra = 0
    can_delete = False
    readonly_fields = ["event_seat", "price", "is_active"]


class TicketInline(admin.TabularInline):
    model = Ticket
    extra = 0
    can_delete = False
    readonly_fields = ["booking_seat", "status", "holder_name", "created_at"]
    exclude = ["token"]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only: bookings change only through the booking services (cancel, reconcile)."""

    list_display = ["reference", "event", "customer_name", "customer_email", "status", "total", "created_at"]
    list_filter = ["status"]
    search_fields = ["reference", "customer_email", "customer_name", "event__title"]
    inlines = [BookingSeatInline, TicketInline]
    list_select_related = ["event"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(event__organizer=request.user)
