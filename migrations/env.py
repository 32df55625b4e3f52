"""Alembic environment: migrate the engine handed in by `runner` (never a URL from a file).

Batch mode on SQLite (it cannot ALTER most things, so Alembic copies tables); types and
server defaults are compared so the "models and migrations agree" test catches every drift.
"""

from __future__ import annotations

from alembic import context

from pinkpipe.eventstore.models import metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        raise RuntimeError("pinkpipe migrations run through pinkpipe.migrations.upgrade only")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            compare_server_default=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
