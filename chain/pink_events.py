"""Events of the Pink runtime: `RuntimeEvent` by metadata, `PinkEvent` by hand.

`RuntimeEvent` (pallet, variant, named fields) is decoded from the Pink runtime's own V14
metadata (`P:crates/pink/runtime/assets/metadata-1.2.bin`): its RuntimeEvent has only System
(0), Balances (2) and Contracts (4) variants (PINK.md sec. 6.2).

The metadata ships inside the package (`chain/assets/pink-metadata-1.2.bin`, 35 KB, read with
importlib.resources): an event block cannot even be split into its events without it (event
records carry no length prefix), so a wheel that decodes blocks must carry it; it is the one
data file the chain layer needs, and a test checks it is byte-identical to the recorded vector.
Only runtime 1.2's metadata ships; decoding a 1.1 body needs 1.1 metadata passed explicitly
(`RuntimeEventTypes.from_metadata`), because pallet-balances and pallet-contracts events of
polkadot-v0.9.43 have other fields.

`PinkEvent` is not in the runtime metadata: contracts emit it as `Contracts::ContractEmitted`
with the single topic `0x40 ‖ "phala.pink.event" ‖ 0*15` and SCALE `PinkEvent` data
(`P:crates/pink/pink/src/lib.rs` enum PinkEvent, PINK.md sec. 4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pinkpipe.chain.scale import CodecError, Reader, decode_all
from pinkpipe.chain.type_registry import Decoder, TypeRegistry

RuntimeVersion = tuple[int, int]

PINK_EVENT_TOPIC = b"\x40" + b"phala.pink.event" + bytes(15)
"""The one topic of a pink event: SCALE `Vec<u8>`-style prefix 0x40 (16) then the name, padded."""

SHIPPED_METADATA = {(1, 2): "pink-metadata-1.2.bin"}


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """One decoded `RuntimeEvent`; `raw` is its exact SCALE encoding (what gets re-encoded)."""

    pallet: str
    name: str
    fields: dict[str, Any]
    raw: bytes

    @property
    def qualified_name(self) -> str:
        return f"{self.pallet}.{self.name}"


@dataclass(frozen=True, slots=True)
class _PalletEvents:
    name: str
    variants: dict[int, tuple[str, Decoder]]


class RuntimeEventTypes:
    """The RuntimeEvent decoder of one runtime, compiled from its metadata."""

    def __init__(self, registry: TypeRegistry) -> None:
        outer = registry.by_path("RuntimeEvent")
        self.pallets: dict[int, _PalletEvents] = {}
        for pallet in outer.variants:
            inner = registry.get(pallet.fields[0].type_id)
            variants = {
                v.index: (v.name, registry.fields_decoder(v.fields)) for v in inner.variants
            }
            self.pallets[pallet.index] = _PalletEvents(pallet.name, variants)

    @classmethod
    def from_metadata(cls, metadata: bytes) -> RuntimeEventTypes:
        return cls(TypeRegistry.from_metadata(metadata))

    def read(self, r: Reader) -> RuntimeEvent:
        start = r.offset
        pallet_index = r.u8("RuntimeEvent")
        pallet = self.pallets.get(pallet_index)
        if pallet is None:
            raise r.fail("RuntimeEvent", f"no pallet with events at index {pallet_index}", start)
        variant_index = r.u8(f"{pallet.name}::Event")
        variant = pallet.variants.get(variant_index)
        if variant is None:
            raise r.fail(
                f"{pallet.name}::Event", f"invalid variant index {variant_index}", start + 1
            )
        name, read_fields = variant
        fields = read_fields(r)
        return RuntimeEvent(pallet.name, name, fields or {}, r.data[start : r.offset])

    def decode(self, data: bytes) -> RuntimeEvent:
        return decode_all(data, self.read, "RuntimeEvent")


@cache
def shipped_event_types(version: RuntimeVersion) -> RuntimeEventTypes:
    """The event decoder of a runtime whose metadata ships with pinkpipe (1.2 only)."""
    file_name = SHIPPED_METADATA.get(version)
    if file_name is None:
        known = ", ".join(f"{a}.{b}" for a, b in SHIPPED_METADATA)
        raise KeyError(f"no Pink runtime metadata for version {version[0]}.{version[1]} ({known})")
    return RuntimeEventTypes.from_metadata(shipped_metadata(file_name))


def shipped_metadata(file_name: str) -> bytes:
    return resources.files("pinkpipe.chain").joinpath("assets", file_name).read_bytes()


# --- PinkEvent (P:crates/pink/pink/src/lib.rs) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class PinkEvent:
    name: str
    fields: dict[str, Any]


def _account(r: Reader) -> bytes:
    return r.fixed(32, "AccountId")


def _named(**readers: Callable[[Reader], Any]) -> Callable[[Reader], dict[str, Any]]:
    return lambda r: {name: read(r) for name, read in readers.items()}


def _hook_point(r: Reader) -> str:
    start = r.offset
    tag = r.u8("HookPoint")
    if tag != 0:
        raise r.fail("HookPoint", f"invalid variant index {tag}", start)
    return "OnBlockEnd"


def _cache_op(r: Reader) -> dict[str, Any]:
    start = r.offset
    tag = r.u8("CacheOp")
    if tag == 0:
        return {"Set": {"key": r.var_bytes("key"), "value": r.var_bytes("value")}}
    if tag == 1:
        return {"SetExpiration": {"key": r.var_bytes("key"), "expiration": r.u64()}}
    if tag == 2:
        return {"Remove": {"key": r.var_bytes("key")}}
    raise r.fail("CacheOp", f"invalid variant index {tag}", start)


_PINK_EVENTS: dict[int, tuple[str, Callable[[Reader], dict[str, Any]]]] = {
    2: (
        "SetHook",
        _named(hook=_hook_point, contract=_account, selector=Reader.u32, gas_limit=Reader.u64),
    ),
    3: ("DeploySidevmTo", _named(contract=_account, code_hash=Reader.hash32)),
    4: ("SidevmMessage", _named(message=Reader.var_bytes)),
    5: ("CacheOp", _named(op=_cache_op)),
    6: ("StopSidevm", _named()),
    7: ("ForceStopSidevm", _named(contract=_account)),
    8: ("SetLogHandler", _named(handler=_account)),
    9: ("SetContractWeight", _named(contract=_account, weight=Reader.u32)),
    10: ("UpgradeRuntimeTo", _named(version=lambda r: [r.u32(), r.u32()])),
    12: ("SetJsRuntime", _named(code_hash=Reader.hash32)),
}
"""Variant 11 (SidevmOperation) carries a nested SideVM config type this decoder does not
model; such events, like any other undecodable pink-topic data, stay raw."""

PRIVATE_PINK_EVENTS = frozenset({"SidevmMessage", "CacheOp"})


def _read_pink_event(r: Reader) -> PinkEvent:
    start = r.offset
    tag = r.u8("PinkEvent")
    entry = _PINK_EVENTS.get(tag)
    if entry is None:
        raise r.fail("PinkEvent", f"unknown variant index {tag}", start)
    name, read_fields = entry
    return PinkEvent(name, read_fields(r))


def decode_pink_event(data: bytes) -> PinkEvent:
    """A `PinkEvent` from `ContractEmitted.data`; raises `CodecError` when it is not one."""
    return decode_all(data, _read_pink_event, "PinkEvent")


def pink_event_of(event: RuntimeEvent, topics: tuple[bytes, ...]) -> PinkEvent | None:
    """The pink event an event record carries, or None (not pink, or undecodable)."""
    if event.pallet != "Contracts" or event.name != "ContractEmitted":
        return None
    if topics != (PINK_EVENT_TOPIC,):
        return None
    try:
        return decode_pink_event(event.fields["data"])
    except CodecError:
        return None


def jsonable(value: Any) -> Any:
    """A decoded value for JSON: bytes become 0x-hex, tuples lists, the rest as is."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
