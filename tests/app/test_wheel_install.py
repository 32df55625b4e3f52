"""The wheel alone runs: built, installed into a fresh venv outside the checkout, and used from
another directory (issue 8, item 1). Catches a module or data file the package-dir mapping
leaves out, and any run-time read of `../shared/vectors` or the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pinkpipe.chain.scale import encode_compact
from pinkpipe.devnet import DevChain, DevnetConfig
from tests.devnet_process import running_devnet
from tests.vectors import PROJECT_ROOT, WESTEND, WESTEND_GENESIS_HASH, phala_event_blocks

pytestmark = [pytest.mark.slow, pytest.mark.integration]

NOT_SOURCE = (".git", ".venv", "build", "data", "*.egg-info", "__pycache__", ".*_cache")


@dataclass(frozen=True)
class FreshInstall:
    python: Path
    pinkpipe: Path
    elsewhere: Path
    """A working directory with no checkout, vectors or config file around it."""

    def env(self) -> dict[str, str]:
        """The caller's environment minus anything that could point back at the checkout."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINKPIPE_")}
        env.pop("PYTHONPATH", None)
        return env

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.elsewhere,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _run_checked(*args: str | Path) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, args))}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshInstall]:
    """Wheel built offline with this venv's setuptools (no build isolation); no dependency is
    downloaded: they are reused from this venv through a .pth line (a path added that way has
    its own .pth files ignored, so this venv's editable hook stays out)."""
    root = tmp_path_factory.mktemp("wheel-install")
    source, wheels, venv = root / "source", root / "wheels", root / "venv"
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    # A copy, so setuptools' build/ and a stale egg-info in the checkout cannot leak in.
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    pip = (sys.executable, "-m", "pip")
    _run_checked(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, source)
    (wheel,) = wheels.glob("pinkpipe-*.whl")
    _run_checked(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    fresh_site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (fresh_site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run_checked(*pip, "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    yield FreshInstall(python=python, pinkpipe=venv / "bin" / "pinkpipe", elsewhere=elsewhere)


def test_installed_package_comes_from_the_wheel(fresh_install: FreshInstall) -> None:
    code = "import pinkpipe.devnet, pinkpipe.validator; print(pinkpipe.devnet.__file__)"
    done = fresh_install.run(fresh_install.python, "-c", code)
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip())
    assert location.is_relative_to(fresh_install.python.parent.parent), location
    assert not location.is_relative_to(PROJECT_ROOT)


def test_python_m_pinkpipe_help(fresh_install: FreshInstall) -> None:
    done = fresh_install.run(fresh_install.python, "-m", "pinkpipe", "--help")
    assert done.returncode == 0, done.stderr
    for command in ("devnet", "inspect", "run"):
        assert command in done.stdout


def test_inspect_genesis_from_elsewhere(fresh_install: FreshInstall) -> None:
    done = fresh_install.run(
        fresh_install.pinkpipe, "inspect", "genesis", WESTEND / "chain-spec-raw.json"
    )
    assert done.returncode == 0, done.stderr
    assert f"genesis hash:   0x{WESTEND_GENESIS_HASH.hex()}" in done.stdout


def test_devnet_from_elsewhere_serves_the_packaged_metadata(fresh_install: FreshInstall) -> None:
    """`pinkpipe devnet --blocks 5` with no vectors around: same chain as in the checkout."""
    expected = DevChain(DevnetConfig())
    expected.produce(5)
    pinkpipe, elsewhere, env = fresh_install.pinkpipe, fresh_install.elsewhere, fresh_install.env()
    with running_devnet(pinkpipe, "--blocks", "5", cwd=elsewhere, env=env) as lines:
        assert lines[0].strip() == f"genesis 0x{expected.genesis_hash.hex()}", lines
        assert lines[1].startswith(f"best #5 0x{expected.best_hash.hex()}"), lines
        assert lines[2].startswith("listening on ws://127.0.0.1:"), lines


def test_event_store_from_elsewhere(fresh_install: FreshInstall, tmp_path: Path) -> None:
    """Migrations and the Pink runtime metadata ship in the wheel: migrate a new store,
    import the real event blocks, decode and verify them."""
    cluster = bytes([0xA1]) * 32
    dump = tmp_path / "events.scale"
    dump.write_bytes(b"".join(cluster + encode_compact(len(b)) + b for b in phala_event_blocks()))
    data = ("--data-dir", tmp_path / "data")
    upgraded = fresh_install.run(fresh_install.pinkpipe, "db", "upgrade", *data)
    assert upgraded.returncode == 0 and "is at revision 0002" in upgraded.stdout, upgraded.stderr
    imported = fresh_install.run(
        fresh_install.pinkpipe, "events", "import", dump, "--format", "scale", *data
    )
    assert imported.stdout.strip() == "imported 3 event blocks, 0 already stored", imported.stderr
    got = fresh_install.run(fresh_install.pinkpipe, "events", "get", cluster.hex(), "1", *data)
    assert "Contracts.ContractEmitted, Contracts.Called" in got.stdout, got.stderr
    verified = fresh_install.run(fresh_install.pinkpipe, "events", "verify", *data)
    assert verified.stdout.startswith("verified 3 blocks in 1 clusters"), verified.stderr
