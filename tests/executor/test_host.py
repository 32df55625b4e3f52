"""Host functions through small probe contracts: answers, traps, limits, and fuzzed arguments."""

# ruff: noqa: E501 (inline WAT snippets read best one instruction sequence per line)

from __future__ import annotations

import hashlib

import coincurve
import pytest
import wasmtime
from Crypto.Hash import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinkpipe.chain.hashing import blake2_128, blake2_256
from pinkpipe.chain.scale import encode_bytes
from pinkpipe.executor import keys
from pinkpipe.executor.cache import LocalCache
from pinkpipe.executor.extension import (
    Extension,
    HttpRequest,
    HttpRequestError,
    HttpResponse,
    QueryBackend,
)
from pinkpipe.executor.host import HOST_FUNCTIONS
from pinkpipe.executor.results import ContractResult
from pinkpipe.executor.runtime import ClusterSetup, Mode, Outcome, PinkRuntime
from pinkpipe.executor.schedule import PAYLOAD_LEN
from tests.executor.support import (
    ALICE,
    BOB,
    ENOUGH,
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
    u128,
    upload,
)

IMPORTS = {
    "ret": '(import "seal0" "seal_return" (func $ret (param i32 i32 i32)))',
    "input": '(import "seal0" "input" (func $input (param i32 i32)))',
    "event": '(import "seal0" "deposit_event" (func $event (param i32 i32 i32 i32)))',
    "debug": '(import "seal0" "debug_message" (func $debug (param i32 i32) (result i32)))',
    "set": '(import "seal2" "set_storage" (func $set (param i32 i32 i32 i32) (result i32)))',
    "ext": '(import "seal0" "call_chain_extension" (func $ext (param i32 i32 i32 i32 i32) (result i32)))',
}


def wat_bytes(data: bytes) -> str:
    """`data` as a WAT string literal body."""
    return "".join(f"\\{b:02x}" for b in data)


def probe_code(
    body: str, *needs: str, extra: str = "", data: str = "", memory: str = "(memory 1 16)"
) -> bytes:
    imports = " ".join(IMPORTS[n] for n in needs) + extra
    return bytes(
        wasmtime.wat2wasm(
            f'(module {imports} (import "env" "memory" {memory}) {data} '
            f'(func (export "deploy")) (func (export "call") {body}))'
        )
    )


def deploy(runtime: PinkRuntime, code: bytes, value: int = 0) -> bytes:
    """Upload and instantiate a probe (its deploy does nothing), sending `value` along."""
    code_hash = runtime.upload_code(ALICE, code, True, TX).value
    result = runtime.contract_instantiate(
        code_hash, b"", b"", Mode.TRANSACTION, args(transfer=value), TX
    ).value
    assert result.ok and result.account is not None, result.error
    return result.account


def run(
    body: str, *needs: str, extra: str = "", data: str = "", memory: str = "(memory 1 16)"
) -> tuple[PinkRuntime, bytes, dict, Outcome[ContractResult]]:
    runtime = new_cluster()
    address = deploy(runtime, probe_code(body, *needs, extra=extra, data=data, memory=memory))
    before = dict(runtime.state._data)
    outcome = call(runtime, address, b"\x01\x02\x03\x04")
    return runtime, address, before, outcome


def error_name(outcome: Outcome[ContractResult]) -> str:
    assert outcome.value.error is not None, "expected an error"
    return outcome.value.error.name


HASHES = {
    "hash_sha2_256": (lambda d: hashlib.sha256(d).digest(), 32),
    "hash_keccak_256": (lambda d: keccak.new(digest_bits=256, data=d).digest(), 32),
    "hash_blake2_256": (blake2_256, 32),
    "hash_blake2_128": (blake2_128, 16),
}


@pytest.mark.parametrize("name", sorted(HASHES))
def test_hashes(name: str) -> None:
    fn, size = HASHES[name]
    hash_import = f'(import "seal0" "{name}" (func $h (param i32 i32 i32)))'
    body = f"(call $h (i32.const 0) (i32.const 3) (i32.const 64)) (call $ret (i32.const 0) (i32.const 64) (i32.const {size}))"
    _, _, _, outcome = run(body, "ret", extra=hash_import, data='(data (i32.const 0) "abc")')
    assert output(outcome) == fn(b"abc")


def test_out_of_bounds_pointers_trap_and_change_nothing() -> None:
    hash_import = '(import "seal0" "hash_blake2_256" (func $h (param i32 i32 i32)))'
    runtime, _, before, outcome = run(
        "(call $h (i32.const 65530) (i32.const 100) (i32.const 0))", extra=hash_import
    )
    assert error_name(outcome) == "OutOfBounds"
    assert runtime.state._data == before and outcome.events == ()


def test_output_buffer_too_small_and_input_read_twice() -> None:
    body = "(i32.store (i32.const 0) (i32.const 1)) (call $input (i32.const 16) (i32.const 0))"
    assert error_name(run(body, "input")[3]) == "OutputBufferTooSmall"
    twice = (
        "(i32.store (i32.const 0) (i32.const 64)) (call $input (i32.const 16) (i32.const 0))"
        "(i32.store (i32.const 0) (i32.const 64)) (call $input (i32.const 16) (i32.const 0))"
    )
    assert error_name(run(twice, "input")[3]) == "InputForwarded"


