"""The admin in the venue's time zone: one mixin for change forms, one for their inlines, one
column factory for change lists.

An organizer types "20:00" for a concert in Berlin and means 20:00 on the venue's clock, which is
what buyers see; the database keeps UTC. `VenueLocalTimesAdmin.changeform_view` finds the row's
venue (the object's, or on "add" the venue or event the form names) and runs the whole request —
parsing the POST and rendering the page, inlines included — with Django's current time zone set
to the venue's. Every date-time field says which zone it is in. The date filter above a change list
(`venue_local_date_filter`) decides on each row's own venue's calendar.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear
from django.utils import timezone

from venues.localtime import override_zone, venue_time_label
from venues.models import Venue

UNKNOWN_ZONE_HELP = "In the venue's time zone."


def follow(obj, path: str):
    """`obj.a.b` for `path` "a__b" (None where a link is missing)."""
    for step in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, step, None)
    return obj


def _datetime_help(formfield, request) -> None:
    zone = getattr(request, "venue_zone_name", None)
    label = f"Venue time ({zone})." if zone else UNKNOWN_ZONE_HELP
    formfield.help_text = f"{label} {formfield.help_text}".strip()


class VenueLocalTimesInline:
    """An inline of a `VenueLocalTimesAdmin`: its date-time fields are labelled with the zone."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.DateTimeField):
            _datetime_help(formfield, request)
        return formfield


class VenueLocalTimesAdmin(VenueLocalTimesInline):
    """A model admin whose date-times are the venue's: `venue_path` leads from a row to its venue
    ("venue", "event__venue"); its first step is also the form field that names it on "add"."""

    venue_path = "venue"

    def venue_of_request(self, request, object_id) -> Venue | None:
        if object_id:
            obj = self.get_object(request, unquote(object_id))
            return follow(obj, self.venue_path)
        first, _, rest = self.venue_path.partition("__")
        raw = request.POST.get(first) or request.GET.get(first) or ""
        if not raw.isdigit() or int(raw) > 2**63 - 1:
            return None
        related = self.model._meta.get_field(first).related_model
        # Only the venue's zone is read from a posted id: the form's own choices decide what may be saved.
        obj = related._default_manager.filter(pk=int(raw)).first()
        return follow(obj, rest) if rest else obj

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        venue = self.venue_of_request(request, object_id)
        request.venue_zone_name = venue.timezone if venue else None
        extra_context = {**(extra_context or {}), "venue_zone_name": request.venue_zone_name}
        with override_zone(venue):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # A TemplateResponse renders after the view returns: render it while the zone holds.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response


def venue_time_column(field: str, venue_path: str, description: str):
    """A change-list column showing `field` on its venue's clock with the zone ("2030-12-01 20:00 CET")."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return venue_time_label(getattr(obj, field), follow(obj, venue_path))

    column.__name__ = f"{field}_local"
    return column


def current_zone_label(moment) -> str:
    """`moment` in the current zone (the venue's, inside `VenueLocalTimesAdmin`), labelled."""
    return venue_time_label(moment, timezone.get_current_timezone_name())


# The date filter's choices: for what lies ahead (event starts, venue bookings) and for logs
# (admissions, scans). "Next/Last 7 days" are today and the six days after/before it.
UPCOMING_DAYS = {"today": "Today", "tomorrow": "Tomorrow", "next_7_days": "Next 7 days",
                 "this_month": "This month", "upcoming": "Upcoming", "past": "Past"}
RECENT_DAYS = {"today": "Today", "yesterday": "Yesterday", "last_7_days": "Last 7 days",
               "this_month": "This month"}


def _venue_date(moment, zone):
    """`moment` (timestamptz) as a date on `zone`'s calendar, in SQL: `timezone(zone, moment)::date`."""
    wall_clock = Func(zone, moment, function="timezone", output_field=models.DateTimeField())
    return Cast(wall_clock, models.DateField())


def _days_between(earlier, later):
    """Whole days from one date to another (Postgres `date - date` is an integer)."""
    return Func(later, earlier, template="(%(expressions)s)", arg_joiner=" - ", output_field=models.IntegerField())


def _months_between(earlier, later):
    years = ExtractYear(later) - ExtractYear(earlier)
    return years * 12 + ExtractMonth(later) - ExtractMonth(earlier)


def venue_local_date_filter(field: str, venue_path: str, title: str, choices: dict[str, str] = UPCOMING_DAYS):
    """A change-list filter on `field` by the calendar of each row's venue (`venue_path`): "Today"
    is today in Berlin for a Berlin row and today in New York for a New York row, in one list.

    Django's `date_hierarchy` steps through days of one zone for every row; here the database
    turns both the row's time and now into dates on the row's venue's calendar and compares them.
    "Now" is the app's clock (`timezone.now()`), as everywhere else. A row without a venue is read
    in UTC, like `zone_of`. "Upcoming" and "Past" compare instants, which no zone changes.
    """
    day_offset, month_offset = f"{field}_venue_day_offset", f"{field}_venue_month_offset"
    windows = {
        "today": Q(**{day_offset: 0}),
        "tomorrow": Q(**{day_offset: 1}),
        "yesterday": Q(**{day_offset: -1}),
        "next_7_days": Q(**{f"{day_offset}__range": (0, 6)}),
        "last_7_days": Q(**{f"{day_offset}__range": (-6, 0)}),
        "this_month": Q(**{month_offset: 0}),
    }

    class VenueLocalDateFilter(admin.SimpleListFilter):
        parameter_name = f"{field}_venue_date"

        def lookups(self, request, model_admin):
            return list(choices.items())

        def queryset(self, request, queryset):
            choice = self.value()
            if choice not in choices:
                return queryset
            now = timezone.now()
            if choice == "upcoming":
                return queryset.filter(**{f"{field}__gte": now})
            if choice == "past":
                return queryset.filter(**{f"{field}__lt": now})
            zone = Coalesce(F(f"{venue_path}__timezone"), Value("UTC"))
            row_date = _venue_date(F(field), zone)
            today = _venue_date(Value(now, output_field=models.DateTimeField()), zone)
            return queryset.alias(**{day_offset: _days_between(today, row_date),
                                     month_offset: _months_between(today, row_date)}).filter(windows[choice])

    VenueLocalDateFilter.title = title
    VenueLocalDateFilter.__name__ = f"{field.title().replace('_', '')}VenueDateFilter"
    return VenueLocalDateFilter
