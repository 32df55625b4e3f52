"""The event store's tables (SQLAlchemy 2 declarative models).

Every event block keeps its exact SCALE bytes (`scale`): the other block columns and the
`events` rows are derived from them for querying, and `verify` re-derives them to catch a
tampered row. Primary keys make a repeated write detectable (cluster + number), indexes
serve the queries of `reader.py`. Constraint names follow one naming convention so Alembic
migrations (batch mode on SQLite) can address them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Hash = LargeBinary(32)
MAX_SQL_INT = 2**63 - 1
"""The largest value of a BIGINT column: numbers beyond it can be neither stored nor asked for."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Cluster(Base):
    """A Pink cluster and the head of its event chain (None before its first block)."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cluster_id: Mapped[bytes] = mapped_column(Hash, unique=True)
    head_number: Mapped[int | None] = mapped_column(BigInteger)
    head_hash: Mapped[bytes | None] = mapped_column(Hash)


class EventBlock(Base):
    __tablename__ = "event_blocks"
    __table_args__ = (
        Index("ix_event_blocks_hash", "hash"),
        Index("ix_event_blocks_chain_block", "phala_block_number", "cluster", "number"),
        Index("ix_event_blocks_entry_contract", "entry_contract", "cluster", "number"),
        Index("ix_event_blocks_origin", "origin", "cluster", "number"),
    )

    cluster: Mapped[int] = mapped_column(ForeignKey("clusters.id"), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(Hash)
    parent_hash: Mapped[bytes] = mapped_column(Hash)
    body_hash: Mapped[bytes] = mapped_column(Hash)
    runtime_major: Mapped[int] = mapped_column(Integer)
    runtime_minor: Mapped[int] = mapped_column(Integer)
    phala_block_number: Mapped[int] = mapped_column(BigInteger)
    contract_call_nonce: Mapped[bytes | None] = mapped_column(LargeBinary)
    entry_contract: Mapped[bytes | None] = mapped_column(Hash)
    origin: Mapped[bytes | None] = mapped_column(Hash)
    event_count: Mapped[int] = mapped_column(Integer)
    scale: Mapped[bytes] = mapped_column(LargeBinary)


class Event(Base):
    """One event of a block, decoded: pallet and variant name, fields as JSON (hex bytes)."""

    __tablename__ = "events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["cluster", "block_number"],
            ["event_blocks.cluster", "event_blocks.number"],
            name="fk_events_block_event_blocks",
        ),
        Index("ix_events_contract", "contract", "cluster", "block_number"),
        Index("ix_events_name", "pallet", "name", "cluster", "block_number"),
    )

    cluster: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pallet: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    pink_event: Mapped[str | None] = mapped_column(String(64))
    contract: Mapped[bytes | None] = mapped_column(Hash)
    topics: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)


class Contract(Base):
    """A contract seen in a `Contracts::Instantiated` event (code hash when known)."""

    __tablename__ = "contracts"

    address: Mapped[bytes] = mapped_column(Hash, primary_key=True)
    cluster: Mapped[int] = mapped_column(ForeignKey("clusters.id"))
    deployer: Mapped[bytes] = mapped_column(Hash)
    code_hash: Mapped[bytes | None] = mapped_column(Hash, index=True)
    first_block: Mapped[int] = mapped_column(BigInteger)


class Abi(Base):
    """An ink! contract ABI (metadata JSON) by the code hash it describes."""

    __tablename__ = "abis"

    code_hash: Mapped[bytes] = mapped_column(Hash, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ink_version: Mapped[int] = mapped_column(Integer)
    metadata_json: Mapped[str] = mapped_column(Text)


class StageCheckpoint(Base):
    """Where a stage is in its input: the chain block and stream sequence it has done."""

    __tablename__ = "stage_checkpoints"

    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_block_number: Mapped[int] = mapped_column(BigInteger)
    chain_block_hash: Mapped[bytes] = mapped_column(Hash)
    stream_sequence: Mapped[int] = mapped_column(BigInteger)


metadata = Base.metadata
