"""Door check-in: one scan, decided once.

`checkin_scan` checks the token's signature in memory, then sends ONE statement to Postgres that
looks the ticket up, admits it with `INSERT … ON CONFLICT (ticket_id) DO NOTHING` (so of any
number of devices scanning one ticket at once exactly one gets `admit`), and logs the scan keyed
by the client's scan nonce (so a retried request is the same scan, never a second one). The
statement runs in autocommit: admission and its log row commit together, and nothing is ever
held in Redis or memory that a crash could lose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from checkin import selectors
from checkin.exceptions import NotDoorStaff, UnreadableScan
from checkin.models import Admission, Scan, ScanResult
from evently.prepared import prepared_cursor
from ticketing.tokens import InvalidToken, token_claims_unverified, token_verify_any

# Why a ticket is refused, and the words the door page shows for each.
REASONS = {
    "malformed": "Not an Evently ticket code.",
    "forged": "The signature is not this event's: a forged or altered ticket.",
    "wrong_event": "This ticket is for another event.",
    "unknown_ticket": "No such ticket for this event.",
    "cancelled": "This ticket was cancelled.",
    "refunded": "This ticket was refunded.",
    "transferred": "This ticket was transferred: the new holder has a new code.",
    "not_yet_valid": "Doors are not open yet.",
    "event_over": "This event is over.",
}


@dataclass(frozen=True)
class ScanRequest:
    token: str
    nonce: str
    gate: str = ""
    device: str = ""
    event_id: int | None = None
    scanned_at: datetime | None = None
    is_offline: bool = False
    local_result: str = ""
    # A manual admission: door staff found the guest by search and admit the ticket by id (no token).
    ticket_id: int | None = None


@dataclass
class ScanOutcome:
    result: str
    reason: str = ""
    ticket: dict | None = None
    first_admitted_at: datetime | None = None
    first_gate: str = ""
    is_conflict: bool = False
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = {"result": self.result, "reason": self.reason or None,
                "message": REASONS.get(self.reason, ""), "ticket": self.ticket}
        if self.result == ScanResult.ALREADY_ADMITTED:
            data["first_scan"] = {"at": self.first_admitted_at.isoformat() if self.first_admitted_at else None,
                                  "gate": self.first_gate}
        if self.is_conflict:
            data["conflict"] = True
        return data


# One round trip: look up, admit at most once, log once per nonce. Every CTE sees the same
# snapshot, so when a concurrent scan of another device admits the ticket while this statement
# waits on the admission's unique index, `checkin_admission` below does not show that row yet:
# the result is then `already_admitted` without a time, and `checkin_scan` reads it afterwards.
_SCAN_SQL = """
WITH prior AS (
    SELECT result, reason FROM checkin_scan WHERE nonce = %(nonce)s::text
), ticket AS (
    SELECT t.id, t.status, t.nonce, t.holder_name, b.status AS booking_status,
           b.refund_amount > 0 AS is_refunded, b.reference, sec.name AS section, s.row_label, s.number
    FROM ticketing_ticket t
    JOIN ticketing_booking b ON b.id = t.booking_id
    """ + selectors.TICKET_SECTION_JOINS + """
    WHERE t.id = %(ticket_id)s::bigint AND b.event_id = %(event_id)s::bigint
    -- Locked: a cancel or transfer in flight (they lock the ticket first) finishes before the verdict,
    -- which then reads the ticket as it left it; without the lock a scan that took its snapshot
    -- first would admit a ticket the cancel was about to cancel (docs/reliability.md).
    FOR NO KEY UPDATE OF t
), verdict AS (
    SELECT ticket.*, CASE
        WHEN ticket.id IS NULL THEN 'unknown_ticket'
        -- A ticket given away is "transferred" whatever later happened to the booking: the guest
        -- holding the old code must hear that someone else has the ticket now, not "refunded".
        WHEN ticket.status = 'transferred' THEN 'transferred'
        WHEN ticket.booking_status = 'cancelled' AND ticket.is_refunded THEN 'refunded'
        WHEN ticket.booking_status <> 'paid' OR ticket.status = 'cancelled' THEN 'cancelled'
        WHEN ticket.nonce <> %(ticket_nonce)s::bigint THEN 'transferred'
        ELSE %(window_reason)s::text
    END AS reason
    FROM (SELECT 1) AS one LEFT JOIN ticket ON TRUE
), inserted AS (
    INSERT INTO checkin_admission (ticket_id, event_id, admitted_at, gate, device, scan_nonce, is_offline, user_id)
    SELECT verdict.id, %(event_id)s::bigint, %(admitted_at)s::timestamptz, %(gate)s::text, %(device)s::text,
           %(nonce)s::text, %(is_offline)s::boolean, %(user_id)s::integer
    FROM verdict WHERE verdict.reason = '' AND NOT EXISTS (SELECT 1 FROM prior)
    ON CONFLICT (ticket_id) DO NOTHING
    RETURNING admitted_at, gate
), marked AS (
    -- The ticket remembers it was used (a used ticket cannot be transferred); Postgres runs
    -- a data-modifying CTE even though nothing reads it.
    UPDATE ticketing_ticket t SET admitted_at = ins.admitted_at FROM inserted ins
     WHERE t.id = %(ticket_id)s::bigint AND t.admitted_at IS NULL
    RETURNING t.id
), outcome AS (
    SELECT verdict.*,
        COALESCE(ins.admitted_at, a.admitted_at) AS first_admitted_at,
        COALESCE(ins.gate, a.gate) AS first_gate,
        CASE WHEN prior.result IS NOT NULL THEN prior.result
             WHEN verdict.reason <> '' THEN 'invalid'
             WHEN ins.admitted_at IS NOT NULL OR a.scan_nonce = %(nonce)s::text THEN 'admit'
             ELSE 'already_admitted' END AS result,
        COALESCE(prior.reason, verdict.reason) AS final_reason
    FROM verdict
    LEFT JOIN inserted ins ON TRUE
    LEFT JOIN checkin_admission a ON a.ticket_id = verdict.id
    LEFT JOIN prior ON TRUE
), logged AS (
    INSERT INTO checkin_scan (nonce, event_id, ticket_id, user_id, device, gate, result, reason, scanned_at,
                              received_at, is_offline, local_result, is_conflict, is_manual)
    SELECT %(nonce)s::text, %(event_id)s::bigint, %(ticket_id)s::bigint, %(user_id)s::integer, %(device)s::text,
           %(gate)s::text, result, final_reason,
           %(scanned_at)s::timestamptz, %(received_at)s::timestamptz, %(is_offline)s::boolean, %(local_result)s::text,
           %(is_offline)s::boolean AND %(local_result)s::text = 'admit' AND result <> 'admit',
           %(is_manual)s::boolean
    FROM outcome WHERE NOT EXISTS (SELECT 1 FROM prior)
    ON CONFLICT (nonce) DO NOTHING
    RETURNING is_conflict
)
SELECT outcome.result, outcome.final_reason, outcome.id, outcome.holder_name, outcome.reference, outcome.section,
       outcome.row_label, outcome.number, outcome.first_admitted_at, outcome.first_gate,
       COALESCE((SELECT bool_or(is_conflict) FROM logged), FALSE)
