"""Event chain: clusters, event blocks, events, stage checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

HASH = sa.LargeBinary(length=32)


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cluster_id", HASH, nullable=False),
        sa.Column("head_number", sa.BigInteger(), nullable=True),
        sa.Column("head_hash", HASH, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
        sa.UniqueConstraint("cluster_id", name=op.f("uq_clusters_cluster_id")),
    )
    op.create_table(
        "stage_checkpoints",
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("chain_block_number", sa.BigInteger(), nullable=False),
        sa.Column("chain_block_hash", HASH, nullable=False),
        sa.Column("stream_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("stage", name=op.f("pk_stage_checkpoints")),
    )
    op.create_table(
        "event_blocks",
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.Column("parent_hash", HASH, nullable=False),
        sa.Column("body_hash", HASH, nullable=False),
        sa.Column("runtime_major", sa.Integer(), nullable=False),
        sa.Column("runtime_minor", sa.Integer(), nullable=False),
        sa.Column("phala_block_number", sa.BigInteger(), nullable=False),
        sa.Column("contract_call_nonce", sa.LargeBinary(), nullable=True),
        sa.Column("entry_contract", HASH, nullable=True),
        sa.Column("origin", HASH, nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("scale", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster"], ["clusters.id"], name=op.f("fk_event_blocks_cluster_clusters")
        ),
        sa.PrimaryKeyConstraint("cluster", "number", name=op.f("pk_event_blocks")),
    )
    op.create_index("ix_event_blocks_hash", "event_blocks", ["hash"])
    op.create_index(
        "ix_event_blocks_chain_block", "event_blocks", ["phala_block_number", "cluster", "number"]
    )
    op.create_index(
        "ix_event_blocks_entry_contract", "event_blocks", ["entry_contract", "cluster", "number"]
    )
    op.create_index("ix_event_blocks_origin", "event_blocks", ["origin", "cluster", "number"])
    op.create_table(
        "events",
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pallet", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("contract", HASH, nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster", "block_number"],
            ["event_blocks.cluster", "event_blocks.number"],
            name="fk_events_block_event_blocks",
        ),
        sa.PrimaryKeyConstraint("cluster", "block_number", "index", name=op.f("pk_events")),
    )
    op.create_index("ix_events_contract", "events", ["contract", "cluster", "block_number"])
    op.create_index("ix_events_name", "events", ["pallet", "name", "cluster", "block_number"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("event_blocks")
    op.drop_table("stage_checkpoints")
    op.drop_table("clusters")
