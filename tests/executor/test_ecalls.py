"""Ecalls: setup's exact sequence, deposits, gas payment and refunds, modes, result encoding."""

# ruff: noqa: E501 (inline WAT)

from __future__ import annotations

import struct

import pytest
import wasmtime

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import Reader
from pinkpipe.executor.errors import CodeRejected, contracts_error
from pinkpipe.executor.results import ContractResult, ExecReturnValue, coarse
from pinkpipe.executor.runtime import ClusterSetup, Mode, PinkRuntime, SetupError
from pinkpipe.executor.schedule import GAS_CLIP_TRANSACTION, Weight
from tests.executor.support import (
    ALICE,
    BOB,
    DEFAULT,
    ENOUGH,
    FLIP,
    GET,
    NEW,
    TREASURY,
    TX,
    args,
    call,
    contract,
    instantiate,
    new_cluster,
    output,
    shared_engine,
    upload,
)


def kinds(events: tuple) -> list[tuple[int, int]]:
    return [(e.pallet, e.variant) for e in events]


def test_setup_sequence_and_system_contract() -> None:
    runtime = PinkRuntime(engine=shared_engine())
    system = contract("system")
    setup = ClusterSetup(bytes(32), ALICE, ENOUGH, 1, 1, 1, TREASURY, system)
    outcome = runtime.setup(setup, TX)
    code_hash = blake2_256(system)
    assert runtime.system_contract() == blake2_256(ALICE + code_hash + bytes(32))
    assert kinds(outcome.events) == [
        (2, 7), (0, 3), (2, 0),  # mint to the owner: Deposit, NewAccount, Endowed
        (4, 2),  # CodeStored
        (0, 3), (2, 0), (2, 2),  # the system contract's account gets ED from the owner
        (4, 0), (4, 8), (4, 8),  # Instantiated, base deposit held, storage deposit held
    ]  # fmt: skip
    stored = outcome.events[3]
    upload_deposit = len(system) + 63 + 2  # per byte x (code + CodeInfo max len) + 2 items
    assert stored.fields == code_hash + upload_deposit.to_bytes(16, "little") + ALICE
    owner = call(runtime, runtime.system_contract() or b"", bytes.fromhex("840e69bd"), Mode.QUERY)
    assert output(owner) == b"\x00" + ALICE


def test_setup_failures_are_reported_and_keep_storage() -> None:
    runtime = PinkRuntime(engine=shared_engine())
    bad = ClusterSetup(bytes(32), ALICE, ENOUGH, 1, 1, 1, TREASURY, b"\x00asm broken")
    with pytest.raises(SetupError, match="FailedToUploadSystemCode"):
        runtime.setup(bad, TX)
    assert runtime.free_balance(ALICE) == ENOUGH  # the mint stays, as in Pink
    flipper_as_system = ClusterSetup(bytes(32), BOB, ENOUGH, 1, 1, 1, TREASURY, contract("erc20"))
    with pytest.raises(SetupError, match="FailedToDeploySystemContract"):
        PinkRuntime(engine=shared_engine()).setup(flipper_as_system, TX)


def test_deposit_mints() -> None:
    runtime = new_cluster()
    assert kinds(runtime.deposit(BOB, 10, TX).events) == [(2, 7), (0, 3), (2, 0)]
    assert kinds(runtime.deposit(BOB, 5, TX).events) == [(2, 7)]
    assert runtime.deposit(BOB, 0, TX).events == ()
    assert runtime.free_balance(BOB) == 15


def test_query_and_estimate_commit_nothing() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    for mode in (Mode.QUERY, Mode.ESTIMATING):
        before = dict(runtime.state._data)
        outcome = call(runtime, flipper, FLIP, mode)
        assert outcome.value.ok and outcome.events == () and outcome.changes == []
        assert runtime.state._data == before
    assert output(call(runtime, flipper, GET)) == b"\x00\x01"