def test_events_topics_and_size_limits() -> None:
    four = "(i32.store8 (i32.const 0) (i32.const 16)) (call $event (i32.const 0) (i32.const 129) (i32.const 0) (i32.const 3))"
    _, address, _, outcome = run(four, "event")
    emitted = outcome.events[0]
    assert (emitted.pallet, emitted.variant) == (4, 3) and emitted.topics == (bytes(32),) * 4
    assert emitted.fields == address + b"\x0c\x10\x00\x00"
    five = "(i32.store8 (i32.const 0) (i32.const 20)) (call $event (i32.const 0) (i32.const 161) (i32.const 0) (i32.const 3))"
    assert error_name(run(five, "event")[3]) == "TooManyTopics"
    trailing = "(i32.store8 (i32.const 0) (i32.const 4)) (call $event (i32.const 0) (i32.const 34) (i32.const 0) (i32.const 3))"
    assert error_name(run(trailing, "event")[3]) == "DecodingFailed"
    huge = f"(call $event (i32.const 0) (i32.const 0) (i32.const 0) (i32.const {PAYLOAD_LEN + 1}))"
    assert error_name(run(huge, "event", memory="(memory 17 64)")[3]) == "ValueTooLarge"


def test_storage_limits() -> None:
    long_key = "(drop (call $set (i32.const 0) (i32.const 129) (i32.const 0) (i32.const 1)))"
    assert error_name(run(long_key, "set")[3]) == "DecodingFailed"
    big = f"(drop (call $set (i32.const 0) (i32.const 4) (i32.const 0) (i32.const {PAYLOAD_LEN + 1})))"
    assert error_name(run(big, "set", memory="(memory 17 64)")[3]) == "ValueTooLarge"


def test_debug_messages_collect_valid_utf8_only() -> None:
    body = (
        "(drop (call $debug (i32.const 0) (i32.const 5)))"
        "(drop (call $debug (i32.const 8) (i32.const 1)))"  # a lone 0xff: not UTF-8
        "(drop (call $debug (i32.const 0) (i32.const 2)))"
    )
    data = '(data (i32.const 0) "hello") (data (i32.const 8) "\\ff")'
    _, _, _, outcome = run(body, "debug", data=data)
    assert outcome.value.ok and outcome.value.debug_message == b"hellohe"


def test_traps_and_infinite_loops() -> None:
    assert error_name(run("unreachable")[3]) == "ContractTrapped"
    runtime, _, before, outcome = run("(loop (br 0))")
    assert error_name(outcome) == "OutOfGas" and runtime.state._data == before
    bad_flags = "(call $ret (i32.const 2) (i32.const 0) (i32.const 0))"
    assert error_name(run(bad_flags, "ret")[3]) == "InvalidCallFlags"


def test_environment_values() -> None:
    env = " ".join(
        f'(import "seal0" "{n}" (func ${n} (param i32 i32)))'
        for n in (
            "caller",
            "address",
            "value_transferred",
            "block_number",
            "now",
            "minimum_balance",
        )
    )
    steps = []
    at = 0
    for name, size in [("caller", 32), ("address", 32), ("value_transferred", 16),
                       ("block_number", 4), ("now", 8), ("minimum_balance", 16)]:  # fmt: skip
        steps.append(
            f"(i32.store (i32.const 1000) (i32.const {size})) (call ${name} (i32.const {at}) (i32.const 1000))"
        )
        at += size
    body = " ".join(steps) + f" (call $ret (i32.const 0) (i32.const 0) (i32.const {at}))"
    _, address, _, outcome = run(body, "ret", extra=env)
    answer = output(outcome)
    assert answer == ALICE + address + bytes(16) + (1).to_bytes(4, "little") + (1).to_bytes(
        8, "little"
    ) + (1).to_bytes(16, "little")


def test_ecdsa_recover_and_eth_address() -> None:
    key = coincurve.PrivateKey(bytes(range(1, 33)))
    message_hash = blake2_256(b"pink")
    signature = key.sign_recoverable(message_hash, hasher=None)
    ecdsa = (
        '(import "seal0" "ecdsa_recover" (func $recover (param i32 i32 i32) (result i32)))'
        '(import "seal0" "ecdsa_to_eth_address" (func $eth (param i32 i32) (result i32)))'
    )
    hexed = wat_bytes(signature + message_hash)
    body = (
        "(i32.store (i32.const 200) (call $recover (i32.const 0) (i32.const 65) (i32.const 100)))"
        "(i32.store (i32.const 204) (call $eth (i32.const 100) (i32.const 140)))"
        "(call $ret (i32.const 0) (i32.const 100) (i32.const 108))"
    )
    _, _, _, outcome = run(body, "ret", extra=ecdsa, data=f'(data (i32.const 0) "{hexed}")')
    answer = output(outcome)
    public = key.public_key.format(compressed=True)
    eth = keccak.new(digest_bits=256, data=key.public_key.format(compressed=False)[1:]).digest()[
        12:
    ]
    assert answer[:33] == public and answer[40:60] == eth and answer[100:108] == bytes(8)
    body_bad = "(call $ret (i32.const 0) (i32.const 200) (i32.const 4)) "
    bad = (
        "(i32.store (i32.const 200) (call $recover (i32.const 300) (i32.const 65) (i32.const 100)))"
    )
    _, _, _, failed = run(bad + body_bad, "ret", extra=ecdsa)
    assert output(failed) == (11).to_bytes(4, "little")  # EcdsaRecoveryFailed


