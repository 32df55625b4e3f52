"""The contract host functions: pallet-contracts v1.5's stable `#[define_env]` set.

One function per host function, named as pallet-contracts names it; each starts with its gas
charge and memory reads, as `wasm/runtime.rs` does (PINK.md 2.1-2.3 lists every signature,
return code and weight). `@host(module, name, signature)` registers it, also as `seal_<name>`
unless `alias=False`. Unstable functions are never linked (Pink sets UnsafeUnstableInterface
false) and deprecated ones are refused at upload, so neither is implemented.

Traps (a `DispatchFailure`) abort the calling frame; return codes are plain ints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import coincurve
from Crypto.Hash import keccak

from pinkpipe.chain.hashing import blake2_128, blake2_256
from pinkpipe.chain.scale import CodecError, Reader, decode_all, encode_u32, encode_u64, encode_u128
from pinkpipe.executor import keys
from pinkpipe.executor.errors import DispatchFailure, fail
from pinkpipe.executor.results import REVERT
from pinkpipe.executor.schedule import (
    EVENT_TOPICS,
    MAX_DEBUG_BUFFER,
    MAX_STORAGE_KEY_LEN,
    PAYLOAD_LEN,
    SENTINEL,
    Weight,
    host_weight,
)

if TYPE_CHECKING:
    from pinkpipe.executor.stack import Stack

# ReturnErrorCode (pallet-contracts-uapi).
SUCCESS, CALLEE_TRAPPED, CALLEE_REVERTED, KEY_NOT_FOUND = 0, 1, 2, 3
TRANSFER_FAILED, CODE_NOT_FOUND, NOT_CALLABLE = 5, 7, 8
CALL_RUNTIME_FAILED, ECDSA_RECOVERY_FAILED = 10, 11

FORWARD_INPUT, CLONE_INPUT, TAIL_CALL, ALLOW_REENTRY = 1, 2, 4, 8
ALL_CALL_FLAGS = FORWARD_INPUT | CLONE_INPUT | TAIL_CALL | ALLOW_REENTRY
COPY_OUT = host_weight("input_per_byte")  # RuntimeCosts::CopyToContract per byte


@dataclass(frozen=True)
class HostFunction:
    module: str
    name: str
    params: str  # one letter per param: i = i32, I = i64
    result: str  # "", "i" or "I"
    impl: Callable[..., Any]


HOST_FUNCTIONS: dict[tuple[str, str], HostFunction] = {}

# Never linked in Pink: `#[unstable]` (UnsafeUnstableInterface = false) and `#[deprecated]`
# (AllowDeprecatedInterface::No at upload), by (module, name) without the seal_ prefix.
UNSTABLE = frozenset(
    [
        ("seal0", "caller_is_root"),
        ("seal1", "weight_to_fee"),
        ("seal1", "gas_left"),
        ("seal2", "call"),
        ("seal2", "instantiate"),
        ("seal0", "sr25519_verify"),
        ("seal0", "reentrance_count"),
        ("seal0", "account_reentrance_count"),
        ("seal0", "add_delegate_dependency"),
        ("seal0", "remove_delegate_dependency"),
        ("seal0", "xcm_execute"),
        ("seal0", "xcm_send"),
    ]
)
DEPRECATED = frozenset(
    [
        ("seal0", "random"),
        ("seal1", "random"),
        ("seal0", "tombstone_deposit"),
        ("seal0", "restore_to"),
        ("seal1", "restore_to"),
        ("seal0", "set_rent_allowance"),
        ("seal1", "set_rent_allowance"),
        ("seal0", "rent_allowance"),
    ]
)


def host(module: str, name: str, signature: str, alias: bool = True) -> Callable:
    """Register `impl` as `module.name` (and `module.seal_name`); signature "iiI:i"."""
    params, _, result = signature.partition(":")

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        for linked in (name, f"seal_{name}") if alias else (name,):
            HOST_FUNCTIONS[(module, linked)] = HostFunction(module, linked, params, result, impl)
        return impl

    return register


class ReturnSignal(Exception):
    """`seal_return` ends the frame with flags and data (not an error)."""

    def __init__(self, flags: int, data: bytes) -> None:
        super().__init__(f"return flags {flags}")
        self.flags = flags
        self.data = data


class TerminateSignal(Exception):
    """`terminate` ended the frame after removing the contract."""


# --- storage -------------------------------------------------------------------------------


def _fixed_key(s: Stack, key_ptr: int) -> bytes:
    """`Key::Fix`: a 32-byte key, hashed as blake2_256 (storage.rs)."""
    return b"F" + blake2_256(s.read(key_ptr, 32))


def _var_key(s: Stack, key_ptr: int, key_len: int) -> bytes:
    """`Key::Var`: up to 128 bytes, hashed as Blake2_128Concat."""
    if key_len > MAX_STORAGE_KEY_LEN:
        raise fail("DecodingFailed", f"storage key of {key_len} bytes (max {MAX_STORAGE_KEY_LEN})")
    key = s.read(key_ptr, key_len)
    return b"V" + blake2_128(key) + key


def _set_storage(s: Stack, key: bytes, value_ptr: int, value_len: int) -> int:
    """Write and return the old value's size or SENTINEL; charges for the old size after."""
    if value_len > PAYLOAD_LEN:
        raise fail("ValueTooLarge", f"storage value of {value_len} bytes")
    worst = host_weight("set_storage", "set_storage_per_new_byte", value_len)
    worst = _plus(worst, host_weight("set_storage_per_old_byte"), PAYLOAD_LEN)
    s.charge(worst, "set_storage")
    value = s.read(value_ptr, value_len)
    old = s.write_storage(key, value)
    s.refund(_times(host_weight("set_storage_per_old_byte"), PAYLOAD_LEN - (old or 0)))
    return SENTINEL if old is None else old


