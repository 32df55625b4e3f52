"""Queries over the event store: heads, one block, filtered pages, new blocks, export, verify.

Every query is parameterized SQL built with SQLAlchemy Core. Pages are keyset-paginated on
(cluster, number): the cursor is the last key of a page, so a page costs the same wherever it
is and concurrent appends never shift it. Filters on events (contract, pallet/name) find the
page's keys in the `events` indexes first, then load those blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, or_, select, tuple_

from pinkpipe.chain.event_chain import ZERO_HASH, EventsBlock
from pinkpipe.chain.ink_abi import InkAbi
from pinkpipe.chain.pink_events import jsonable
from pinkpipe.chain.scale import CodecError
from pinkpipe.eventstore.abis import AbiCache
from pinkpipe.eventstore.db import store_errors
from pinkpipe.eventstore.errors import BadQuery, NotStored
from pinkpipe.eventstore.models import MAX_SQL_INT, Cluster, Contract, Event, EventBlock
from pinkpipe.eventstore.rows import block_row, event_rows

DEFAULT_PAGE = 100
VERIFY_CHUNK = 1000


def hex0x(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    index: int
    pallet: str
    name: str
    pink_event: str | None
    contract: bytes | None
    topics: list[str]
    fields: dict[str, Any]
    ink_event: dict[str, Any] | None = None
    """`{name: fields}` decoded by the contract's registered ink! ABI (read time, not stored)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "pallet": self.pallet,
            "name": self.name,
            "pink_event": self.pink_event,
            "contract": hex0x(self.contract),
            "topics": self.topics,
            "fields": self.fields,
            "ink_event": self.ink_event,
        }


def ink_event_json(abi: InkAbi, fields: dict[str, Any], topics: list[str]) -> dict[str, Any] | None:
    """A ContractEmitted row's event by `abi`, as JSON, or None when the ABI cannot tell."""
    data = bytes.fromhex(fields["data"][2:])
    event = abi.decode_event(data, tuple(bytes.fromhex(t[2:]) for t in topics))
    return None if event is None else {event.name: jsonable(event.fields)}


@dataclass(frozen=True, slots=True)
class StoredBlock:
    cluster_id: bytes
    number: int
    hash: bytes
    parent_hash: bytes
    body_hash: bytes
    runtime_version: tuple[int, int]
    phala_block_number: int
    contract_call_nonce: bytes | None
    entry_contract: bytes | None
    origin: bytes | None
    events: tuple[StoredEvent, ...]
    scale: bytes

    def to_json(self, with_scale: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cluster": hex0x(self.cluster_id),
            "number": self.number,
            "hash": hex0x(self.hash),
            "parent_hash": hex0x(self.parent_hash),
            "body_hash": hex0x(self.body_hash),
            "runtime_version": list(self.runtime_version),
            "phala_block_number": self.phala_block_number,
            "contract_call_nonce": hex0x(self.contract_call_nonce),
            "entry_contract": hex0x(self.entry_contract),
            "origin": hex0x(self.origin),
            "events": [e.to_json() for e in self.events],
        }
        if with_scale:
            out["scale"] = hex0x(self.scale)
        return out


@dataclass(frozen=True, slots=True)
class ClusterHead:
    cluster_id: bytes
    number: int | None
    hash: bytes | None

    def to_json(self) -> dict[str, Any]:
        return {"cluster": hex0x(self.cluster_id), "number": self.number, "hash": hex0x(self.hash)}


@dataclass(frozen=True, slots=True)
class BlockFilter:
    """`events list` filters; ranges are inclusive, None means unbounded."""

    cluster: bytes | None = None
    number_from: int | None = None
    number_to: int | None = None
    chain_from: int | None = None
    chain_to: int | None = None
    contract: bytes | None = None
    origin: bytes | None = None
    pallet: str | None = None
    event: str | None = None

    def check(self) -> None:
        """Refuse values no row can hold, before they reach SQL (BadQuery names them)."""
        for name in ("number_from", "number_to", "chain_from", "chain_to"):
            check_number(getattr(self, name), name)
        for name in ("cluster", "contract", "origin"):
            value = getattr(self, name)
            if value is not None and len(value) != 32:
                raise BadQuery(f"{name} must be 32 bytes, got {len(value)}")
        for name in ("pallet", "event"):
            value = getattr(self, name)
            if value is not None and not (value.isascii() and value.isidentifier()):
                raise BadQuery(f"{name} {value!r} is not a pallet or event name")

    @property
    def on_events(self) -> bool:
        return self.contract is not None or self.pallet is not None or self.event is not None

    @property
    def on_blocks(self) -> bool:
        return any(
            v is not None
            for v in (self.number_from, self.number_to, self.chain_from, self.chain_to, self.origin)
        )