def test_terminate_refunds_and_pays_the_beneficiary() -> None:
    terminate = '(import "seal1" "terminate" (func $terminate (param i32)))'
    runtime = new_cluster()
    data = f'(data (i32.const 0) "{wat_bytes(BOB)}")'
    code = probe_code("(call $terminate (i32.const 0))", extra=terminate, data=data)
    address = deploy(runtime, code, value=50)
    held = runtime.total_balance(address) - 50
    alice = runtime.free_balance(ALICE)
    outcome = call(runtime, address, b"")
    assert outcome.value.ok
    assert [(e.pallet, e.variant) for e in outcome.events] == [
        (4, 1), (4, 6),  # Terminated, Called
        (4, 9),  # deposits released to the origin
        (0, 4), (0, 3), (2, 0), (2, 2),  # the rest to BOB: contract reaped, BOB created
    ]  # fmt: skip
    assert runtime.ledger.contract(address) is None and runtime.total_balance(address) == 0
    assert runtime.free_balance(ALICE) == alice + held - 1  # deposits back, ED stays with BOB
    assert runtime.free_balance(BOB) == 51
    assert error_name(call(runtime, address, b"")) == "ContractNotFound"
    idle = runtime.on_idle(1, TX)
    assert (idle.value, idle.events) == (1, ())  # its (empty) storage trie is deleted now
    assert runtime.on_idle(1, TX).value == 0


def test_transfer_from_a_contract() -> None:
    transfer = '(import "seal0" "transfer" (func $transfer (param i32 i32 i32 i32) (result i32)))'
    body = (
        "(i64.store (i32.const 32) (i64.load (i32.const 100)))"
        "(i32.store (i32.const 200) (call $transfer (i32.const 0) (i32.const 32) (i32.const 32) (i32.const 16)))"
        "(call $ret (i32.const 0) (i32.const 200) (i32.const 4))"
    )
    data = f'(data (i32.const 0) "{wat_bytes(BOB)}") (data (i32.const 100) "\\05")'
    runtime = new_cluster()
    address = deploy(runtime, probe_code(body, "ret", extra=transfer, data=data), value=7)
    assert output(call(runtime, address, b"")) == bytes(4)
    assert runtime.free_balance(BOB) == 5
    assert output(call(runtime, address, b"")) == (5).to_bytes(4, "little")  # would drop below ED


def test_set_code_hash_and_delegate_call() -> None:
    runtime = new_cluster()
    flipper_hash = upload(runtime, "flipper")
    hexed = wat_bytes(flipper_hash)
    code = (
        '(import "seal0" "set_code_hash" (func $set_code (param i32) (result i32)))'
        '(import "seal0" "delegate_call" (func $delegate (param i32 i32 i32 i32 i32 i32) (result i32)))'
    )
    body = (
        "(drop (call $set (i32.const 100) (i32.const 4) (i32.const 104) (i32.const 1)))"
        "(i32.store (i32.const 200) (i32.const 64))"
        "(i32.store (i32.const 300) (call $delegate (i32.const 0) (i32.const 0) (i32.const 120) (i32.const 4) (i32.const 204) (i32.const 200)))"
        "(call $ret (i32.const 0) (i32.const 200) (i32.const 104))"
    )
    data = (
        f'(data (i32.const 0) "{hexed}") (data (i32.const 104) "\\01") '
        f'(data (i32.const 120) "{wat_bytes(GET)}")'
    )
    address = deploy(runtime, probe_code(body, "set", "ret", extra=code, data=data))
    delegated = call(runtime, address, b"")
    answer = output(delegated)
    assert answer[4:6] == b"\x00\x01" and answer[100:104] == bytes(4)  # flipper's get ran here
    assert (4, 7) in [(e.pallet, e.variant) for e in delegated.events]  # DelegateCalled

    body = "(i32.store (i32.const 300) (call $set_code (i32.const 0))) (call $ret (i32.const 0) (i32.const 300) (i32.const 4))"
    switcher = deploy(
        runtime, probe_code(body, "ret", extra=code, data=f'(data (i32.const 0) "{hexed}")')
    )
    outcome = call(runtime, switcher, b"")
    assert output(outcome) == bytes(4)
    assert (4, 5) in [(e.pallet, e.variant) for e in outcome.events]  # ContractCodeUpdated
    assert runtime.code_hash(switcher) == flipper_hash


