"""Shared test configuration: the project's stages are imported only as `pinkpipe.*`, and
suites that need servers are marked `integration` by folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

STAGE_FOLDERS = (
    "app",
    "bus",
    "chain",
    "devnet",
    "eventstore",
    "executor",
    "migrations",
    "relayer",
    "services",
    "validator",
)
INTEGRATION_FOLDERS = ("bus", "pipeline", "relayer")
"""Every test under tests/<folder> starts nats-server or a whole pipeline."""
TESTS_ROOT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark whole server-backed suites `integration`, so `-m "not integration"` skips them."""
    for item in items:
        folder = item.path.resolve().relative_to(TESTS_ROOT).parts[0]
        if folder in INTEGRATION_FOLDERS:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True, scope="session")
def _no_module_imported_under_its_folder_name() -> Iterator[None]:
    """The repository root is on sys.path (tests import `tests.*`), so `import chain` would
    work and load a second copy of `pinkpipe.chain`; fail the run if anything did that."""
    yield
    doubles = sorted(name for name in STAGE_FOLDERS if name in sys.modules)
    assert not doubles, f"imported by folder name instead of pinkpipe.*: {doubles}"
