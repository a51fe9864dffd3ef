"""The checkout form: who the tickets are for, the payment provider's card token, the terms."""

import re

from django import forms

PHONE_PATTERN = re.compile(r"^\+?[0-9()\-. ]{6,40}$")


class CheckoutForm(forms.Form):
    name = forms.CharField(label="Full name", max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label="E-mail", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label="Phone", max_length=40,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    # The payment provider's token for the card: the card fields are the provider's (hosted fields,
    # static/js/checkout.js), so card numbers never reach this server; only the token does.
    card = forms.CharField(label="Card", max_length=100, widget=forms.HiddenInput,
                           error_messages={"required": "Enter your card details."})
    terms = forms.BooleanField(
        label="I accept the terms of sale and the privacy notice.",
        error_messages={"required": "Please accept the terms of sale and the privacy notice to continue."},
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, min_length=8, max_length=100)
    # The voucher code applied above the form (the summary's Apply); checked again when paying.
    voucher = forms.CharField(widget=forms.HiddenInput, required=False, max_length=60)

    # Fields drawn by the template's own blocks (the card fields and the terms box), not the loop.
    CUSTOMER_FIELDS = ("name", "email", "phone")

    def customer_fields(self):
        return [self[name] for name in self.CUSTOMER_FIELDS]

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
