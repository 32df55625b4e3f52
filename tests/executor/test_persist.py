"""The state's byte form: a whole cluster round-trips, and a restored cluster carries on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinkpipe.chain.scale import CodecError
from pinkpipe.executor.persist import (
    decode_key,
    decode_value,
    dump_state,
    encode_key,
    encode_value,
    load_state,
)
from pinkpipe.executor.runtime import Mode, PinkRuntime
from tests.executor.support import (
    ALICE,
    BOB,
    FLIP,
    GET,
    NEW,
    TRANSFER,
    TX,
    call,
    contract,
    instantiate,
    new_cluster,
    output,
    shared_engine,
    u128,
)


def busy_cluster() -> tuple[PinkRuntime, bytes, bytes]:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    token = instantiate(runtime, "erc20", NEW + u128(100))
    call(runtime, token, TRANSFER + BOB + u128(7))
    return runtime, flipper, token


def test_a_cluster_round_trips_and_carries_on() -> None:
    runtime, flipper, token = busy_cluster()
    entries = dump_state(runtime.state)
    restored = PinkRuntime(engine=shared_engine(), state=load_state(entries))
    assert dump_state(restored.state) == entries
    assert restored.state._data == runtime.state._data
    for cluster in (runtime, restored):
        call(cluster, flipper, FLIP)
        call(cluster, token, TRANSFER + BOB + u128(1))
    assert dump_state(restored.state) == dump_state(runtime.state)
    assert output(call(restored, flipper, GET, Mode.QUERY)) == b"\x00\x00"


def test_changes_encode() -> None:
    runtime, flipper, _ = busy_cluster()
    outcome = call(runtime, flipper, FLIP)
    for key, value in outcome.changes:
        assert decode_key(encode_key(key)) == key
        if value is not None:
            assert decode_value(encode_value(value)) == value


def test_damaged_entries_are_refused() -> None:
    runtime, _, _ = busy_cluster()
    entries = dump_state(runtime.state)
    key, value = entries[0]
    with pytest.raises(CodecError, match="state entry 0"):
        load_state([(key, b"\x63" + value[1:])])
    with pytest.raises(CodecError, match="state entry 0"):
        load_state([(key, value + b"\x00")])
    with pytest.raises(TypeError, match="cannot persist"):
        encode_value(1.5)


atoms = st.one_of(st.text(max_size=8), st.binary(max_size=40), st.integers(0, 2**130))
values = st.recursive(atoms, lambda inner: st.tuples(inner, inner), max_leaves=6)


@given(st.tuples(atoms, atoms), values)
def test_keys_and_values_round_trip(key: tuple, value: object) -> None:
    assert decode_key(encode_key(key)) == key
    assert decode_value(encode_value(value)) == value


def test_uploaded_code_is_copied_into_the_state() -> None:
    runtime = new_cluster()
    code = bytearray(contract("flipper"))
    code_hash = runtime.upload_code(ALICE, code, True, TX).value
    code[10] ^= 0xFF  # the caller reuses its buffer
    assert runtime.ledger.code(code_hash) == contract("flipper")
    assert isinstance(runtime.ledger.code(code_hash), bytes)
