"""Shared test configuration: the project's stages are imported only as `pinkpipe.*`."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

STAGE_FOLDERS = ("app", "bus", "chain", "devnet", "relayer", "services", "validator")


@pytest.fixture(autouse=True, scope="session")
def _no_module_imported_under_its_folder_name() -> Iterator[None]:
    """The repository root is on sys.path (tests import `tests.*`), so `import chain` would
    work and load a second copy of `pinkpipe.chain`; fail the run if anything did that."""
    yield
    doubles = sorted(name for name in STAGE_FOLDERS if name in sys.modules)
    assert not doubles, f"imported by folder name instead of pinkpipe.*: {doubles}"