@dataclass(frozen=True, slots=True)
class Page:
    blocks: list[StoredBlock]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class BrokenBlock:
    cluster_id: bytes
    number: int
    hash: bytes
    reason: str

    def __str__(self) -> str:
        return (
            f"cluster {hex0x(self.cluster_id)} event block #{self.number} {hex0x(self.hash)}: "
            f"{self.reason}"
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    blocks: int
    clusters: int
    broken: BrokenBlock | None


Key = tuple[int, int]


def check_number(value: int | None, name: str) -> None:
    if value is not None and not 0 <= value <= MAX_SQL_INT:
        raise BadQuery(f"{name} {value} is outside 0..{MAX_SQL_INT}")


def encode_cursor(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def decode_cursor(cursor: str) -> Key:
    parts = cursor.split(".")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 19 for p in parts):
        raise BadQuery(f"cursor {cursor!r} is not a cursor this store returned")
    key = int(parts[0]), int(parts[1])
    if max(key) > MAX_SQL_INT:
        raise BadQuery(f"cursor {cursor!r} is out of range")
    return key


class EventReader:
    """Read-only access to the store."""

    def __init__(self, engine: Engine, page_limit: int = 1000) -> None:
        # Reads need no transaction: rows are append-only, so a page's queries agree without
        # a snapshot, and autocommit saves the BEGIN/ROLLBACK round trips.
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.page_limit = page_limit
        self._cluster_pks: dict[bytes, int] = {}
        self._abis = AbiCache()

    def heads(self) -> list[ClusterHead]:
        with store_errors(self.engine, "read cluster heads"), self.engine.connect() as conn:
            rows = conn.execute(
                select(Cluster.cluster_id, Cluster.head_number, Cluster.head_hash).order_by(
                    Cluster.id
                )
            ).all()
        return [ClusterHead(r.cluster_id, r.head_number, r.head_hash) for r in rows]

    def get(self, cluster_id: bytes, number: int) -> StoredBlock:
        check_number(number, "number")
        with store_errors(self.engine, "read an event block"), self.engine.connect() as conn:
            cluster = self._cluster_pk(conn, cluster_id)
            blocks = self._load(conn, [(cluster, number)])
        if not blocks:
            raise NotStored(f"cluster {hex0x(cluster_id)} has no event block #{number}")
        return blocks[0]

    def list(self, flt: BlockFilter, cursor: str | None = None, limit: int = DEFAULT_PAGE) -> Page:
        if not 1 <= limit <= self.page_limit:
            raise BadQuery(f"page size {limit} is outside 1..{self.page_limit}")
        flt.check()
        after = decode_cursor(cursor) if cursor is not None else None
        with store_errors(self.engine, "list event blocks"), self.engine.connect() as conn:
            cluster = None if flt.cluster is None else self._cluster_pk(conn, flt.cluster)
            keys = [tuple(k) for k in conn.execute(self._keys_query(flt, cluster, after, limit))]
            blocks = self._load(conn, keys)  # type: ignore[arg-type]
        next_cursor = encode_cursor(keys[-1]) if len(keys) == limit else None  # type: ignore[arg-type]
        return Page(blocks, next_cursor)

    def new_blocks(self, seen: dict[bytes, int], limit: int = DEFAULT_PAGE) -> list[StoredBlock]:
        """Blocks after `seen` (cluster id -> last number seen, -1 for none); updates `seen`."""
        out: list[StoredBlock] = []
        for head in self.heads():
            last = seen.get(head.cluster_id, -1)
            if head.number is None or head.number <= last:
                continue
            flt = BlockFilter(cluster=head.cluster_id, number_from=last + 1)
            page = self.list(flt, None, min(limit, self.page_limit))
            out.extend(page.blocks)
            if page.blocks:
                seen[head.cluster_id] = page.blocks[-1].number
        return out

    def export(self, cluster_id: bytes | None = None) -> Iterator[StoredBlock]:
        """Every stored block (of one cluster, or all), by cluster then number."""
        cursor = None
        while True:
            page = self.list(BlockFilter(cluster=cluster_id), cursor, min(500, self.page_limit))
            yield from page.blocks
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # --- verify ------------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Re-derive every block from its SCALE bytes and walk every cluster's hash chain."""
        total = 0
        heads = self.heads()
        with store_errors(self.engine, "verify event blocks"), self.engine.connect() as conn:
            for head in heads:
                count, broken = self._verify_cluster(conn, head)
                total += count
                if broken is not None:
                    return VerifyReport(total, len(heads), broken)
        return VerifyReport(total, len(heads), None)

    def _verify_cluster(
        self, conn: Connection, head: ClusterHead
    ) -> tuple[int, BrokenBlock | None]:
        cluster = self._cluster_pk(conn, head.cluster_id)
        parent_hash, expected, count = ZERO_HASH, 0, 0
        while True:
            rows = conn.execute(
                select(EventBlock.__table__)
                .where(EventBlock.cluster == cluster, EventBlock.number >= expected)
                .order_by(EventBlock.number)
                .limit(VERIFY_CHUNK)
            ).all()
            if not rows:
                break
            events = self._events_of(conn, [(cluster, r.number) for r in rows])
            for row in rows:
                stored = dict(row._mapping)
                reason = _block_problem(
                    stored, events.get((cluster, row.number), []), expected, parent_hash
                )
                if reason is not None:
                    return count, BrokenBlock(head.cluster_id, row.number, row.hash, reason)
                parent_hash, expected, count = row.hash, expected + 1, count + 1
        last = expected - 1 if expected else None
        if (last, parent_hash if expected else None) != (head.number, head.hash):
            reason = f"the head says #{head.number} {hex0x(head.hash)}, the chain ends at #{last}"
            return count, BrokenBlock(head.cluster_id, last or 0, parent_hash, reason)
        return count, None

    # --- helpers -----------------------------------------------------------------------------

    def _cluster_pk(self, conn: Connection, cluster_id: bytes) -> int:
        """The cluster's row id; remembered, since a cluster row is never changed or removed."""
        pk = self._cluster_pks.get(cluster_id)
        if pk is None:
            pk = conn.execute(select(Cluster.id).where(Cluster.cluster_id == cluster_id)).scalar()
            if pk is None:
                raise NotStored(f"unknown cluster {hex0x(cluster_id)}")
            self._cluster_pks[cluster_id] = pk
        return pk

    def _keys_query(
        self, flt: BlockFilter, cluster: int | None, after: Key | None, limit: int
    ) -> Select[Any]:
        if flt.on_events:
            query = select(Event.cluster, Event.block_number).distinct()
            key_cols = (Event.cluster, Event.block_number)
            if flt.contract is not None:
                query = query.where(Event.contract == flt.contract)
            if flt.pallet is not None:
                query = query.where(Event.pallet == flt.pallet)
            if flt.event is not None:
                query = query.where(Event.name == flt.event)
            if flt.on_blocks:
                query = query.join(
                    EventBlock,
                    and_(
                        EventBlock.cluster == Event.cluster, EventBlock.number == Event.block_number
                    ),
                )
        else:
            query = select(EventBlock.cluster, EventBlock.number)
            key_cols = (EventBlock.cluster, EventBlock.number)
        if cluster is not None:
            query = query.where(key_cols[0] == cluster)
        if flt.number_from is not None:
            query = query.where(key_cols[1] >= flt.number_from)
        if flt.number_to is not None:
            query = query.where(key_cols[1] <= flt.number_to)
        if flt.chain_from is not None:
            query = query.where(EventBlock.phala_block_number >= flt.chain_from)
        if flt.chain_to is not None:
            query = query.where(EventBlock.phala_block_number <= flt.chain_to)
        if flt.origin is not None:
            query = query.where(EventBlock.origin == flt.origin)
        if after is not None:
            query = query.where(tuple_(*key_cols) > tuple_(*after))
        return query.order_by(*key_cols).limit(limit)

    def _events_of(self, conn: Connection, keys: list[Key]) -> dict[Key, list[StoredEvent]]:
        if not keys:
            return {}
        rows = conn.execute(
            select(Event.__table__, Contract.code_hash)
            .outerjoin(Contract, Contract.address == Event.contract)
            .where(_keys_in(Event.cluster, Event.block_number, keys))
            .order_by(Event.cluster, Event.block_number, Event.index)
        ).all()
        abis = self._abis.by_code_hash(conn, {r.code_hash for r in rows if r.code_hash})
        out: dict[Key, list[StoredEvent]] = {}
        for r in rows:
            ink = None
            abi = abis.get(r.code_hash) if r.name == "ContractEmitted" else None
            if abi is not None and r.pink_event is None:
                ink = ink_event_json(abi, r.fields, r.topics)
            out.setdefault((r.cluster, r.block_number), []).append(
                StoredEvent(
                    r.index, r.pallet, r.name, r.pink_event, r.contract, r.topics, r.fields, ink
                )
            )
        return out

    def _load(self, conn: Connection, keys: list[Key]) -> list[StoredBlock]:
        if not keys:
            return []
        rows = conn.execute(
            select(EventBlock.__table__, Cluster.cluster_id)
            .join(Cluster, Cluster.id == EventBlock.cluster)
            .where(_keys_in(EventBlock.cluster, EventBlock.number, keys))
            .order_by(EventBlock.cluster, EventBlock.number)
        ).all()
        events = self._events_of(conn, keys)
        return [_stored_block(r, tuple(events.get((r.cluster, r.number), ()))) for r in rows]


def _keys_in(cluster_col: Any, number_col: Any, keys: list[Key]) -> ColumnElement[bool]:
    """(cluster, number) in `keys`, as `cluster = c AND number IN (...)` per cluster: both
    backends then walk the primary-key index (a row-value IN makes SQLite scan)."""
    by_cluster: dict[int, list[int]] = {}
    for cluster, number in keys:
        by_cluster.setdefault(cluster, []).append(number)
    return or_(*(and_(cluster_col == c, number_col.in_(n)) for c, n in by_cluster.items()))


def _stored_block(b: Any, events: tuple[StoredEvent, ...]) -> StoredBlock:
    return StoredBlock(
        b.cluster_id,
        b.number,
        b.hash,
        b.parent_hash,
        b.body_hash,
        (b.runtime_major, b.runtime_minor),
        b.phala_block_number,
        b.contract_call_nonce,
        b.entry_contract,
        b.origin,
        events,
        b.scale,
    )


def _block_problem(
    stored: dict[str, Any], events: list[StoredEvent], number: int, parent_hash: bytes
) -> str | None:
    """What is wrong with one stored block (None: nothing), checked from its SCALE bytes."""
    if stored["number"] != number:
        return f"missing event block #{number} before it"
    try:
        block = EventsBlock.decode(stored["scale"])
    except CodecError as e:
        return f"stored bytes do not decode: {e}"
    if block.hash() != stored["hash"]:
        actual = hex0x(block.hash())
        return f"stored hash {hex0x(stored['hash'])} is not the hash of its bytes {actual}"
    if block.header.parent_hash != parent_hash:
        claimed = hex0x(block.header.parent_hash)
        return f"parent {claimed} is not the previous block {hex0x(parent_hash)}"
    derived = block_row(stored["cluster"], block)
    for column, value in derived.items():
        if stored[column] != value:
            return f"column {column} is {stored[column]!r}, its bytes say {value!r}"
    derived_events = event_rows(stored["cluster"], block)
    if len(derived_events) != len(events):
        return f"{len(events)} event rows stored, its bytes hold {len(derived_events)}"
    for derived, event in zip(derived_events, events, strict=True):
        row = {**derived, "fields": jsonable(derived["fields"])}  # as the JSON column reads back
        as_stored = {
            "index": event.index,
            "pallet": event.pallet,
            "name": event.name,
            "pink_event": event.pink_event,
            "contract": event.contract,
            "topics": event.topics,
            "fields": event.fields,
        }
        for column, value in as_stored.items():
            if row[column] != value:
                says = row[column]
                return f"event {event.index} column {column} is {value!r}, its bytes say {says!r}"
    return None
