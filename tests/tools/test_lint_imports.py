"""The import contracts bite: a copy of the tree with one forbidden import is refused, naming
the import; a new package must be named in the contracts before they pass."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.vectors import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "tools" / "lint_imports.py"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """pyproject.toml and every package folder it maps, copied."""
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    for folder in set(config["tool"]["setuptools"]["package-dir"].values()):
        ignore = shutil.ignore_patterns("__pycache__", "*.scale")
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder, ignore=ignore)
    return tmp_path


def lint(root: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, SCRIPT, root], capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout + done.stderr


def add_import(root: Path, module: str, statement: str) -> None:
    path = root / f"{module}.py"
    path.write_text(path.read_text() + f"\n{statement}  # noqa\n")


def test_todays_tree_keeps_every_contract(tree: Path) -> None:
    code, out = lint(tree)
    assert code == 0, out
    assert "Contracts: 3 kept, 0 broken." in out


@pytest.mark.parametrize(
    ("module", "statement", "broken", "named"),
    [
        ("chain/hashing", "import asyncio", "do no I/O", "pinkpipe.chain.hashing -> asyncio"),
        ("validator/state", "import click", "do no I/O", "pinkpipe.validator.state -> click"),
        (
            "validator/state",
            "import pinkpipe.bus.records",
            "Layers",
            "pinkpipe.validator.state -> pinkpipe.bus.records",
        ),
        (
            "services/validator",
            "import pinkpipe.relayer.node",
            "Layers",
            "pinkpipe.services.validator -> pinkpipe.relayer.node",
        ),
        (
            "devnet/faults",
            "import pinkpipe.validator.state",
            "devnet is a tool",
            "pinkpipe.devnet.faults -> pinkpipe.validator.state",
        ),
    ],
)
def test_forbidden_import_is_refused_and_named(
    tree: Path, module: str, statement: str, broken: str, named: str
) -> None:
    add_import(tree, module, statement)
    code, out = lint(tree)
    assert code == 1
    assert f"{broken}" in out and "BROKEN" in out
    assert named in out


def test_a_pure_core_must_be_named_then_is_checked(tree: Path) -> None:
    """Leaving pinkpipe.executor out of the contracts is refused; named, it is checked."""
    pyproject = tree / "pyproject.toml"
    named = pyproject.read_text()
    unnamed = named.replace(
        'source_modules = ["pinkpipe.chain", "pinkpipe.executor", "pinkpipe.validator"]',
        'source_modules = ["pinkpipe.chain", "pinkpipe.validator"]',
    ).replace(
        '    "pinkpipe.executor",\n    "pinkpipe.migrations",\n', '    "pinkpipe.migrations",\n'
    )
    assert unnamed != named
    pyproject.write_text(unnamed)
    code, out = lint(tree)
    assert code == 1
    assert "pinkpipe.executor (pure-cores source_modules)" in out
    assert "pinkpipe.executor (devnet-tool forbidden_modules)" in out
    pyproject.write_text(named)
    code, out = lint(tree)
    assert code == 0, out
    add_import(tree, "executor/state", "import sqlalchemy")
    code, out = lint(tree)
    assert code == 1 and "pinkpipe.executor.state -> sqlalchemy" in out
