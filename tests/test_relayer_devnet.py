"""Relayer behaviours against the devnet: finality conflicts, checkpoint bootstrap, status."""

from __future__ import annotations

import asyncio

import pytest

from chain.scale import encode_bytes
from devnet.chain import DevChain
from devnet.config import DevnetConfig
from devnet.rpc import DevnetServer
from pipeline.bus import Bus, raw_stream, raw_subject, verified_stream, verified_subject
from pipeline.commands import collect_status
from pipeline.config import Settings
from pipeline.records import BootstrapRecord, decode_raw, decode_verified
from relayer.relayer import Relayer, RelayerError
from tests.pipeline_support import make_settings, nats_server_fixture, read_stream, wait_for
from validator.service import InvalidData, ValidatorService

nats_url = nats_server_fixture()


def dev_chain(name: str, blocks: int, fork_at: int | None = None) -> DevChain:
    """A devnet; `fork_at` puts an extra extrinsic in that block, so the chain differs from
    there on while the genesis (and every block before) stays the same."""
    chain = DevChain(DevnetConfig(chain_name=name, set_period=100, justification_period=32))
    for n in range(1, blocks + 1):
        if n == fork_at:
            chain.include(encode_bytes(b"\x04\x26\x00fork"))
        chain.produce_block()
    return chain


async def relay_until(settings: Settings, bus: Bus, url: str, number: int) -> None:
    stop = asyncio.Event()
    relayer = Relayer(settings, bus, url, stop)
    task = asyncio.create_task(relayer.run())
    await wait_for(lambda: task.done() or relayer.progress.published >= number, 30, "relayed")
    stop.set()
    await task


async def test_a_node_contradicting_the_stream_stops_the_relayer(nats_url: str) -> None:
    original = dev_chain("conflict", 60)
    forked = dev_chain("conflict", 80, fork_at=40)
    assert original.genesis_hash == forked.genesis_hash
    assert original.block_hash(39) == forked.block_hash(39)
    published, reported = original.block_hash(60), forked.block_hash(60)
    assert published is not None and reported is not None
    async with DevnetServer(original) as first:
        settings = make_settings(nats_url, first.url)
        bus = await Bus.connect(settings)
        await relay_until(settings, bus, first.url, 60)
    async with DevnetServer(forked) as second:
        relayer = Relayer(settings, bus, second.url, asyncio.Event())
        with pytest.raises(RelayerError) as info:
            await asyncio.wait_for(relayer.run(), 30)
    message = str(info.value)
    assert "finality conflict at #60" in message
    assert published.hex() in message and reported.hex() in message
    genesis = original.genesis_hash
    raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
    assert len(raw) == 61  # nothing from the forked node was published
    await bus.close()


async def test_checkpoint_bootstrap_is_used_only_when_trusted(nats_url: str) -> None:
    chain = dev_chain("checkpoint", 300)
    genesis = chain.genesis_hash
    checkpoint = chain.block_hash(249)
    assert checkpoint is not None
    async with DevnetServer(chain) as devnet:
        base = make_settings(nats_url, devnet.url, genesis=genesis.hex(), from_block=250)
        bus = await Bus.connect(base)
        await relay_until(base, bus, devnet.url, 300)
        raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
        boot = decode_raw(raw[0].data, "raw", 1)
        assert isinstance(boot, BootstrapRecord) and (boot.number, boot.hash) == (249, checkpoint)
        assert decode_raw(raw[1].data, "raw", 2).number == 250

        untrusting = ValidatorService(base, bus, asyncio.Event())
        with pytest.raises(InvalidData, match=r"checkpoint 249:0x[0-9a-f]+ is not trusted"):
            await asyncio.wait_for(untrusting.run(), 30)

        trusted = base.model_copy(update={"trusted_checkpoint": f"249:0x{checkpoint.hex()}"})
        stop = asyncio.Event()
        validator = ValidatorService(trusted, bus, stop)
        task = asyncio.create_task(validator.run())

        def finalized() -> int:
            if task.done():
                task.result()
            chains = list(validator.chains.values())
            return chains[0].progress.finalized if chains else -1

        await wait_for(lambda: finalized() >= 300, 30, "#300 verified from the checkpoint")
        stop.set()
        await task
        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        numbers = [decode_verified(m.data, "v", m.seq).number for m in verified]
        assert numbers == list(range(250, 301))
        status = "\n".join(await collect_status(trusted))
        assert f"chain 0x{genesis.hex()}: stopped" in status
        assert "finalized   #300 " in status
        assert "set id      3" in status and "(lag 0)" in status
        assert "last error  none" in status
        await bus.close()
