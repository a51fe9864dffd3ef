from django.contrib import admin

from events.models import Event, SeatCategory


class SeatCategoryInline(admin.TabularInline):
    model = SeatCategory
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "venue", "starts_at", "status", "organizer"]
    list_filter = ["status", "category"]
    search_fields = ["title", "venue__name"]
    date_hierarchy = "starts_at"
    inlines = [SeatCategoryInline]
    list_select_related = ["venue", "organizer"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(organizer=request.user)
