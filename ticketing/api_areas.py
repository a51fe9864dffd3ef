"""General-admission endpoints (issue 15): hold and release places of an area by quantity."""

from ninja import Router, Schema
from pydantic import Field, StrictInt

from ticketing import throttle
from ticketing.buyer import csrf_buyer
from ticketing.schemas import Id
from ticketing.services.areas import area_hold, area_release

router = Router(tags=["ticketing"])

# More than any order limit allows: bigger numbers are refused as bad input before any work.
MAX_QUANTITY = 1000


class AreaRef(Schema):
    event_id: Id
    area_id: Id


class AreaQuantity(AreaRef):
    quantity: StrictInt = Field(gt=0, le=MAX_QUANTITY, description="The buyer's places in the area after the hold.")


@router.post("/areas/hold", auth=csrf_buyer)
def areas_hold(request, payload: AreaQuantity):
    """Set the buyer's places in the area to `quantity` (up or down), all or nothing."""
    with throttle.hold_throttled(request, owner=request.auth, event_id=payload.event_id, seat_ids=[]):
        hold = area_hold(event_id=payload.event_id, area_id=payload.area_id, quantity=payload.quantity,
                         owner=request.auth)
    return {"area_id": hold.area_id, "quantity": hold.quantity,
            "expires_at": hold.expires_at.isoformat() if hold.expires_at else None, "available": hold.available}


@router.post("/areas/release", auth=csrf_buyer)
def areas_release(request, payload: AreaRef):
    """Give back all the buyer's places in the area."""
    released = area_release(event_id=payload.event_id, area_id=payload.area_id, owner=request.auth)
    return {"area_id": payload.area_id, "released": released, "quantity": 0}
