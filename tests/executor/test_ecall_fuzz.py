"""Ecalls with arbitrary inputs: a result or a clean error, state unchanged on failure."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinkpipe.executor.errors import CodeRejected, DispatchFailure
from pinkpipe.executor.runtime import Mode, PinkRuntime
from tests.executor.support import (
    ALICE,
    BOB,
    CONTEXTS,
    GET,
    NEW,
    TX,
    args,
    call,
    contract,
    instantiate,
    new_cluster,
    output,
    u128,
    upload,
)
from tests.fuzzing import mutated


@cache
def fuzz_cluster() -> tuple[PinkRuntime, bytes, bytes, bytes]:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    token = instantiate(runtime, "erc20", NEW + u128(1000))
    return runtime, flipper, token, upload(runtime, "erc20")


SELECTORS = [bytes.fromhex(s) for s in ("84a15da1", "0f755a56", "db6375a8", "633aa551", "2f865bd9")]
inputs = st.one_of(
    st.binary(max_size=80),
    st.tuples(st.sampled_from(SELECTORS), st.binary(max_size=60)).map(lambda t: t[0] + t[1]),
)
accounts = st.sampled_from([ALICE, BOB, bytes(32), bytes([9] * 32)])
limits = st.sampled_from([0, 1, 10**6, 10**9, 10**10, 2**64 - 1])


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["flipper", "token", "nobody"]),
    inputs,
    st.sampled_from(list(Mode)),
    accounts,
    st.sampled_from([0, 1, 10**30]),
    limits,
    st.booleans(),
    st.sampled_from([None, 0, 1, 10**40]),
)
def test_contract_call_with_arbitrary_arguments(
    target: str, data: bytes, mode: Mode, origin: bytes, value: int, gas: int,
    gas_free: bool, deposit_limit: int | None,
) -> None:  # fmt: skip
    runtime, flipper, token, _ = fuzz_cluster()
    address = {"flipper": flipper, "token": token, "nobody": BOB}[target]
    tx = args(origin, transfer=value, gas_limit=gas, gas_free=gas_free,
              storage_deposit_limit=deposit_limit)  # fmt: skip
    before = dict(runtime.state._data)
    outcome = runtime.contract_call(address, data, mode, tx, CONTEXTS[mode])
    result = outcome.value
    assert result.encode()  # always encodable in pallet-contracts' layout
    if mode != Mode.TRANSACTION:
        assert runtime.state._data == before and outcome.changes == []
    assert output(call(runtime, flipper, GET, Mode.QUERY))[0] == 0


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs, st.binary(max_size=40), accounts, limits)
def test_instantiate_with_arbitrary_arguments(
    data: bytes, salt: bytes, origin: bytes, gas: int
) -> None:
    runtime, _, _, code_hash = fuzz_cluster()
    outcome = runtime.contract_instantiate(
        code_hash, data, salt, Mode.TRANSACTION, args(origin, gas_limit=gas), TX
    )
    result = outcome.value
    assert result.encode()
    if result.ok and result.output is not None and not result.output.reverted:
        assert result.account is not None and runtime.ledger.contract(result.account)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated([contract("erc20"), contract("flipper")]), accounts)
def test_upload_of_damaged_code(code: bytes, owner: bytes) -> None:
    runtime = fuzz_cluster()[0]
    before = dict(runtime.state._data)
    try:
        runtime.upload_code(owner, code, True, TX)
    except (CodeRejected, DispatchFailure):
        assert runtime.state._data == before


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutated([contract("erc20"), contract("flipper"), contract("cross")], 2), st.binary(max_size=40)
)
def test_damaged_code_that_uploads_also_runs_cleanly(code: bytes, data: bytes) -> None:
    """Damage that survives the upload checks still instantiates and answers calls with a
    result or a DispatchError, never a Python error."""
    runtime = fuzz_cluster()[0]
    try:
        code_hash = runtime.upload_code(ALICE, code, True, TX).value
    except (CodeRejected, DispatchFailure):
        return
    tx = args(gas_limit=10**11)
    for constructor in (bytes.fromhex("ed4b9d1b"), NEW + data):
        created = runtime.contract_instantiate(
            code_hash, constructor, data, Mode.TRANSACTION, tx, TX
        )
        assert created.value.encode()
        if created.value.ok and created.value.account is not None:
            answered = runtime.contract_call(created.value.account, data, Mode.TRANSACTION, tx, TX)
            assert answered.value.encode()