def test_chain_extension_basics() -> None:
    def ext(func_id: int, mode: Mode = Mode.TRANSACTION, data: str = "", in_len: int = 0):
        body = (
            "(i32.store (i32.const 1000) (i32.const 512))"
            f"(i32.store (i32.const 1004) (call $ext (i32.const {func_id}) (i32.const 0) (i32.const {in_len}) (i32.const 2000) (i32.const 1000)))"
            "(call $ret (i32.const 0) (i32.const 1000) (i32.const 1512))"
        )
        runtime = new_cluster()
        address = deploy(runtime, probe_code(body, "ext", "ret", data=data))
        outcome = call(runtime, address, b"", mode)
        if outcome.value.error is not None:
            return outcome.value.error.name
        answer = output(outcome)
        length = int.from_bytes(answer[:4], "little")
        return int.from_bytes(answer[4:8], "little"), answer[1000 : 1000 + length]

    assert ext(12) == (0, b"\x01")  # is_in_transaction
    assert ext(12, Mode.QUERY) == (0, b"\x00")
    assert ext(21) == (0, (1).to_bytes(4, "little") + (2).to_bytes(4, "little"))
    assert ext(1, data='(data (i32.const 0) "x")', in_len=1) == "DecodingFailed"
    assert ext(11, data='(data (i32.const 0) "\\20")', in_len=1) == (0, b"\x00")  # no randomness
    assert ext(18) == (0, bytes(8))
    assert ext(12, data='(data (i32.const 0) "\\00")', in_len=1) == "DecodingFailed"
    assert ext(99) == "UnknownChainExtensionFunction"
    assert ext(0x10000 | 12) == "UnknownChainExtensionId"
    assert ext(24) == "NoChainExtension"  # js_eval: not implemented here, says so


def ext_call(
    func_id: int,
    data: bytes,
    mode: Mode = Mode.TRANSACTION,
    key: bytes | None = None,
    backend: QueryBackend | None = None,
    chain_head: bytes | None = None,
    cache: LocalCache | None = None,
) -> tuple[PinkRuntime, bytes, Outcome[ContractResult], int, bytes]:
    """Call extension `func_id` with SCALE input `data` from a probe; (..., status, output)."""
    body = (
        "(i32.store (i32.const 1000) (i32.const 512))"
        f"(i32.store (i32.const 1004) (call $ext (i32.const {func_id}) (i32.const 0) (i32.const {len(data)}) (i32.const 2000) (i32.const 1000)))"
        "(call $ret (i32.const 0) (i32.const 1000) (i32.const 1512))"
    )
    runtime = new_cluster()
    runtime.extension = Extension(backend=backend, local_cache=cache)
    if key is not None:
        runtime.set_key(key, TX)
    if chain_head is not None:
        runtime.advance_event_chain(chain_head)
    code = probe_code(body, "ext", "ret", data=f'(data (i32.const 0) "{wat_bytes(data)}")')
    address = deploy(runtime, code)
    outcome = call(runtime, address, b"", mode)
    if outcome.value.error is not None:
        return runtime, address, outcome, -1, str(outcome.value.error).encode()
    answer = output(outcome)
    length = int.from_bytes(answer[:4], "little")
    return (
        runtime,
        address,
        outcome,
        int.from_bytes(answer[4:8], "little"),
        answer[1000 : 1000 + length],
    )


def test_chain_extension_signing() -> None:
    seed = bytes(range(1, 33))
    signed = ext_call(2, b"\x00\x80" + seed + b"\x08hi")[4]  # sign(Ed25519, seed, "hi")
    assert signed == b"\x01\x01" + keys.sign(keys.ED25519, seed, b"hi")  # compact(64) ‖ sig
    assert ext_call(2, b"\x01\x80" + seed + b"\x08hi")[4] == b"\x00"  # Sr25519 in tx: empty
    assert len(ext_call(2, b"\x01\x80" + seed + b"\x08hi", Mode.QUERY)[4]) == 66
    public = ext_call(5, b"\x02\x80" + seed)[4]  # get_public_key(Ecdsa, seed)
    assert public == b"\x84" + keys.public_key(keys.ECDSA, seed)
    signature = keys.sign(keys.ECDSA, seed, b"hi")
    verify = b"\x02\x84" + public[1:] + b"\x08hi\x05\x01" + signature  # compact(65)
    assert ext_call(3, verify)[3:] == (0, b"\x01")
    assert ext_call(2, b"\x00\x7c" + seed[:31] + b"\x00")[4] == b"Other"  # bad key: trap


def test_chain_extension_key_derivation_and_cache() -> None:
    assert ext_call(4, b"\x04s")[4] == b"Pink::KeySeedMissing"
    cluster_key = keys.expand_mini_secret(bytes([42] * 32))
    _, address, _, status, derived = ext_call(4, b"\x04s", key=cluster_key)
    assert status == 0 and derived == b"\x01\x01" + keys.derive_secret(
        cluster_key, [address, b"s", b"keygen"]
    )
    _, address, outcome, status, answer = ext_call(6, b"\x04k\x04v")  # cache_set(k, v)
    assert (status, answer) == (0, b"")
    assert [(e.pallet, e.variant) for e in outcome.events] == [(4, 6)]  # CacheOp is private
    assert outcome.side_effects.pink_events == ((address, b"\x05\x00\x04k\x04v"),)
    assert ext_call(6, b"\x04k\x04v", Mode.QUERY)[4] == b"Contracts::NoChainExtension"  # no cache