def _plus(w: Weight, unit: Weight, count: int) -> Weight:
    return Weight(w.ref_time + unit.ref_time * count, w.proof_size + unit.proof_size * count)


def _times(w: Weight, count: int) -> Weight:
    return Weight(w.ref_time * count, w.proof_size * count)


def _clear_storage(s: Stack, key: bytes) -> int:
    s.charge(host_weight("clear_storage", "clear_storage_per_byte", PAYLOAD_LEN), "clear_storage")
    old = s.write_storage(key, None)
    s.refund(_times(host_weight("clear_storage_per_byte"), PAYLOAD_LEN - (old or 0)))
    return SENTINEL if old is None else old


def _get_storage(s: Stack, key: bytes, out_ptr: int, out_len_ptr: int, take: bool) -> int:
    name = "take_storage" if take else "get_storage"
    s.charge(host_weight(name, f"{name}_per_byte", PAYLOAD_LEN), name)
    value = s.read_storage(key)
    s.refund(_times(host_weight(f"{name}_per_byte"), PAYLOAD_LEN - len(value or b"")))
    if value is None:
        return KEY_NOT_FOUND
    if take:
        s.write_storage(key, None)
    s.write_output(out_ptr, out_len_ptr, value)
    return SUCCESS


def _contains_storage(s: Stack, key: bytes) -> int:
    s.charge(
        host_weight("contains_storage", "contains_storage_per_byte", PAYLOAD_LEN),
        "contains_storage",
    )
    value = s.read_storage(key)
    s.refund(_times(host_weight("contains_storage_per_byte"), PAYLOAD_LEN - len(value or b"")))
    return SENTINEL if value is None else len(value)


@host("seal0", "set_storage", "iii")
def set_storage_v0(s: Stack, key_ptr: int, value_ptr: int, value_len: int) -> None:
    _set_storage(s, _fixed_key(s, key_ptr), value_ptr, value_len)


@host("seal1", "set_storage", "iii:i")
def set_storage_v1(s: Stack, key_ptr: int, value_ptr: int, value_len: int) -> int:
    return _set_storage(s, _fixed_key(s, key_ptr), value_ptr, value_len)


@host("seal2", "set_storage", "iiii:i")
def set_storage_v2(s: Stack, key_ptr: int, key_len: int, value_ptr: int, value_len: int) -> int:
    return _set_storage(s, _var_key(s, key_ptr, key_len), value_ptr, value_len)


@host("seal0", "clear_storage", "i")
def clear_storage_v0(s: Stack, key_ptr: int) -> None:
    _clear_storage(s, _fixed_key(s, key_ptr))


