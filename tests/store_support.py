"""Databases for the event-store tests (suite and CLI): a SQLite file or a PostgreSQL
schema per test.

PostgreSQL is the server at 127.0.0.1:5432 (trust auth, database `test`); each test gets its
own schema (via the connection's search_path) and drops it afterwards. Without a server the
PostgreSQL tests skip saying why, except with CI=true, where they fail.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from pinkpipe.app.cli import cli

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(url: str, group: str, command: str, *args: str) -> Result:
    """`pinkpipe GROUP COMMAND --db URL ARGS...`, in-process."""
    return CliRunner().invoke(cli, [group, command, "--db", url, *args])


def pg_admin() -> Engine:
    engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as e:
        reason = f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {e.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL is required)")
        pytest.skip(reason)
    return engine


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'events.sqlite3'}"


@contextmanager
def postgres_schema(admin: Engine, prefix: str) -> Iterator[str]:
    """The URL of a new schema on the test server (its search_path), dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema(pg_admin(), "pinkpipe_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each backend in turn (suites override it per backend class)."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
