"""Outages (issue 13): NATS down for longer than ~20 s killed relayer and validator with
tracebacks (B6); a relayer giving up on a dead node logged "Future exception was never
retrieved" tracebacks (B7).

B6 is run twice at once: one chain through the in-process commands (`run_relayer`,
`run_validator`), another through `pinkpipe relayer` / `pinkpipe validator` subprocesses, on
one embedded nats-server that is stopped and started again with the same store and port.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pinkpipe.app.commands import run_validator
from pinkpipe.app.config import Settings
from pinkpipe.app.process import EXIT_FAILED, EXIT_OK
from pinkpipe.app.relayer_cmd import run_relayer
from pinkpipe.bus import Bus, BusError, raw_stream, raw_subject, verified_stream, verified_subject
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.bus.records import decode_raw, decode_verified
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from tests.pipeline_support import PINKPIPE, SECRET_FILE, Service, make_settings, read_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_S = 21.0
LIMIT_S = 5
FIRST = 60
TRACEBACK_SIGNS = ("Traceback", "never retrieved", "Task exception")


@dataclass
class Stages:
    """One chain's relayer and validator: in-process tasks or `pinkpipe` subprocesses."""

    devnet: DevnetServer
    tasks: list[asyncio.Task[int]]
    services: list[Service]
    stops: list[asyncio.Event]
    """One per in-process stage: a stage that stops sets its own, not the other's."""

    async def exit_codes(self, timeout_s: float) -> list[int]:
        codes = [await asyncio.wait_for(s.proc.wait(), timeout_s) for s in self.services if s.proc]
        done = await asyncio.wait_for(asyncio.gather(*self.tasks), timeout_s)
        return [*codes, *done]

    async def terminate(self) -> list[int]:
        for stop in self.stops:
            stop.set()
        for service in self.services:
            assert service.proc is not None
            if service.proc.returncode is None:
                service.proc.send_signal(signal.SIGTERM)
        return await self.exit_codes(30)

    def logs(self) -> str:
        return "\n".join(service.logs() for service in self.services)


def env_for(nats_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PINKPIPE_NATS_URL": nats_url,
        "PINKPIPE_VALIDATOR_SECRET_FILE": str(SECRET_FILE),
        **extra,
    }


async def start_in_process(settings: Settings, devnet: DevnetServer) -> Stages:
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [
        asyncio.create_task(run_relayer(settings, stops[0])),
        asyncio.create_task(run_validator(settings, stops[1])),
    ]
    return Stages(devnet, tasks, [], stops)


async def start_processes(env: dict[str, str], devnet: DevnetServer, log_dir: Path) -> Stages:
    genesis = devnet.chain.genesis_hash.hex()
    services = [
        Service("relayer", ["relayer", "--node", devnet.url], env, log_dir),
        Service("validator", ["validator", "--genesis", genesis], env, log_dir),
    ]
    for service in services:
        await service.start()
    return Stages(devnet, [], services, [])


async def verified_height(bus: Bus, genesis: bytes) -> int:
    try:
        return await bus.last_seq(verified_stream(genesis))
    except BusError:
        return 0


async def wait_verified(bus: Bus, stages: list[Stages], timeout_s: float) -> None:
    """Until every chain's verified stream holds its devnet's every block."""
    deadline = time.monotonic() + timeout_s
    for s in stages:
        chain = s.devnet.chain
        while await verified_height(bus, chain.genesis_hash) < chain.best_number:
            assert all(not t.done() for t in s.tasks), [t.result() for t in s.tasks if t.done()]
            for service in s.services:
                assert service.proc is not None and service.proc.returncode is None, s.logs()
            assert time.monotonic() < deadline, f"timed out waiting for #{chain.best_number}"
            await asyncio.sleep(0.2)


async def assert_exactly_once(bus: Bus, chain: DevChain) -> None:
    genesis = chain.genesis_hash
    raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
    assert [decode_raw(m.data, "raw", m.seq).number for m in raw] == list(
        range(chain.best_number + 1)
    )
    verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
    records = [decode_verified(m.data, "verified", m.seq) for m in verified]
    assert [(r.number, r.hash) for r in records] == [
        (n, chain.block_hash(n)) for n in range(1, chain.best_number + 1)
    ]


def assert_no_traceback(text: str, records: list[logging.LogRecord]) -> None:
    for sign in TRACEBACK_SIGNS:
        assert sign not in text, text
    tracebacks = [r.getMessage() for r in records if r.exc_info]
    assert not tracebacks, tracebacks


async def outage(nats: EmbeddedNats, devnets: list[DevnetServer], seconds: float) -> EmbeddedNats:
    """Stop the server for `seconds` while the devnets keep producing; start it again with
    the same store and port."""
    port = urlsplit(nats.url).port
    await nats.stop()
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        for devnet in devnets:
            await devnet.produce(1)
        await asyncio.sleep(0.5)
    again = EmbeddedNats(nats.data_dir, port=port or 0)
    await again.start()
    return again


def dev_chain(name: str) -> DevChain:
    chain = DevChain(DevnetConfig(chain_name=name, justification_period=16))
    chain.produce(FIRST)
    return chain


