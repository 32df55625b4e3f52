"""Parachain mode's crash safety: `kill -9` the parachain relayer and validator (real `pinkpipe`
processes) at seeded random moments while the devnet pair keeps producing; after restarts the
parachain's verified stream holds exactly blocks 1..N across relay authority-set rotations."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from pinkpipe.bus import Bus, verified_stream, verified_subject
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.bus.records import decode_verified
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.parachain import ParachainDevnet
from pinkpipe.devnet.rpc import DevnetServer
from tests.pipeline.test_crash import Service, _height
from tests.pipeline_support import make_settings, read_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 0x9A7A
RELAY_FIRST = 1000
RELAY_TOTAL = 4010
"""Relay blocks; the parachain produces one every second relay block: 2,000 and more."""
ROUNDS = 6


async def produce(pair: ParachainDevnet, until: int) -> None:
    while pair.relay.best_number < until:
        pair.step()
        await asyncio.sleep(0.004)


async def _until(bus: Bus, genesis: bytes, height: int, services: dict[str, Service]) -> None:
    """Until the verified stream reaches `height`; a service that exits fails the test."""
    while await _height(bus, genesis) < height:
        for service in services.values():
            assert service.proc is not None
            assert service.proc.returncode is None, service.logs()
        await asyncio.sleep(0.1)


async def test_kill_9_of_the_parachain_stages_never_loses_or_duplicates_a_block(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    relay = DevnetConfig(chain_name="crash relay", set_period=150, justification_period=40)
    pair = ParachainDevnet(relay, DevnetConfig(chain_name="crash para"))
    pair.produce(RELAY_FIRST)
    genesis = pair.para.genesis_hash
    async with (
        EmbeddedNats(tmp_path / "nats") as nats,
        DevnetServer(pair.relay) as relay_server,
        DevnetServer(pair.para) as para_server,
    ):
        env = {
            **os.environ,
            "PINKPIPE_NATS_URL": nats.url,
            "PINKPIPE_RPC_WINDOW": "32",
            "PINKPIPE_RPC_BATCH": "8",
            "PINKPIPE_PUBLISH_WINDOW": "64",
            "PINKPIPE_VALIDATOR_FETCH": "100",
        }
        relayer_args = ["relayer", "--relay", relay_server.url, "--node", para_server.url]
        validator_args = [
            "validator",
            "--parachain",
            "--relay-genesis",
            pair.relay.genesis_hash.hex(),
        ]
        services = {
            "relayer": Service("relayer", relayer_args, env, tmp_path),
            "validator": Service(
                "validator", [*validator_args, "--para-id", "2035"], env, tmp_path
            ),
        }
        for service in services.values():
            await service.start()
        producer = asyncio.create_task(produce(pair, RELAY_TOTAL))
        bus = await Bus.connect(make_settings(nats.url))
        heights = [0]
        for _ in range(ROUNDS):
            await asyncio.wait_for(_until(bus, genesis, heights[-1] + 1, services), 90)
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            victims = rng.choice([["relayer"], ["validator"], ["relayer", "validator"]])
            for name in victims:
                await services[name].kill9()
            heights.append(await _height(bus, genesis))
            for name in victims:
                await services[name].start()
        await producer
        final = pair.head_number_at(RELAY_TOTAL) or 0
        await asyncio.wait_for(_until(bus, genesis, final, services), 180)
        for service in services.values():
            assert await service.stop() == 0, service.logs()
        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        await bus.close()

    assert final >= 2000
    assert len({h for h in heights if 0 < h < final}) >= 3  # kills landed mid-run
    numbers = [decode_verified(m.data, "verified", m.seq).number for m in verified]
    assert numbers == list(range(1, final + 1))
    assert len({m.msg_id for m in verified}) == final
    for m in verified:
        assert decode_verified(m.data, "verified", m.seq).hash == pair.para.block_hash(
            int(m.msg_id.split(":")[1]) if m.msg_id else -1
        )
