"""ed25519 verification on real GRANDPA votes (development keys: tests/devnet/test_keys.py)."""

from __future__ import annotations

import pytest

from pinkpipe.chain.crypto import ed25519_verify
from pinkpipe.chain.grandpa import Justification, grandpa_logs, precommit_payload
from pinkpipe.chain.grandpa import decode_versioned_authorities as decode_authorities
from tests.vectors import (
    GRANDPA_AUTHORITIES_KEY,
    ROCOCO_SET_IDS,
    rococo_batches,
    rococo_register_header,
    westend_block512_justification,
    westend_genesis_storage,
)


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
def test_rococo_precommits_verify(set_id: int) -> None:
    authorities = {a.id for a in grandpa_logs(rococo_register_header(set_id))[0].next_authorities}
    checked = 0
    for batch in rococo_batches(set_id):
        j = Justification.decode(batch.justification)
        for p in j.commit.precommits:
            assert p.id in authorities
            payload = precommit_payload(p.target_hash, p.target_number, j.round, set_id)
            assert ed25519_verify(p.signature, payload, p.id)
            checked += 1
        # One damaged signature byte, a wrong set id or round: the vote no longer verifies.
        p = j.commit.precommits[0]
        payload = precommit_payload(p.target_hash, p.target_number, j.round, set_id)
        for pos in (0, 31, 32, 63):
            assert not ed25519_verify(_flip(p.signature, pos), payload, p.id)
        for other_set in (set_id - 1, set_id + 1):
            wrong = precommit_payload(p.target_hash, p.target_number, j.round, other_set)
            assert not ed25519_verify(p.signature, wrong, p.id)
        assert not ed25519_verify(p.signature, _flip(payload, 1), p.id)
    assert checked == {3164: 46 + 48, 3165: 50 + 49}[set_id]


def test_westend_block512_precommits_verify_with_set_0() -> None:
    genesis = decode_authorities(westend_genesis_storage()[GRANDPA_AUTHORITIES_KEY])
    j = Justification.decode(westend_block512_justification())
    for p in j.commit.precommits:
        assert p.id in {a.id for a in genesis}
        assert ed25519_verify(p.signature, precommit_payload(p.target_hash, 512, 713, 0), p.id)
        assert not ed25519_verify(p.signature, precommit_payload(p.target_hash, 512, 713, 1), p.id)


def test_malformed_inputs_are_rejected_not_raised() -> None:
    j = Justification.decode(westend_block512_justification())
    p = j.commit.precommits[0]
    payload = precommit_payload(p.target_hash, 512, 713, 0)
    assert not ed25519_verify(p.signature[:63], payload, p.id)
    assert not ed25519_verify(p.signature, payload, p.id[:31])
    assert not ed25519_verify(p.signature, payload, b"\xff" * 32)  # not a curve point
