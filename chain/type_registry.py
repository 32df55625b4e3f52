"""The portable type registry of V14 runtime metadata, and decoders compiled from it.

A runtime's metadata (`RuntimeMetadataPrefixed`: magic `b"meta"`, version byte 14, then
`PortableRegistry`) describes every type by id (scale-info `TypeDef`: Composite 0, Variant 1,
Sequence 2, Array 3, Tuple 4, Primitive 5, Compact 6, BitSequence 7; frame-metadata v14,
scale-info 2.x). Only the registry is read here: it is all an event decoder needs, and the
pallet section after it is never parsed.

Decoding with scalecodec would cost ~100x more per event (the store decodes every event it
writes), so each type id is compiled once into a small closure over `chain.scale.Reader`. The
value model is plain Python, ready for JSON: integers, `bytes` for `u8` sequences/arrays and
for newtypes around them (AccountId32, H256), dicts for named fields, lists for tuples and other
sequences, `None`/value for `Option`, a variant name for a field-less variant and
`{name: value}` otherwise. Errors are `CodecError`s naming the type path and byte offset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pinkpipe.chain.scale import CodecError, Reader, decode_all

METADATA_MAGIC = b"meta"
METADATA_V14 = 14

Decoder = Callable[[Reader], Any]

_PRIMITIVE_SIZES = {3: 1, 4: 2, 5: 4, 6: 8, 7: 16, 8: 32, 9: 1, 10: 2, 11: 4, 12: 8, 13: 16, 14: 32}
_SIGNED = frozenset({9, 10, 11, 12, 13, 14})
PRIMITIVE_NAMES = (
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "u256",
    "i8", "i16", "i32", "i64", "i128", "i256",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Field:
    name: str | None
    type_id: int
    type_name: str | None


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    index: int
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class TypeDef:
    """One registry entry; `kind` is the scale-info TypeDef name, the rest depends on it."""

    id: int
    path: tuple[str, ...]
    kind: str
    fields: tuple[Field, ...] = ()
    variants: tuple[Variant, ...] = ()
    item: int | None = None
    length: int = 0
    items: tuple[int, ...] = ()
    primitive: int = 0

    @property
    def name(self) -> str:
        if self.path:
            return "::".join(self.path)
        if self.kind == "Primitive":
            return PRIMITIVE_NAMES[self.primitive]
        return f"{self.kind}#{self.id}"


def _string(r: Reader) -> str:
    raw = r.var_bytes("String")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise r.fail("String", "invalid UTF-8", r.offset - len(raw)) from None


def _field(r: Reader) -> Field:
    name = r.option(_string, "Field.name")
    type_id = r.compact_u32("Field.type")
    type_name = r.option(_string, "Field.typeName")
    r.vec(_string, "Field.docs")
    return Field(name, type_id, type_name)


def _variant(r: Reader) -> Variant:
    name = _string(r)
    fields = tuple(r.vec(_field, "Variant.fields"))
    index = r.u8("Variant.index")
    r.vec(_string, "Variant.docs")
    return Variant(name, index, fields)


def _type_param(r: Reader) -> None:
    _string(r)
    r.option(lambda rr: rr.compact_u32("TypeParameter.type"), "TypeParameter.type")


def _read_type(r: Reader) -> TypeDef:
    type_id = r.compact_u32("PortableType.id")
    path = tuple(r.vec(_string, "Type.path"))
    r.vec(_type_param, "Type.params")
    start = r.offset
    tag = r.u8("TypeDef")
    if tag == 0:
        td = TypeDef(type_id, path, "Composite", fields=tuple(r.vec(_field, "Composite")))
    elif tag == 1:
        td = TypeDef(type_id, path, "Variant", variants=tuple(r.vec(_variant, "Variant")))
    elif tag == 2:
        td = TypeDef(type_id, path, "Sequence", item=r.compact_u32("Sequence.type"))
    elif tag == 3:
        length = r.u32()
        td = TypeDef(type_id, path, "Array", length=length, item=r.compact_u32("Array.type"))
    elif tag == 4:
        items = tuple(r.vec(lambda rr: rr.compact_u32("Tuple.type"), "Tuple"))
        td = TypeDef(type_id, path, "Tuple", items=items)
    elif tag == 5:
        prim = r.u8("Primitive")
        if prim >= len(PRIMITIVE_NAMES):
            raise r.fail("Primitive", f"invalid primitive {prim}", r.offset - 1)
        td = TypeDef(type_id, path, "Primitive", primitive=prim)
    elif tag == 6:
        td = TypeDef(type_id, path, "Compact", item=r.compact_u32("Compact.type"))
    elif tag == 7:
        store = r.compact_u32("BitSequence.store")
        r.compact_u32("BitSequence.order")
        td = TypeDef(type_id, path, "BitSequence", item=store)
    else:
        raise r.fail("TypeDef", f"invalid tag {tag}", start)
    r.vec(_string, "Type.docs")
    return td


class TypeRegistry:
    """The types of one runtime's metadata, with a decoder compiled (once) per type id."""

    def __init__(self, types: list[TypeDef]) -> None:
        self.types = {t.id: t for t in types}
        self._decoders: dict[int, Decoder] = {}

    @classmethod
    def from_metadata(cls, metadata: bytes) -> TypeRegistry:
        """The registry of V14 metadata bytes (`RuntimeMetadataPrefixed`)."""
        r = Reader(metadata)
        if r.fixed(4, "metadata magic") != METADATA_MAGIC:
            raise r.fail("RuntimeMetadataPrefixed", "magic is not b'meta'", 0)
        version = r.u8("metadata version")
        if version != METADATA_V14:
            raise r.fail("RuntimeMetadataPrefixed", f"version {version}, expected 14", 4)
        return cls(r.vec(_read_type, "PortableRegistry"))

    def get(self, type_id: int) -> TypeDef:
        try:
            return self.types[type_id]
        except KeyError:
            raise KeyError(f"type id {type_id} is not in the registry") from None

    def by_path(self, *path: str) -> TypeDef:
        """The one type whose path ends with `path` (e.g. ("RuntimeEvent",))."""
        found = [t for t in self.types.values() if t.path[-len(path) :] == path]
        if len(found) != 1:
            raise KeyError(f"{len(found)} types have a path ending in {'::'.join(path)}")
        return found[0]

    def decoder(self, type_id: int) -> Decoder:
        """The decoder of `type_id`, compiled on first use (recursive types resolve lazily)."""
        dec = self._decoders.get(type_id)
        if dec is None:
            self._decoders[type_id] = lambda r: self._decoders[type_id](r)
            dec = self._compile(self.get(type_id))
            self._decoders[type_id] = dec
        return dec

    def decode(self, type_id: int, data: bytes) -> Any:
        td = self.get(type_id)
        return decode_all(data, self.decoder(type_id), td.name)

    def fields_decoder(self, fields: tuple[Field, ...]) -> Decoder:
        """Decoder of a field list: a dict for named fields, the value of a lone unnamed
        field (newtypes such as AccountId32), a list for several unnamed fields."""
        decoders = [self.decoder(f.type_id) for f in fields]
        if not fields:
            return lambda r: None
        if all(f.name is not None for f in fields):
            named = [(f.name, d) for f, d in zip(fields, decoders, strict=True)]
            return lambda r: {name: dec(r) for name, dec in named}
        if len(decoders) == 1:
            return decoders[0]
        return lambda r: [dec(r) for dec in decoders]

    def _compile(self, td: TypeDef) -> Decoder:
        compile_kind = getattr(self, f"_compile_{td.kind.lower()}")
        return compile_kind(td)

    def _compile_composite(self, td: TypeDef) -> Decoder:
        return self.fields_decoder(td.fields)

    def _compile_variant(self, td: TypeDef) -> Decoder:
        name = td.name
        if td.path == ("Option",):
            some = self.fields_decoder(td.variants[1].fields)
            return lambda r: r.option(some, name)
        by_index = {
            v.index: (v.name, self.fields_decoder(v.fields), bool(v.fields)) for v in td.variants
        }

        def read_variant(r: Reader) -> Any:
            start = r.offset
            tag = r.u8(name)
            entry = by_index.get(tag)
            if entry is None:
                raise r.fail(name, f"invalid variant index {tag}", start)
            variant, fields, has_fields = entry
            return {variant: fields(r)} if has_fields else variant

        return read_variant

    def _is_u8(self, type_id: int | None) -> bool:
        td = self.types.get(type_id) if type_id is not None else None
        return td is not None and td.kind == "Primitive" and td.primitive == 3

    def _compile_sequence(self, td: TypeDef) -> Decoder:
        name = td.name
        if self._is_u8(td.item):
            return lambda r: r.var_bytes(name)
        item = self.decoder(td.item or 0)
        return lambda r: r.vec(item, name)

    def _compile_array(self, td: TypeDef) -> Decoder:
        name, length = td.name, td.length
        if self._is_u8(td.item):
            return lambda r: r.fixed(length, name)
        item = self.decoder(td.item or 0)
        return lambda r: [item(r) for _ in range(length)]

    def _compile_tuple(self, td: TypeDef) -> Decoder:
        items = [self.decoder(i) for i in td.items]
        return lambda r: [dec(r) for dec in items]

    def _compile_primitive(self, td: TypeDef) -> Decoder:
        prim = td.primitive
        type_name = PRIMITIVE_NAMES[prim]
        if prim == 0:
            return lambda r: r.boolean()
        if prim in (1, 2):
            return _compile_text(type_name)
        size = _PRIMITIVE_SIZES[prim]
        signed = prim in _SIGNED
        return lambda r: int.from_bytes(r.fixed(size, type_name), "little", signed=signed)

    def _compile_compact(self, td: TypeDef) -> Decoder:
        name = f"Compact<{self.get(td.item or 0).name}>"
        return lambda r: r.compact(name)

    def _compile_bitsequence(self, td: TypeDef) -> Decoder:
        def unsupported(r: Reader) -> Any:
            raise r.fail(td.name, "BitSequence values are not supported")

        return unsupported


def _compile_text(type_name: str) -> Decoder:
    def read_text(r: Reader) -> str:
        start = r.offset
        raw = r.var_bytes(type_name) if type_name == "str" else r.fixed(4, type_name)
        try:
            return raw.decode() if type_name == "str" else chr(int.from_bytes(raw, "little"))
        except (UnicodeDecodeError, ValueError):
            raise CodecError(type_name, start, "invalid character data") from None

    return read_text