def test_chain_extension_cache_in_queries() -> None:
    """Each probe is its own contract, with a deterministic address across fresh clusters."""
    cache = LocalCache(lambda: 0)
    _, setter, _, status, _ = ext_call(6, b"\x04k\x04v", Mode.QUERY, cache=cache)
    assert status == 1  # StorageQuotaExceeded: this contract has no quota yet
    cache.apply_quotas({setter: 64})
    assert ext_call(6, b"\x04k\x04v", Mode.QUERY, cache=cache)[3:] == (0, b"")
    assert cache.get(setter, b"k") == b"v"
    _, getter, _, _, answer = ext_call(8, b"\x04k", Mode.QUERY, cache=cache)
    assert answer == b"\x00"
    cache.apply_quotas({getter: 64})
    cache.set(getter, b"k", b"w")
    assert ext_call(8, b"\x04k", Mode.QUERY, cache=cache)[3:] == (0, b"\x01\x04w")
    assert ext_call(8, b"\x04k", cache=cache)[3:] == (0, b"\x00")  # None in transactions
    _, remover, _, _, _ = ext_call(9, b"\x04k", Mode.QUERY, cache=cache)
    cache.apply_quotas({remover: 64})
    cache.set(remover, b"k", b"x")
    assert ext_call(9, b"\x04k", Mode.QUERY, cache=cache)[3:] == (0, b"\x01\x04x")
    assert cache.get(remover, b"k") is None


def test_instantiated_probe_runs_after_failures() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    broken = deploy(runtime, probe_code("unreachable"))
    assert call(runtime, broken, b"").value.error is not None
    assert output(call(runtime, flipper, GET)) == b"\x00\x01"


# --- fuzz: every linked host function with arbitrary arguments ------------------------------

FUZZ_INPUT_AT = 60000


def fuzz_probe(module: str, name: str) -> bytes:
    hf = HOST_FUNCTIONS[(module, name)]
    wat_types = {"i": "i32", "I": "i64"}
    params = " ".join(wat_types[c] for c in hf.params)
    result = f"(result {wat_types[hf.result]})" if hf.result else ""
    loads = []
    offset = 0
    for c in hf.params:
        op = "i32.load" if c == "i" else "i64.load"
        loads.append(f"({op} (i32.const {FUZZ_INPUT_AT + offset}))")
        offset += 8
    invoke = f"(call $f {' '.join(loads)})"
    if hf.result:
        invoke = f"(drop {invoke})"
    body = (
        f"(i32.store (i32.const 0) (i32.const 1000)) (call $input (i32.const {FUZZ_INPUT_AT}) (i32.const 0)) "
        + invoke
    )
    imports = IMPORTS["input"] + f'(import "{module}" "{name}" (func $f (param {params}) {result}))'
    if (module, name) == ("seal0", "input"):
        imports = '(import "seal0" "input" (func $f (param i32 i32)))'
        body = f"(call $f {' '.join(loads)})"
    return bytes(
        wasmtime.wat2wasm(
            f'(module {imports} (import "env" "memory" (memory 1 16)) '
            '(func (export "deploy")) (func (export "call") ' + body + "))"
        )
    )


FUZZ_NAMES = sorted(
    k for k in HOST_FUNCTIONS if not k[1].startswith("seal_") or k[1] == "seal_return"
)
interesting = st.one_of(
    st.sampled_from([0, 1, 4, 16, 31, 32, 33, 64, 128, 129, 65535, 65536, 2**31, 2**32 - 1]),
    st.integers(0, 2**32 - 1),
)

_FUZZ: dict[str, object] = {}


def fuzz_cluster() -> tuple[PinkRuntime, dict[tuple[str, str], bytes]]:
    if "runtime" not in _FUZZ:
        runtime = new_cluster()
        _FUZZ["runtime"] = runtime
        _FUZZ["flipper"] = instantiate(runtime, "flipper", NEW + b"\x01")
        _FUZZ["probes"] = {key: deploy(runtime, fuzz_probe(*key)) for key in FUZZ_NAMES}
    return _FUZZ["runtime"], _FUZZ["probes"]  # type: ignore[return-value]


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FUZZ_NAMES), st.lists(interesting, min_size=14, max_size=14))
def test_host_functions_with_arbitrary_arguments(key: tuple[str, str], values: list[int]) -> None:
    """Whatever the pointers and lengths: a result or a DispatchError, never a Python error;
    a failed call leaves the state as it was and the runtime keeps serving."""
    runtime, probes = fuzz_cluster()
    data = b"".join(v.to_bytes(8, "little") for v in values)
    before = dict(runtime.state._data)
    outcome = call(runtime, probes[key], data, tx=args(gas_limit=10**11))
    if outcome.value.error is not None or (outcome.value.output and outcome.value.output.flags & 1):
        assert runtime.state._data == before
    assert output(call(runtime, _FUZZ["flipper"], GET, Mode.QUERY))[0] == 0  # type: ignore[arg-type]


