"""Engines for the event store, and the mapping of database failures to `StoreUnavailable`.

SQLite (the default) runs in WAL mode so readers (CLI, HTTP API) never block the writer, with
foreign keys on and a busy timeout; writers take the write lock when their transaction starts
(`BEGIN IMMEDIATE`, via the pysqlite recipe of SQLAlchemy's SQLite dialect notes) so two
writers queue instead of failing mid-transaction. `synchronous=NORMAL` in WAL mode can lose
the last commits on power loss but never splits a transaction: blocks and the checkpoint that
came with them vanish together, and the executor replays them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from pinkpipe.eventstore.errors import StoreUnavailable

SQLITE_BUSY_TIMEOUT_MS = 10_000


def masked_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite: SQLAlchemy's begin listener decides
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "synchronous=NORMAL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _bytes_as_hex(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps_json(value: object) -> str:
    """JSON columns' serializer: bytes inside decoded event fields become 0x-hex on the way
    in, so rows need no converted copy of every field tree (the writer's hot path)."""
    return json.dumps(value, default=_bytes_as_hex, separators=(",", ":"))


def open_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's directory is created if missing."""
    sqlite_file = _sqlite_file(url) if url.startswith("sqlite") else None
    if sqlite_file is not None:
        try:
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailable(f"cannot create {sqlite_file.parent}: {e.strerror}") from None
    engine = create_engine(
        url, pool_pre_ping=not url.startswith("sqlite"), json_serializer=dumps_json
    )
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def writer_engine(engine: Engine) -> Engine:
    """The same engine, taking SQLite's write lock at BEGIN (no effect on PostgreSQL)."""
    return engine.execution_options(sqlite_immediate=True)


@contextmanager
def store_errors(engine: Engine, action: str) -> Iterator[None]:
    """Turn a database failure into one `StoreUnavailable` line naming the store and action.

    Integrity errors are not caught: the writer checks everything they could mean first, so
    one reaching here is a bug that must surface with its traceback.
    """
    try:
        yield
    except IntegrityError:
        raise
    except (OperationalError, DBAPIError) as e:
        reason = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
        where = masked_url(str(engine.url))
        raise StoreUnavailable(f"event store {where}: cannot {action}: {reason}") from None


def schema_revision(engine: Engine) -> str | None:
    """The store's Alembic revision, None for a database never migrated."""
    with store_errors(engine, "read the schema revision"), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
