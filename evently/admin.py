"""Admin pieces shared by the apps: read-only records and the one organizer scope.

Organizers use the same admin as superusers but see only what is theirs. Every admin class an
organizer can open inherits `OrganizerScopedAdmin` and says, in one attribute, how its rows
reach their organizer; tightening the scope later means changing this module only.
"""

from __future__ import annotations

from django.contrib import admin


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write (logs, transfers, e-mails): visible, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganizerScopedAdmin(admin.ModelAdmin):
    """A model admin whose rows belong to an organizer.

    - `organizer_path`: the lookup from a row to its organizer (`"organizer"`, `"event__organizer"`);
      None means superusers only (organizers see nothing).
    - `organizer_choice_paths`: per foreign key, the lookup from the chosen row to its organizer,
      so an organizer can only pick their own (`{"event": "organizer"}`).
    - `organizer_owner_field`: the model's own foreign key to its organizer, if any: hidden from an
      organizer's form (unless read-only) and set to the user when a row is added without one.

    Custom views fetch rows through `get_queryset` (or `organizer_scoped`), so another
    organizer's row is a 404, never a 403 that confirms it exists.
    """

    organizer_path: str | None = "organizer"
    organizer_choice_paths: dict[str, str] = {}
    organizer_owner_field: str | None = None

    def organizer_scoped(self, request, queryset, path: str | None = "organizer"):
        return organizer_scoped(request, queryset, path)

    def get_queryset(self, request):
        return organizer_scoped(request, super().get_queryset(request), self.organizer_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        path = self.organizer_choice_paths.get(db_field.name)
        if path is not None and is_organizer_scope(request):
            kwargs["queryset"] = organizer_scoped(request, db_field.remote_field.model._default_manager.all(), path)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        owner = self.organizer_owner_field
        if owner and is_organizer_scope(request) and owner not in self.get_readonly_fields(request, obj):
            exclude.append(owner)
        return exclude

    def organizer_owner_set(self, request, obj, change: bool) -> None:
        """On add, an organizer owns what they create; a superuser's choice stands, or it is theirs."""
        owner = self.organizer_owner_field
        if owner and not change and (is_organizer_scope(request) or getattr(obj, f"{owner}_id") is None):
            setattr(obj, owner, request.user)

    def save_model(self, request, obj, form, change):
        self.organizer_owner_set(request, obj, change)
        super().save_model(request, obj, form, change)
