"""The checkout form: who the tickets are for and how they pay (a demo card token)."""

import re

from django import forms

from evently.payments import payment_provider_is_demo

PHONE_PATTERN = re.compile(r"^\+?[0-9()\-. ]{6,40}$")


class CheckoutForm(forms.Form):
    name = forms.CharField(label="Full name", max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label="E-mail", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label="Phone", max_length=40,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    card = forms.CharField(
        label="Card", max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, min_length=8, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The demo card tokens are hints only while the fake provider takes the payments.
        if payment_provider_is_demo():
            card = self.fields["card"]
            card.help_text = "Demo payments: enter tok_ok to pay, or tok_declined to see a declined card."
            card.widget.attrs["list"] = "demo-cards"

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter the name the tickets are for.")
        return name

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not PHONE_PATTERN.match(phone) or sum(char.isdigit() for char in phone) < 6:
            raise forms.ValidationError("Enter a phone number with at least 6 digits, e.g. +49 30 1234567.")
        return phone

    def clean_email(self):
        return self.cleaned_data["email"].lower()
