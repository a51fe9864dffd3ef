"""Ticket tokens: what a ticket's QR code holds, signed with the event's Ed25519 key.

Layout (then base64url without padding, 114 characters — small enough to scan from a phone):
    version:1 | event_id:4 | ticket_id:4 | booking_id:4 | seat_id:4 | nonce:4 || signature:64
Any device holding the event's public key can verify a token offline; only the server, which
keeps the private key, can make one. A new nonce (transfer, reissue) makes a new token for the
same seat, so the old one can be revoked by ticket id + nonce.
"""

from __future__ import annotations

import base64
import secrets
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

TOKEN_VERSION = 1
_PAYLOAD = struct.Struct(">BIIIII")
_SIGNATURE_LENGTH = 64


class InvalidToken(Exception):
    """`reason` is what check-in shows: malformed, forged or wrong_event."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class TicketClaims:
    event_id: int
    ticket_id: int
    booking_id: int
    seat_id: int
    nonce: int


# A general-admission ticket (issue 15) has no seat: its token's seat field carries the area's id
# with the top bit set, so the layout (and every scanner already deployed) stays the same.
AREA_CLAIM_FLAG = 1 << 31


def area_claim(area_id: int) -> int:
    """The token's seat field for a place in area `area_id`."""
    return AREA_CLAIM_FLAG | area_id


def claimed_area_id(claims: TicketClaims) -> int | None:
    """The area a token admits to, or None for a seat ticket."""
    return claims.seat_id & ~AREA_CLAIM_FLAG if claims.seat_id & AREA_CLAIM_FLAG else None


def keypair_generate() -> tuple[bytes, bytes]:
    """(private, public) as raw 32-byte keys."""
    private = Ed25519PrivateKey.generate()
    return (
        private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def new_nonce() -> int:
    return secrets.randbits(32)


def token_sign(claims: TicketClaims, private_key: bytes) -> str:
    payload = _PAYLOAD.pack(TOKEN_VERSION, claims.event_id, claims.ticket_id, claims.booking_id, claims.seat_id,
                            claims.nonce)
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(payload)
    return base64.urlsafe_b64encode(payload + signature).rstrip(b"=").decode("ascii")


def token_claims_unverified(token: str) -> TicketClaims:
    """Read the claims without checking the signature (to find which event's key to check with)."""
    raw = _decode(token)
    version, event_id, ticket_id, booking_id, seat_id, nonce = _PAYLOAD.unpack(raw[: _PAYLOAD.size])
    if version != TOKEN_VERSION:
        raise InvalidToken("malformed")
    return TicketClaims(event_id, ticket_id, booking_id, seat_id, nonce)


def token_verify(token: str, public_key: bytes, *, event_id: int | None = None) -> TicketClaims:
    """The token's claims, if the signature is the event's; else InvalidToken."""
    raw = _decode(token)
    claims = token_claims_unverified(token)
    if event_id is not None and claims.event_id != event_id:
        raise InvalidToken("wrong_event")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw[_PAYLOAD.size:], raw[: _PAYLOAD.size])
    except InvalidSignature:
        raise InvalidToken("forged") from None
    return claims


def token_verify_any(token: str, public_keys: list[bytes], *, event_id: int | None = None) -> TicketClaims:
    """Like token_verify, against any of the event's keys (the current one and those rotated out)."""
    for public_key in public_keys[:-1]:
        try:
            return token_verify(token, public_key, event_id=event_id)
        except InvalidToken as invalid:
            if invalid.reason != "forged":
                raise
    return token_verify(token, public_keys[-1], event_id=event_id)


def _decode(token: str) -> bytes:
    if not isinstance(token, str) or len(token) > 200:
        raise InvalidToken("malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise InvalidToken("malformed") from None
    if len(raw) != _PAYLOAD.size + _SIGNATURE_LENGTH:
        raise InvalidToken("malformed")
    return raw
