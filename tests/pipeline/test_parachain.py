"""Parachain mode end to end: the devnet pair over real JSON-RPC, a real nats-server, the
parachain relayer and validator; the verified stream holds each parachain block once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from pinkpipe.app.config import Settings
from pinkpipe.bus import Bus, CheckpointStore, load_secret, verified_stream, verified_subject
from pinkpipe.bus.records import decode_verified
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.parachain import DEFAULT_PARA_ID, ParachainDevnet, ParachainFaults
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.relayer.parachain import ParachainRelayer
from pinkpipe.relayer.relayer import RelayerError
from pinkpipe.services.parachain import (
    InvalidParachainData,
    ParachainValidatorService,
    Trust,
)
from pinkpipe.services.validator import ValidatorSettings
from tests.pipeline_support import make_settings, nats_server_fixture, read_stream, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

nats_url = nats_server_fixture()
_GENESIS_TIMES = itertools.count(1_800_000_000_000, 1000)
"""Each test's parachain gets its own genesis (its own streams on the module's server)."""


def make_pair(justification_period: int = 4, **faults: int) -> ParachainDevnet:
    relay = DevnetConfig(
        chain_name="pinkpipe relay",
        justification_period=justification_period,
        set_period=10,
        faults=ParachainFaults(**faults),
    )
    para = DevnetConfig(chain_name="pinkpipe para", genesis_time_ms=next(_GENESIS_TIMES))
    return ParachainDevnet(relay, para)


@dataclass
class ParaPipeline:
    pair: ParachainDevnet
    relayer: ParachainRelayer
    validator: ParachainValidatorService
    tasks: list[asyncio.Task[None]]

    def finalized(self) -> int:
        """The validator's final parachain height; a task's failure is raised here."""
        for task in self.tasks:
            if task.done():
                task.result()
        chains = list(self.validator.chains.values())
        return chains[0].progress.finalized if chains else -1

    async def wait_final(self, number: int, timeout_s: float = 60) -> None:
        await wait_for(lambda: self.finalized() >= number, timeout_s, f"parachain #{number}")

    def expected_final(self) -> int:
        """The parachain block the relay chain's finalized head includes."""
        return self.pair.head_number_at(self.pair.relay.best_number) or 0


@asynccontextmanager
async def served(pair: ParachainDevnet) -> AsyncIterator[tuple[str, str]]:
    async with DevnetServer(pair.relay) as relay, DevnetServer(pair.para) as para:
        yield relay.url, para.url


@asynccontextmanager
async def running(
    settings: Settings,
    bus: Bus,
    pair: ParachainDevnet,
    urls: tuple[str, str],
    trust: Trust | None = None,
) -> AsyncIterator[ParaPipeline]:
    """Relayer and validator as tasks; on leaving they are stopped (or were cancelled by the
    test, as a crash) and awaited, a failure raised unless the block itself failed."""
    stop = asyncio.Event()
    relayer = ParachainRelayer(settings.section(RelayerSettings), bus, *urls, stop)
    store = await CheckpointStore.open(bus, load_secret(settings.validator_secret_path))
    validator = ParachainValidatorService(
        settings.section(ValidatorSettings), bus, store, stop, trust or Trust()
    )
    tasks = [asyncio.create_task(relayer.run()), asyncio.create_task(validator.run())]
    try:
        yield ParaPipeline(pair, relayer, validator, tasks)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result


async def verified_numbers(bus: Bus, pair: ParachainDevnet) -> list[int]:
    genesis = pair.para.genesis_hash
    stream, subject = verified_stream(genesis), verified_subject(genesis)
    messages = await read_stream(bus, stream, subject)
    records = [decode_verified(m.data, stream, m.seq) for m in messages]
    for record in records:
        assert record.hash == pair.para.block_hash(record.number)
    return [r.number for r in records]


async def step(pair: ParachainDevnet, blocks: int) -> None:
    for _ in range(blocks):
        pair.step()
        await asyncio.sleep(0.002)


def settings_for(nats: str, pair: ParachainDevnet, **overrides: Any) -> Settings:
    """Settings validating only this test's parachain (the server holds other tests')."""
    genesis = pair.para.genesis_hash.hex()
    return make_settings(nats, rpc_batch=8, genesis=genesis, **overrides)


async def test_parachain_blocks_are_verified_once_across_relay_rotations(nats_url: str) -> None:
    pair = make_pair()
    pair.produce(90)
    settings = settings_for(nats_url, pair)
    bus = await Bus.connect(settings)
    try:
        async with served(pair) as urls, running(settings, bus, pair, urls) as pipeline:
            await pipeline.wait_final(pipeline.expected_final())
            await step(pair, 60)  # followed live, across more rotations
            await pipeline.wait_final(pipeline.expected_final())
            final = pipeline.expected_final()
            assert pair.relay.best_number == 150 and final > 60
            assert pipeline.relayer.progress.relay == 150
        numbers = await verified_numbers(bus, pair)
        assert numbers == list(range(1, final + 1))
    finally:
        await bus.close()