def test_sentinel_results_reach_wasm_as_u32_max() -> None:
    contains = '(import "seal1" "contains_storage" (func $contains (param i32 i32) (result i32)))'
    body = (
        "(i32.store (i32.const 100) (call $contains (i32.const 0) (i32.const 4)))"
        "(drop (call $set (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 3)))"
        "(i32.store (i32.const 104) (call $contains (i32.const 0) (i32.const 4)))"
        "(call $ret (i32.const 0) (i32.const 100) (i32.const 8))"
    )
    _, _, _, outcome = run(body, "set", "ret", extra=contains)
    assert output(outcome) == (2**32 - 1).to_bytes(4, "little") + (3).to_bytes(4, "little")


def test_pointers_are_unsigned() -> None:
    """0xFFFFFFFF is a pointer past the end of memory, not -1."""
    hash_import = '(import "seal0" "hash_blake2_128" (func $h (param i32 i32 i32)))'
    _, _, _, outcome = run(
        "(call $h (i32.const 0) (i32.const 0) (i32.const -1))", extra=hash_import
    )
    assert error_name(outcome) == "OutOfBounds"


def test_import_latest_system_code_is_for_the_system_contract_only() -> None:
    body = (
        "(i32.store (i32.const 1000) (i32.const 64))"
        "(i32.store (i32.const 1004) (call $ext (i32.const 20) (i32.const 0) (i32.const 32) (i32.const 2000) (i32.const 1000)))"
        "(call $ret (i32.const 0) (i32.const 1000) (i32.const 1064))"
    )
    probe = probe_code(body, "ext", "ret", data=f'(data (i32.const 0) "{wat_bytes(ALICE)}")')
    newer = contract("flipper")
    runtime = PinkRuntime(
        engine=shared_engine(), extension=Extension(latest_system_code=lambda: newer)
    )
    setup = ClusterSetup(bytes(32), ALICE, ENOUGH, 1, 1, 1, TREASURY, probe)
    runtime.setup(setup, TX)
    system = runtime.system_contract()
    assert system is not None
    outcome = call(runtime, system, b"")
    answer = output(outcome)
    assert answer[1000:1033] == b"\x01" + blake2_256(newer)  # Some(hash)
    assert (4, 2) in [(e.pallet, e.variant) for e in outcome.events]  # CodeStored
    other = runtime.contract_instantiate(
        blake2_256(probe), b"", b"another", Mode.TRANSACTION, args(), TX
    ).value.account
    assert other is not None
    assert error_name(call(runtime, other, b"")) == "BadOrigin"


def test_sidevm_code_upload_pays_the_treasury() -> None:
    runtime = new_cluster()
    code = b"sidevm program"
    outcome = runtime.upload_sidevm_code(ALICE, code, TX)
    assert outcome.value == blake2_256(code)
    fee = len(code) + 32 + 1
    assert [(e.pallet, e.variant) for e in outcome.events] == [(0, 3), (2, 0), (2, 2)]
    assert outcome.events[-1].fields == ALICE + TREASURY + fee.to_bytes(16, "little")
    assert runtime.get_sidevm_code(blake2_256(code)) == code
    exists = ext_call(19, blake2_256(code) + b"\x01")
    assert exists[3:] == (0, b"\x00")  # another cluster: not there


class RecordingBackend:
    """The query-side services as Phala's test harness mocks them (PINK.md 8.1)."""

    def __init__(self) -> None:
        self.requests: list[tuple[HttpRequest, int]] = []

    def http_request(self, request: HttpRequest, timeout_ms: int) -> HttpResponse:
        self.requests.append((request, timeout_ms))
        if request.url.endswith("/timeout"):
            raise HttpRequestError("Timeout")
        if request.url.endswith("/large"):
            return HttpResponse(200, "OK", (), bytes(8 * 1024 * 1024))
        return HttpResponse(200, "OK", (("x", "y"),), request.url.encode())

    def millis_since_epoch(self) -> int:
        return 1_700_000_000_000

    def random_bytes(self, length: int) -> bytes:
        return bytes(range(length))

    def worker_pubkey(self) -> bytes:
        return bytes([1] * 32)


def http_get(url: str) -> bytes:
    return (
        encode_bytes(url.encode())
        + encode_bytes(b"GET")
        + b"\x04"
        + encode_bytes(b"h")
        + encode_bytes(b"v")
        + b"\x00"
    )


def test_http_in_transactions_and_queries() -> None:
    request = http_get("https://example.com/a")
    _, _, _, status, response = ext_call(1, request)
    assert status == 0 and response.startswith((523).to_bytes(2, "little") + b"\x3cAPI Unavailable")
    backend = RecordingBackend()
    _, _, _, status, response = ext_call(1, request, Mode.QUERY, backend=backend)
    expected = HttpResponse(200, "OK", (("x", "y"),), b"https://example.com/a").encode()
    assert (status, response) == (0, expected)
    assert backend.requests == [
        (HttpRequest("https://example.com/a", "GET", (("h", "v"),), b""), 10_000)
    ]
    assert ext_call(1, http_get("https://x/timeout"), Mode.QUERY, backend=backend)[4] == b"Other"
    too_large = HttpResponse(524, "IO Error", (), b"ResponseTooLarge").encode()
    assert ext_call(1, http_get("https://x/large"), Mode.QUERY, backend=backend)[3:] == (
        0,
        too_large,
    )
    assert (
        ext_call(1, request, Mode.QUERY)[4] == b"Pink::UnknownChainExtensionFunction"
    )  # no backend


