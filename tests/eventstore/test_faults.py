"""Database faults: one clear line naming the store and the action, nothing partly written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select

from pinkpipe.eventstore.db import open_engine
from pinkpipe.eventstore.errors import StoreUnavailable
from pinkpipe.eventstore.models import EventBlock
from pinkpipe.eventstore.reader import EventReader
from pinkpipe.eventstore.writer import Checkpoint, EventWriter
from pinkpipe.migrations import upgrade
from tests.event_blocks import CLUSTER_A, make_chain
from tests.store_support import free_port


def migrated_engine(url: str) -> Engine:
    engine = open_engine(url)
    upgrade(engine)
    return engine


def test_unreachable_postgresql_is_one_line() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"
    with pytest.raises(StoreUnavailable) as info:
        upgrade(open_engine(url))
    message = str(info.value)
    assert message.startswith("event store postgresql+psycopg://postgres@127.0.0.1:")
    assert "cannot upgrade the schema to head" in message and "\n" not in message


def test_read_only_sqlite_refuses_and_keeps_everything(sqlite_url: str) -> None:
    engine = migrated_engine(sqlite_url)
    blocks = make_chain(3)
    EventWriter(engine).append(CLUSTER_A, blocks[:2])
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    read_only = open_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StoreUnavailable, match="cannot append event blocks: attempt to write a"):
        EventWriter(read_only).append(CLUSTER_A, blocks[2:])
    assert EventReader(read_only).verify().blocks == 2


def test_disk_full_writes_nothing(sqlite_url: str) -> None:
    engine = migrated_engine(sqlite_url)
    writer = EventWriter(engine)
    first = make_chain(10)
    writer.append(CLUSTER_A, first)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 2}")

    with pytest.raises(StoreUnavailable, match="database or disk is full"):
        writer.append(CLUSTER_A, make_chain(500, first[-1]))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EventBlock)).scalar_one() == 10
    assert EventReader(engine).verify().broken is None


def test_uncreatable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreUnavailable, match=f"cannot create {blocker}"):
        open_engine(f"sqlite:///{blocker / 'sub' / 'events.sqlite3'}")


def test_checkpoint_values_are_checked_before_sql() -> None:
    with pytest.raises(ValueError, match="stage name"):
        Checkpoint("x" * 65, 1, bytes(32), 1)
    with pytest.raises(ValueError, match="32 bytes, got 3"):
        Checkpoint("executor", 1, b"abc", 1)
    with pytest.raises(ValueError, match="stream_sequence -1 is out of range"):
        Checkpoint("executor", 1, bytes(32), -1)
