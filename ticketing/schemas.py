"""Request bodies of the ticketing API; strict types, so "5" is not a seat id."""

from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import Field, StrictInt, StrictStr, field_validator

# A database id: a positive bigint. Larger numbers would reach Postgres and fail there.
Id = Annotated[StrictInt, Field(gt=0, le=2**63 - 1)]
PathId = Annotated[int, Field(gt=0, le=2**63 - 1)]  # path segments are text: parsed, then range-checked


class SeatSelection(Schema):
    event_id: Id
    seat_ids: list[Id] = Field(min_length=1, max_length=100)

    @field_validator("seat_ids")
    @classmethod
    def seat_ids_distinct_and_positive(cls, seat_ids):
        if len(set(seat_ids)) != len(seat_ids):
            raise ValueError("seat ids must not repeat")
        # How many one buyer may hold is the event's per-order limit, checked by seat_hold.
        return seat_ids


class CustomerIn(Schema):
    name: StrictStr = Field(min_length=1, max_length=200)
    email: StrictStr = Field(max_length=254)
    phone: StrictStr = Field(default="", max_length=40, pattern=r"^[0-9+()\-. ]*$")

    @field_validator("name")
    @classmethod
    def name_not_blank(cls, name):
        if not name.strip():
            raise ValueError("name must not be blank")
        return name.strip()

    @field_validator("email")
    @classmethod
    def email_valid(cls, email):
        try:
            validate_email(email)
        except DjangoValidationError:
            raise ValueError("enter a valid e-mail address") from None
        return email.lower()


class ConfirmIn(Schema):
    event_id: Id
    customer: CustomerIn
    payment_token: StrictStr = Field(min_length=1, max_length=100)
    idempotency_key: StrictStr | None = Field(default=None, min_length=8, max_length=100)
    voucher: StrictStr = Field(default="", max_length=60, description="A discount code of the event (optional).")


class BestSeatsIn(Schema):
    """Best available: how many seats together, optionally of one category (id or name), at most a
    price, in one section."""
    event_id: Id
    quantity: StrictInt = Field(ge=1, le=100)
    category: Id | StrictStr | None = None
    max_price: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    section_id: Id | None = None