@host("seal1", "clear_storage", "ii:i")
def clear_storage_v1(s: Stack, key_ptr: int, key_len: int) -> int:
    return _clear_storage(s, _var_key(s, key_ptr, key_len))


@host("seal0", "get_storage", "iii:i")
def get_storage_v0(s: Stack, key_ptr: int, out_ptr: int, out_len_ptr: int) -> int:
    return _get_storage(s, _fixed_key(s, key_ptr), out_ptr, out_len_ptr, take=False)


@host("seal1", "get_storage", "iiii:i")
def get_storage_v1(s: Stack, key_ptr: int, key_len: int, out_ptr: int, out_len_ptr: int) -> int:
    return _get_storage(s, _var_key(s, key_ptr, key_len), out_ptr, out_len_ptr, take=False)


@host("seal0", "take_storage", "iiii:i")
def take_storage(s: Stack, key_ptr: int, key_len: int, out_ptr: int, out_len_ptr: int) -> int:
    return _get_storage(s, _var_key(s, key_ptr, key_len), out_ptr, out_len_ptr, take=True)


@host("seal0", "contains_storage", "i:i")
def contains_storage_v0(s: Stack, key_ptr: int) -> int:
    return _contains_storage(s, _fixed_key(s, key_ptr))


@host("seal1", "contains_storage", "ii:i")
def contains_storage_v1(s: Stack, key_ptr: int, key_len: int) -> int:
    return _contains_storage(s, _var_key(s, key_ptr, key_len))


# --- input, output, environment ------------------------------------------------------------