async def test_b6_a_long_nats_outage_is_waited_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    nats = EmbeddedNats(tmp_path / "nats")
    await nats.start()
    async with (
        DevnetServer(dev_chain("b6-in-process")) as near,
        DevnetServer(dev_chain("b6-processes")) as far,
    ):
        settings = make_settings(nats.url, near.url, genesis=near.chain.genesis_hash.hex())
        stages = [
            await start_in_process(settings, near),
            await start_processes(env_for(nats.url), far, tmp_path),
        ]
        bus = await Bus.connect(make_settings(nats.url))
        await wait_verified(bus, stages, 60)
        await bus.close()

        nats = await outage(nats, [near, far], OUTAGE_S)
        for devnet in (near, far):
            await devnet.produce(10)
        bus = await Bus.connect(make_settings(nats.url))
        await wait_verified(bus, stages, 60)
        for s in stages:
            assert await s.terminate() == [EXIT_OK, EXIT_OK], s.logs()
            await assert_exactly_once(bus, s.devnet.chain)
        await bus.close()
    await nats.stop()
    assert_no_traceback(stages[1].logs(), caplog.records)
    for service in stages[1].services:  # each saw the outage, said so briefly, came back
        logs = service.logs()
        assert ": reconnected" in logs, logs
        assert logs.count("Connect call failed") <= OUTAGE_S // 10 + 2, logs
    assert any(": reconnected" in r.getMessage() for r in caplog.records)


async def test_b6_an_outage_over_the_limit_stops_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nats = EmbeddedNats(tmp_path / "nats")
    await nats.start()
    async with (
        DevnetServer(dev_chain("b6-limit-in-process")) as near,
        DevnetServer(dev_chain("b6-limit-processes")) as far,
    ):
        settings = make_settings(
            nats.url, near.url, genesis=near.chain.genesis_hash.hex(), nats_outage_limit_s=LIMIT_S
        )
        env = env_for(nats.url, PINKPIPE_NATS_OUTAGE_LIMIT_S=str(LIMIT_S))
        stages = [await start_in_process(settings, near), await start_processes(env, far, tmp_path)]
        bus = await Bus.connect(make_settings(nats.url))
        await wait_verified(bus, stages, 60)
        await bus.close()
        await nats.stop()
        started = time.monotonic()
        for devnet in (near, far):  # blocks to publish meet the outage too
            await devnet.produce(5)
        for s in stages:
            assert await s.exit_codes(40) == [EXIT_FAILED, EXIT_FAILED], s.logs()
        took = time.monotonic() - started
    logs = stages[1].logs()
    assert_no_traceback(logs, caplog.records)
    for name in ("relayer", "validator"):
        errors = [line for line in logs.splitlines() if " ERROR " in line and name in line]
        assert len(errors) == 1 and f"nats_outage_limit_s = {LIMIT_S}" in errors[0], logs
    stopped = [r for r in caplog.records if "nats_outage_limit_s" in r.getMessage()]
    assert {r.levelno for r in stopped} == {logging.ERROR} and len(stopped) == 2
    assert took < LIMIT_S + 8, f"stopping took {took:.0f}s"


async def test_b7_a_relayer_giving_up_on_a_dead_node_leaves_no_traceback(tmp_path: Path) -> None:
    async with EmbeddedNats(tmp_path / "nats") as nats:
        devnet = await asyncio.create_subprocess_exec(
            str(PINKPIPE),
            *("devnet", "--port", "0", "--blocks", "4000", "--block-time", "0"),
            *("--justification-period", "64"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert devnet.stdout is not None
        url = ""
        while not url:
            line = (await asyncio.wait_for(devnet.stdout.readline(), 30)).decode()
            assert line, "the devnet exited before serving"
            found = re.search(r"ws://[0-9.]+:\d+", line)
            url = found.group(0) if found else ""
        env = env_for(nats.url, PINKPIPE_RPC_RETRIES="1", PINKPIPE_RPC_BATCH="1")
        relayer = Service("relayer", ["relayer", "--node", url], env, tmp_path)
        await relayer.start()
        bus = await Bus.connect(make_settings(nats.url))
        genesis = await _genesis_once_relaying(bus)
        devnet.kill()  # mid catch-up: hundreds of requests in flight
        await devnet.wait()
        assert relayer.proc is not None
        assert await asyncio.wait_for(relayer.proc.wait(), 60) == EXIT_FAILED
        published = await bus.last_seq(raw_stream(genesis))
        await bus.close()
    logs = relayer.logs()
    assert 0 < published < 4000, logs
    assert_no_traceback(logs, [])
    errors = [line for line in logs.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "relayer stopped" in errors[0], logs


async def _genesis_once_relaying(bus: Bus) -> bytes:
    """The relayer's chain, once it has published some blocks of its catch-up."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for genesis in await bus.chains():
            if await bus.last_seq(raw_stream(genesis)) > 200:
                return genesis
        await asyncio.sleep(0.05)
    raise AssertionError("the relayer published nothing within 30s")
