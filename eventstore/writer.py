"""The writer: appends event blocks per cluster and the caller's checkpoint in one transaction.

Rules (checked before anything is written; a refused batch writes nothing):
- a block at a number already stored must be byte-identical to the stored one: then it is
  skipped (a redelivery is a no-op); otherwise `ConflictingEventBlock` names both hashes;
- a new block must continue the stored head: number head + 1 and parent_hash = head hash
  (block 0: parent zero); its body hash must match its body;
- nothing is ever updated or deleted, except the cluster's head pointer and the checkpoint,
  which only move forward (a checkpoint whose stream sequence goes back is refused).

This is the follower pattern of eventsourcing's `Follower.process_event`: the position in the
input stream commits together with what was derived from it, so a restart resumes exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pinkpipe.chain.event_chain import ZERO_HASH, EventsBlock
from pinkpipe.chain.scale import CodecError
from pinkpipe.eventstore.db import store_errors, writer_engine
from pinkpipe.eventstore.errors import (
    CheckpointRegression,
    ConflictingEventBlock,
    RejectedEventBlock,
)
from pinkpipe.eventstore.models import (
    MAX_SQL_INT,
    Cluster,
    Contract,
    Event,
    EventBlock,
    StageCheckpoint,
)
from pinkpipe.eventstore.rows import block_row, event_rows, instantiations


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The caller's input position, committed with its event blocks."""

    stage: str
    chain_block_number: int
    chain_block_hash: bytes
    stream_sequence: int

    def __post_init__(self) -> None:
        if not 1 <= len(self.stage) <= MAX_STAGE_NAME:
            raise ValueError(f"stage name {self.stage!r} must be 1..{MAX_STAGE_NAME} characters")
        if len(self.chain_block_hash) != 32:
            raise ValueError(f"chain block hash must be 32 bytes, got {len(self.chain_block_hash)}")
        for name in ("chain_block_number", "stream_sequence"):
            if not 0 <= getattr(self, name) <= MAX_SQL_INT:
                raise ValueError(f"checkpoint {name} {getattr(self, name)} is out of range")


MAX_STAGE_NAME = 64


class AppendResult(NamedTuple):
    written: int
    skipped: int


def short(h: bytes) -> str:
    return "0x" + h.hex()


def cluster_label(cluster_id: bytes) -> str:
    return f"cluster {short(cluster_id)}"


def decode_blocks(cluster_id: bytes, raws: Sequence[bytes]) -> list[EventsBlock]:
    """Decode raw event blocks; a bad one is refused naming the cluster and its position."""
    blocks = []
    for position, raw in enumerate(raws):
        try:
            blocks.append(EventsBlock.decode(raw))
        except CodecError as e:
            where = f"{cluster_label(cluster_id)}, block #{position} of the batch"
            raise RejectedEventBlock(f"{where}: {e}") from None
    return blocks


