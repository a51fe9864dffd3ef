"""Sales-rule endpoints: cancellation preview and the payment-provider webhook."""

from __future__ import annotations

import orjson
from ninja import Router
from pydantic import BaseModel, Field, StrictInt, ValidationError, field_validator

from evently.errors import InvalidInput
from ticketing.buyer import buyer_id_if_known
from ticketing.services import booking_cancel_preview, booking_cancellations
from ticketing.services.webhooks import payment_webhook_receive
from ticketing.webhooks import SIGNATURE_HEADER

router = Router(tags=["sales rules"])


class PlacesIn(BaseModel):
    area_id: StrictInt = Field(gt=0, le=2**63 - 1)
    quantity: StrictInt = Field(gt=0, le=1000)


class CancelIn(BaseModel):
    seat_ids: list[StrictInt] | None = Field(default=None, min_length=1, max_length=100)
    # general admission (issue 15): how many places of which area
    places: list[PlacesIn] | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("seat_ids")
    @classmethod
    def seat_ids_positive(cls, seat_ids):
        if seat_ids is not None and any(seat_id <= 0 for seat_id in seat_ids):
            raise ValueError("seat ids are positive whole numbers")
        return seat_ids


def cancel_body_seat_ids(request) -> list[int] | None:
    """The optional body of a cancel: nothing, `null`, `{}` or `{"seat_ids": [...]}`. None = all seats."""
    return _cancel_body(request).seat_ids


def cancel_body_places(request) -> dict[int, int] | None:
    """`{"places": [{"area_id", "quantity"}]}` of a cancel body as area id → quantity (None: not given)."""
    places = _cancel_body(request).places
    if places is None:
        return None
    chosen: dict[int, int] = {}
    for item in places:
        chosen[item.area_id] = chosen.get(item.area_id, 0) + item.quantity
    return chosen


def _cancel_body(request) -> CancelIn:
    raw = request.body.strip()
    if not raw or raw == b"null":
        return CancelIn()
    try:
        return CancelIn.model_validate(orjson.loads(raw))
    except orjson.JSONDecodeError:
        raise InvalidInput("The body is not valid JSON.", code="invalid_json") from None
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())
        raise InvalidInput(f"The request is not valid ({problems}).") from None


@router.get("/bookings/{booking_id}/cancel-preview")
def cancel_preview(request, booking_id: int, seat_ids: str | None = None):
    """What cancelling now would refund: `?seat_ids=1,2` for some seats, all seats otherwise."""
    selected = None
    if seat_ids:
        try:
            selected = sorted({int(part) for part in seat_ids.split(",") if part.strip()})
        except ValueError:
            raise InvalidInput("seat_ids must be comma-separated seat ids.") from None
    return booking_cancel_preview(booking_id=booking_id, owner=buyer_id_if_known(request), user=request.user,
                                  seat_ids=selected)


@router.get("/bookings/{booking_id}/cancellations")
def cancellations(request, booking_id: int):
    """Who cancelled which seats when, the fee kept and the refund (and whether it has been paid out)."""
    return {"cancellations": booking_cancellations(booking_id=booking_id, owner=buyer_id_if_known(request),
                                                   user=request.user)}


@router.post("/payments/webhook")
def payment_webhook(request):
    """The payment provider's notices, signed with PAYMENT_WEBHOOK_SECRET (see ticketing/webhooks.py)."""
    return payment_webhook_receive(body=request.body, signature=request.headers.get(SIGNATURE_HEADER))
