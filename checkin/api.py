"""Check-in endpoints for door staff: scan, offline sync, manifest, live counter, search."""

from datetime import datetime

import orjson
from django.http import HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from checkin import selectors, services
from checkin.exceptions import NotDoorStaff
from evently.api_auth import csrf_check

router = Router(tags=["checkin"])


def door_staff(request):
    """django-ninja auth: a logged-in user (403 otherwise, like any non-staff); POSTs pass Django's
    CSRF check. Which event they may scan is checked per request."""
    if not request.user.is_authenticated:
        raise NotDoorStaff("Log in as door staff to check tickets in.")
    csrf_check(request)
    return request.user


def _event_for_staff(request, event_id: int) -> int:
    if not selectors.door_staff_may_scan(user=request.user, event_id=event_id):
        raise NotDoorStaff()
    return event_id


class ScanIn(Schema):
    token: str = Field(..., max_length=400)
    nonce: str = Field(..., min_length=8, max_length=64, description="The client's id for this scan (a UUID).")
    gate: str = Field("", max_length=50)
    device: str = Field("", max_length=64)
    event_id: int | None = Field(None, ge=1, description="The event the door is checking; default: the token's.")
    scanned_at: datetime | None = None
    offline: bool = Field(False, description="Scanned while the device was offline, synced now.")
    local_result: str = Field("", max_length=20, description="What the offline device decided.")

    def as_request(self) -> services.ScanRequest:
        return services.ScanRequest(
            token=self.token.strip(), nonce=self.nonce, gate=self.gate, device=self.device, event_id=self.event_id,
            scanned_at=self.scanned_at, is_offline=self.offline, local_result=self.local_result,
        )


class AdmitIn(Schema):
    ticket_id: int = Field(..., ge=1, le=2**63 - 1)
    event_id: int = Field(..., ge=1, le=2**63 - 1)
    nonce: str = Field(..., min_length=8, max_length=64, description="The client's id for this admission (a UUID).")
    gate: str = Field("", max_length=50)
    device: str = Field("", max_length=64)


class SyncIn(Schema):
    scans: list[ScanIn] = Field(..., max_length=500)


@router.post("/checkin/scan", auth=door_staff)
def checkin_scan(request, payload: ScanIn):
    """`{"result": "admit" | "already_admitted" | "invalid", "reason", "message", "ticket", "first_scan"}`."""
    return services.checkin_scan(user=request.user, request=payload.as_request()).as_dict()


@router.post("/checkin/admit", auth=door_staff)
def checkin_admit(request, payload: AdmitIn):
    """Admit a ticket found by search, by its id (search hands out no tokens); logged as manual.
    Same answers as a scan."""
    return services.checkin_scan(user=request.user, request=services.ScanRequest(
        token="", nonce=payload.nonce, gate=payload.gate, device=payload.device, event_id=payload.event_id,
        ticket_id=payload.ticket_id,
    )).as_dict()


@router.post("/checkin/sync", auth=door_staff)
def checkin_sync(request, payload: SyncIn):
    """An offline device's queued scans, in scan order: `{"results": [{"nonce", "result", ...}]}`."""
    return {"results": services.checkin_sync(user=request.user,
                                             requests=[scan.as_request() for scan in payload.scans])}


@router.get("/checkin/events", auth=door_staff)
def checkin_events(request):
    return {"results": [
        {"id": event.pk, "title": event.title, "venue": event.venue.name, "starts_at": event.starts_at.isoformat()}
        for event in selectors.door_events_for(request.user)
    ]}


@router.get("/checkin/events/{event_id}/manifest", auth=door_staff)
def checkin_manifest(request, event_id: int):
    _event_for_staff(request, event_id)
    return HttpResponse(orjson.dumps(selectors.checkin_manifest(event_id=event_id)),
                        content_type="application/json")


@router.get("/checkin/events/{event_id}/stats", auth=door_staff)
def checkin_stats(request, event_id: int):
    _event_for_staff(request, event_id)
    return selectors.checkin_stats(event_id=event_id)


class SearchQuery(Schema):
    q: str = Field("", max_length=100)


@router.get("/checkin/events/{event_id}/search", auth=door_staff)
def checkin_search(request, event_id: int, query: Query[SearchQuery]):
    _event_for_staff(request, event_id)
    return {"results": selectors.ticket_search(event_id=event_id, query=query.q)}
