"""`pinkpipe events ...` (query, follow, verify, export/import the event store) and
`pinkpipe db ...` (its schema migrations).

Every command opens the store named by `--db` / `PINKPIPE_DB_URL` / the TOML file (default:
a SQLite file under the data dir) and migrates it to the current schema first (upgrade on
start). Exit codes: 0 ok, 1 the database failed or a block is not there or `verify` found a
break, 2 bad usage, 3 the event blocks given to `import` are invalid.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from sqlalchemy import Engine

from pinkpipe.app.options import config_option, settings_from_cli
from pinkpipe.app.process import EXIT_FAILED, exit_code
from pinkpipe.chain.errors import ConfigError, PinkpipeError
from pinkpipe.chain.scale import Reader, encode_compact
from pinkpipe.eventstore.config import StoreSettings
from pinkpipe.eventstore.db import masked_url, open_engine
from pinkpipe.eventstore.errors import RejectedEventBlock
from pinkpipe.eventstore.reader import BlockFilter, EventReader, StoredBlock
from pinkpipe.eventstore.writer import EventWriter, decode_blocks
from pinkpipe.migrations import current, history, upgrade

F = TypeVar("F", bound=Callable[..., Any])
IMPORT_BATCH = 1000


def store_options(func: F) -> F:
    """`--config`, `--db` and `--data-dir`, shared by every store command."""
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="data dir holding the default SQLite store",
    )(func)
    func = click.option(
        "--db", "db_url", help="database URL (sqlite:///FILE or postgresql+psycopg://...)"
    )(func)
    return config_option(func)


def store_settings(
    config_file: Path | None, db_url: str | None, data_dir: Path | None
) -> StoreSettings:
    settings = settings_from_cli(config_file, db_url=db_url, data_dir=data_dir)
    return settings.section(StoreSettings)


@contextmanager
def store_errors_to_exit() -> Iterator[None]:
    """pinkpipe's errors become one line on stderr and the exit code of their kind."""
    try:
        yield
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    except PinkpipeError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(exit_code(e))


def open_store(
    config_file: Path | None, db_url: str | None, data_dir: Path | None
) -> tuple[Engine, StoreSettings]:
    """The store's engine, migrated to the current schema (upgrade on start)."""
    settings = store_settings(config_file, db_url, data_dir)
    engine = open_engine(settings.url)
    upgrade(engine)
    return engine, settings


def parse_hash(value: str | None, what: str) -> bytes | None:
    if value is None:
        return None
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not hex", param_hint=what) from None
    if len(raw) != 32:
        raise click.BadParameter(f"must be 32 bytes, got {len(raw)}", param_hint=what)
    return raw


def short(value: bytes | None) -> str:
    return "-" if value is None else "0x" + value.hex()


def block_line(block: StoredBlock) -> str:
    names = ", ".join(
        f"{e.pallet}.{e.name}" + (f"({e.pink_event})" if e.pink_event else "") for e in block.events
    )
    return (
        f"{short(block.cluster_id)[:14]} #{block.number} {short(block.hash)} "
        f"chain #{block.phala_block_number} entry {short(block.entry_contract)[:14]} "
        f"origin {short(block.origin)[:14]}: {names or 'no events'}"
    )


def echo_block(block: StoredBlock, as_json: bool) -> None:
    click.echo(json.dumps(block.to_json()) if as_json else block_line(block))


# -- events ---------------------------------------------------------------------------------


@click.group("events")
def events_group() -> None:
    """Query the event store: event blocks of every Pink cluster, verified on write."""


@events_group.command("head")
@store_options
@click.option("--json", "as_json", is_flag=True, help="JSON output")
def events_head(
    config_file: Path | None, db_url: str | None, data_dir: Path | None, as_json: bool
) -> None:
    """The latest event block of every cluster."""
    with store_errors_to_exit():
        engine, _ = open_store(config_file, db_url, data_dir)
        heads = EventReader(engine).heads()
    if as_json:
        click.echo(json.dumps([h.to_json() for h in heads]))
        return
    if not heads:
        click.echo("no event blocks stored")
    for h in heads:
        click.echo(f"cluster {short(h.cluster_id)}: #{h.number} {short(h.hash)}")


