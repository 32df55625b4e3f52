"""Run import-linter (the contracts in pyproject.toml) on the package as it installs.

grimp, import-linter's graph builder, finds a package's modules by walking its folder. pinkpipe's
subpackages live in top-level folders mapped by `[tool.setuptools.package-dir]`, so the
`pinkpipe/` folder holds only `__init__.py` and `__main__.py` and the editable install resolves
the rest through an import hook grimp does not see. This script lays out, in a temporary
directory, the tree a wheel would install (symlinks to the mapped folders) and runs
`lint-imports` from there. Usage: `python tools/lint_imports.py [PROJECT_ROOT]` (default: the
checkout this script is in).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PURE_CORES = ("pinkpipe.chain", "pinkpipe.validator", "pinkpipe.executor")
"""Layers 0-1. import-linter's forbidden contracts refuse a module that does not exist, so the
contracts name only packages that exist; `uncovered_packages` catches one that arrives."""


def package_folders(config: dict[str, Any], root: Path) -> dict[str, Path]:
    """`[tool.setuptools.package-dir]`: dotted package name -> its folder in the checkout."""
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {package: root / folder for package, folder in mapping.items()}


def uncovered_packages(config: dict[str, Any]) -> list[str]:
    """Packages in package-dir that the forbidden contracts should name but do not."""
    packages = set(config["tool"]["setuptools"]["package-dir"])
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    pure = set(contracts["pure-cores"]["source_modules"])
    beside_devnet = set(contracts["devnet-tool"]["forbidden_modules"])
    top_level = {p for p in packages if p.count(".") == 1}
    missing = [f"{p} (pure-cores source_modules)" for p in PURE_CORES if p in packages - pure]
    others = top_level - {"pinkpipe.chain", "pinkpipe.devnet"} - beside_devnet
    missing += [f"{p} (devnet-tool forbidden_modules)" for p in sorted(others)]
    return missing


def lay_out_installed_tree(folders: dict[str, Path], view: Path) -> None:
    """Symlink every mapped folder where a wheel would put it; a package whose folder also
    holds mapped subpackages (the root) gets a real directory of links to its own files."""
    for package in sorted(folders, key=lambda name: name.count(".")):
        target = view.joinpath(*package.split("."))
        has_children = any(other.startswith(package + ".") for other in folders)
        if not has_children:
            target.symlink_to(folders[package], target_is_directory=True)
            continue
        target.mkdir(parents=True)
        for entry in folders[package].iterdir():
            if entry.name != "__pycache__":
                (target / entry.name).symlink_to(entry)


def check(project_root: Path) -> int:
    """Exit status of the contracts of `project_root`'s pyproject.toml on its tree."""
    pyproject = project_root / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text())
    missing = uncovered_packages(config)
    if missing:
        print(f"{pyproject}: import contracts must name: {', '.join(missing)}", file=sys.stderr)
        return 1
    lint_imports = Path(sys.executable).parent / "lint-imports"
    with tempfile.TemporaryDirectory(prefix="pinkpipe-imports-") as tmp:
        view = Path(tmp)
        lay_out_installed_tree(package_folders(config, project_root), view)
        # lint-imports puts its working directory first on sys.path: run it inside the view.
        command = [str(lint_imports), "--no-cache", str(pyproject)]
        return subprocess.run(command, cwd=view, check=False).returncode


if __name__ == "__main__":
    sys.exit(check(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else PROJECT_ROOT))
