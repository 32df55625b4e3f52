"""Recovery after a chain stopped on a bad record: `pinkpipe bus truncate`, then restart.

Before, a refused raw record halted every restart at the same sequence, and deleting it made
the validator fail on the missing sequence while the relayer skipped a block (B2)."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from pinkpipe.app.cli import cli
from pinkpipe.app.commands import run_validator
from pinkpipe.app.process import EXIT_INVALID_DATA, EXIT_OK
from pinkpipe.bus import Bus, raw_stream, raw_subject, verified_stream, verified_subject
from pinkpipe.bus.records import decode_raw, decode_verified
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from tests.pipeline_support import (
    make_settings,
    nats_server_fixture,
    read_stream,
    relay,
)

nats_url = nats_server_fixture()
FIRST, TOTAL = 60, 120


async def test_truncating_a_foreign_record_lets_the_chain_go_on_without_a_gap(
    nats_url: str,
) -> None:
    chain = DevChain(DevnetConfig(chain_name="recovery", justification_period=16))
    chain.produce(FIRST)
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex())
        bus = await Bus.connect(settings)
        await relay(settings, bus, devnet.url, FIRST)
        ack = await bus.js.publish(raw_subject(genesis), b'{"kind": "block", "forged": true}')
        foreign = ack.seq

        assert await run_validator(settings, asyncio.Event()) == EXIT_INVALID_DATA
        assert await run_validator(settings, asyncio.Event()) == EXIT_INVALID_DATA  # stays put

        result = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            [
                "bus",
                "truncate",
                "--nats",
                nats_url,
                "--genesis",
                genesis.hex(),
                "--after-seq",
                str(foreign - 1),
                "--yes",
            ],
        )
        assert result.exit_code == 0, result.output
        assert f"deleted 1 message(s) (sequences {foreign}..{foreign})" in result.output

        await devnet.produce(TOTAL - FIRST)
        await relay(settings, bus, devnet.url, TOTAL)
        stop = asyncio.Event()
        validating = asyncio.create_task(run_validator(settings, stop))

        async def all_verified() -> None:
            while await bus.last_seq(verified_stream(genesis)) < TOTAL and not validating.done():
                await asyncio.sleep(0.1)

        await asyncio.wait_for(all_verified(), 30)
        stop.set()
        assert await validating == EXIT_OK

        raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
        numbers = [decode_raw(m.data, "raw", m.seq).number for m in raw]
        assert numbers == list(range(TOTAL + 1))  # bootstrap 0, then every block once
        assert foreign not in [m.seq for m in raw]
        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        records = [decode_verified(m.data, "v", m.seq) for m in verified]
        assert [r.number for r in records] == list(range(1, TOTAL + 1))
        assert all(r.hash == chain.block_hash(r.number) for r in records)
        await bus.close()
