"""`pinkpipe events ...` and `pinkpipe db ...` on real SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, update

from pinkpipe.app.cli import cli
from pinkpipe.eventstore.db import open_engine
from pinkpipe.eventstore.models import EventBlock
from pinkpipe.eventstore.writer import EventWriter, decode_blocks
from pinkpipe.migrations import upgrade
from tests.event_blocks import ALICE, CLUSTER_A, CLUSTER_B, CONTRACTS, make_chain
from tests.pipeline_support import PINKPIPE
from tests.store_support import run_cli as run
from tests.vectors import phala_event_blocks


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = open_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def stored(engine: Engine) -> Engine:
    """The three real blocks in cluster A, 30 generated ones in cluster B."""
    EventWriter(engine).write(
        {CLUSTER_A: decode_blocks(CLUSTER_A, phala_event_blocks()), CLUSTER_B: make_chain(30)}
    )
    return engine


def test_head_get_list(url: str, stored: Engine) -> None:
    head = run(url, "events", "head")
    assert head.exit_code == 0, head.output
    assert f"cluster 0x{CLUSTER_A.hex()}: #2 0x2007ae66" in head.output
    assert f"cluster 0x{CLUSTER_B.hex()}: #29" in head.output
    get = run(url, "events", "get", "0x" + CLUSTER_A.hex(), "1")
    assert get.exit_code == 0, get.output
    assert "Contracts.ContractEmitted, Contracts.Called" in get.output
    assert f'[1] Contracts.Called {{"caller": {{"Signed": "0x{ALICE.hex()}"}}' in get.output
    as_json = json.loads(run(url, "events", "get", CLUSTER_A.hex(), "0", "--json").output)
    assert as_json["events"][10]["name"] == "Transfer"
    assert as_json["events"][10]["fields"]["amount"] == 157
    assert as_json["scale"] == "0x" + phala_event_blocks()[0].hex()
    listed = run(
        url,
        "events",
        "list",
        "--cluster",
        CLUSTER_B.hex(),
        "--contract",
        CONTRACTS[2].hex(),
        "--event",
        "Contracts.ContractEmitted",
        "--json",
    )
    assert listed.exit_code == 0, listed.output
    assert [json.loads(line)["number"] for line in listed.stdout.splitlines()] == [
        2,
        6,
        10,
        14,
        18,
        22,
        26,
    ]
    page = run(url, "events", "list", "--event", "Balances", "--limit", "2")
    assert page.stdout.count("\n") == 2 and "next page: --cursor" in page.stderr
    cursor = page.stderr.split("--cursor ")[1].strip()
    second = run(url, "events", "list", "--event", "Balances", "--limit", "2", "--cursor", cursor)
    assert second.stdout != page.stdout and second.exit_code == 0


def test_bad_arguments(url: str, stored: Engine) -> None:
    unknown = run(url, "events", "get", "0x" + "ee" * 32, "0")
    assert unknown.exit_code == 1
    assert unknown.output.strip() == f"error: unknown cluster 0x{'ee' * 32}"
    missing = run(url, "events", "get", CLUSTER_A.hex(), "3")
    assert (missing.exit_code, missing.output.strip()) == (
        1,
        f"error: cluster 0x{CLUSTER_A.hex()} has no event block #3",
    )
    assert run(url, "events", "get", "0xzz", "1").exit_code == 2
    assert "must be 32 bytes" in run(url, "events", "list", "--origin", "0x01").output
    bad_cursor = run(url, "events", "list", "--cursor", "1;drop table events")
    assert bad_cursor.exit_code == 2 and "is not a cursor" in bad_cursor.output


def test_verify_names_a_tampered_block(url: str, stored: Engine) -> None:
    ok = run(url, "events", "verify")
    assert ok.exit_code == 0 and ok.output.startswith("verified 33 blocks in 2 clusters")
    with stored.begin() as conn:
        where = (EventBlock.cluster == 2) & (EventBlock.number == 17)
        scale = bytearray(conn.execute(select(EventBlock.scale).where(where)).scalar_one())
        scale[60] ^= 0x80  # inside the body hash
        conn.execute(update(EventBlock).where(where).values(scale=bytes(scale)))
    broken = run(url, "events", "verify")
    assert broken.exit_code == 1
    first = broken.stderr.splitlines()[0]
    block17 = make_chain(30)[17]
    assert first.startswith(
        f"broken: cluster 0x{CLUSTER_B.hex()} event block #17 0x{block17.hash().hex()}: "
        "stored bytes do not decode"
    )
    assert broken.stderr.splitlines()[1] == "20 blocks verified before it"


@pytest.mark.parametrize("fmt", ["jsonl", "scale"])
def test_export_import_round_trip(url: str, stored: Engine, tmp_path: Path, fmt: str) -> None:
    dump = tmp_path / f"dump.{fmt}"
    exported = run(url, "events", "export", "--format", fmt, "-o", str(dump))
    assert exported.exit_code == 0 and "exported 33 event blocks" in exported.stderr
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    imported = run(other, "events", "import", str(dump), "--format", fmt)
    assert imported.output.strip() == "imported 33 event blocks, 0 already stored"
    again = run(other, "events", "import", str(dump), "--format", fmt)
    assert again.output.strip() == "imported 0 event blocks, 33 already stored"
    redump = tmp_path / f"redump.{fmt}"
    run(other, "events", "export", "--format", fmt, "-o", str(redump))
    assert redump.read_bytes() == dump.read_bytes()
    assert run(other, "events", "verify").exit_code == 0


def test_import_of_a_damaged_dump_writes_nothing(url: str, stored: Engine, tmp_path: Path) -> None:
    dump = tmp_path / "dump.scale"
    run(url, "events", "export", "--format", "scale", "-o", str(dump))
    data = bytearray(dump.read_bytes())
    data[-10] ^= 0x01
    dump.write_bytes(bytes(data))
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    damaged = run(other, "events", "import", str(dump), "--format", "scale")
    assert damaged.exit_code == 3
    assert f"error: cluster 0x{CLUSTER_B.hex()}, block #29 of the batch" in damaged.output
    assert "no event blocks stored" in run(other, "events", "head").output


def test_db_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert run(url, "db", "current").output.strip() == "none"
    assert run(url, "db", "upgrade", "0001").output.strip().endswith("is at revision 0001")
    assert run(url, "db", "current").output.strip() == "0001"
    assert run(url, "db", "upgrade").output.strip().endswith("is at revision 0002")
    history = CliRunner().invoke(cli, ["db", "history"]).output.splitlines()
    assert history[0].startswith("base -> 0001: Event chain") and history[1].startswith(
        "0001 -> 0002"
    )


def test_default_store_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "events.sqlite3").is_file()
    bad = CliRunner().invoke(cli, ["events", "head", "--db", "mysql://x/y"])
    assert bad.exit_code == 2 and "neither sqlite" in bad.output


def test_unreachable_database_is_one_line() -> None:
    result = run("postgresql+psycopg://postgres@127.0.0.1:9/test", "events", "head")
    assert result.exit_code == 1
    assert result.output.startswith(
        "error: event store postgresql+psycopg://postgres@127.0.0.1:9/test"
    )
    assert result.output.count("\n") == 1


@pytest.mark.slow
def test_tail_follows_new_blocks(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    upgrade(engine)
    first = make_chain(5)
    EventWriter(engine).append(CLUSTER_A, first)
    tail = subprocess.Popen(
        [
            str(PINKPIPE),
            "events",
            "tail",
            "-n",
            "2",
            "-f",
            "--interval",
            "0.05",
            "--db",
            sqlite_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert tail.stdout is not None
        lines = [tail.stdout.readline(), tail.stdout.readline()]
        assert [line.split()[1] for line in lines] == ["#3", "#4"]
        time.sleep(0.2)
        EventWriter(engine).write({CLUSTER_A: make_chain(1, first[-1]), CLUSTER_B: make_chain(1)})
        new = sorted([tail.stdout.readline().split()[1], tail.stdout.readline().split()[1]])
        assert new == ["#0", "#5"]
    finally:
        tail.terminate()
        tail.wait(timeout=10)
