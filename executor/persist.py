"""A stable byte form of the runtime state, for checkpoints and for persisting `changes()`.

Keys (tuples of str, bytes and non-negative ints) and values (bytes, ints, the ledger's
records, tuples of these) are encoded with a type tag and SCALE primitives, so equal states give
equal bytes and every value decodes back to an equal object. Decoding is strict
(`CodecError` names what and where).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    decode_all,
    encode_bool,
    encode_bytes,
    encode_compact,
    encode_u32,
    encode_u64,
    encode_u128,
)
from pinkpipe.executor.ledger import Account, ClusterParams, CodeInfo, ContractInfo
from pinkpipe.executor.state import Key, State

_STR, _BYTES, _INT = 1, 2, 3
_ACCOUNT, _CONTRACT, _CODE, _PARAMS, _TUPLE = 4, 5, 6, 7, 8


def _encode_atom(value: Hashable) -> bytes:
    if isinstance(value, str):
        return bytes([_STR]) + encode_bytes(value.encode())
    if isinstance(value, bytes):
        return bytes([_BYTES]) + encode_bytes(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return bytes([_INT]) + encode_compact(value)
    raise TypeError(f"cannot persist {type(value).__name__} {value!r:.40}")


def encode_key(key: Key) -> bytes:
    return encode_compact(len(key)) + b"".join(_encode_atom(part) for part in key)


def encode_value(value: Any) -> bytes:
    if isinstance(value, Account):
        return bytes([_ACCOUNT]) + encode_u128(value.free) + encode_u128(value.held)
    if isinstance(value, ContractInfo):
        return bytes([_CONTRACT]) + value.encode()
    if isinstance(value, CodeInfo):
        return (
            bytes([_CODE])
            + value.owner
            + encode_u128(value.deposit)
            + encode_u64(value.refcount)
            + encode_bool(value.deterministic)
            + encode_u32(value.code_len)
        )
    if isinstance(value, ClusterParams):
        return (
            bytes([_PARAMS])
            + value.cluster_id
            + encode_u128(value.gas_price)
            + encode_u128(value.deposit_per_item)
            + encode_u128(value.deposit_per_byte)
            + value.treasury
        )
    if isinstance(value, tuple):
        return bytes([_TUPLE]) + encode_compact(len(value)) + b"".join(map(encode_value, value))
    return _encode_atom(value)


def _read_atom(r: Reader, tag: int) -> Any:
    if tag == _STR:
        start = r.offset
        try:
            return r.var_bytes("str").decode("utf-8")
        except UnicodeDecodeError:
            raise r.fail("str", "not UTF-8", start) from None
    if tag == _BYTES:
        return r.var_bytes("bytes")
    if tag == _INT:
        return r.compact("int")
    raise r.fail("tag", f"unknown tag {tag}", r.offset - 1)


def _read_key(r: Reader) -> Key:
    return tuple(_read_atom(r, r.u8("key tag")) for _ in range(r.length("key", 2)))


def _read_contract(r: Reader) -> ContractInfo:
    """`ContractInfo.encode()` read back (the delegate-dependency map is always empty)."""
    trie_id, code_hash = r.var_bytes("trie_id"), r.hash32("code_hash")
    storage_bytes, storage_items = r.u32(), r.u32()
    byte_deposit, item_deposit, base_deposit = r.u128(), r.u128(), r.u128()
    start = r.offset
    if r.compact("delegate dependencies") != 0:
        raise r.fail("ContractInfo", "delegate dependencies are not supported", start)
    return ContractInfo(
        trie_id, code_hash, storage_bytes, storage_items, byte_deposit, item_deposit, base_deposit
    )


def _read_value(r: Reader) -> Any:
    tag = r.u8("value tag")
    if tag == _ACCOUNT:
        return Account(r.u128(), r.u128())
    if tag == _CONTRACT:
        return _read_contract(r)
    if tag == _CODE:
        return CodeInfo(r.hash32("owner"), r.u128(), r.u64(), r.boolean(), r.u32())
    if tag == _PARAMS:
        return ClusterParams(r.hash32("cluster_id"), r.u128(), r.u128(), r.u128(), r.hash32())
    if tag == _TUPLE:
        return tuple(_read_value(r) for _ in range(r.length("tuple", 1)))
    return _read_atom(r, tag)


def decode_key(data: bytes) -> Key:
    return decode_all(data, _read_key, "state key")


def decode_value(data: bytes) -> Any:
    return decode_all(data, _read_value, "state value")


def dump_state(state: State) -> list[tuple[bytes, bytes]]:
    """Every entry of a state at rest, encoded and sorted by key bytes."""
    return sorted((encode_key(k), encode_value(state.get(k))) for k in state.keys_with_prefix(()))


def load_state(entries: list[tuple[bytes, bytes]]) -> State:
    """The inverse of `dump_state`; a malformed entry raises CodecError naming its index."""
    data: dict[Key, Any] = {}
    for index, (key, value) in enumerate(entries):
        try:
            data[decode_key(key)] = decode_value(value)
        except CodecError as e:
            raise CodecError(f"state entry {index}", e.offset, e.reason) from e
    return State(data)