def test_batch_http_requests() -> None:
    two = (
        b"\x08"
        + http_get("https://a/1")
        + http_get("https://a/timeout")
        + (5000).to_bytes(8, "little")
    )
    assert ext_call(22, two)[3:] == (7, b"")  # NotAllowed outside queries
    backend = RecordingBackend()
    _, _, _, status, answer = ext_call(22, two, Mode.QUERY, backend=backend)
    ok = b"\x00" + HttpResponse(200, "OK", (("x", "y"),), b"https://a/1").encode()
    assert (status, answer) == (0, b"\x08" + ok + b"\x01\x05")  # [Ok(..), Err(Timeout)]
    assert [timeout for _, timeout in backend.requests] == [5000, 5000]
    six = b"\x18" + http_get("https://a/1") * 6 + (5000).to_bytes(8, "little")
    assert ext_call(22, six, Mode.QUERY, backend=backend)[3:] == (8, b"")  # TooManyRequests


def test_query_only_services() -> None:
    backend = RecordingBackend()
    assert ext_call(11, b"\x04", Mode.QUERY, backend=backend)[3:] == (0, b"\x10" + bytes(range(4)))
    assert ext_call(17, b"", Mode.QUERY, backend=backend)[3:] == (0, bytes([1] * 32))
    assert ext_call(17, b"")[3:] == (0, bytes(32))
    assert ext_call(18, b"", Mode.QUERY, backend=backend)[3:] == (
        0,
        (1_700_000_000_000).to_bytes(8, "little"),
    )


def storage_probe() -> bytes:
    """call(input = op byte): 1 writes two 10-byte items, 2 clears one, 3 grows the other."""
    clear = '(import "seal1" "clear_storage" (func $clear (param i32 i32) (result i32)))'
    body = (
        "(i32.store (i32.const 0) (i32.const 8)) (call $input (i32.const 100) (i32.const 0))"
        "(if (i32.eq (i32.load8_u (i32.const 100)) (i32.const 1)) (then"
        " (drop (call $set (i32.const 200) (i32.const 1) (i32.const 300) (i32.const 10)))"
        " (drop (call $set (i32.const 201) (i32.const 1) (i32.const 300) (i32.const 10)))))"
        "(if (i32.eq (i32.load8_u (i32.const 100)) (i32.const 2)) (then"
        " (drop (call $clear (i32.const 200) (i32.const 1)))))"
        "(if (i32.eq (i32.load8_u (i32.const 100)) (i32.const 3)) (then"
        " (drop (call $set (i32.const 201) (i32.const 1) (i32.const 300) (i32.const 30)))))"
    )
    return probe_code(body, "input", "set", extra=clear, data='(data (i32.const 200) "ab")')


def deposit_events(outcome: Outcome[ContractResult]) -> list[tuple[int, int]]:
    return [
        (e.variant, int.from_bytes(e.fields[64:80], "little"))
        for e in outcome.events
        if (e.pallet, e.variant) in ((4, 8), (4, 9))
    ]


def test_storage_deposits_charge_and_refund_pro_rata() -> None:
    runtime = new_cluster(per_item=3, per_byte=2)
    address = deploy(runtime, storage_probe())
    alice = runtime.free_balance(ALICE)
    written = call(runtime, address, b"\x01")
    assert written.value.storage_deposit == 2 * 3 + 20 * 2  # two items, 20 bytes
    assert deposit_events(written) == [(8, 46)]
    cleared = call(runtime, address, b"\x02")
    # one of two items (3 of 6) and 10 of 20 bytes (20 of 40) come back
    assert cleared.value.storage_deposit == -23
    assert deposit_events(cleared) == [(9, 23)]
    grown = call(runtime, address, b"\x03")
    assert grown.value.storage_deposit == 40 and deposit_events(grown) == [(8, 40)]
    assert runtime.free_balance(ALICE) == alice - 46 + 23 - 40
    info = runtime.ledger.contract(address)
    assert info is not None and (info.storage_items, info.storage_bytes) == (1, 30)
    assert (info.storage_item_deposit, info.storage_byte_deposit) == (3, 60)


def test_storage_deposit_limit() -> None:
    runtime = new_cluster()
    address = deploy(runtime, storage_probe())
    before = dict(runtime.state._data)
    limited = call(runtime, address, b"\x01", tx=args(storage_deposit_limit=21))
    assert error_name(limited) == "StorageDepositLimitExhausted"
    assert runtime.state._data == before
    assert call(runtime, address, b"\x01", tx=args(storage_deposit_limit=22)).value.ok
    broke = call(runtime, address, b"\x01", tx=args(BOB, storage_deposit_limit=1))
    assert error_name(broke) == "StorageDepositNotEnoughFunds"