@host("seal0", "input", "ii")
def input(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    s.charge(host_weight("input"), "input")
    s.write_output(out_ptr, out_len_ptr, s.frame.take_input(), per_byte=COPY_OUT)


@host("seal0", "seal_return", "iii", alias=False)
def seal_return(s: Stack, flags: int, data_ptr: int, data_len: int) -> None:
    s.charge(host_weight("return", "return_per_byte", data_len), "seal_return")
    if flags & ~REVERT:
        raise fail("InvalidCallFlags", f"return flags 0x{flags:x}")
    raise ReturnSignal(flags, s.read(data_ptr, data_len))


def _write_value(s: Stack, name: str, out_ptr: int, out_len_ptr: int, value: bytes) -> None:
    s.charge(host_weight(name), name)
    s.write_output(out_ptr, out_len_ptr, value)


@host("seal0", "caller", "ii")
def caller(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "caller", out_ptr, out_len_ptr, s.frame.caller)


@host("seal0", "address", "ii")
def address(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "address", out_ptr, out_len_ptr, s.frame.account)


@host("seal0", "value_transferred", "ii")
def value_transferred(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "value_transferred", out_ptr, out_len_ptr, encode_u128(s.frame.value))


@host("seal0", "balance", "ii")
def balance(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "balance", out_ptr, out_len_ptr, encode_u128(s.reducible(s.frame.account)))


@host("seal0", "minimum_balance", "ii")
def minimum_balance(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "minimum_balance", out_ptr, out_len_ptr, encode_u128(1))


@host("seal0", "now", "ii")
def now(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "now", out_ptr, out_len_ptr, encode_u64(s.context.now_ms))


@host("seal0", "block_number", "ii")
def block_number(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "block_number", out_ptr, out_len_ptr, encode_u32(s.context.block_number))


@host("seal0", "gas_left", "ii")
def gas_left(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    s.charge(host_weight("gas_left"), "gas_left")
    s.write_output(out_ptr, out_len_ptr, encode_u64(s.frame.gas.gas_left))


@host("seal0", "weight_to_fee", "Iii")
def weight_to_fee(s: Stack, gas: int, out_ptr: int, out_len_ptr: int) -> None:
    fee = min(gas * s.ledger.params().gas_price, 2**128 - 1)
    _write_value(s, "weight_to_fee", out_ptr, out_len_ptr, encode_u128(fee))


@host("seal0", "own_code_hash", "ii")
def own_code_hash(s: Stack, out_ptr: int, out_len_ptr: int) -> None:
    _write_value(s, "own_code_hash", out_ptr, out_len_ptr, s.frame.code_hash)


@host("seal0", "code_hash", "iii:i")
def code_hash(s: Stack, account_ptr: int, out_ptr: int, out_len_ptr: int) -> int:
    s.charge(host_weight("code_hash"), "code_hash")
    info = s.ledger.contract(s.read(account_ptr, 32))
    if info is None:
        return KEY_NOT_FOUND
    s.write_output(out_ptr, out_len_ptr, info.code_hash)
    return SUCCESS


@host("seal0", "is_contract", "i:i")
def is_contract(s: Stack, account_ptr: int) -> int:
    s.charge(host_weight("is_contract"), "is_contract")
    return int(s.ledger.contract(s.read(account_ptr, 32)) is not None)


@host("seal0", "caller_is_origin", ":i")
def caller_is_origin(s: Stack) -> int:
    s.charge(host_weight("caller_is_origin"), "caller_is_origin")
    return int(s.frame.caller == s.origin)


@host("seal0", "instantiation_nonce", ":I")
def instantiation_nonce(s: Stack) -> int:
    s.charge(host_weight("instantiation_nonce"), "instantiation_nonce")
    return s.ledger.state.get(("Contracts", "Nonce"), 0)


# --- events and debugging ------------------------------------------------------------------


@host("seal0", "deposit_event", "iiii")
def deposit_event(s: Stack, topics_ptr: int, topics_len: int, data_ptr: int, data_len: int) -> None:
    weight = host_weight("deposit_event", "deposit_event_per_topic", topics_len // 32)
    s.charge(_plus(weight, host_weight("deposit_event_per_byte"), data_len), "deposit_event")
    if data_len > PAYLOAD_LEN:
        raise fail("ValueTooLarge", f"event data of {data_len} bytes")
    topics: list[bytes] = []
    if topics_len:
        raw = s.read(topics_ptr, topics_len)
        try:
            topics = decode_all(raw, lambda r: r.vec(Reader.hash32, "Vec<H256>", 32), "topics")
        except CodecError as e:
            raise fail("DecodingFailed", f"event topics: {e}") from e
    if len(topics) > EVENT_TOPICS:
        raise fail("TooManyTopics", f"{len(topics)} topics (max {EVENT_TOPICS})")
    s.emit_contract_event(tuple(topics), s.read(data_ptr, data_len))


@host("seal0", "debug_message", "ii:i")
def debug_message(s: Stack, str_ptr: int, str_len: int) -> int:
    str_len = min(str_len, MAX_DEBUG_BUFFER)
    # v1.5's Schedule (metadata 1.2) has its own debug_message_per_byte; a later fork that
    # PINK.md 3.3 consulted dropped it for deposit_event_per_byte [verify against v1.5].
    s.charge(
        host_weight("debug_message", "debug_message_per_byte", str_len),
        "debug_message",
    )
    s.append_debug(s.read(str_ptr, str_len))
    return SUCCESS


# --- hashing and crypto --------------------------------------------------------------------


def _hash(s: Stack, name: str, fn: Callable[[bytes], bytes], ptr: int, n: int, out: int) -> None:
    s.charge(host_weight(name, f"{name}_per_byte", n), name)
    s.write(out, fn(s.read(ptr, n)))


@host("seal0", "hash_sha2_256", "iii")
def hash_sha2_256(s: Stack, in_ptr: int, in_len: int, out_ptr: int) -> None:
    _hash(s, "hash_sha2_256", lambda d: hashlib.sha256(d).digest(), in_ptr, in_len, out_ptr)


def _keccak_256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


@host("seal0", "hash_keccak_256", "iii")
def hash_keccak_256(s: Stack, in_ptr: int, in_len: int, out_ptr: int) -> None:
    _hash(s, "hash_keccak_256", _keccak_256, in_ptr, in_len, out_ptr)


@host("seal0", "hash_blake2_256", "iii")
def hash_blake2_256(s: Stack, in_ptr: int, in_len: int, out_ptr: int) -> None:
    _hash(s, "hash_blake2_256", blake2_256, in_ptr, in_len, out_ptr)


@host("seal0", "hash_blake2_128", "iii")
def hash_blake2_128(s: Stack, in_ptr: int, in_len: int, out_ptr: int) -> None:
    _hash(s, "hash_blake2_128", blake2_128, in_ptr, in_len, out_ptr)


@host("seal0", "ecdsa_recover", "iii:i")
def ecdsa_recover(s: Stack, signature_ptr: int, message_hash_ptr: int, output_ptr: int) -> int:
    s.charge(host_weight("ecdsa_recover"), "ecdsa_recover")
    public = keys.ecdsa_recover(s.read(signature_ptr, 65), s.read(message_hash_ptr, 32))
    if public is None:
        return ECDSA_RECOVERY_FAILED
    s.write(output_ptr, public)
    return SUCCESS


@host("seal0", "ecdsa_to_eth_address", "ii:i")
def ecdsa_to_eth_address(s: Stack, key_ptr: int, out_ptr: int) -> int:
    s.charge(host_weight("ecdsa_to_eth_address"), "ecdsa_to_eth_address")
    try:
        key = coincurve.PublicKey(s.read(key_ptr, 33))
    except Exception:  # not a valid compressed secp256k1 point
        return ECDSA_RECOVERY_FAILED
    s.write(out_ptr, _keccak_256(key.format(compressed=False)[1:])[12:])
    return SUCCESS


# --- calls, instantiation, value -----------------------------------------------------------


def _read_u128(s: Stack, ptr: int) -> int:
    return int.from_bytes(s.read(ptr, 16), "little")


def _call_input(s: Stack, flags: int, in_ptr: int, in_len: int) -> bytes:
    if flags & CLONE_INPUT:
        data = s.frame.peek_input()
        s.charge(_times(host_weight("call_per_cloned_byte"), len(data)), "call input clone")
        return data
    if flags & FORWARD_INPUT:
        return s.frame.take_input()
    s.charge(_times(host_weight("return_per_byte"), in_len), "call input")  # CopyFromContract
    return s.read(in_ptr, in_len)


@host("seal1", "call", "iiIiiiii:i")
def call_v1(
    s: Stack, flags: int, callee_ptr: int, gas: int, value_ptr: int, in_ptr: int, in_len: int,
    out_ptr: int, out_len_ptr: int,
) -> int:  # fmt: skip
    s.charge(host_weight("call"), "call")
    if flags & ~ALL_CALL_FLAGS:
        raise fail("InvalidCallFlags", f"call flags 0x{flags:x}")
    data = _call_input(s, flags, in_ptr, in_len)
    callee = s.read(callee_ptr, 32)
    value = _read_u128(s, value_ptr)
    if value:
        s.charge(host_weight("call_transfer_surcharge"), "call transfer")
    outcome = s.call(callee, value, data, gas, allow_reentry=bool(flags & ALLOW_REENTRY))
    return _finish_call(s, flags, outcome, out_ptr, out_len_ptr)


def _finish_call(s: Stack, flags: int, outcome: Any, out_ptr: int, out_len_ptr: int) -> int:
    """Tail calls return the callee's output; otherwise copy it out and map the outcome."""
    if isinstance(outcome, ReturnSignal):
        if flags & TAIL_CALL:
            raise outcome
        s.write_output(out_ptr, out_len_ptr, outcome.data, allow_skip=True, per_byte=COPY_OUT)
        return CALLEE_REVERTED if outcome.flags & REVERT else SUCCESS
    return outcome


@host("seal0", "call", "iiIiiiiii:i")
def call_v0(
    s: Stack, callee_ptr: int, _callee_len: int, gas: int, value_ptr: int, _value_len: int,
    in_ptr: int, in_len: int, out_ptr: int, out_len_ptr: int,
) -> int:  # fmt: skip
    return call_v1(
        s, ALLOW_REENTRY, callee_ptr, gas, value_ptr, in_ptr, in_len, out_ptr, out_len_ptr
    )


@host("seal0", "delegate_call", "iiiiii:i")
def delegate_call(
    s: Stack, flags: int, code_hash_ptr: int, in_ptr: int, in_len: int, out_ptr: int,
    out_len_ptr: int,
) -> int:  # fmt: skip
    s.charge(host_weight("delegate_call"), "delegate_call")
    if flags & ~ALL_CALL_FLAGS or flags & ALLOW_REENTRY:
        raise fail("InvalidCallFlags", f"delegate_call flags 0x{flags:x}")
    data = _call_input(s, flags, in_ptr, in_len)
    outcome = s.delegate_call(s.read(code_hash_ptr, 32), data)
    return _finish_call(s, flags, outcome, out_ptr, out_len_ptr)


@host("seal1", "instantiate", "iIiiiiiiiii:i")
def instantiate_v1(
    s: Stack, code_hash_ptr: int, gas: int, value_ptr: int, in_ptr: int, in_len: int,
    address_ptr: int, address_len_ptr: int, out_ptr: int, out_len_ptr: int, salt_ptr: int,
    salt_len: int,
) -> int:  # fmt: skip
    weight = host_weight("instantiate", "instantiate_per_input_byte", in_len)
    s.charge(_plus(weight, host_weight("instantiate_per_salt_byte"), salt_len), "instantiate")
    value = _read_u128(s, value_ptr)
    if value:
        s.charge(host_weight("instantiate_transfer_surcharge"), "instantiate transfer")
    code = s.read(code_hash_ptr, 32)
    data = s.read(in_ptr, in_len)
    salt = s.read(salt_ptr, salt_len)
    outcome, account = s.instantiate(code, value, data, salt, gas)
    if isinstance(outcome, ReturnSignal):
        if not outcome.flags & REVERT:
            s.write_output(address_ptr, address_len_ptr, account, allow_skip=True)
        s.write_output(out_ptr, out_len_ptr, outcome.data, allow_skip=True, per_byte=COPY_OUT)
        return CALLEE_REVERTED if outcome.flags & REVERT else SUCCESS
    return outcome


@host("seal0", "instantiate", "iiIiiiiiiiiii:i")
def instantiate_v0(
    s: Stack, code_hash_ptr: int, _code_hash_len: int, gas: int, value_ptr: int,
    _value_len: int, in_ptr: int, in_len: int, address_ptr: int, address_len_ptr: int,
    out_ptr: int, out_len_ptr: int, salt_ptr: int, salt_len: int,
) -> int:  # fmt: skip
    return instantiate_v1(
        s, code_hash_ptr, gas, value_ptr, in_ptr, in_len, address_ptr, address_len_ptr,
        out_ptr, out_len_ptr, salt_ptr, salt_len,
    )  # fmt: skip


@host("seal0", "transfer", "iiii:i")
def transfer(s: Stack, account_ptr: int, _account_len: int, value_ptr: int, _value_len: int) -> int:
    s.charge(host_weight("transfer"), "transfer")
    dest = s.read(account_ptr, 32)
    value = _read_u128(s, value_ptr)
    try:
        s.ledger.transfer(s.frame.account, dest, value, keep_alive=True)
    except DispatchFailure:
        return TRANSFER_FAILED
    return SUCCESS


def _terminate(s: Stack, beneficiary_ptr: int) -> None:
    s.charge(host_weight("terminate"), "terminate")
    s.terminate(s.read(beneficiary_ptr, 32))
    raise TerminateSignal("terminated")


@host("seal0", "terminate", "ii")
def terminate_v0(s: Stack, beneficiary_ptr: int, _beneficiary_len: int) -> None:
    _terminate(s, beneficiary_ptr)


@host("seal1", "terminate", "i")
def terminate_v1(s: Stack, beneficiary_ptr: int) -> None:
    _terminate(s, beneficiary_ptr)


@host("seal0", "set_code_hash", "i:i")
def set_code_hash(s: Stack, code_hash_ptr: int) -> int:
    s.charge(host_weight("set_code_hash"), "set_code_hash")
    new = s.read(code_hash_ptr, 32)
    if s.ledger.code_info(new) is None:
        return CODE_NOT_FOUND
    s.set_code_hash(new)
    return SUCCESS


@host("seal0", "call_runtime", "ii:i", alias=False)
def call_runtime(s: Stack, call_ptr: int, call_len: int) -> int:
    """Pink's `CallFilter = Nothing` filters every runtime call (PINK.md 3.1)."""
    s.read(call_ptr, call_len)
    return CALL_RUNTIME_FAILED


@host("seal0", "call_chain_extension", "iiiii:i")
def call_chain_extension(
    s: Stack, func_id: int, in_ptr: int, in_len: int, out_ptr: int, out_len_ptr: int
) -> int:
    return s.chain_extension(func_id, s.read(in_ptr, in_len), out_ptr, out_len_ptr)
