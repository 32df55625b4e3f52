"""Upload checks as pallet-contracts v1.5 and Pink apply them: every refusal names its reason."""

from __future__ import annotations

import contextlib

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.executor.engine import Engine, check_code
from pinkpipe.executor.errors import CodeRejected
from tests.executor.support import ALICE, TX, contract, new_cluster, shared_engine
from tests.fuzzing import mutated

MEMORY = '(import "env" "memory" (memory 1 16))'
ENTRIES = '(func (export "deploy")) (func (export "call"))'


def module(*parts: str, memory: str = MEMORY, entries: str = ENTRIES) -> bytes:
    return bytes(wasmtime.wat2wasm(f"(module {memory} {' '.join(parts)} {entries})"))


def rejected(code: bytes, deterministic: bool = True) -> str:
    with pytest.raises(CodeRejected) as info:
        check_code(code, deterministic)
    return info.value.reason


def test_the_example_contracts_pass() -> None:
    for name in ("flipper", "erc20", "system", "cross"):
        check_code(contract(name), deterministic=True)


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        ('(import "seal0" "no_such_fn" (func))', "seal0.no_such_fn is not a known host function"),
        ('(import "seal0" "caller_is_root" (func (result i32)))', "unstable"),
        ('(import "seal0" "xcm_send" (func (param i32 i32 i32 i32) (result i32)))', "unstable"),
        ('(import "seal2" "call" (func))', "unstable"),
        ('(import "seal0" "seal_random" (func (param i32 i32 i32 i32)))', "deprecated"),
        ('(import "seal1" "restore_to" (func (param i32 i32 i32 i32 i32)))', "deprecated"),
        (
            '(import "seal0" "input" (func (param i32)))',
            "signature (i32) -> (), expected (i32, i32)",
        ),
        (
            '(import "seal0" "gas_left" (func (param i32 i32) (result i32)))',
            "expected (i32, i32) -> ()",
        ),
        ('(import "foo" "bar" (func))', "foo.bar is not a known host function"),
        ('(import "env" "table" (table 1 funcref))', "table imports are not allowed"),
        ('(import "env" "g" (global i32))', "global imports are not allowed"),
        ('(func (export "other"))', "unknown export 'other'"),
        ("(start 0) (func)", "start function"),
        ("(func (drop (f32.add (f32.const 1) (f32.const 2))))", "floats are not allowed"),
        ("(func (local f64))", "float local"),
        ("(func (param f32))", "function type (f32) -> ()"),
        ("(global f64 (f64.const 1))", "floats are not allowed"),
        ("(func (memory.copy (i32.const 0) (i32.const 1) (i32.const 1)))", "bulk-memory"),
        ("(func (drop (i32.trunc_sat_f32_s (f32.const 1))))", "saturating float-to-int"),
        ("(func (result i32 i32) (i32.const 1) (i32.const 2))", "multi-value"),
        ("(func (drop (ref.null func)))", "reference"),
        ("(func (drop (v128.const i64x2 0 0)))", "simd"),
    ],
)
def test_refusals_name_their_reason(part: str, reason: str) -> None:
    assert reason in rejected(module(part))


@pytest.mark.parametrize(
    ("memory", "reason"),
    [
        ('(import "env" "memory" (memory 1 65))', "maximum of 65 pages exceeds 64"),
        ('(import "env" "memory" (memory 65))', "minimum 65 exceeds its maximum 64"),
        ('(import "other" "memory" (memory 1 16))', "must be env.memory"),
        ("(memory 1)", "defines its own memory"),
        ("", "no env.memory import"),
        ('(import "env" "memory" (memory 1 16 shared))', "shared memory is not allowed"),
    ],
)
def test_memory_rules(memory: str, reason: str) -> None:
    assert reason in rejected(module(memory=memory))


def test_an_export_of_a_missing_function() -> None:
    """Found by fuzzing: the entry-point type check must not index past the functions."""
    entries = '(func (export "deploy")) (export "call" (func 0))'
    code = bytearray(module(entries=entries))
    export_call = code.rindex(b"call") + 5  # its function index, right after kind 0
    code[export_call] = 9
    assert "function index 9 does not exist" in rejected(bytes(code))


