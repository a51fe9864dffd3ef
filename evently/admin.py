"""Admin pieces shared by the apps: read-only records, and the one organizer scope.

Organizers are staff users who are not superusers. Every organizer-facing admin class is an
`OrganizerScopedAdmin`, which keeps each organizer to their own rows everywhere the admin can
show or take a row: the change list (and so its search and actions), the filters' choices,
foreign-key and many-to-many choices (a rival's event cannot be picked, not even by POSTing its
id), the change, delete and custom views (`has_*_permission(obj)`), and `save_model` (a row that
would belong to someone else is refused). A superuser sees everything.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied

# How each organizer-owned model reaches its organizer (a User). Rows of other models (venues,
# users, categories of things) are not owned through this map; their admins say what they allow.
ORGANIZER_PATHS = {
    "events.event": "organizer",
    "events.seatcategory": "event__organizer",
    "events.pricingtier": "category__event__organizer",
    "events.cancellationpolicy": "event__organizer",
    "ticketing.eventseat": "event__organizer",
    "ticketing.booking": "event__organizer",
    "ticketing.bookingseat": "booking__event__organizer",
    "ticketing.ticket": "booking__event__organizer",
    "venues.venuebooking": "organizer",
}


def is_organizer_scope(request) -> bool:
    """Everyone but a superuser sees only their own events, bookings and reports."""
    return not request.user.is_superuser


def organizer_owned(model, queryset, user):
    """`queryset` limited to `user`'s rows, or None when `model` is not organizer-owned."""
    path = ORGANIZER_PATHS.get(model._meta.label_lower)
    return None if path is None else queryset.filter(**{path: user})


def _organizer_id_of(obj, path: str):
    """Follow `path` ("event__organizer") on an object, saved or not; None where a link is missing."""
    *steps, last = path.split("__")
    for step in steps:
        obj = getattr(obj, step, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


class _ScopedChoices:
    """Foreign-key and many-to-many choices limited to the organizer's own rows (admins and inlines)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if is_organizer_scope(request) and "queryset" not in kwargs:
            owned = organizer_owned(db_field.related_model, db_field.related_model._default_manager.all(),
                                    request.user)
            if owned is not None:
                kwargs["queryset"] = owned
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if is_organizer_scope(request) and "queryset" not in kwargs:
            owned = organizer_owned(db_field.related_model, db_field.related_model._default_manager.all(),
                                    request.user)
            if owned is not None:
                kwargs["queryset"] = owned
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OrganizerScopedAdmin(_ScopedChoices, admin.ModelAdmin):
    """The one organizer scope: see the module docstring.

    `organizer_path` leads from the model to its organizer. With `organizer_sees_all_rows` the
    change list shows every row (venues, which every organizer books and sells in) but only the
    rows the organizer owns can be changed or deleted; the others are read-only to them.
    """

    organizer_path = "organizer"
    organizer_sees_all_rows = False

    def organizer_rows(self, request, queryset):
        return queryset.filter(**{self.organizer_path: request.user})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_organizer_scope(request) and not self.organizer_sees_all_rows:
            return self.organizer_rows(request, queryset)
        return queryset

    def is_own(self, request, obj) -> bool:
        """The object (saved or being saved) belongs to this user; always true for a superuser."""
        if obj is None or not is_organizer_scope(request):
            return True
        return _organizer_id_of(obj, self.organizer_path) == request.user.pk

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
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation:
                    item = (item, admin.RelatedOnlyFieldListFilter)
            scoped.append(item)
        return scoped

    def save_model(self, request, obj, form, change):
        if is_organizer_scope(request):
            if self.organizer_path == "organizer" and not change and obj.organizer_id is None:
                obj.organizer = request.user
            if not self.is_own(request, obj):  # the forms' choices already refuse this: defence in depth
                raise PermissionDenied
        super().save_model(request, obj, form, change)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if is_organizer_scope(request) and self.organizer_path == "organizer" and "organizer" not in exclude:
            exclude.append("organizer")  # set by save_model, never chosen
        return exclude


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write (logs, transfers, e-mails): visible, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin(ReadOnlyAdmin):
    """Platform records (e-mail outbox, provider webhooks): superusers only, read-only."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

