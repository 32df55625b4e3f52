"""Crash safety: `kill -9` the relayer and the validator (real `pinkpipe` processes) at random,
seeded moments while the devnet keeps producing; after restarts the verified stream holds
exactly blocks 1..N, with no gap and no duplicate, and the raw stream exactly 0..N."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from pinkpipe.bus import Bus, BusError, raw_stream, raw_subject, verified_stream, verified_subject
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.bus.records import decode_raw, decode_verified
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from tests.pipeline_support import Service, make_settings, read_stream, wait_for

SEED = 0x5EED
PRODUCED_FIRST = 300
TOTAL = 1500
ROUNDS = 8


async def produce(devnet: DevnetServer, until: int) -> None:
    while devnet.chain.best_number < until:
        await devnet.produce(1)
        await asyncio.sleep(0.008)


async def test_kill_9_at_random_points_never_loses_or_duplicates_a_block(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    chain = DevChain(DevnetConfig(chain_name="crash", set_period=150, justification_period=40))
    chain.produce(PRODUCED_FIRST)
    genesis = chain.genesis_hash
    async with EmbeddedNats(tmp_path / "nats") as nats, DevnetServer(chain) as devnet:
        env = {
            **os.environ,
            "PINKPIPE_NATS_URL": nats.url,
            "PINKPIPE_RPC_WINDOW": "32",
            "PINKPIPE_RPC_BATCH": "4",
            "PINKPIPE_PUBLISH_WINDOW": "32",
            "PINKPIPE_VALIDATOR_FETCH": "50",
        }
        services = {
            "relayer": Service("relayer", ["relayer", "--node", devnet.url], env, tmp_path),
            "validator": Service("validator", ["validator"], env, tmp_path),
        }
        for service in services.values():
            await service.start()
        producer = asyncio.create_task(produce(devnet, TOTAL))
        bus = await Bus.connect(make_settings(nats.url))
        heights = [0]
        for _ in range(ROUNDS):
            # Kill only once the restarted services have made progress, so that on a loaded
            # machine (slow process start-up) kills still land at distinct points mid-run.
            await asyncio.wait_for(_progress(bus, genesis, heights[-1], services), 60)
            await asyncio.sleep(rng.uniform(0.3, 1.8))
            victims = rng.choice([["relayer"], ["validator"], ["relayer", "validator"]])
            for name in victims:
                await services[name].kill9()
            heights.append(await _height(bus, genesis))
            for name in victims:
                await services[name].start()
        await producer

        async def verified_count() -> int:
            return await _height(bus, genesis)

        last = [0]

        def done() -> bool:
            return last[0] >= TOTAL

        async def poll() -> None:
            while not done():
                last[0] = await verified_count()
                for service in services.values():
                    assert service.proc is not None
                    assert service.proc.returncode is None, service.logs()
                await asyncio.sleep(0.2)

        await asyncio.wait_for(poll(), 90)
        await wait_for(done, 1, "verified stream complete")
        for service in services.values():
            assert await service.stop() == 0, service.logs()

        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
        await bus.close()

    assert services["relayer"].starts + services["validator"].starts >= 2 + ROUNDS
    assert len({h for h in heights if 0 < h < TOTAL}) >= 3  # kills landed mid-run
    numbers = [decode_verified(m.data, "verified", m.seq).number for m in verified]
    assert numbers == list(range(1, TOTAL + 1))
    assert [m.seq for m in verified] == numbers
    assert len({m.msg_id for m in verified}) == TOTAL
    for m in verified:
        record = decode_verified(m.data, "verified", m.seq)
        assert record.hash == chain.block_hash(record.number)
    raw_numbers = [decode_raw(m.data, "raw", m.seq).number for m in raw]
    assert raw_numbers == list(range(TOTAL + 1))


async def _progress(bus: Bus, genesis: bytes, since: int, services: dict[str, Service]) -> None:
    """Until the verified stream grows past `since` (or is complete); a service that exits
    on its own fails the test with its logs."""
    while True:
        height = await _height(bus, genesis)
        if height > since or height >= TOTAL:
            return
        for service in services.values():
            assert service.proc is not None
            assert service.proc.returncode is None, service.logs()
        await asyncio.sleep(0.1)


async def _height(bus: Bus, genesis: bytes) -> int:
    """Blocks in the verified stream (0 before the stream exists)."""
    try:
        return await bus.last_seq(verified_stream(genesis))
    except BusError as e:
        if "stream not found" in str(e):
            return 0
        raise