def test_query_results_are_coarse() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    exact = call(runtime, flipper, GET).value
    rough = call(runtime, flipper, GET, Mode.QUERY).value
    assert rough.gas_consumed == Weight(coarse(exact.gas_consumed.ref_time), 0)
    assert rough.gas_consumed.ref_time == 2**28 - 1  # small values round up to 28 bits
    assert coarse(0b1011 << 40) == (0b1011 << 40) | (2**35 - 1)


def test_gas_is_paid_upfront_and_the_rest_refunded() -> None:
    runtime = new_cluster(gas_price=2)
    flipper = instantiate(runtime, "flipper", DEFAULT)
    before = runtime.free_balance(ALICE)
    outcome = call(runtime, flipper, FLIP, tx=args(gas_free=False, gas_limit=10**12))
    consumed = outcome.value.gas_consumed.ref_time
    # the treasury account is created by the first payment: NewAccount, Endowed, Transfer
    assert kinds(outcome.events) == [(0, 3), (2, 0), (2, 2), (4, 6), (2, 2)]
    pay, refund = outcome.events[2], outcome.events[4]
    assert pay.fields == ALICE + TREASURY + (2 * 10**12).to_bytes(16, "little")
    assert refund.fields == TREASURY + ALICE + (2 * (10**12 - consumed)).to_bytes(16, "little")
    assert runtime.free_balance(ALICE) == before - 2 * consumed


def test_gas_limits_are_clipped_and_unpaid_gas_stops_the_call() -> None:
    runtime = new_cluster(gas_price=1)
    flipper = instantiate(runtime, "flipper", DEFAULT)
    paid = call(runtime, flipper, FLIP, tx=args(gas_free=False))  # u64::MAX -> 2.5e12
    assert paid.events[2].fields[64:] == GAS_CLIP_TRANSACTION.to_bytes(16, "little")
    broke = call(runtime, flipper, FLIP, tx=args(BOB, gas_free=False))
    assert broke.value.error is not None and broke.value.error.name == "FundsUnavailable"
    assert broke.value.gas_consumed == Weight(0, 0) and broke.events == ()


def test_out_of_gas_traps_and_changes_nothing() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    before = dict(runtime.state._data)
    outcome = call(runtime, flipper, FLIP, tx=args(gas_limit=10_000_000))
    assert outcome.value.error is not None and outcome.value.error.name == "OutOfGas"
    assert 10_000_000 - outcome.value.gas_consumed.ref_time < 8000
    assert runtime.state._data == before
    assert output(call(runtime, flipper, GET)) == b"\x00\x01"


def test_calling_a_missing_contract() -> None:
    runtime = new_cluster()
    outcome = call(runtime, BOB, GET)
    assert outcome.value.error is not None and outcome.value.error.name == "ContractNotFound"


def test_result_encoding_follows_contract_result() -> None:
    ok = ContractResult(Weight(5, 1), Weight(60, 2), 126, b"hi", ExecReturnValue(1, b"\x07"))
    weights = bytes.fromhex("1404" "f008")  # fmt: skip
    deposit = b"\x01" + (126).to_bytes(16, "little")  # Charge(126)
    result = bytes.fromhex("00" "01000000" "0407")  # Ok(flags 1, data [7])  # fmt: skip
    assert ok.encode() == weights + deposit + b"\x08hi" + result + b"\x00"
    created = ContractResult(
        Weight(0, 0), Weight(0, 0), -3, b"", ExecReturnValue(0, b""), None, BOB, instantiate=True
    )
    encoded = created.encode()
    r = Reader(encoded, 4)
    assert r.u8() == 0 and r.u128() == 3  # Refund(3)
    assert encoded.endswith(b"\x00" + bytes(4) + b"\x00" + BOB + b"\x00")
    failed = ContractResult(Weight(0, 0), Weight(0, 0), 0, b"", None, contracts_error("OutOfGas"))
    assert failed.encode().endswith(bytes.fromhex("01" "0304" "02000000" "00"))  # fmt: skip


def test_side_effects_list_instantiations_and_events() -> None:
    runtime = new_cluster()
    code_hash = upload(runtime, "erc20")
    created = runtime.contract_instantiate(
        code_hash, NEW + (5).to_bytes(16, "little"), b"", Mode.TRANSACTION, args(), TX
    )
    token = created.value.account
    effects = created.side_effects
    assert effects.instantiated == ((ALICE, token),)
    assert len(effects.ink_events) == 1 and effects.ink_events[0][0] == token
    assert effects.pink_events == ()


