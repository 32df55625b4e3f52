"""The event-store suite, written once and run against every backend (test_backends.py).

Subclasses provide the `url` fixture; every assertion runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, insert, select, text, update

from pinkpipe.chain.event_chain import EventsBlock, EventsBlockBody
from pinkpipe.eventstore.db import open_engine
from pinkpipe.eventstore.errors import (
    BadQuery,
    CheckpointRegression,
    ConflictingEventBlock,
    NotStored,
    RejectedEventBlock,
)
from pinkpipe.eventstore.models import Contract, Event, EventBlock, metadata
from pinkpipe.eventstore.reader import BlockFilter, EventReader
from pinkpipe.eventstore.rows import block_row, event_rows
from pinkpipe.eventstore.writer import Checkpoint, EventWriter, decode_blocks, read_checkpoint
from pinkpipe.migrations import current, history, upgrade
from pinkpipe.migrations.runner import head
from tests.event_blocks import (
    ALICE,
    CLUSTER_A,
    CLUSTER_B,
    CONTRACTS,
    instantiated,
    make_chain,
    real_blocks,
    set_hook,
)
from tests.vectors import phala_event_blocks


def checkpoint(seq: int) -> Checkpoint:
    return Checkpoint("executor", 500 + seq, bytes([seq]) * 32, seq)


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


class StoreSuite:
    """Subclasses define the `url` fixture (a fresh, empty database)."""

    @pytest.fixture
    def engine(self, url: str) -> Iterator[Engine]:
        engine = open_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()

    @pytest.fixture
    def writer(self, engine: Engine) -> EventWriter:
        return EventWriter(engine)

    @pytest.fixture
    def reader(self, engine: Engine) -> EventReader:
        return EventReader(engine, page_limit=1000)

    # --- schema ------------------------------------------------------------------------------

    def test_models_and_migrations_agree(self, engine: Engine) -> None:
        assert current(engine) == head() == history()[-1].revision
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, metadata) == []

    def test_upgrade_is_idempotent(self, engine: Engine) -> None:
        upgrade(engine)
        assert current(engine) == head()

    def test_upgrade_of_a_database_holding_data(self, url: str) -> None:
        """Rows written under revision 0001 survive 0002 (a batch table copy on SQLite) and
        get the pink event their bytes carry."""
        engine = open_engine(url)
        upgrade(engine, "0001")
        body = EventsBlockBody(7, None, None, (set_hook(ALICE, CONTRACTS[1]),), None)
        blocks = [*real_blocks(), EventsBlock.new(3, (1, 2), real_blocks()[2].hash(), body)]
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO clusters (cluster_id) VALUES (:c)"), {"c": CLUSTER_A})
            cluster = conn.execute(text("SELECT id FROM clusters")).scalar_one()
            for block in blocks:
                conn.execute(insert(EventBlock.__table__), block_row(cluster, block))
                rows = event_rows(cluster, block)
                for row in rows:
                    del row["pink_event"]
                    row["fields"].pop("pink_event", None)
                conn.execute(insert(Event.__table__).values(rows[0]).compile().statement, rows)
            conn.execute(
                text("UPDATE clusters SET head_number = 3, head_hash = :h"), {"h": blocks[3].hash()}
            )
        upgrade(engine)
        assert current(engine) == "0002"
        reader = EventReader(engine)
        report = reader.verify()
        assert (report.blocks, report.broken) == (4, None)
        hook = reader.get(CLUSTER_A, 3).events[0]
        assert hook.pink_event == "SetHook"
        assert hook.fields["pink_event"]["SetHook"]["selector"] == 0xDEADBEEF
        assert len(reader.get(CLUSTER_A, 0).events) == 19
        engine.dispose()

    # --- writer ------------------------------------------------------------------------------

    def test_real_blocks_round_trip(self, writer: EventWriter, reader: EventReader) -> None:
        blocks = decode_blocks(CLUSTER_A, phala_event_blocks())
        assert writer.append(CLUSTER_A, blocks, checkpoint(1)) == (3, 0)
        (head,) = reader.heads()
        assert (head.cluster_id, head.number, head.hash) == (CLUSTER_A, 2, blocks[2].hash())
        stored = reader.get(CLUSTER_A, 1)
        assert stored.scale == phala_event_blocks()[1]
        assert stored.origin == ALICE and stored.phala_block_number == 257
        names = [f"{e.pallet}.{e.name}" for e in stored.events]
        assert names == [
            "Contracts.ContractEmitted",
            "Contracts.Called",
            "Contracts.StorageDepositTransferredAndHeld",
        ]
        called = stored.events[1]
        assert called.fields == {
            "caller": {"Signed": "0x" + ALICE.hex()},
            "contract": "0x" + stored.entry_contract.hex(),  # type: ignore[union-attr]
        }
        assert called.contract == stored.entry_contract
        assert stored.events[2].fields["amount"] == 1
        assert reader.get(CLUSTER_A, 0).events[10].fields["amount"] == 157
        assert read_checkpoint(writer.engine, "executor") == checkpoint(1)

    def test_same_blocks_again_are_a_no_op(self, writer: EventWriter, engine: Engine) -> None:
        blocks = make_chain(5)
        writer.append(CLUSTER_A, blocks, checkpoint(1))
        assert writer.append(CLUSTER_A, blocks, checkpoint(1)) == (0, 5)
        assert writer.append(CLUSTER_A, [*blocks[3:], *make_chain(2, blocks[-1])]) == (2, 2)
        assert count(engine, EventBlock) == 7

    def test_conflicting_block_is_refused_naming_both(
        self, writer: EventWriter, reader: EventReader, engine: Engine
    ) -> None:
        blocks = make_chain(3)
        writer.append(CLUSTER_A, blocks, checkpoint(1))
        body = dataclasses.replace(blocks[1].body, phala_block_number=99)
        other = EventsBlock.new(1, (1, 2), blocks[0].hash(), body)
        with pytest.raises(ConflictingEventBlock) as info:
            writer.append(CLUSTER_A, [other, *make_chain(1, blocks[2])], checkpoint(2))
        assert f"#1 0x{other.hash().hex()}" in str(info.value)
        assert f"stored 0x{blocks[1].hash().hex()}" in str(info.value)
        assert count(engine, EventBlock) == 3  # the valid #3 of that batch was not written
        assert read_checkpoint(engine, "executor") == checkpoint(1)
        assert reader.get(CLUSTER_A, 1).hash == blocks[1].hash()

    def test_parent_must_be_the_stored_head(self, writer: EventWriter, engine: Engine) -> None:
        blocks = make_chain(4)
        writer.append(CLUSTER_A, blocks[:2])
        with pytest.raises(RejectedEventBlock, match=r"#3 .* expected #2"):
            writer.append(CLUSTER_A, blocks[3:])
        forged = EventsBlock.new(2, (1, 2), bytes(32), blocks[2].body)
        with pytest.raises(RejectedEventBlock, match=r"has parent 0x0{64}, the stored head #1"):
            writer.append(CLUSTER_A, [forged])
        with pytest.raises(RejectedEventBlock, match=r"#1 .* expected #0"):
            writer.append(CLUSTER_B, blocks[1:])
        assert count(engine, EventBlock) == 2

    def test_bad_body_hash_is_refused(self, writer: EventWriter) -> None:
        block = make_chain(1)[0]
        forged = EventsBlock(dataclasses.replace(block.header, body_hash=bytes(32)), block.body)
        with pytest.raises(RejectedEventBlock, match=r"body_hash 0x0{64} does not match"):
            writer.append(CLUSTER_A, [forged])

    def test_corrupt_bytes_are_refused_naming_the_position(self) -> None:
        raw = bytearray(phala_event_blocks()[2])
        raw[-5] ^= 1
        with pytest.raises(RejectedEventBlock, match=r"block #1 of the batch: .*body_hash"):
            decode_blocks(CLUSTER_A, [phala_event_blocks()[1], bytes(raw)])

    def test_one_transaction_for_clusters_and_checkpoint(
        self, writer: EventWriter, engine: Engine
    ) -> None:
        a, b = make_chain(3), make_chain(2)
        assert writer.write({CLUSTER_A: a, CLUSTER_B: b}, checkpoint(5)) == (5, 0)
        gap = make_chain(2, b[-1])[1:]
        with pytest.raises(RejectedEventBlock, match=f"cluster 0x{CLUSTER_B.hex()}.*#3"):
            writer.write({CLUSTER_A: make_chain(2, a[-1]), CLUSTER_B: gap}, checkpoint(6))
        assert count(engine, EventBlock) == 5
        assert read_checkpoint(engine, "executor") == checkpoint(5)
        with pytest.raises(CheckpointRegression, match="from stream sequence 5 to 4"):
            writer.write({CLUSTER_A: make_chain(1, a[-1])}, checkpoint(4))
        assert count(engine, EventBlock) == 5

    def test_instantiated_contracts_are_recorded(self, writer: EventWriter, engine: Engine) -> None:
        body = EventsBlockBody(9, None, None, (instantiated(ALICE, CONTRACTS[2]),), None)
        writer.append(CLUSTER_A, [EventsBlock.new(0, (1, 2), bytes(32), body)])
        with engine.connect() as conn:
            row = conn.execute(select(Contract)).one()
        assert (row.address, row.deployer, row.first_block) == (CONTRACTS[2], ALICE, 0)

    # --- queries -----------------------------------------------------------------------------

    def test_list_pages_and_filters(self, writer: EventWriter, reader: EventReader) -> None:
        a = make_chain(250)
        writer.write({CLUSTER_A: a, CLUSTER_B: make_chain(10)})
        seen, cursor = [], None
        while True:
            page = reader.list(BlockFilter(cluster=CLUSTER_A), cursor, 100)
            seen += [b.number for b in page.blocks]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == list(range(250))
        by_contract = reader.list(BlockFilter(contract=CONTRACTS[1]), None, 1000).blocks
        assert [b.number for b in by_contract] == [*range(1, 250, 4), 1, 5, 9]
        assert all(b.entry_contract == CONTRACTS[1] for b in by_contract)
        transfers = reader.list(
            BlockFilter(CLUSTER_A, 10, 20, pallet="Balances", event="Transfer"), None, 100
        )
        assert [b.number for b in transfers.blocks] == [11, 13, 15, 17, 19]
        chain = reader.list(BlockFilter(CLUSTER_B, chain_from=1001, chain_to=1002), None, 100)
        assert [b.number for b in chain.blocks] == [2, 3, 4, 5]
        by_origin = reader.list(BlockFilter(CLUSTER_A, number_to=10, origin=CONTRACTS[0]))
        assert [b.number for b in by_origin.blocks] == [0, 3, 6, 9]
        mixed = reader.list(BlockFilter(CLUSTER_A, 0, 12, contract=CONTRACTS[0], origin=ALICE))
        assert [b.number for b in mixed.blocks] == [4, 8]

    def test_unknown_cluster_block_and_bad_cursor(
        self, writer: EventWriter, reader: EventReader
    ) -> None:
        writer.append(CLUSTER_A, make_chain(2))
        with pytest.raises(NotStored, match=f"unknown cluster 0x{CLUSTER_B.hex()}"):
            reader.get(CLUSTER_B, 0)
        with pytest.raises(NotStored, match="has no event block #2"):
            reader.get(CLUSTER_A, 2)
        with pytest.raises(BadQuery, match=r"cursor 'x\.1'"):
            reader.list(BlockFilter(), "x.1")
        with pytest.raises(BadQuery, match="page size 0"):
            reader.list(BlockFilter(), None, 0)

    def test_new_blocks_follow_each_cluster(self, writer: EventWriter, reader: EventReader) -> None:
        a = make_chain(3)
        writer.append(CLUSTER_A, a)
        seen = {h.cluster_id: h.number or -1 for h in reader.heads()}
        assert reader.new_blocks(seen) == []
        writer.write({CLUSTER_A: make_chain(2, a[-1]), CLUSTER_B: make_chain(1)})
        new = reader.new_blocks(seen)
        assert [(b.cluster_id, b.number) for b in new] == [
            (CLUSTER_A, 3),
            (CLUSTER_A, 4),
            (CLUSTER_B, 0),
        ]
        assert seen == {CLUSTER_A: 4, CLUSTER_B: 0}

    def test_export_yields_every_block_in_order(
        self, writer: EventWriter, reader: EventReader
    ) -> None:
        writer.write({CLUSTER_A: make_chain(1200), CLUSTER_B: make_chain(3)})
        exported = list(reader.export())
        assert len(exported) == 1203
        assert [b.number for b in exported[:1200]] == list(range(1200))
        assert EventsBlock.decode(exported[-1].scale).number == 2

    # --- verify ------------------------------------------------------------------------------

    def test_verify_passes_on_an_intact_store(
        self, writer: EventWriter, reader: EventReader
    ) -> None:
        writer.write({CLUSTER_A: make_chain(1100), CLUSTER_B: make_chain(5)})
        report = reader.verify()
        assert (report.blocks, report.clusters, report.broken) == (1105, 2, None)

    def test_verify_names_a_tampered_byte(
        self, writer: EventWriter, reader: EventReader, engine: Engine
    ) -> None:
        blocks = make_chain(20)
        writer.append(CLUSTER_A, blocks)
        with engine.begin() as conn:
            scale = bytearray(
                conn.execute(select(EventBlock.scale).where(EventBlock.number == 13)).scalar_one()
            )
            scale[100] ^= 0x01
            conn.execute(
                update(EventBlock).where(EventBlock.number == 13).values(scale=bytes(scale))
            )
        broken = reader.verify().broken
        assert broken is not None
        assert (broken.cluster_id, broken.number, broken.hash) == (CLUSTER_A, 13, blocks[13].hash())
        assert "stored bytes do not decode" in broken.reason and "body_hash" in broken.reason

    def test_verify_names_a_tampered_column(
        self, writer: EventWriter, reader: EventReader, engine: Engine
    ) -> None:
        writer.append(CLUSTER_A, make_chain(5))
        with engine.begin() as conn:
            conn.execute(update(EventBlock).where(EventBlock.number == 2).values(origin=bytes(32)))
        broken = reader.verify().broken
        assert broken is not None and broken.number == 2
        assert broken.reason.startswith("column origin is")