FROM outcome
"""


def checkin_scan(*, user, request: ScanRequest) -> ScanOutcome:
    """Decide one scan and log it.

    Returns `admit` (the first valid scan of the ticket: it is now admitted), `already_admitted`
    (with the first admission's time and gate), or `invalid` with a reason from REASONS. The same
    `request.nonce` sent again returns the first answer and changes nothing. An offline scan
    (`is_offline`) is judged at its `scanned_at`; if the device admitted it (`local_result="admit"`)
    and the server does not, the scan is flagged as a conflict.
    Raises NotDoorStaff unless `user` is door staff of the event, UnreadableScan when neither the
    token nor the request names an event.
    """
    now = timezone.now()
    if request.ticket_id is not None:
        claims = None
    else:
        try:
            claims = token_claims_unverified(request.token)
        except (InvalidToken, ValueError):
            claims = None
    event_id = request.event_id or (claims.event_id if claims else None)
    if event_id is None:
        raise UnreadableScan()
    if not selectors.door_staff_may_scan(user=user, event_id=event_id):
        raise NotDoorStaff()
    window = selectors.door_window(event_id)
    if window is None:
        raise NotDoorStaff()  # only reachable for a just-deleted event

    scanned_at = min(request.scanned_at or now, now) if request.is_offline else now
    if request.ticket_id is not None:
        # By id, from search: the ticket's own status decides (a transferred one is refused as such).
        ticket_id, ticket_nonce = request.ticket_id, None
    else:
        try:
            claims = _token_verify(request.token, event_id=event_id)
        except InvalidToken as invalid:
            return _scan_log_refusal(user=user, request=request, event_id=event_id, reason=invalid.reason,
                                     ticket_id=claims.ticket_id if claims else None, scanned_at=scanned_at,
                                     now=now)
        ticket_id, ticket_nonce = claims.ticket_id, claims.nonce

    params = {
        "nonce": request.nonce, "event_id": event_id, "ticket_id": ticket_id, "ticket_nonce": ticket_nonce,
        "window_reason": window.reason_at(scanned_at), "admitted_at": scanned_at, "scanned_at": scanned_at,
        "received_at": now, "gate": request.gate, "device": request.device, "is_offline": request.is_offline,
        "local_result": request.local_result, "user_id": user.pk, "is_manual": request.ticket_id is not None,
    }
    (result, reason, ticket_id, holder, reference, section, row, number, first_at, first_gate,
     is_conflict) = _scan_statement_execute(params)
    outcome = ScanOutcome(
        result=result, reason=reason if result == ScanResult.INVALID else "",
        ticket={"id": ticket_id, "holder_name": holder, "booking_reference": reference, "section": section,
                "row": row, "seat": number} if ticket_id else None,
        first_admitted_at=first_at, first_gate=first_gate or "", is_conflict=is_conflict,
    )
    if result == ScanResult.ALREADY_ADMITTED and first_at is None:
        _outcome_complete_after_race(outcome, request=request)
    return outcome


def _token_verify(token: str, *, event_id: int):
    """Against the event's keys in memory; a signature none of them knows is checked once more
    against the database's keys (the event's key may have been rotated in another process)."""
    try:
        return token_verify_any(token, selectors.event_public_keys(event_id), event_id=event_id)
    except InvalidToken as invalid:
        if invalid.reason != "forged":
            raise
    return token_verify_any(token, selectors.event_public_keys(event_id, fresh=True), event_id=event_id)


def _scan_statement_execute(params: dict) -> tuple:
    """Run _SCAN_SQL as a prepared statement: planning it costs more than executing it (about 1 ms
    against 0.4 ms here), and a persistent connection plans it once (evently/prepared.py)."""
    with prepared_cursor() as cursor:
        cursor.execute(_SCAN_SQL, params)
        return cursor.fetchone()


def _outcome_complete_after_race(outcome: ScanOutcome, *, request: ScanRequest) -> None:
    """Another scan admitted the ticket while ours waited: read what it wrote (now committed)."""
    admission = Admission.objects.filter(ticket_id=outcome.ticket["id"]).first()
    if admission is None:  # pragma: no cover - an admission is never deleted by the app
        return
    outcome.first_admitted_at, outcome.first_gate = admission.admitted_at, admission.gate
    if admission.scan_nonce == request.nonce:  # our own retry won the race
        outcome.result = ScanResult.ADMIT


def _scan_log_refusal(*, user, request: ScanRequest, event_id: int, reason: str, ticket_id: int | None,
                      scanned_at: datetime, now: datetime) -> ScanOutcome:
    """Log a scan refused before any ticket lookup (unreadable, forged, other event's token)."""
    is_conflict = request.is_offline and request.local_result == ScanResult.ADMIT
    Scan.objects.bulk_create([Scan(
        nonce=request.nonce, event_id=event_id, ticket_id=ticket_id, user=user, device=request.device,
        gate=request.gate, result=ScanResult.INVALID, reason=reason, scanned_at=scanned_at, received_at=now,
        is_offline=request.is_offline, local_result=request.local_result, is_conflict=is_conflict,
    )], ignore_conflicts=True)
    return ScanOutcome(result=ScanResult.INVALID, reason=reason, is_conflict=is_conflict)


def checkin_sync(*, user, requests: list[ScanRequest]) -> list[dict]:
    """Apply a device's queued scans in order; each is idempotent by its nonce, so a sync cut off
    half-way is simply sent again. Scans for events the user may not scan are reported, not raised."""
    results = []
    for request in requests:
        try:
            outcome = checkin_scan(user=user, request=request).as_dict()
        except (NotDoorStaff, UnreadableScan) as error:
            outcome = {"result": "error", **error.as_dict()}
        results.append({"nonce": request.nonce, **outcome})
    return results
