"""Helpers for the pipeline tests: a real nats-server on a free port, settings, stream reads.

Every test talks to a nats-server started here (never the system's 4222) and, for chain data,
to the devnet over real WebSocket JSON-RPC.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nats.js import api

from pinkpipe.app.config import Settings, load_settings
from pinkpipe.bus import Bus, CheckpointStore, load_secret, raw_spec, verified_spec
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.bus.streams import MSG_ID
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.relayer.relayer import Relayer
from pinkpipe.services.validator import ValidatorService, ValidatorSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_FILE = Path(tempfile.mkdtemp(prefix="pinkpipe-tests-")) / "validator.secret"
"""The validators of a test session share one checkpoint secret, outside the checkout."""
PINKPIPE = PROJECT_ROOT / ".venv" / "bin" / "pinkpipe"


def nats_server_fixture(**options: Any) -> Callable[..., Iterator[str]]:
    """A module-scoped `nats_url` fixture: one embedded nats-server for a test module's tests
    (each test uses its own chain, so they do not see each other's streams)."""

    @pytest.fixture(scope="module")
    def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        server = EmbeddedNats(tmp_path_factory.mktemp("nats"), **options)
        url = asyncio.run(server.start())
        yield url
        asyncio.run(server.stop())

    return nats_url


def make_settings(nats_url: str, node_url: str | None = None, **overrides: Any) -> Settings:
    """Settings for a test: no config file, short timeouts so faults resolve quickly."""
    defaults: dict[str, Any] = {
        "rpc_timeout_s": 2.0,
        "rpc_retries": 6,
        "validator_secret_file": SECRET_FILE,
    }
    return load_settings(
        default_file=False,
        **{**defaults, "nats_url": nats_url, "node_url": node_url, **overrides},
    )


def make_relayer(settings: Settings, bus: Bus, node_url: str, stop: asyncio.Event) -> Relayer:
    return Relayer(settings.section(RelayerSettings), bus, node_url, stop)


async def relay(settings: Settings, bus: Bus, node_url: str, upto: int) -> None:
    """Run a relayer until it has published block `upto` (or stopped), then stop it."""
    stop = asyncio.Event()
    relayer = make_relayer(settings, bus, node_url, stop)
    task = asyncio.create_task(relayer.run())
    await wait_for(lambda: task.done() or relayer.progress.published >= upto, 30, f"#{upto}")
    stop.set()
    await task


async def make_validator(settings: Settings, bus: Bus, stop: asyncio.Event) -> ValidatorService:
    store = await CheckpointStore.open(bus, load_secret(settings.validator_secret_path))
    return ValidatorService(settings.section(ValidatorSettings), bus, store, stop)


async def ensure_chain(bus: Bus, genesis: bytes) -> None:
    """Both streams of a chain, as their owners create them."""
    await bus.ensure_stream(raw_spec(bus.settings, genesis, bus.max_payload), owner=True)
    await bus.ensure_stream(verified_spec(bus.settings, genesis, bus.max_payload), owner=True)


READ_BATCH = 128
"""Messages per pull: 128 records of ~270 KB stay under the server's 64 MiB max_pending."""


@dataclass(frozen=True)
class StreamMessage:
    seq: int
    data: bytes
    msg_id: str | None


async def read_stream(bus: Bus, stream: str, subject: str) -> list[StreamMessage]:
    """Every message of a stream, in order, through an ephemeral pull consumer."""
    info = await bus.js.stream_info(stream)
    total = int(info.state.messages)
    if total == 0:
        return []
    sub = await bus.js.pull_subscribe(
        subject,
        stream=stream,
        config=api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.ALL, ack_policy=api.AckPolicy.NONE
        ),
    )
    out: list[StreamMessage] = []
    try:
        while len(out) < total:
            for msg in await sub.fetch(min(READ_BATCH, total - len(out)), timeout=5):
                headers = msg.headers or {}
                out.append(
                    StreamMessage(msg.metadata.sequence.stream, msg.data, headers.get(MSG_ID))
                )
    finally:
        await sub.unsubscribe()
    return out


async def wait_for(
    predicate: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(interval_s)


@dataclass
class Pipeline:
    """A relayer and a validator running as tasks on one bus, stopped by one event."""

    relayer: Relayer
    validator: ValidatorService
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]]

    def finalized(self) -> int:
        """The validator's finalized height (-1 before it has seen the chain); a task that
        ended with an error re-raises it, so a crash is not waited on as if it were slowness."""
        for task in self.tasks:
            if task.done():
                task.result()
        chains = list(self.validator.chains.values())
        return chains[0].progress.finalized if chains else -1

    async def wait_verified(self, number: int, timeout_s: float, what: str = "") -> None:
        await wait_for(lambda: self.finalized() >= number, timeout_s, what or f"#{number} verified")


@asynccontextmanager
async def running_pipeline(settings: Settings, bus: Bus, node_url: str) -> AsyncIterator[Pipeline]:
    """Relayer + validator for the block's duration; on leaving, both are stopped and awaited
    (a failure of either is raised then, unless the block itself failed)."""
    stop = asyncio.Event()
    relayer = make_relayer(settings, bus, node_url, stop)
    validator = await make_validator(settings, bus, stop)
    tasks = [asyncio.create_task(relayer.run()), asyncio.create_task(validator.run())]
    try:
        yield Pipeline(relayer, validator, stop, tasks)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


class Service:
    """One `pinkpipe` service process, restartable, with its output kept for diagnosis."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log_dir = log_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"{self.name}-{self.starts}.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            str(PINKPIPE), *self.args, stdout=log, stderr=log, env=self.env
        )
        log.close()

    async def kill9(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 30)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"{self.name}-*"))
        )