async def test_restart_after_a_crash_resumes_exactly_once(nats_url: str) -> None:
    pair = make_pair()
    pair.produce(40)
    settings = settings_for(nats_url, pair)
    bus = await Bus.connect(settings)
    try:
        async with served(pair) as urls:
            async with running(settings, bus, pair, urls) as pipeline:
                await pipeline.wait_final(5)
                await step(pair, 30)
                await pipeline.wait_final(12)
                for task in pipeline.tasks:  # a crash: nothing flushed, nothing closed cleanly
                    task.cancel()
            await step(pair, 30)
            async with running(settings, bus, pair, urls) as pipeline:
                await pipeline.wait_final(pipeline.expected_final())
                final = pipeline.expected_final()
        assert await verified_numbers(bus, pair) == list(range(1, final + 1))
    finally:
        await bus.close()


async def _stopped_by(nats: str, pair: ParachainDevnet, relay_blocks: int, **over: Any) -> str:
    """Run the pipeline on a faulty pair until the validator refuses; its error."""
    pair.produce(relay_blocks)
    settings = settings_for(nats, pair, **over)
    bus = await Bus.connect(settings)
    try:
        with pytest.raises(InvalidParachainData) as refused:
            async with served(pair) as urls, running(settings, bus, pair, urls) as pipeline:
                await wait_for(lambda: pipeline.tasks[1].done(), 60, "the validator to refuse")
                pipeline.tasks[1].result()
        return str(refused.value)
    finally:
        await bus.close()


async def _verified_upto(nats: str, pair: ParachainDevnet) -> list[int]:
    bus = await Bus.connect(settings_for(nats, pair))
    try:
        return await verified_numbers(bus, pair)
    finally:
        await bus.close()


async def test_a_wrong_head_stops_validation_at_its_parachain_block(nats_url: str) -> None:
    pair = make_pair(justification_period=1, wrong_head_at=21)
    error = await _stopped_by(nats_url, pair, 30)
    bad = pair.head_number_at(21)
    assert bad is not None
    assert f"invalid parachain block #{bad}" in error
    assert "differs from the head" in error and "relay block #21" in error
    assert await _verified_upto(nats_url, pair) == list(range(1, pair.head_number_at(20) + 1))


async def test_a_head_skipping_back_stops_validation(nats_url: str) -> None:
    pair = make_pair(justification_period=1, head_skips_back_at=21)
    error = await _stopped_by(nats_url, pair, 30)
    final = pair.head_number_at(20)
    assert final is not None
    assert f"invalid parachain block #{final - 1}" in error
    assert "went back below the final parachain block" in error
    assert await _verified_upto(nats_url, pair) == list(range(1, final + 1))


async def test_a_wrong_para_id_is_refused_at_the_first_relay_batch(nats_url: str) -> None:
    pair = make_pair()
    error = await _stopped_by(nats_url, pair, 12, para_id=DEFAULT_PARA_ID + 1)
    assert "invalid relay block #4" in error
    assert f"Paras::Heads({DEFAULT_PARA_ID + 1}) is absent" in error
    assert await _verified_upto(nats_url, pair) == []


async def test_a_para_id_other_than_the_trusted_one_is_refused(nats_url: str) -> None:
    pair = make_pair()
    pair.produce(12)
    settings = settings_for(nats_url, pair, para_id=DEFAULT_PARA_ID + 1)
    bus = await Bus.connect(settings)
    try:
        with pytest.raises(InvalidParachainData, match=r"para id 2036 is not the configured 2035"):
            async with (
                served(pair) as urls,
                running(settings, bus, pair, urls, Trust(para_id=DEFAULT_PARA_ID)) as pipeline,
            ):
                await wait_for(lambda: pipeline.tasks[1].done(), 30, "the validator to refuse")
                pipeline.tasks[1].result()
    finally:
        await bus.close()


async def test_a_withheld_parachain_block_stops_the_relayer_naming_it(nats_url: str) -> None:
    pair = make_pair(withheld_head_at=7)
    pair.produce(30)
    settings = settings_for(nats_url, pair, rpc_retries=1, rpc_timeout_s=1.0)
    bus = await Bus.connect(settings)
    try:
        with pytest.raises(RelayerError, match=r"block #7 0x[0-9a-f]{64}: node returned no block"):
            async with served(pair) as urls, running(settings, bus, pair, urls) as pipeline:
                await wait_for(lambda: pipeline.tasks[0].done(), 60, "the relayer to stop")
                pipeline.tasks[0].result()
        assert max(await verified_numbers(bus, pair), default=0) < 7
    finally:
        await bus.close()
