"""Pink's event chain: `EventsBlock` = header + body, byte-exact with the Pink runtime.

Layout (`P:crates/pink/runtime/src/types.rs`, PINK.md sec. 6.3):
- `EventsBlockHeader{number: u64, runtime_version: (u32, u32), parent_hash: H256,
  body_hash: H256}`: 80 bytes; the block hash is blake2b-256 of them.
- `EventsBlockBody{phala_block_number: u32, contract_call_nonce: Option<Vec<u8>>,
  entry_contract: Option<AccountId>, events: Vec<EventRecord>, origin: Option<AccountId>}`;
  runtime 1.1 bodies end before `origin` (added in 1.2 by commit ef43eeeb), runtime 1.0 emits
  no blocks, so the header's runtime version selects the layout; body_hash = blake2b-256(body).
- `EventRecord{phase: Phase, event: RuntimeEvent, topics: Vec<H256>}` (frame-system); Pink
  always records phase Initialization (2).

Event records carry no length prefix, so splitting a body into events needs the runtime's
event types (`chain.pink_events`); decoded events keep their exact bytes for re-encoding.
Decoding is strict: a wrong body hash, trailing bytes, a truncated field, an unknown runtime
version or event variant all raise `CodecError` naming the type and byte offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from pinkpipe.chain.errors import InvalidChainData
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.pink_events import (
    PinkEvent,
    RuntimeEvent,
    RuntimeEventTypes,
    RuntimeVersion,
    pink_event_of,
    shipped_event_types,
)
from pinkpipe.chain.scale import (
    Reader,
    encode_bytes,
    encode_option,
    encode_u32,
    encode_u64,
    encode_vec,
)

HEADER_SIZE = 80
BODY_HASH_OFFSET = 48
ZERO_HASH = bytes(32)

RUNTIMES_WITH_ORIGIN = frozenset({(1, 2)})
RUNTIMES_WITHOUT_ORIGIN = frozenset({(1, 1)})


class BrokenEventChain(InvalidChainData):
    """Two event blocks that do not link: wrong number or parent hash (names both)."""


class PhaseKind(IntEnum):
    APPLY_EXTRINSIC = 0
    FINALIZATION = 1
    INITIALIZATION = 2


@dataclass(frozen=True, slots=True)
class Phase:
    kind: PhaseKind = PhaseKind.INITIALIZATION
    extrinsic_index: int | None = None
    """Only for ApplyExtrinsic (never used by Pink, kept for exactness)."""

    @staticmethod
    def read(r: Reader) -> Phase:
        start = r.offset
        tag = r.u8("Phase")
        if tag == PhaseKind.APPLY_EXTRINSIC:
            return Phase(PhaseKind.APPLY_EXTRINSIC, r.u32())
        if tag in (PhaseKind.FINALIZATION, PhaseKind.INITIALIZATION):
            return Phase(PhaseKind(tag))
        raise r.fail("Phase", f"invalid variant index {tag}", start)

    def encode(self) -> bytes:
        if self.kind is PhaseKind.APPLY_EXTRINSIC:
            return bytes([self.kind]) + encode_u32(self.extrinsic_index or 0)
        return bytes([self.kind])


@dataclass(frozen=True, slots=True)
class EventRecord:
    event: RuntimeEvent
    topics: tuple[bytes, ...] = ()
    phase: Phase = Phase()

    @staticmethod
    def reader(event_types: RuntimeEventTypes) -> _RecordReader:
        return _RecordReader(event_types)

    def encode(self) -> bytes:
        return self.phase.encode() + self.event.raw + encode_vec(self.topics, bytes)

    def pink_event(self) -> PinkEvent | None:
        """The PinkEvent this record carries (ContractEmitted with the pink topic), if any."""
        return pink_event_of(self.event, self.topics)


@dataclass(frozen=True, slots=True)
class _RecordReader:
    event_types: RuntimeEventTypes

    def __call__(self, r: Reader) -> EventRecord:
        phase = Phase.read(r)
        event = self.event_types.read(r)
        topics = tuple(r.vec(lambda rr: rr.hash32("Topic"), "Vec<Topic>", 32))
        return EventRecord(event, topics, phase)


def has_origin(version: RuntimeVersion) -> bool:
    """Whether a body of this runtime ends with `origin` (1.2) or not (1.1)."""
    if version in RUNTIMES_WITH_ORIGIN:
        return True
    if version in RUNTIMES_WITHOUT_ORIGIN:
        return False
    raise ValueError(
        f"runtime {version[0]}.{version[1]} has no event-chain body layout (1.1 and 1.2 do)"
    )


@dataclass(frozen=True, slots=True)
class EventsBlockHeader:
    number: int
    runtime_version: RuntimeVersion
    parent_hash: bytes
    body_hash: bytes

    @staticmethod
    def read(r: Reader) -> EventsBlockHeader:
        number = r.u64()
        version = (r.u32(), r.u32())
        return EventsBlockHeader(number, version, r.hash32("parent_hash"), r.hash32("body_hash"))

    def encode(self) -> bytes:
        major, minor = self.runtime_version
        return b"".join(
            (
                encode_u64(self.number),
                encode_u32(major),
                encode_u32(minor),
                self.parent_hash,
                self.body_hash,
            )
        )

    def hash(self) -> bytes:
        return blake2_256(self.encode())


def _account(r: Reader) -> bytes:
    return r.fixed(32, "AccountId")


@dataclass(frozen=True, slots=True)
class EventsBlockBody:
    phala_block_number: int
    contract_call_nonce: bytes | None = None
    entry_contract: bytes | None = None
    events: tuple[EventRecord, ...] = ()
    origin: bytes | None = None

    @staticmethod
    def read(r: Reader, version: RuntimeVersion, event_types: RuntimeEventTypes) -> EventsBlockBody:
        with_origin = has_origin(version)
        phala_block_number = r.u32()
        nonce = r.option(lambda rr: rr.var_bytes("contract_call_nonce"), "Option<Vec<u8>>")
        entry = r.option(_account, "Option<AccountId>")
        events = tuple(r.vec(EventRecord.reader(event_types), "Vec<EventRecord>"))
        origin = r.option(_account, "Option<AccountId>") if with_origin else None
        return EventsBlockBody(phala_block_number, nonce, entry, events, origin)

    def encode(self, version: RuntimeVersion) -> bytes:
        parts = [
            encode_u32(self.phala_block_number),
            encode_option(self.contract_call_nonce, encode_bytes),
            encode_option(self.entry_contract, bytes),
            encode_vec(self.events, EventRecord.encode),
        ]
        if has_origin(version):
            parts.append(encode_option(self.origin, bytes))
        elif self.origin is not None:
            raise ValueError(f"a runtime {version[0]}.{version[1]} body has no origin field")
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class EventsBlock:
    header: EventsBlockHeader
    body: EventsBlockBody
    _encoded: bytes | None = field(default=None, init=False, compare=False, repr=False)
    """The exact bytes decoded or built by `new` (encoding and hashing never redo the work);
    init=False so that `dataclasses.replace` drops them and a changed block re-encodes."""

    @classmethod
    def new(
        cls,
        number: int,
        runtime_version: RuntimeVersion,
        parent_hash: bytes,
        body: EventsBlockBody,
    ) -> EventsBlock:
        """A block over `body`, its body hash computed (what the runtime does when it emits)."""
        body_bytes = body.encode(runtime_version)
        header = EventsBlockHeader(number, runtime_version, parent_hash, blake2_256(body_bytes))
        block = cls(header, body)
        object.__setattr__(block, "_encoded", header.encode() + body_bytes)
        return block

    @classmethod
    def decode(
        cls,
        data: bytes,
        event_types: Mapping[RuntimeVersion, RuntimeEventTypes] | None = None,
    ) -> EventsBlock:
        """Strictly decode one block; the body hash must match the body bytes.

        `event_types` overrides the event decoders by runtime version (default: the
        metadata shipped with pinkpipe, runtime 1.2).
        """
        r = Reader(data)
        header = EventsBlockHeader.read(r)
        version = header.runtime_version
        try:
            has_origin(version)
            types = (event_types or {}).get(version) or shipped_event_types(version)
        except (ValueError, KeyError) as e:
            raise r.fail("EventsBlockHeader", str(e).strip("'\""), 8) from None
        body = EventsBlockBody.read(r, version, types)
        r.finish("EventsBlock")
        actual = blake2_256(data[HEADER_SIZE:])
        if actual != header.body_hash:
            raise r.fail(
                "EventsBlockHeader",
                f"body_hash 0x{header.body_hash.hex()} is not blake2b-256 of the body "
                f"(0x{actual.hex()})",
                BODY_HASH_OFFSET,
            )
        block = cls(header, body)
        object.__setattr__(block, "_encoded", bytes(data))
        return block

    def encode(self) -> bytes:
        if self._encoded is not None:
            return self._encoded
        return self.header.encode() + self.body.encode(self.header.runtime_version)

    def hash(self) -> bytes:
        return self.header.hash()

    @property
    def number(self) -> int:
        return self.header.number

    def body_hash_ok(self) -> bool:
        return blake2_256(self.encode()[HEADER_SIZE:]) == self.header.body_hash


def check_link(parent: EventsBlock | None, child: EventsBlock) -> None:
    """Raise `BrokenEventChain` unless `child` follows `parent` (None: `child` is block 0)."""
    expected_number = 0 if parent is None else parent.number + 1
    expected_parent = ZERO_HASH if parent is None else parent.hash()
    if child.number != expected_number:
        raise BrokenEventChain(
            f"event block #{child.number} 0x{child.hash().hex()} follows "
            f"#{expected_number - 1}: expected number {expected_number}"
        )
    if child.header.parent_hash != expected_parent:
        raise BrokenEventChain(
            f"event block #{child.number} 0x{child.hash().hex()} has parent "
            f"0x{child.header.parent_hash.hex()}, expected 0x{expected_parent.hex()}"
        )


def check_chain(blocks: Iterable[EventsBlock], parent: EventsBlock | None = None) -> int:
    """Check that `blocks` link one after the other from `parent`; returns how many."""
    count = 0
    for block in blocks:
        check_link(parent, block)
        parent = block
        count += 1
    return count
