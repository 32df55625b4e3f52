"""ink! contract ABIs (the metadata JSON cargo-contract writes) and their event decoding.

An ink! event reaches the chain as `Contracts::ContractEmitted{contract, data}` plus the event's
topics. Which event it is depends on the ink! version (facts from ink! 4.3 and 5.0 metadata,
e.g. polkadot-js/api `packages/api-contract/src/test/contracts/ink/v4|v5/erc20.json`):
- ink! 4 (`"version": "4"`): `data` = the index of the event in `spec.events` (one byte), then
  every field in order; the first topic is `0x00 ‖ "<Storage>::<Event>"` zero-padded to 32 bytes
  (blake2b-256 of it when longer), as the Phala system contract's `0x00 "System::
  AdministratorAdded"` topic in `events.log` shows;
- ink! 5 (`"version": 5`): `data` = the fields only; the first topic is the event's
  `signature_topic` = blake2b-256 of `"<Event>(<arg display names>)"` (anonymous events have
  none and cannot be told apart, so they stay raw).
Field types come from the ABI's own portable registry (`types`), decoded by the same compiled
decoders as the runtime metadata. ink! 3 metadata (`"V3"`) is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pinkpipe.chain.errors import ConfigError
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import CodecError, Reader
from pinkpipe.chain.type_registry import (
    PRIMITIVE_NAMES,
    Decoder,
    Field,
    TypeDef,
    TypeRegistry,
    Variant,
)


class InvalidAbi(ConfigError):
    """A file that is not ink! 4 or 5 contract metadata (names the file's problem)."""


@dataclass(frozen=True, slots=True)
class InkEvent:
    name: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InkEventSpec:
    name: str
    index: int
    signature_topic: bytes | None
    arg_names: tuple[str, ...]
    decoders: tuple[Decoder, ...]

    def read_fields(self, r: Reader) -> dict[str, Any]:
        return {name: dec(r) for name, dec in zip(self.arg_names, self.decoders, strict=True)}


def _fields(raw: list[dict[str, Any]]) -> tuple[Field, ...]:
    return tuple(Field(f.get("name"), int(f["type"]), f.get("typeName")) for f in raw)


def _type_def(entry: dict[str, Any]) -> TypeDef:
    type_id, ty = int(entry["id"]), entry["type"]
    path = tuple(ty.get("path", ()))
    ((kind, body),) = ty["def"].items()
    if kind == "primitive":
        return TypeDef(type_id, path, "Primitive", primitive=PRIMITIVE_NAMES.index(body))
    if kind == "composite":
        return TypeDef(type_id, path, "Composite", fields=_fields(body.get("fields", [])))
    if kind == "variant":
        variants = tuple(
            Variant(v["name"], int(v["index"]), _fields(v.get("fields", [])))
            for v in body.get("variants", [])
        )
        return TypeDef(type_id, path, "Variant", variants=variants)
    if kind == "sequence":
        return TypeDef(type_id, path, "Sequence", item=int(body["type"]))
    if kind == "array":
        return TypeDef(type_id, path, "Array", length=int(body["len"]), item=int(body["type"]))
    if kind == "tuple":
        return TypeDef(type_id, path, "Tuple", items=tuple(int(i) for i in body))
    if kind == "compact":
        return TypeDef(type_id, path, "Compact", item=int(body["type"]))
    if kind == "bitsequence":
        return TypeDef(type_id, path, "BitSequence", item=int(body["bit_store_type"]))
    raise InvalidAbi(f"type {type_id}: unknown type definition {kind!r}")


def ink4_signature_topic(storage_name: str, event: str) -> bytes:
    """ink! 4's first topic: `0x00 ‖ "<Storage>::<Event>"`, padded or hashed to 32 bytes."""
    encoded = b"\x00" + f"{storage_name}::{event}".encode()
    return encoded.ljust(32, b"\x00") if len(encoded) <= 32 else blake2_256(encoded)


@dataclass(frozen=True)
class InkAbi:
    """The events of one contract code, decodable from ContractEmitted data and topics."""

    code_hash: bytes
    name: str
    ink_version: int
    events: tuple[InkEventSpec, ...]

    @classmethod
    def from_json(cls, text: str | bytes) -> InkAbi:
        try:
            meta = json.loads(text)
        except ValueError as e:
            raise InvalidAbi(f"not JSON: {e}") from None
        if not isinstance(meta, dict):
            raise InvalidAbi("not an ink! metadata object")
        if "V3" in meta:
            raise InvalidAbi("ink! 3 metadata (V3) is not supported; ink! 4 and 5 are")
        version = str(meta.get("version"))
        if version not in ("4", "5"):
            raise InvalidAbi(f"metadata version {meta.get('version')!r}: expected ink! 4 or 5")
        try:
            return cls._parse(meta, int(version))
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidAbi(f"ink! {version} metadata is missing or has a bad {e}") from None

    @classmethod
    def _parse(cls, meta: dict[str, Any], version: int) -> InkAbi:
        registry = TypeRegistry([_type_def(t) for t in meta["types"]])
        storage = meta["storage"]["root"]["layout"]["struct"]["name"]
        specs = []
        for index, event in enumerate(meta["spec"]["events"]):
            args = event["args"]
            if version == 4:
                topic: bytes | None = ink4_signature_topic(storage, event["label"])
            else:
                raw_topic = event.get("signature_topic")
                topic = None if raw_topic is None else bytes.fromhex(raw_topic[2:])
            specs.append(
                InkEventSpec(
                    event["label"],
                    index,
                    topic,
                    tuple(a["label"] for a in args),
                    tuple(registry.decoder(int(a["type"]["type"])) for a in args),
                )
            )
        code_hash = bytes.fromhex(meta["source"]["hash"].removeprefix("0x"))
        if len(code_hash) != 32:
            raise ValueError("source.hash (not 32 bytes)")
        return cls(code_hash, meta["contract"]["name"], version, tuple(specs))

    def decode_event(self, data: bytes, topics: tuple[bytes, ...]) -> InkEvent | None:
        """The event `data`/`topics` carry, or None when this ABI cannot tell which it is."""
        spec = self._match(data, topics)
        if spec is None:
            return None
        r = Reader(data, 1 if self.ink_version == 4 else 0)
        try:
            fields = spec.read_fields(r)
            r.finish(f"ink! event {spec.name}")
        except CodecError:
            return None
        return InkEvent(spec.name, fields)

    def _match(self, data: bytes, topics: tuple[bytes, ...]) -> InkEventSpec | None:
        first = topics[0] if topics else None
        if self.ink_version == 4:
            if not data or data[0] >= len(self.events):
                return None
            spec = self.events[data[0]]
            return spec if spec.signature_topic == first else None
        if first is None:
            return None
        return next((s for s in self.events if s.signature_topic == first), None)
