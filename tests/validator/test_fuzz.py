"""Fuzzing the light client with damaged real data: it never crashes (only LightClientError,
or CodecError from splitting the recorded framing), never accepts a changed header or
signature, and never changes its state when it rejects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pinkpipe.chain.grandpa import Justification, SignedPrecommit
from pinkpipe.chain.header import Header
from pinkpipe.chain.scale import CodecError, encode_compact
from pinkpipe.validator import (
    BadSignature,
    BadState,
    LightClient,
    LightClientError,
    LightClientState,
    verify_justification,
)
from tests.fuzzing import mutated
from tests.validator_vectors import headers_of, rococo_client, rococo_set
from tests.vectors import rococo_batch_data, rococo_batches, split_batch

pytestmark = pytest.mark.slow  # hundreds of examples per test on real batches

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Case:
    """A real batch (as recorded) and the state it applies to."""

    data: bytes
    state: LightClientState
    saved: bytes
    hashes: tuple[bytes, ...]
    precommits: frozenset[SignedPrecommit]
    set_id: int


def _case(state: LightClientState, data: bytes, set_id: int) -> Case:
    batch = split_batch(data)
    j = Justification.decode(batch.justification)
    return Case(
        data,
        state,
        state.to_bytes(),
        tuple(h.hash() for h in headers_of(batch)),
        frozenset(j.commit.precommits),
        set_id,
    )


@cache
def cases() -> tuple[Case, ...]:
    """Rococo 3164's 46-of-68 batch from its checkpoint, and 3165's small second batch."""
    (_, big), _ = rococo_batch_data(3164)
    client = rococo_client(3165)
    first = rococo_batches(3165)[0]
    client.import_batch(headers_of(first), first.justification)
    (_, _), (_, small) = rococo_batch_data(3165)
    return (_case(rococo_client(3164).state, big, 3164), _case(client.state, small, 3165))


def damaged_batch(data: st.DataObject, case: Case) -> tuple[list[Header], bytes] | None:
    """Damage the whole recorded framing, one header, or the justification (None: the damage
    already fails to decode as framing or header)."""
    part = data.draw(st.sampled_from(["framing", "header", "justification"]))
    try:
        if part == "framing":
            batch = split_batch(data.draw(mutated([case.data])))
            return headers_of(batch), batch.justification
        batch = split_batch(case.data)
        headers = headers_of(batch)
        if part == "justification":
            return headers, data.draw(mutated([batch.justification]))
        index = data.draw(st.integers(0, len(headers) - 1))
        headers[index] = Header.decode(data.draw(mutated([headers[index].encode()])))
        return headers, batch.justification
    except CodecError:
        event(f"{part} does not decode")
        return None


@FUZZ
@given(st.data())
def test_mutated_batches(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(cases()))
    damaged = damaged_batch(data, case)
    if damaged is None:
        return
    headers, justification = damaged
    client = LightClient(case.state)
    try:
        result = client.import_batch(headers, justification)
    except LightClientError as e:
        event(type(e).__name__)
        assert client.state is case.state
        assert client.to_bytes() == case.saved
        return
    assert tuple(h.hash() for h in headers) == case.hashes
    assert set(result.justification.commit.precommits) <= case.precommits
    assert client.finalized.hash == case.hashes[-1]


PRECOMMIT_SIZE = 132  # target_hash, target_number: u32, signature, id


@FUZZ
@given(st.data())
def test_any_changed_precommit_byte_is_a_bad_signature(data: st.DataObject) -> None:
    """Byte-level mutation rarely keeps a justification decodable; this one always does: it
    changes one byte of one recorded precommit (target, number, signature or signer), which
    must cost exactly that precommit its signature, whichever it is."""
    case = data.draw(st.sampled_from(cases()))
    batch = split_batch(case.data)
    count = len(Justification.decode(batch.justification).commit.precommits)
    index = data.draw(st.integers(0, count - 1))
    start = 8 + 32 + 4 + len(encode_compact(count)) + index * PRECOMMIT_SIZE  # round, target
    damaged = bytearray(batch.justification)
    damaged[start + data.draw(st.integers(0, PRECOMMIT_SIZE - 1))] ^= data.draw(st.integers(1, 255))
    client = LightClient(case.state)
    try:
        client.import_batch(headers_of(batch), bytes(damaged))
    except BadSignature as e:
        assert e.precommit == index and e.set_id == case.set_id
        assert client.state is case.state
        return
    raise AssertionError(f"precommit #{index} was changed and still accepted")


@FUZZ
@given(st.data())
def test_mutated_justifications(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(cases()))
    original = split_batch(case.data).justification
    damaged = data.draw(mutated([original]))
    try:
        j = verify_justification(damaged, rococo_set(case.set_id), case.set_id)
    except LightClientError as e:
        event(type(e).__name__)
        return
    assert set(j.commit.precommits) <= case.precommits
    assert j.commit.target_hash == case.hashes[-1]


@FUZZ
@given(st.data())
def test_mutated_saved_state(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(cases()))
    damaged = data.draw(mutated([case.saved]))
    try:
        state = LightClientState.from_bytes(damaged)
    except BadState as e:
        event(e.reason.split(":")[0])
        return
    assert state.to_bytes() == damaged