class EventWriter:
    """Appends event blocks; one `write` call is one database transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = writer_engine(engine)

    def append(
        self,
        cluster_id: bytes,
        blocks: Sequence[EventsBlock],
        checkpoint: Checkpoint | None = None,
    ) -> AppendResult:
        return self.write({cluster_id: blocks}, checkpoint)

    def write(
        self,
        batch: Mapping[bytes, Sequence[EventsBlock]],
        checkpoint: Checkpoint | None = None,
    ) -> AppendResult:
        """Append every cluster's blocks and store `checkpoint`, all or nothing."""
        written = skipped = 0
        with store_errors(self.engine, "append event blocks"), self.engine.begin() as conn:
            for cluster_id, blocks in batch.items():
                w, s = self._append_cluster(conn, cluster_id, blocks)
                written, skipped = written + w, skipped + s
            if checkpoint is not None:
                self._store_checkpoint(conn, checkpoint)
        return AppendResult(written, skipped)

    def _cluster(self, conn: Connection, cluster_id: bytes) -> tuple[int, int | None, bytes | None]:
        """The cluster's row (created if new), locked for this transaction on PostgreSQL."""
        if len(cluster_id) != 32:
            raise RejectedEventBlock(f"cluster id must be 32 bytes, got {len(cluster_id)}")
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(dialect_insert(Cluster).values(cluster_id=cluster_id).on_conflict_do_nothing())
        row = conn.execute(
            select(Cluster.id, Cluster.head_number, Cluster.head_hash)
            .where(Cluster.cluster_id == cluster_id)
            .with_for_update()
        ).one()
        return row.id, row.head_number, row.head_hash

    def _append_cluster(
        self, conn: Connection, cluster_id: bytes, blocks: Sequence[EventsBlock]
    ) -> tuple[int, int]:
        cluster, head_number, head_hash = self._cluster(conn, cluster_id)
        label = cluster_label(cluster_id)
        known = [b for b in blocks if head_number is not None and b.number <= head_number]
        self._check_repeats(conn, cluster, label, known)
        new = [b for b in blocks if head_number is None or b.number > head_number]
        for block in new:
            self._check_continues(label, block, head_number, head_hash)
            head_number, head_hash = block.number, block.hash()
        if not new:
            return 0, len(known)
        conn.execute(insert(EventBlock), [block_row(cluster, b) for b in new])
        events = [row for b in new for row in event_rows(cluster, b)]
        if events:
            conn.execute(insert(Event), events)
        self._record_contracts(conn, cluster, new)
        conn.execute(
            update(Cluster)
            .where(Cluster.id == cluster)
            .values(head_number=head_number, head_hash=head_hash)
        )
        return len(new), len(known)

    def _check_repeats(
        self, conn: Connection, cluster: int, label: str, known: Sequence[EventsBlock]
    ) -> None:
        if not known:
            return
        stored = dict(
            conn.execute(
                select(EventBlock.number, EventBlock.hash).where(
                    EventBlock.cluster == cluster,
                    EventBlock.number.in_([b.number for b in known]),
                )
            ).all()
        )
        for block in known:
            if stored.get(block.number) != block.hash():
                raise ConflictingEventBlock(
                    f"{label}: event block #{block.number} {short(block.hash())} conflicts with "
                    f"the stored {short(stored.get(block.number, b''))}; nothing was written"
                )

    def _check_continues(
        self,
        label: str,
        block: EventsBlock,
        head_number: int | None,
        head_hash: bytes | None,
    ) -> None:
        expected_number = 0 if head_number is None else head_number + 1
        expected_parent = ZERO_HASH if head_hash is None else head_hash
        what = f"{label}: event block #{block.number} {short(block.hash())}"
        if block.number != expected_number:
            raise RejectedEventBlock(
                f"{what} does not follow the head #{head_number}: expected #{expected_number}"
            )
        if block.header.parent_hash != expected_parent:
            raise RejectedEventBlock(
                f"{what} has parent {short(block.header.parent_hash)}, the stored head "
                f"#{head_number} is {short(expected_parent)}"
            )
        if not block.body_hash_ok():
            raise RejectedEventBlock(
                f"{what}: body_hash {short(block.header.body_hash)} does not match its body"
            )

    def _record_contracts(
        self, conn: Connection, cluster: int, blocks: Sequence[EventsBlock]
    ) -> None:
        created = {i.address: i for b in blocks for i in reversed(instantiations(b))}
        if not created:
            return
        existing = set(
            conn.execute(select(Contract.address).where(Contract.address.in_(list(created))))
            .scalars()
            .all()
        )
        rows = [
            {
                "address": i.address,
                "cluster": cluster,
                "deployer": i.deployer,
                "code_hash": None,
                "first_block": i.block_number,
            }
            for address, i in created.items()
            if address not in existing
        ]
        if rows:
            conn.execute(insert(Contract), rows)

    def _store_checkpoint(self, conn: Connection, checkpoint: Checkpoint) -> None:
        values = {
            "chain_block_number": checkpoint.chain_block_number,
            "chain_block_hash": checkpoint.chain_block_hash,
            "stream_sequence": checkpoint.stream_sequence,
        }
        stored = conn.execute(
            select(StageCheckpoint.stream_sequence)
            .where(StageCheckpoint.stage == checkpoint.stage)
            .with_for_update()
        ).scalar_one_or_none()
        if stored is None:
            conn.execute(insert(StageCheckpoint).values(stage=checkpoint.stage, **values))
            return
        if checkpoint.stream_sequence < stored:
            raise CheckpointRegression(
                f"checkpoint of stage {checkpoint.stage!r} would go back from stream sequence "
                f"{stored} to {checkpoint.stream_sequence}; nothing was written"
            )
        conn.execute(
            update(StageCheckpoint).where(StageCheckpoint.stage == checkpoint.stage).values(values)
        )


def read_checkpoint(engine: Engine, stage: str) -> Checkpoint | None:
    """The stored checkpoint of `stage` (where it resumes after a restart)."""
    with store_errors(engine, f"read the checkpoint of {stage}"), engine.connect() as conn:
        row = conn.execute(select(StageCheckpoint).where(StageCheckpoint.stage == stage)).first()
    if row is None:
        return None
    return Checkpoint(stage, row.chain_block_number, row.chain_block_hash, row.stream_sequence)
