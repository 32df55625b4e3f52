"""Block headers and their digests, byte-exact with Substrate's SCALE encoding.

A header's identity is blake2b-256 of its encoding, so every byte must round-trip: digest
items of unknown engines or tags we do not interpret are kept as raw bytes, never re-encoded
from a parsed form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import (
    Reader,
    decode_all,
    encode_bytes,
    encode_compact,
    encode_vec,
)
from pinkpipe.chain.trie import EMPTY_TRIE_ROOT


class DigestKind(IntEnum):
    OTHER = 0
    CONSENSUS = 4
    SEAL = 5
    PRE_RUNTIME = 6
    RUNTIME_ENVIRONMENT_UPDATED = 8


ENGINE_ITEMS = frozenset({DigestKind.CONSENSUS, DigestKind.SEAL, DigestKind.PRE_RUNTIME})
KIND_LABELS = {
    DigestKind.OTHER: "other",
    DigestKind.CONSENSUS: "consensus",
    DigestKind.SEAL: "seal",
    DigestKind.PRE_RUNTIME: "pre-runtime",
    DigestKind.RUNTIME_ENVIRONMENT_UPDATED: "runtime environment updated",
}
BABE_ENGINE_ID = b"BABE"
GRANDPA_ENGINE_ID = b"FRNK"
ENGINE_NAMES = {
    BABE_ENGINE_ID: "BABE",
    b"aura": "Aura",
    GRANDPA_ENGINE_ID: "GRANDPA",
    b"BEEF": "BEEFY",
    b"POL1": "parachains",
    b"pow_": "PoW",
}
"""`ConsensusEngineId`s of Substrate's consensus crates (sp_consensus_babe::BABE_ENGINE_ID, ...)."""
_KIND_BY_TAG = {int(kind): kind for kind in DigestKind}
"""Tag lookup without `DigestKind(tag)`'s exception path: digest items are on the hot path."""


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One digest entry; `engine` is the 4-byte engine id of Consensus/Seal/PreRuntime items."""

    kind: DigestKind
    data: bytes = b""
    engine: bytes | None = None

    @staticmethod
    def read(r: Reader) -> DigestItem:
        start = r.offset
        tag = r.u8("DigestItem")
        kind = _KIND_BY_TAG.get(tag)
        if kind is None:
            raise r.fail("DigestItem", f"invalid tag {tag}", start)
        if kind in ENGINE_ITEMS:
            engine = r.fixed(4, "ConsensusEngineId")
            return DigestItem(kind, r.var_bytes("DigestItem data"), engine)
        if kind is DigestKind.OTHER:
            return DigestItem(kind, r.var_bytes("DigestItem data"))
        return DigestItem(kind)

    def encode(self) -> bytes:
        if self.kind in ENGINE_ITEMS:
            return bytes([self.kind]) + (self.engine or b"") + encode_bytes(self.data)
        if self.kind is DigestKind.OTHER:
            return bytes([self.kind]) + encode_bytes(self.data)
        return bytes([self.kind])

    def label(self) -> str:
        """Kind and engine, e.g. `pre-runtime BABE` or `seal 0x00010203` (unprintable id)."""
        kind = KIND_LABELS[self.kind]
        if self.engine is None:
            return kind
        text = self.engine.decode("latin-1")
        shown = text if text.isascii() and text.isprintable() else f"0x{self.engine.hex()}"
        name = ENGINE_NAMES.get(self.engine)
        return f"{kind} {shown} ({name})" if name and name != shown else f"{kind} {shown}"

    def describe(self) -> str:
        """One line: label and data in full (`pinkpipe inspect header` shortens long data)."""
        if self.kind is DigestKind.RUNTIME_ENVIRONMENT_UPDATED:
            return self.label()
        return f"{self.label()}: 0x{self.data.hex()}"


@dataclass(frozen=True, slots=True)
class Header:
    parent_hash: bytes
    number: int
    state_root: bytes
    extrinsics_root: bytes
    digest: tuple[DigestItem, ...] = ()
    _encoded: bytes | None = field(default=None, init=False, compare=False, repr=False)
    """The exact decoded bytes (hashing never re-encodes); init=False so that
    `dataclasses.replace` drops them and a changed header re-encodes from its fields."""

    @staticmethod
    def read(r: Reader) -> Header:
        """Read one header; keeps its exact bytes so hashing never re-encodes."""
        common = read_common_header(r.data, r.offset)
        if common is not None:
            r.offset = common[1]
            return common[0]
        return read_header_checked(r)

    @staticmethod
    def decode(data: bytes) -> Header:
        return decode_all(data, Header.read, "Header")

    def encode(self) -> bytes:
        if self._encoded is not None:
            return self._encoded
        return b"".join(
            (
                self.parent_hash,
                encode_compact(self.number),
                self.state_root,
                self.extrinsics_root,
                encode_vec(self.digest, DigestItem.encode),
            )
        )

    def hash(self) -> bytes:
        return blake2_256(self.encode())

    def items(self, kind: DigestKind, engine: bytes | None = None) -> list[DigestItem]:
        return [d for d in self.digest if d.kind == kind and (engine is None or d.engine == engine)]


def _decoded(header: Header, raw: bytes) -> Header:
    """`header` remembering the bytes it was decoded from."""
    object.__setattr__(header, "_encoded", raw)
    return header


def read_header_checked(r: Reader) -> Header:
    """The general header reader: accepts every valid header, explains every invalid one."""
    start = r.offset
    parent = r.hash32("Header.parent_hash")
    number = r.compact_u32("Header.number")
    state_root = r.hash32("Header.state_root")
    extrinsics_root = r.hash32("Header.extrinsics_root")
    digest = tuple(r.vec(DigestItem.read, "Header.digest", min_item_size=1))
    return _decoded(
        Header(parent, number, state_root, extrinsics_root, digest), r.data[start : r.offset]
    )


def _short_compact(data: bytes, pos: int, end: int) -> tuple[int, int] | None:
    """A canonical compact below 2^30 at `pos` and the position after it; None otherwise."""
    if pos >= end:
        return None
    first = data[pos]
    mode = first & 3
    if mode == 0:
        return first >> 2, pos + 1
    if mode == 1 and pos + 2 <= end:
        value = (first | data[pos + 1] << 8) >> 2
        if value >= 1 << 6:
            return value, pos + 2
    elif mode == 2 and pos + 4 <= end:
        value = int.from_bytes(data[pos : pos + 4], "little") >> 2
        if value >= 1 << 14:
            return value, pos + 4
    return None


def read_common_header(data: bytes, start: int) -> tuple[Header, int] | None:
    """Fast path for the usual shape: (header, end offset), or None to use the checked reader.

    Header decoding is the relayer's and validator's hottest loop: read field by field through
    `Reader` methods, decode+hash ran ~20x faster than scalecodec; inline, ~33x
    (bench/bench_header.py), the margin that justifies a hand-written codec. This
    accepts only what it fully checks (number and lengths < 2^30, digest items with an engine,
    fewer than 64 of them); anything else, valid or not, returns None so that
    `read_header_checked` decides and words the error. Tests check both agree on all data.
    """
    end = len(data)
    number_at = _short_compact(data, start + 32, end)
    if number_at is None:
        return None
    number, pos = number_at
    if pos + 65 > end or data[pos + 64] & 3:
        return None
    state_root = data[pos : pos + 32]
    extrinsics_root = data[pos + 32 : pos + 64]
    count = data[pos + 64] >> 2
    pos += 65
    items = []
    for _ in range(count):
        kind = _KIND_BY_TAG.get(data[pos]) if pos < end else None
        if kind not in ENGINE_ITEMS:
            return None
        size_at = _short_compact(data, pos + 5, end)
        if size_at is None or size_at[1] + size_at[0] > end:
            return None
        size, body = size_at
        items.append(DigestItem(kind, data[body : body + size], data[pos + 1 : pos + 5]))
        pos = body + size
    parent = data[start : start + 32]
    header = Header(parent, number, state_root, extrinsics_root, tuple(items))
    return _decoded(header, data[start:pos]), pos


def genesis_header(state_root: bytes) -> Header:
    """The genesis header of a chain whose genesis state has this root."""
    return Header(b"\x00" * 32, 0, state_root, EMPTY_TRIE_ROOT)


def read_headers(r: Reader, type_name: str = "Vec<Header>") -> list[Header]:
    # A header is at least 32+1+32+32+1 bytes; bounds the count before allocating.
    return r.vec(Header.read, type_name, min_item_size=98)


def decode_headers(data: bytes) -> list[Header]:
    return decode_all(data, read_headers, "Vec<Header>")