def scripted_run() -> list[bytes]:
    """A fixed sequence of ecalls; the encoded events and results of each."""
    runtime = PinkRuntime(engine=shared_engine())
    system = contract("system")
    trail = [b"".join(e.encode() for e in runtime.setup(
        ClusterSetup(bytes(32), ALICE, ENOUGH, 1, 1, 1, TREASURY, system), TX).events)]  # fmt: skip
    token = instantiate(runtime, "erc20", NEW + (100).to_bytes(16, "little"))
    for amount in (1, 2, 500):
        data = bytes.fromhex("84a15da1") + BOB + amount.to_bytes(16, "little")
        outcome = call(runtime, token, data, tx=args(gas_free=False))
        trail.append(outcome.value.encode() + b"".join(e.encode() for e in outcome.events))
    return trail


def test_two_runs_are_byte_identical() -> None:
    assert scripted_run() == scripted_run()


def test_indeterministic_code_runs_in_queries_only() -> None:
    runtime = new_cluster()
    floats = bytes(
        wasmtime.wat2wasm(
            '(module (import "seal0" "seal_return" (func $ret (param i32 i32 i32)))'
            '(import "env" "memory" (memory 1 16)) (func (export "deploy"))'
            '(func (export "call") (f32.store (i32.const 0) (f32.add (f32.const 1) (f32.const 2)))'
            "(call $ret (i32.const 0) (i32.const 0) (i32.const 4))))"
        )
    )
    with pytest.raises(CodeRejected, match="floats"):
        runtime.upload_code(ALICE, floats, True, TX)
    code_hash = runtime.upload_code(ALICE, floats, False, TX).value
    created = runtime.contract_instantiate(code_hash, b"", b"", Mode.TRANSACTION, args(), TX)
    assert created.value.error is not None and created.value.error.name == "Indeterministic"
    assert runtime.code_hash(created.value.account or bytes(32)) is None
    hexed = "".join(f"\\{b:02x}" for b in code_hash)
    caller = bytes(
        wasmtime.wat2wasm(
            '(module (import "seal0" "seal_return" (func $ret (param i32 i32 i32)))'
            '(import "seal0" "delegate_call" (func $delegate (param i32 i32 i32 i32 i32 i32) (result i32)))'
            f'(import "env" "memory" (memory 1 16)) (data (i32.const 0) "{hexed}")'
            '(func (export "deploy")) (func (export "call")'
            "(i32.store (i32.const 100) (i32.const 16))"
            "(drop (call $delegate (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 104) (i32.const 100)))"
            "(call $ret (i32.const 0) (i32.const 104) (i32.const 4))))"
        )
    )
    host = runtime.contract_instantiate(
        runtime.upload_code(ALICE, caller, True, TX).value, b"", b"", Mode.TRANSACTION, args(), TX
    ).value.account
    assert host is not None
    assert output(call(runtime, host, b"", Mode.QUERY)) == struct.pack("<f", 3.0)
    refused = call(runtime, host, b"")
    assert refused.value.error is not None and refused.value.error.name == "Indeterministic"


def test_event_block_fields_and_chain_counters() -> None:
    runtime = new_cluster()
    code_hash = upload(runtime, "flipper")
    failed = runtime.contract_instantiate(code_hash, b"\x00", b"salt", Mode.TRANSACTION, args(), TX)
    assert not failed.value.ok or failed.value.output is None or failed.value.output.reverted
    assert failed.entry_contract == blake2_256(ALICE + code_hash + bytes(32) + b"salt")
    assert failed.origin == ALICE
    assert runtime.event_chain_head() == (0, bytes(32))
    runtime.advance_event_chain(b"\x11" * 32)
    assert runtime.event_chain_head() == (1, b"\x11" * 32)
    deposit = runtime.deposit(BOB, 5, TX)
    assert deposit.entry_contract is None and deposit.origin is None