def test_unbounded_wasm_recursion_traps() -> None:
    code = bytes(
        wasmtime.wat2wasm(
            '(module (import "env" "memory" (memory 1 16)) (func (export "deploy"))'
            '(func $deep (call $deep)) (func (export "call") (call $deep)))'
        )
    )
    runtime = new_cluster()
    address = deploy(runtime, code)
    before = dict(runtime.state._data)
    outcome = call(runtime, address, b"")
    assert error_name(outcome) in ("ContractTrapped", "OutOfGas")
    assert runtime.state._data == before


def test_huge_inputs_are_a_clean_error() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    outcome = call(runtime, flipper, GET + bytes(4 * 1024 * 1024))
    assert error_name(outcome) == "OutputBufferTooSmall"  # flipper reads into 1 KiB
    assert output(call(runtime, flipper, GET)) == b"\x00\x01"


def test_extension_output_overflow_is_pinks_own_error() -> None:
    body = (
        "(i32.store (i32.const 1000) (i32.const 7))"  # runtime_version needs 8 bytes
        "(drop (call $ext (i32.const 21) (i32.const 0) (i32.const 0) (i32.const 2000) (i32.const 1000)))"
    )
    runtime = new_cluster()
    address = deploy(runtime, probe_code(body, "ext"))
    outcome = call(runtime, address, b"")
    assert outcome.value.error is not None
    assert str(outcome.value.error) == "Pink::ContractIoBufferOverflow"
    assert outcome.value.error.encode() == bytes([3, 5, 2, 0, 0, 0])


def test_current_event_chain_head() -> None:
    assert ext_call(23, b"")[3:] == (0, bytes(8) + bytes(32))
    head = ext_call(23, b"", chain_head=b"\x22" * 32)[3:]
    assert head == (0, (1).to_bytes(8, "little") + b"\x22" * 32)


def test_terminated_storage_waits_for_on_idle() -> None:
    terminate = '(import "seal1" "terminate" (func $terminate (param i32)))'
    body = (
        "(i32.store (i32.const 0) (i32.const 8)) (call $input (i32.const 100) (i32.const 0))"
        "(if (i32.eq (i32.load8_u (i32.const 100)) (i32.const 1)) (then"
        " (drop (call $set (i32.const 200) (i32.const 1) (i32.const 300) (i32.const 10)))))"
        "(if (i32.eq (i32.load8_u (i32.const 100)) (i32.const 2)) (then"
        " (call $terminate (i32.const 400))))"
    )
    runtime = new_cluster()
    address = deploy(runtime, probe_code(body, "input", "set", extra=terminate))
    trie_id = runtime.ledger.contract(address).trie_id  # type: ignore[union-attr]
    assert call(runtime, address, b"\x01").value.ok
    assert call(runtime, address, b"\x02").value.ok
    stored = ("Contracts", "Storage", trie_id)
    assert runtime.state.keys_with_prefix(stored)  # queued, not yet deleted
    assert runtime.on_idle(2, TX).value == 1
    assert runtime.state.keys_with_prefix(stored) == []


def test_debug_buffer_holds_128_kib() -> None:
    body = (
        "(drop (call $debug (i32.const 0) (i32.const 200000)))"  # cut to 128 KiB, fits
        "(drop (call $debug (i32.const 0) (i32.const 1)))"  # no room left: dropped
    )
    _, _, _, outcome = run(body, "debug", memory="(memory 4 16)")
    assert outcome.value.ok and outcome.value.debug_message == bytes(128 * 1024)


def test_value_sent_with_a_call() -> None:
    runtime = new_cluster()
    receiver = deploy(runtime, probe_code(""))
    call_import = (
        '(import "seal1" "call" (func $call (param i32 i32 i64 i32 i32 i32 i32 i32) (result i32)))'
    )
    body = (
        "(i32.store (i32.const 0) (i32.const 16)) (call $input (i32.const 100) (i32.const 0))"
        "(i32.store (i32.const 200) (call $call (i32.const 0) (i32.const 32) (i64.const 0) (i32.const 100)"
        " (i32.const 0) (i32.const 0) (i32.const -1) (i32.const 0)))"
        "(call $ret (i32.const 0) (i32.const 200) (i32.const 4))"
    )
    data = f'(data (i32.const 32) "{wat_bytes(receiver)}")'
    sender = deploy(
        runtime, probe_code(body, "input", "ret", extra=call_import, data=data), value=50
    )
    before = runtime.free_balance(receiver)
    sent = call(runtime, sender, u128(5))
    assert output(sent) == bytes(4) and runtime.free_balance(receiver) == before + 5
    assert (2, 2) in [(e.pallet, e.variant) for e in sent.events]  # Balances::Transfer
    too_much = call(runtime, sender, u128(1000))
    assert output(too_much) == (5).to_bytes(4, "little")  # TransferFailed, as a return code
    assert runtime.free_balance(receiver) == before + 5
