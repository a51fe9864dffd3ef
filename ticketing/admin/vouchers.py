"""Vouchers in the admin (issue 18): on the event's page (an inline) and in a list of their own,
with their uses. Times are the venue's (`VenueLocalTimesAdmin`); an organizer sees and picks only
their own events and categories (`OrganizerScopedAdmin`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from evently.admin import OrganizerScopedAdmin
from events.seatmap import money
from ticketing.models import Voucher, VoucherKind
from ticketing.services.vouchers import CODE_MAX_LENGTH, voucher_code_normal
from venues.admin_localtime import VenueLocalTimesAdmin, VenueLocalTimesInline, venue_time_column


class VoucherForm(forms.ModelForm):
    """The rules the database cannot say alone: one event's categories, a quota not below the uses
    already made, a window that ends after it starts, and one spelling of each code."""

    class Meta:
        model = Voucher
        fields = ["event", "code", "kind", "value", "categories", "quota", "valid_from", "valid_until", "is_active",
                  "note"]
        widgets = {"categories": forms.CheckboxSelectMultiple}

    def clean_code(self):
        code = voucher_code_normal(self.cleaned_data["code"])
        if not code or len(code) > CODE_MAX_LENGTH or not code.replace("-", "").replace("_", "").isalnum():
            raise forms.ValidationError("Use letters, digits, “-” and “_” only (up to 40), e.g. SUMMER-24.")
        return code

    def clean(self):
        cleaned = super().clean()
        event = cleaned.get("event") or getattr(self.instance, "event", None)
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if value is not None and value <= 0:
            self.add_error("value", "Enter a discount above 0.")
        elif kind == VoucherKind.PERCENT and value is not None and value > 100:
            self.add_error("value", "A percentage is at most 100.")
        categories = cleaned.get("categories")
        if event is not None and categories is not None and any(c.event_id != event.pk for c in categories):
            self.add_error("categories", "Choose categories of this voucher's event.")
        quota = cleaned.get("quota")
        if quota is not None and self.instance.pk and quota < self.instance.used:
            self.add_error("quota", f"It was used {self.instance.used} times already: the quota cannot be lower.")
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", "The end must come after the start.")
        code = cleaned.get("code")
        if event is not None and code and Voucher.objects.filter(event=event, code=code).exclude(
                pk=self.instance.pk).exists():
            self.add_error("code", "This event already has a voucher with this code.")
        return cleaned


def voucher_discount_text(voucher: Voucher) -> str:
    if voucher.kind == VoucherKind.PERCENT:
        return f"{voucher.value.normalize():f} % off each ticket"
    return f"{money(voucher.value)} off each ticket"


def voucher_uses_text(voucher: Voucher) -> str:
    return f"{voucher.used:,} of {voucher.quota:,}" if voucher.quota is not None else f"{voucher.used:,} (no limit)"


class VoucherInline(VenueLocalTimesInline, admin.TabularInline):
    """The event's vouchers on its page; the categories offered are this event's."""

    model = Voucher
    form = VoucherForm
    extra = 0
    fields = ["code", "kind", "value", "categories", "quota", "uses", "valid_from", "valid_until", "is_active", "note"]
    readonly_fields = ["uses"]
    verbose_name_plural = "Vouchers (discount codes)"

    @admin.display(description="Used")
    def uses(self, voucher):
        return voucher_uses_text(voucher) if voucher.pk else "—"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        categories = formset.form.base_fields["categories"]
        categories.queryset = obj.categories.all() if obj is not None else categories.queryset.none()
        return formset


@admin.register(Voucher)
class VoucherAdmin(VenueLocalTimesAdmin, OrganizerScopedAdmin):
    form = VoucherForm
    list_display = ["code", "event", "discount", "uses", "valid_from_local", "valid_until_local", "is_active"]
    list_filter = ["is_active", "kind", "event"]
    search_fields = ["code", "note", "event__title"]
    list_select_related = ["event__venue"]
    readonly_fields = ["uses"]
    organizer_path = "event__organizer"
    venue_path = "event__venue"

    valid_from_local = venue_time_column("valid_from", "event__venue", "Valid from (venue time)")
    valid_until_local = venue_time_column("valid_until", "event__venue", "Valid until (venue time)")

    @admin.display(description="Discount")
    def discount(self, voucher):
        return voucher_discount_text(voucher)

    @admin.display(description="Used", ordering="used")
    def uses(self, voucher):
        return voucher_uses_text(voucher) if voucher.pk else "—"

    def get_readonly_fields(self, request, obj=None):
        # A voucher that was used stays on its event: its bookings name it.
        return [*self.readonly_fields, "event"] if obj is not None and obj.used else self.readonly_fields
