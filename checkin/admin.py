"""Check-in in the admin: door staff assignments, door times, the scan log, conflicts and a
progress report per event (admitted / expected over time, by gate)."""

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.urls import path

from checkin import selectors
from checkin.admin_setup import door_staff_view, review_view
from checkin.models import Admission, DoorAssignment, DoorSchedule, Scan
from evently.admin import OrganizerScopedAdmin, ReadOnlyAdmin, is_organizer_scope, organizer_scoped
from events.models import Event
from venues.admin_localtime import RECENT_DAYS, VenueLocalTimesAdmin, venue_local_date_filter, venue_time_column


@admin.register(DoorAssignment)
class DoorAssignmentAdmin(OrganizerScopedAdmin):
    """Organizers assign door staff to their own events; whole venues only superusers."""

    list_display = ["user", "event", "venue", "created_at"]
    list_filter = ["venue"]
    search_fields = ["user__username", "event__title", "venue__name"]
    raw_id_fields = ["user"]
    organizer_path = "event__organizer"
    organizer_choice_paths = {"event": "organizer"}

    def get_readonly_fields(self, request, obj=None):
        return ["venue"] if is_organizer_scope(request) else []

    def get_urls(self):
        # The guided setup's last steps (checkin.admin_setup), under the door assignments.
        wrap = self.admin_site.admin_view
        return [
            path("event/<int:event_id>/", wrap(lambda request, event_id: door_staff_view(self, request, event_id)),
                 name="checkin_event_doorstaff"),
            path("event/<int:event_id>/review/", wrap(lambda request, event_id: review_view(self, request, event_id)),
                 name="checkin_event_review"),
        ] + super().get_urls()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and is_organizer_scope(request):
            # Only members of "Door staff" can be assigned (and looked up by id).
            kwargs["queryset"] = User.objects.filter(groups__name=selectors.DOOR_STAFF_GROUP, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(DoorSchedule)
class DoorScheduleAdmin(VenueLocalTimesAdmin, OrganizerScopedAdmin):
    list_display = ["event", "doors_open_local", "closes_local"]
    list_select_related = ["event__venue"]
    raw_id_fields = ["event"]
    organizer_path = "event__organizer"
    venue_path = "event__venue"

    doors_open_local = venue_time_column("doors_open_at", "event__venue", "Doors open (venue time)")
    closes_local = venue_time_column("closes_at", "event__venue", "Doors close (venue time)")


@admin.register(Admission)
class AdmissionAdmin(OrganizerScopedAdmin, ReadOnlyAdmin):
    list_display = ["ticket", "event", "admitted_local", "gate", "device", "is_offline", "user"]
    list_filter = [venue_local_date_filter("admitted_at", "event__venue", "admission date (venue time)", RECENT_DAYS),
                   "is_offline", "gate", "event"]
    search_fields = ["ticket__id", "ticket__booking__reference", "ticket__holder_name", "device"]
    list_select_related = ["event__venue", "user"]
    organizer_path = "event__organizer"

    admitted_local = venue_time_column("admitted_at", "event__venue", "Admitted (venue time)")


@admin.register(Scan)
class ScanAdmin(OrganizerScopedAdmin, ReadOnlyAdmin):
    """The scan log; the filter "is conflict: yes" lists conflicts. Reports at …/checkin/scan/report/."""

    list_display = ["received_local", "event", "ticket_id", "result", "reason", "gate", "device", "user",
                    "is_offline", "is_conflict"]
    list_filter = [venue_local_date_filter("received_at", "event__venue", "scan date (venue time)", RECENT_DAYS),
                   "is_conflict", "result", "reason", "is_offline", "gate", "event"]
    search_fields = ["nonce", "=ticket_id", "device", "gate"]
    list_select_related = ["event__venue", "user"]
    change_list_template = "admin/checkin/scan/change_list.html"
    organizer_path = "event__organizer"

    received_local = venue_time_column("received_at", "event__venue", "Received (venue time)")

    def get_urls(self):
        return [
            path("report/", self.admin_site.admin_view(self.report_index), name="checkin_report_index"),
            path("report/<int:event_id>/", self.admin_site.admin_view(self.report), name="checkin_report"),
        ] + super().get_urls()

    def report_index(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        events = organizer_scoped(request, Event.objects.all(), "organizer").select_related("venue").annotate(
            admitted=Count("admissions", distinct=True),
            conflicts=Count("scans", filter=Q(scans__is_conflict=True), distinct=True),
        ).order_by("-starts_at")[:200]
        return render(request, "admin/checkin/report_index.html",
                      {**self.admin_site.each_context(request), "title": "Check-in progress", "events": events})

    def report(self, request, event_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        event = get_object_or_404(Event.objects.select_related("venue"), pk=event_id)
        if is_organizer_scope(request) and event.organizer_id != request.user.pk:
            raise PermissionDenied
        stats = selectors.checkin_stats(event_id=event_id, conflicts_limit=200)
        progress = selectors.checkin_progress(event_id=event_id)
        expected = stats["expected"] or 1
        for row in progress:
            row["percent"] = round(100 * row["cumulative"] / expected, 1)
        return render(request, "admin/checkin/report.html", {
            **self.admin_site.each_context(request), "title": f"Check-in: {event.title}", "event": event,
            "stats": stats, "progress": progress,
        })
