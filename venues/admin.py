from django.contrib import admin

from venues.models import Section, Venue


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["name", "position"]
    extra = 0
    show_change_link = True


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "venue_type", "capacity", "is_active"]
    list_filter = ["venue_type", "is_active", "city"]
    search_fields = ["name", "city"]
    readonly_fields = ["capacity"]
    inlines = [SectionInline]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "venue", "position"]
    list_filter = ["venue"]
