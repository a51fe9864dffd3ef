"""Admin forms: a venue from a template (with every template's parameters), venue bookings."""

from __future__ import annotations

import inspect

from django import forms
from django.utils import timezone

from evently.payments import payment_provider_is_demo
from venues.bookings import venue_booking_clash_text, venue_booking_clashes
from venues.generators import TEMPLATES
from venues.localtime import zone_choices
from venues.models import VENUE_FREEING_STATUSES, Venue, VenueBooking, VenueType

TEMPLATE_VENUE_TYPES = {"theater": VenueType.THEATER, "stadium": VenueType.STADIUM,
                        "conference": VenueType.CONFERENCE}


def template_parameters(template: str) -> list[tuple[str, object]]:
    """A generator's keyword parameters and their defaults, read from its signature."""
    signature = inspect.signature(TEMPLATES[template])
    return [(name, float(parameter.default) if parameter.annotation in (float, "float") else parameter.default)
            for name, parameter in signature.parameters.items() if parameter.kind is inspect.Parameter.KEYWORD_ONLY]


class TemplateLayoutForm(forms.Form):
    """Template choice plus one field per parameter of every template, named `<template>__<parameter>`;
    only the chosen template's fields are used (a little JS hides the others)."""

    template = forms.ChoiceField(choices=[(name, name.title()) for name in TEMPLATES], initial="theater")

    LIMITS = {"rows_per_section": 100, "seats_per_row": 200, "sections_per_side": 40, "end_sections": 20}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for template in TEMPLATES:
            for name, default in template_parameters(template):
                label = name.replace("_", " ").capitalize()
                key = f"{template}__{name}"
                if isinstance(default, float):
                    self.fields[key] = forms.FloatField(label=label, initial=default, min_value=1, max_value=10000,
                                                        required=False)
                else:
                    self.fields[key] = forms.IntegerField(label=label, initial=default, min_value=0,
                                                          max_value=self.LIMITS.get(name, 200), required=False)
                self.fields[key].widget.attrs["data-template"] = template

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("template")
        # Only the chosen template's parameters matter; the hidden groups' values are ignored.
        for key in [key for key in self._errors if "__" in key and not key.startswith(f"{chosen}__")]:
            del self._errors[key]
        return cleaned

    def parameter_groups(self):
        return [(template, [self[f"{template}__{name}"] for name, _ in template_parameters(template)])
                for template in TEMPLATES]

    def layout_params(self) -> dict:
        template = self.cleaned_data["template"]
        params = {}
        for name, default in template_parameters(template):
            value = self.cleaned_data.get(f"{template}__{name}")
            params[name] = default if value is None else value
        return params


class VenueFromTemplateForm(TemplateLayoutForm):
    name = forms.CharField(max_length=200)
    city = forms.CharField(max_length=100)
    address = forms.CharField(max_length=300, required=False)
    timezone = forms.ChoiceField(choices=zone_choices, initial="Europe/Berlin",
                                 help_text="Every date and time of its events is typed and shown in this zone.")

    field_order = ["name", "city", "address", "timezone", "template"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Venue.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A venue with this name exists already.")
        return name


class VenueBookingForm(forms.ModelForm):
    class Meta:
        model = VenueBooking
        fields = ["venue", "event", "title", "start", "end", "setup_hours", "teardown_hours", "rental_fee",
                  "deposit_amount"]

    def clean(self):
        cleaned = super().clean()
        venue, start, end = cleaned.get("venue"), cleaned.get("start"), cleaned.get("end")
        if not (venue and start and end):
            return cleaned
        if end <= start:
            raise forms.ValidationError("The booking must end after it starts.")
        if self.instance.pk is None and start < timezone.now():
            self.add_error("start", "A new booking cannot start in the past.")
        if self.instance.status in VENUE_FREEING_STATUSES:
            return cleaned
        probe = VenueBooking(start=start, end=end, setup_hours=cleaned.get("setup_hours") or 0,
                             teardown_hours=cleaned.get("teardown_hours") or 0)
        clash = venue_booking_clashes(venue_id=venue.pk, blocked_from=probe.blocked_from,
                                      blocked_until=probe.blocked_until, exclude_id=self.instance.pk).first()
        if clash:
            # VenueBookingAdmin names the organizer filling in the form (None for a superuser).
            viewer_id = getattr(self, "organizer_id", self.instance.organizer_id)
            raise forms.ValidationError(venue_booking_clash_text(venue.name, clash, viewer_id=viewer_id))
        return cleaned


class DepositForm(forms.Form):
    payment_token = forms.CharField(max_length=100, help_text="The card token from the payment form.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if payment_provider_is_demo():  # demo tokens only while the fake provider takes payments
            field = self.fields["payment_token"]
            field.initial = "tok_ok"
            field.help_text += " With the fake provider: tok_ok, tok_declined, tok_timeout."


# The facilities a venue page can show (issue 18: checkboxes, not a JSON field). Keys already stored
# that are not listed here are kept as they are.
FACILITIES = [
    ("step_free", "Step-free access"), ("wheelchair_toilet", "Accessible toilet"), ("hearing_loop", "Hearing loop"),
    ("cloakroom", "Cloakroom"), ("bar", "Bar"), ("food", "Food"), ("parking", "Parking"), ("wifi", "Wi-Fi"),
    ("av", "Audio-visual equipment"),
]


class VenueChangeForm(forms.ModelForm):
    """A venue without raw JSON: facilities as checkboxes, the seat map's stage label as a field."""

    facility_list = forms.MultipleChoiceField(choices=FACILITIES, required=False, label="Facilities",
                                              widget=forms.CheckboxSelectMultiple)
    stage_label = forms.CharField(max_length=40, required=False, label="Stage label on the seat map",
                                  help_text="What the stage (or field) is called on the seat maps: “Stage”, “Pitch”…")

    class Meta:
        model = Venue
        exclude = ["facilities", "map_meta"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        facilities = self.instance.facilities or {}
        self.fields["facility_list"].initial = [key for key, _ in FACILITIES if facilities.get(key)]
        stage = (self.instance.map_meta or {}).get("stage") or {}
        self.fields["stage_label"].initial = stage.get("label", "")
        if not stage:
            self.fields["stage_label"].disabled = True
            self.fields["stage_label"].help_text = "Generate the seats from a template first."

    def save(self, commit=True):
        venue = super().save(commit=False)
        chosen = set(self.cleaned_data.get("facility_list") or [])
        known = {key for key, _ in FACILITIES}
        venue.facilities = {**{k: v for k, v in (venue.facilities or {}).items() if k not in known},
                            **{key: True for key in sorted(chosen)}}
        stage = (venue.map_meta or {}).get("stage")
        if stage is not None and self.cleaned_data.get("stage_label"):
            venue.map_meta = {**venue.map_meta, "stage": {**stage, "label": self.cleaned_data["stage_label"]}}
        if commit:
            venue.save()
            self.save_m2m()
        return venue
