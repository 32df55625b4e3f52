"""Programmatic Alembic: upgrade, current revision and history against an engine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from pinkpipe.eventstore.db import schema_revision, store_errors


@dataclass(frozen=True, slots=True)
class Revision:
    revision: str
    down_revision: str | None
    message: str


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", os.fspath(resources.files("pinkpipe.migrations")))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store to `revision` (each revision in its own transaction)."""
    with store_errors(engine, f"upgrade the schema to {revision}"):
        command.upgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    """The store's revision, None for a database never migrated."""
    return schema_revision(engine)


def head() -> str:
    head_revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head_revision is None:
        raise RuntimeError("the migrations package has no revisions")
    return head_revision


def history() -> list[Revision]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [
        Revision(r.revision, r.down_revision, r.doc or "")  # type: ignore[arg-type]
        for r in script.walk_revisions()
    ]
    return revisions[::-1]
