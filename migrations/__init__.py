"""Alembic migrations of the event store, shipped in the package.

`upgrade` runs at every start of a store user (upgrade on start) and from `pinkpipe db
upgrade`; the script directory is this package's folder, found through importlib.resources,
so an installed wheel migrates without an alembic.ini or a source checkout.
"""

from __future__ import annotations

from pinkpipe.migrations.runner import current, history, upgrade

__all__ = ["current", "history", "upgrade"]