@events_group.command("get")
@store_options
@click.argument("cluster")
@click.argument("number", type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="JSON output (with the SCALE bytes)")
def events_get(
    config_file: Path | None,
    db_url: str | None,
    data_dir: Path | None,
    cluster: str,
    number: int,
    as_json: bool,
) -> None:
    """One event block of CLUSTER (0x hex id) with its decoded events."""
    cluster_id = parse_hash(cluster, "CLUSTER")
    assert cluster_id is not None
    with store_errors_to_exit():
        engine, _ = open_store(config_file, db_url, data_dir)
        block = EventReader(engine).get(cluster_id, number)
    if as_json:
        click.echo(json.dumps(block.to_json(with_scale=True)))
        return
    click.echo(block_line(block))
    click.echo(f"  parent {short(block.parent_hash)} body {short(block.body_hash)}")
    click.echo(
        f"  runtime {block.runtime_version[0]}.{block.runtime_version[1]} "
        f"nonce {short(block.contract_call_nonce)}"
    )
    for e in block.events:
        click.echo(f"  [{e.index}] {e.pallet}.{e.name} {json.dumps(e.fields)}")


@events_group.command("list")
@store_options
@click.option("--cluster", help="only this cluster (0x hex id)")
@click.option("--from", "number_from", type=click.IntRange(min=0), help="first event block number")
@click.option("--to", "number_to", type=click.IntRange(min=0), help="last event block number")
@click.option("--chain-from", type=click.IntRange(min=0), help="first Phala block number")
@click.option("--chain-to", type=click.IntRange(min=0), help="last Phala block number")
@click.option("--contract", help="blocks with an event of this contract (0x hex)")
@click.option("--origin", help="blocks whose origin is this account (0x hex)")
@click.option("--event", "event_name", help="blocks with this event: Pallet.Name or Pallet")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--cursor", help="continue after this cursor (printed after a full page)")
@click.option("--json", "as_json", is_flag=True, help="JSON lines output")
def events_list(
    config_file: Path | None,
    db_url: str | None,
    data_dir: Path | None,
    cluster: str | None,
    number_from: int | None,
    number_to: int | None,
    chain_from: int | None,
    chain_to: int | None,
    contract: str | None,
    origin: str | None,
    event_name: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Event blocks matching every filter given, by cluster then number, one page."""
    pallet, _, name = (event_name or "").partition(".")
    flt = BlockFilter(
        cluster=parse_hash(cluster, "--cluster"),
        number_from=number_from,
        number_to=number_to,
        chain_from=chain_from,
        chain_to=chain_to,
        contract=parse_hash(contract, "--contract"),
        origin=parse_hash(origin, "--origin"),
        pallet=pallet or None,
        event=name or None,
    )
    with store_errors_to_exit():
        engine, settings = open_store(config_file, db_url, data_dir)
        page = EventReader(engine, settings.store_page_limit).list(flt, cursor, limit)
    for block in page.blocks:
        echo_block(block, as_json)
    if page.next_cursor is not None:
        click.echo(f"next page: --cursor {page.next_cursor}", err=True)


@events_group.command("tail")
@store_options
@click.option("-n", "count", type=click.IntRange(min=0), default=10, show_default=True)
@click.option("-f", "--follow", is_flag=True, help="keep printing new blocks until Ctrl-C")
@click.option("--interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines output")
def events_tail(
    config_file: Path | None,
    db_url: str | None,
    data_dir: Path | None,
    count: int,
    follow: bool,
    interval: float,
    as_json: bool,
) -> None:
    """The last N blocks of every cluster; with -f, then every new block as it is stored."""
    with store_errors_to_exit():
        engine, settings = open_store(config_file, db_url, data_dir)
        reader = EventReader(engine, settings.store_page_limit)
        seen: dict[bytes, int] = {}
        for head in reader.heads():
            if head.number is None:
                continue
            seen[head.cluster_id] = max(-1, head.number - count)
        try:
            while True:
                for block in reader.new_blocks(seen):
                    echo_block(block, as_json)
                if not follow:
                    return
                sys.stdout.flush()
                time.sleep(interval)
        except KeyboardInterrupt:
            return


@events_group.command("verify")
@store_options
def events_verify(config_file: Path | None, db_url: str | None, data_dir: Path | None) -> None:
    """Re-derive every stored block from its SCALE bytes and walk every cluster's hash chain
    and body hashes; exit 1 naming the first broken block."""
    with store_errors_to_exit():
        engine, _ = open_store(config_file, db_url, data_dir)
        started = time.perf_counter()
        report = EventReader(engine).verify()
    if report.broken is not None:
        click.echo(f"broken: {report.broken}", err=True)
        click.echo(f"{report.blocks} blocks verified before it", err=True)
        sys.exit(EXIT_FAILED)
    elapsed = time.perf_counter() - started
    click.echo(f"verified {report.blocks} blocks in {report.clusters} clusters ({elapsed:.2f} s)")


FORMATS = click.Choice(["jsonl", "scale"])


def write_export(out: IO[bytes], blocks: Iterator[StoredBlock], fmt: str) -> int:
    """JSON lines (the block as `events get --json` prints it) or raw frames
    `cluster_id[32] ‖ Compact(len) ‖ SCALE EventsBlock`; both re-import with `events import`."""
    n = 0
    for block in blocks:
        if fmt == "jsonl":
            out.write(json.dumps(block.to_json(with_scale=True)).encode() + b"\n")
        else:
            out.write(block.cluster_id + encode_compact(len(block.scale)) + block.scale)
        n += 1
    return n


def read_export(data: bytes, fmt: str, source: str) -> Iterator[tuple[bytes, bytes]]:
    """(cluster id, SCALE block) pairs of an export file."""
    if fmt == "jsonl":
        for line_no, line in enumerate(data.splitlines(), 1):
            try:
                record = json.loads(line)
                yield bytes.fromhex(record["cluster"][2:]), bytes.fromhex(record["scale"][2:])
            except (ValueError, KeyError, TypeError) as e:
                raise RejectedEventBlock(
                    f"{source} line {line_no}: not an exported block ({e})"
                ) from None
        return
    r = Reader(data)
    while r.remaining:
        try:
            cluster_id = r.fixed(32, "cluster id")
            yield cluster_id, r.var_bytes("EventsBlock")
        except ValueError as e:
            raise RejectedEventBlock(f"{source}: {e}") from None


@events_group.command("export")
@store_options
@click.option("--format", "fmt", type=FORMATS, default="jsonl", show_default=True)
@click.option("--cluster", help="only this cluster (0x hex id)")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="file (default stdout)"
)
def events_export(
    config_file: Path | None,
    db_url: str | None,
    data_dir: Path | None,
    fmt: str,
    cluster: str | None,
    output: Path | None,
) -> None:
    """Every stored block (JSON lines, or raw SCALE frames) for backup or another store."""
    cluster_id = parse_hash(cluster, "--cluster")
    with store_errors_to_exit():
        engine, _ = open_store(config_file, db_url, data_dir)
        blocks = EventReader(engine).export(cluster_id)
        if output is None:
            n = write_export(sys.stdout.buffer, blocks, fmt)
        else:
            with output.open("wb") as out:
                n = write_export(out, blocks, fmt)
    click.echo(f"exported {n} event blocks", err=True)


@events_group.command("import")
@store_options
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="jsonl", show_default=True)
def events_import(
    config_file: Path | None, db_url: str | None, data_dir: Path | None, source: Path, fmt: str
) -> None:
    """Append the blocks of an export file; checked like every write (blocks already stored
    are skipped, conflicting or unlinked ones refused with exit 3)."""
    with store_errors_to_exit():
        engine, _ = open_store(config_file, db_url, data_dir)
        frames = read_export(source.read_bytes(), fmt, str(source))
        written, skipped = import_frames(EventWriter(engine), frames)
    click.echo(f"imported {written} event blocks, {skipped} already stored")


def import_frames(writer: EventWriter, frames: Iterator[tuple[bytes, bytes]]) -> tuple[int, int]:
    """Append (cluster id, block) frames in transactions of IMPORT_BATCH blocks."""
    written = skipped = 0
    while batch := list(itertools.islice(frames, IMPORT_BATCH)):
        by_cluster: dict[bytes, list[bytes]] = {}
        for cluster_id, raw in batch:
            by_cluster.setdefault(cluster_id, []).append(raw)
        result = writer.write({c: decode_blocks(c, raws) for c, raws in by_cluster.items()})
        written, skipped = written + result.written, skipped + result.skipped
    return written, skipped


# -- db ---------------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """The event store's schema (Alembic migrations shipped with pinkpipe)."""


def _engine(config_file: Path | None, db_url: str | None, data_dir: Path | None) -> Engine:
    return open_engine(store_settings(config_file, db_url, data_dir).url)


@db_group.command("upgrade")
@store_options
@click.argument("revision", default="head")
def db_upgrade(
    config_file: Path | None, db_url: str | None, data_dir: Path | None, revision: str
) -> None:
    """Migrate the store to REVISION (default: the newest)."""
    with store_errors_to_exit():
        engine = _engine(config_file, db_url, data_dir)
        upgrade(engine, revision)
        click.echo(f"{masked_url(str(engine.url))} is at revision {current(engine)}")


@db_group.command("current")
@store_options
def db_current(config_file: Path | None, db_url: str | None, data_dir: Path | None) -> None:
    """The store's schema revision (none: never migrated)."""
    with store_errors_to_exit():
        revision = current(_engine(config_file, db_url, data_dir))
    click.echo(revision or "none")


@db_group.command("history")
def db_history() -> None:
    """Every schema revision, oldest first."""
    for rev in history():
        click.echo(
            f"{rev.down_revision or 'base'} -> {rev.revision}: {rev.message.splitlines()[0]}"
        )
