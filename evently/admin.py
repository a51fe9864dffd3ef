"""Admin pieces shared by the apps: read-only records and the one organizer scope.

Organizers use the same admin as superusers but see only what is theirs. Every admin class an
organizer can open inherits `OrganizerScopedAdmin` and says, in one attribute, how its rows
reach their organizer; tightening the scope later means changing this module only.

The scope covers every place the admin shows or takes a row (issue 12): the change list (and so
its search and actions), the filters' choices, foreign-key and many-to-many choices (a rival's
event is not a valid choice, not even POSTed by id), the object permissions
(`has_view/change/delete_permission(obj)`, so every custom view) and `save_model`.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied

# How each organizer-owned model reaches its organizer: the default scope of foreign-key and
# many-to-many choices pointing at it (an admin's `organizer_choice_paths` may say otherwise).
ORGANIZER_PATHS = {
    "events.event": "organizer",
    "events.seatcategory": "event__organizer",
    "events.pricingtier": "category__event__organizer",
    "events.cancellationpolicy": "event__organizer",
    "ticketing.eventseat": "event__organizer",
    "ticketing.booking": "event__organizer",
    "ticketing.bookingseat": "booking__event__organizer",
    "ticketing.ticket": "booking__event__organizer",
    "ticketing.voucher": "event__organizer",
    "venues.venuebooking": "organizer",
}


def is_organizer_scope(request) -> bool:
    """Everyone but a superuser sees only their own events, bookings and reports."""
    return not request.user.is_superuser


def organizer_scoped(request, queryset, path: str | None):
    """`queryset` as `request`'s user may see it: all for a superuser; for an organizer, the rows
    whose `path` lookup is them (`path=None`: nothing)."""
    if not is_organizer_scope(request):
        return queryset
    if path is None:
        return queryset.none()
    return queryset.filter(**{path: request.user})


def _organizer_id_of(obj, path: str):
    """Follow `path` ("event__organizer") on an object, saved or not; None where a link is missing."""
    *steps, last = path.split("__")
    for step in steps:
        obj = getattr(obj, step, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


class _ScopedChoices:
    """Foreign-key and many-to-many choices limited to the organizer's own rows: the admin's
    `organizer_choice_paths` first, else ORGANIZER_PATHS for the related model. Admins and inlines."""

    organizer_choice_paths: dict[str, str] = {}

    def _choice_path(self, db_field) -> str | None:
        return self.organizer_choice_paths.get(db_field.name) or ORGANIZER_PATHS.get(
            db_field.related_model._meta.label_lower)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        path = self._choice_path(db_field)
        if path is not None and is_organizer_scope(request) and "queryset" not in kwargs:
            kwargs["queryset"] = organizer_scoped(request, db_field.remote_field.model._default_manager.all(), path)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        path = self._choice_path(db_field)
        if path is not None and is_organizer_scope(request) and "queryset" not in kwargs:
            kwargs["queryset"] = organizer_scoped(request, db_field.remote_field.model._default_manager.all(), path)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write (logs, transfers, e-mails): visible, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganizerScopedAdmin(_ScopedChoices, admin.ModelAdmin):
    """A model admin whose rows belong to an organizer.

    - `organizer_path`: the lookup from a row to its organizer (`"organizer"`, `"event__organizer"`);
      None means superusers only (organizers see nothing).
    - `organizer_choice_paths`: per foreign key, the lookup from the chosen row to its organizer,
      so an organizer can only pick their own (`{"event": "organizer"}`); keys to the models in
      ORGANIZER_PATHS are scoped without being listed.
    - `organizer_owner_field`: the model's own foreign key to its organizer, if any: hidden from an
      organizer's form (unless read-only) and set to the user when a row is added without one.
    - `organizer_sees_all_rows`: the change list shows every row (venues, which every organizer
      books and sells in), but only the organizer's own rows can be changed or deleted.

    Custom views fetch rows through `get_queryset` (or `organizer_scoped`), so another
    organizer's row is a 404, never a 403 that confirms it exists; views that change a row also
    ask `has_change_permission(request, obj)`.
    """

    organizer_path: str | None = "organizer"
    organizer_owner_field: str | None = None
    organizer_sees_all_rows = False

    def organizer_scoped(self, request, queryset, path: str | None = "organizer"):
        return organizer_scoped(request, queryset, path)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.organizer_sees_all_rows:
            return queryset
        return organizer_scoped(request, queryset, self.organizer_path)

    def is_own(self, request, obj) -> bool:
        """`obj` (saved or being saved) belongs to the user; always true for a superuser."""
        if obj is None or not is_organizer_scope(request):
            return True
        return self.organizer_path is not None and _organizer_id_of(obj, self.organizer_path) == request.user.pk

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (self.organizer_sees_all_rows or self.is_own(request, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.is_own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.is_own(request, obj)

    def get_list_filter(self, request):
        """Filters on a relation offer only the related rows found in the organizer's own list
        (Django's default lists every row of the related table: every event's title)."""
        filters = super().get_list_filter(request)
        if not is_organizer_scope(request):
            return filters
        scoped = []
        for item in filters:
            if isinstance(item, str) and "__" not in item and self.model._meta.get_field(item).is_relation:
                item = (item, admin.RelatedOnlyFieldListFilter)
            scoped.append(item)
        return scoped

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        owner = self.organizer_owner_field
        if owner and is_organizer_scope(request) and owner not in self.get_readonly_fields(request, obj):
            exclude.append(owner)
        return exclude

    def organizer_owner_set(self, request, obj, change: bool) -> None:
        """On add, an organizer owns what they create; a superuser's choice stands, or it is theirs.
        Then the row must be the user's: the forms' choices already refuse anything else, this is
        the last word (PermissionDenied)."""
        owner = self.organizer_owner_field
        if owner and not change and (is_organizer_scope(request) or getattr(obj, f"{owner}_id") is None):
            setattr(obj, owner, request.user)
        if not self.is_own(request, obj):
            raise PermissionDenied

    def save_model(self, request, obj, form, change):
        self.organizer_owner_set(request, obj, change)
        super().save_model(request, obj, form, change)


class OrganizerScopedInline(_ScopedChoices):
    """For inlines of organizer-scoped admins: their foreign-key choices are scoped the same way."""


class ReadOnlyInline:
    """An inline shown, never edited (no dropdowns, no nonce or admission fields to change)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin(OrganizerScopedAdmin, ReadOnlyAdmin):
    """Platform records (e-mail outbox, provider webhooks): superusers only, read-only."""

    organizer_path = None

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


# The back office speaks in the project's name (issue 18); colours: templates/admin/base_site.html.
admin.site.site_header = "Evently back office"
admin.site.site_title = "Evently back office"
admin.site.index_title = "Dashboard"