def test_memory_without_maximum_gets_64_pages() -> None:
    _, limits = check_code(module(memory='(import "env" "memory" (memory 2))'), True)
    assert limits == (2, 64)


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ('(func (export "deploy"))', "expected a function export 'call'"),
        ('(func (export "call"))', "expected a function export 'deploy'"),
        ('(func (export "deploy") (param i32)) (func (export "call"))', "has type (i32) -> ()"),
        (ENTRIES + ' (export "mem" (memory 0))', "'mem' is not a function"),
    ],
)
def test_exports_are_deploy_and_call_only(entries: str, reason: str) -> None:
    assert reason in rejected(module(entries=entries))


def test_legacy_i32_entry_points_and_sign_extension_are_accepted() -> None:
    entries = '(func (export "deploy") (result i32) (i32.extend8_s (i32.const 255))) '
    check_code(module(entries=entries + '(func (export "call"))'), True)


def test_floats_are_allowed_in_indeterministic_code() -> None:
    check_code(module("(func (drop (f32.add (f32.const 1) (f32.const 2))))"), False)


def test_size_limits() -> None:
    big = module() + b"\x00" + bytes([0x80, 0x80, 0x80, 0x01]) + bytes(2 * 1024 * 1024)
    with pytest.raises(CodeRejected) as info:
        check_code(big, True)
    assert info.value.error.name == "CodeTooLarge"
    nops = module(f"(func {'nop ' * 524_288})")
    assert "DecompressedCodeTooLarge" in rejected(nops)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (b"", "missing the \\0asm version 1 header"),
        (b"\x00asm\x01\x00\x00\x00\x01", "unexpected end"),
        (b"\x00asm\x01\x00\x00\x00\x01\x05\x01\x60\x00\x00", "overruns"),
        (b"\x00asm\x01\x00\x00\x00\x2a\x00", "unknown section id 42"),
    ],
)
def test_malformed_modules(code: bytes, reason: str) -> None:
    assert reason in rejected(code)


def test_a_refused_upload_changes_nothing_and_the_runtime_keeps_serving() -> None:
    runtime = new_cluster()
    before = dict(runtime.state._data)
    for bad in (b"not wasm", module('(import "seal0" "caller_is_root" (func (result i32)))')):
        with pytest.raises(CodeRejected):
            runtime.upload_code(ALICE, bad, True, TX)
        assert runtime.state._data == before
    assert runtime.upload_code(ALICE, contract("flipper"), True, TX).value


def test_uploading_the_same_code_twice_is_a_no_op() -> None:
    runtime = new_cluster()
    first = runtime.upload_code(ALICE, contract("flipper"), True, TX)
    second = runtime.upload_code(ALICE, contract("flipper"), True, TX)
    assert first.value == second.value
    assert [(e.pallet, e.variant) for e in first.events] == [(4, 2)]  # CodeStored
    assert second.events == () and second.changes == []


SAMPLES = [contract(name) for name in ("flipper", "erc20", "system", "cross")]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(SAMPLES))
def test_damaged_contracts_are_refused_cleanly(code: bytes) -> None:
    """Any damage either passes every check and compiles, or is a CodeRejected."""
    engine: Engine = shared_engine()
    with contextlib.suppress(CodeRejected):
        engine.compile(blake2_256(code), code, deterministic=True)


class DictStore:
    """A module store in memory (a real one would be files named by code hash)."""

    def __init__(self) -> None:
        self.saved: dict[bytes, bytes] = {}
        self.loads = 0

    def load(self, code_hash: bytes) -> bytes | None:
        self.loads += 1
        return self.saved.get(code_hash)

    def save(self, code_hash: bytes, data: bytes) -> None:
        self.saved[code_hash] = data


def test_compiled_modules_survive_a_restart_through_the_module_store() -> None:
    store = DictStore()
    code = contract("flipper")
    first = Engine(module_store=store)
    first.compile(blake2_256(code), code, deterministic=True)
    assert set(store.saved) == {blake2_256(code)}
    restarted = Engine(module_store=store)
    loaded = restarted.compile(blake2_256(code), b"", deterministic=True)  # no code needed
    assert loaded.memory_limits == (1, 16) and store.loads == 2
    restarted.forget_modules()
    restarted.compile(blake2_256(code), b"", deterministic=True)
    assert store.loads == 3  # from the store again, not from memory
    store.saved[blake2_256(code)] = b"\x01\x00\x00\x00\x10\x00\x00\x00not a module"
    again = Engine(module_store=store).compile(blake2_256(code), code, deterministic=True)
    assert again.memory_limits == (1, 16)  # unreadable entry: compiled again and replaced
