"""Ticket tokens: Ed25519-signed, compact, and any change to a byte makes them invalid."""

from __future__ import annotations

import base64

import pytest

from ticketing.tokens import InvalidToken, TicketClaims, keypair_generate, token_sign, token_verify

CLAIMS = TicketClaims(event_id=7, ticket_id=1234, booking_id=99, seat_id=555, nonce=0xDEADBEEF)


@pytest.fixture(scope="module")
def keys():
    return keypair_generate()


def test_a_signed_token_verifies_to_its_claims(keys):
    private, public = keys
    token = token_sign(CLAIMS, private)
    assert len(token) == 114
    assert token_verify(token, public, event_id=7) == CLAIMS


def test_every_flipped_byte_makes_the_token_invalid(keys):
    private, public = keys
    raw = bytearray(base64.urlsafe_b64decode(token_sign(CLAIMS, private) + "=="))
    for index in range(len(raw)):
        for bit in (0x01, 0x80):
            tampered = bytearray(raw)
            tampered[index] ^= bit
            token = base64.urlsafe_b64encode(bytes(tampered)).rstrip(b"=").decode()
            with pytest.raises(InvalidToken) as caught:
                token_verify(token, public, event_id=7)
            assert caught.value.reason in {"forged", "malformed", "wrong_event"}, (index, bit)


def test_another_events_key_does_not_verify(keys):
    private, _public = keys
    _other_private, other_public = keypair_generate()
    with pytest.raises(InvalidToken) as caught:
        token_verify(token_sign(CLAIMS, private), other_public, event_id=7)
    assert caught.value.reason == "forged"


def test_a_token_for_another_event_is_wrong_event(keys):
    private, public = keys
    with pytest.raises(InvalidToken) as caught:
        token_verify(token_sign(CLAIMS, private), public, event_id=8)
    assert caught.value.reason == "wrong_event"


@pytest.mark.parametrize("token", ["", "x", "!" * 114, "A" * 300, 12345])
def test_garbage_is_malformed(keys, token):
    with pytest.raises(InvalidToken) as caught:
        token_verify(token, keys[1])
    assert caught.value.reason == "malformed"
