"""Contracts and ink! ABIs; events record the PinkEvent they carry.

`events.pink_event` is added to a table that may already hold rows (batch mode copies the
table on SQLite). Existing rows get the value their stored SCALE bytes give (NULL unless
the event is a pink event), so `events verify` finds them consistent afterwards.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pinkpipe.chain.pink_events import PINK_EVENT_TOPIC, decode_pink_event, jsonable
from pinkpipe.chain.scale import CodecError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HASH = sa.LargeBinary(length=32)


def upgrade() -> None:
    op.create_table(
        "abis",
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ink_version", sa.Integer(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_abis")),
    )
    op.create_table(
        "contracts",
        sa.Column("address", HASH, nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("deployer", HASH, nullable=False),
        sa.Column("code_hash", HASH, nullable=True),
        sa.Column("first_block", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster"], ["clusters.id"], name=op.f("fk_contracts_cluster_clusters")
        ),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_contracts")),
    )
    op.create_index(op.f("ix_contracts_code_hash"), "contracts", ["code_hash"])
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("pink_event", sa.String(length=64), nullable=True))
    _backfill_pink_events()


def _backfill_pink_events() -> None:
    """Decode the PinkEvent of every stored ContractEmitted under the pink topic."""
    events = sa.table(
        "events",
        sa.column("cluster"),
        sa.column("block_number"),
        sa.column("index"),
        sa.column("name"),
        sa.column("pink_event"),
        sa.column("topics", sa.JSON()),
        sa.column("fields", sa.JSON()),
    )
    conn = op.get_bind()
    pink_topic = ["0x" + PINK_EVENT_TOPIC.hex()]
    rows = conn.execute(sa.select(events).where(events.c.name == "ContractEmitted")).all()
    for row in rows:
        if row.topics != pink_topic:
            continue
        try:
            pink = decode_pink_event(bytes.fromhex(row.fields["data"][2:]))
        except CodecError:
            continue
        fields = {**row.fields, "pink_event": {pink.name: jsonable(pink.fields)}}
        key = (events.c.cluster == row.cluster) & (events.c.block_number == row.block_number)
        conn.execute(
            sa.update(events)
            .where(key & (events.c.index == row.index))
            .values(pink_event=pink.name, fields=fields)
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("pink_event")
    op.drop_table("contracts")
    op.drop_table("abis")
