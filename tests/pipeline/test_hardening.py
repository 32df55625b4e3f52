"""Regression tests for the breaks of issue 13, each against the real relayer and validator on
a real nats-server and the devnet; each fails on commit 4f8b394 (before the fixes).

- B1, a second writer's message let a block go missing from the raw stream:
  test_b1_a_second_writer_stops_the_relayer_without_a_gap
- B3, a record proving fewer storage keys than configured was verified:
  test_b3_a_record_missing_a_required_storage_key_is_refused
- B4, a forged verified record made a restarted validator skip blocks and checkpoint past them:
  test_b4_a_forged_verified_record_stops_the_restarted_validator
- B5, a junk raw stream stopped every chain:
  test_b5_a_junk_raw_stream_stops_only_itself
- B10, records without a justification were buffered without a byte bound:
  test_b10_buffered_bytes_without_a_justification_are_bounded
- B12, a forged KV checkpoint (unsigned, or signed with another secret) skipped blocks:
  test_b12_a_forged_kv_checkpoint_does_not_skip_blocks
- B14, `validator status` said "running" after the validator failed:
  test_b14_status_reflects_a_failed_exit_and_its_age

Elsewhere: B2 tests/pipeline/test_recovery.py, B13 tests/bus/test_bus.py, B6 and B7
tests/pipeline/test_outages.py, B7 also tests/relayer/test_rpc_futures.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable

import pytest
from click.testing import CliRunner

from pinkpipe.app.cli import cli
from pinkpipe.app.commands import run_validator
from pinkpipe.app.config import Settings
from pinkpipe.app.process import EXIT_INVALID_DATA
from pinkpipe.bus import (
    Bus,
    BusError,
    CheckpointStore,
    msg_id,
    raw_stream,
    raw_subject,
    verified_stream,
    verified_subject,
)
from pinkpipe.bus.checkpoints import checkpoint_key
from pinkpipe.bus.records import (
    BootstrapRecord,
    RawBlockRecord,
    ValidatorCheckpoint,
    ValidatorStatus,
    decode_raw,
    decode_verified,
)
from pinkpipe.bus.streams import MSG_ID
from pinkpipe.chain.header import Header
from pinkpipe.chain.keys import TIMESTAMP_NOW
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.faults import Faults
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.relayer import RelayerError
from pinkpipe.services.validator import MAX_RECENT, ForeignRecord, InvalidData, ValidatorService
from pinkpipe.validator import LightClient
from tests.pipeline_support import (
    ensure_chain,
    make_relayer,
    make_settings,
    make_validator,
    nats_server_fixture,
    read_stream,
    relay,
    running_pipeline,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

nats_url = nats_server_fixture()
PERIOD = 16
"""Justification period of the test chains: a batch ends every 16 blocks."""


def dev_chain(name: str, blocks: int, faults: Faults | None = None) -> DevChain:
    chain = DevChain(
        DevnetConfig(chain_name=name, justification_period=PERIOD, faults=faults or Faults())
    )
    chain.produce(blocks)
    return chain


async def verified_last_seq(bus: Bus, genesis: bytes) -> int:
    """The verified stream's last sequence; 0 before the validator created it."""
    try:
        return await bus.last_seq(verified_stream(genesis))
    except BusError:
        return 0


async def verified_numbers(bus: Bus, genesis: bytes) -> list[int]:
    messages = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
    return [decode_verified(m.data, "verified", m.seq).number for m in messages]


async def validate_until(
    settings: Settings, bus: Bus, done: Callable[[], Awaitable[bool]], timeout_s: float = 30
) -> tuple[BaseException | None, ValidatorService]:
    """Run the validator until it stops by itself or `done()` holds: (its error, itself)."""
    stop = asyncio.Event()
    service = await make_validator(settings, bus, stop)
    task = asyncio.create_task(service.run())
    deadline = time.monotonic() + timeout_s
    while not task.done() and not await done() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    result = (await asyncio.gather(task, return_exceptions=True))[0]
    return (result if isinstance(result, BaseException) else None), service


async def test_b1_a_second_writer_stops_the_relayer_without_a_gap(nats_url: str) -> None:
    total = 2000
    chain = dev_chain("b1-second-writer", total)
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url)
        bus = await Bus.connect(settings)
        intruder = await Bus.connect(settings)
        stop = asyncio.Event()
        relayer = make_relayer(settings, bus, devnet.url, stop)
        task = asyncio.create_task(relayer.run())
        await wait_for(lambda: relayer.progress.published >= 300, 30, "#300 published")
        ack = await intruder.js.publish(raw_subject(genesis), b'{"kind": "block", "forged": 1}')
        await devnet.produce(5)  # in case the catch-up was already done: more to publish
        await wait_for(
            lambda: task.done() or relayer.progress.published >= total + 5, 30, "the relayer"
        )
        stop.set()
        error = (await asyncio.gather(task, return_exceptions=True))[0]
        assert isinstance(error, RelayerError), f"the relayer went on: {error!r}"
        assert f"sequence {ack.seq} " in str(error) and "not written by this relayer" in str(error)
        before = [number for seq, number in await raw_numbers_before(bus, genesis, ack.seq)]
        assert before == list(range(len(before)))  # no block missing before the foreign one
        assert len(before) > 300
        await intruder.close()
        await bus.close()


async def raw_numbers_before(bus: Bus, genesis: bytes, seq: int) -> list[tuple[int, int]]:
    messages = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
    return [(m.seq, decode_raw(m.data, "raw", m.seq).number) for m in messages if m.seq < seq]


async def test_b3_a_record_missing_a_required_storage_key_is_refused(nats_url: str) -> None:
    chain = dev_chain("b3-keys", 40)
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex())
        lying = make_settings(
            nats_url, devnet.url, genesis=genesis.hex(), storage_keys=("0x" + TIMESTAMP_NOW.hex(),)
        )
        bus = await Bus.connect(settings)
        lying_bus = await Bus.connect(lying)
        await relay(lying, lying_bus, devnet.url, 40)
        await lying_bus.close()

        async def published() -> bool:
            return await verified_last_seq(bus, genesis) > 0

        error, _ = await validate_until(settings, bus, published)
        assert isinstance(error, InvalidData), f"validator went on: {error!r}"
        assert error.number == 1 and "does not prove the required storage key" in str(error)
        assert await verified_numbers(bus, genesis) == []
        await bus.close()


async def test_b4_a_forged_verified_record_stops_the_restarted_validator(nats_url: str) -> None:
    chain = dev_chain("b4-verified-tail", 64)
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex())
        bus = await Bus.connect(settings)
        async with running_pipeline(settings, bus, devnet.url) as pipeline:
            await pipeline.wait_verified(64, 30)
        last = (await read_stream(bus, verified_stream(genesis), verified_subject(genesis)))[-1]
        real = decode_verified(last.data, "verified", last.seq)
        forged = real.model_copy(update={"number": 88, "hash": os.urandom(32)})
        ack = await bus.js.publish(
            verified_subject(genesis),
            forged.to_bytes(),
            headers={MSG_ID: msg_id(genesis, 88, forged.hash)},
        )
        await devnet.produce(40)
        await relay(settings, bus, devnet.url, 104)

        async def went_on() -> bool:
            return await verified_last_seq(bus, genesis) > ack.seq

        error, service = await validate_until(settings, bus, went_on)
        # before the fix, #65..#87 were taken as published and the checkpoint moved to #80
        assert service.chains[genesis].progress.finalized == 64
        assert await verified_numbers(bus, genesis) == [*range(1, 65), 88]
        assert isinstance(error, ForeignRecord), f"validator went on: {error!r}"
        assert f"sequence {ack.seq} holds #88" in str(error)
        assert "verified #65" in str(error)
        await bus.close()


async def test_b5_a_junk_raw_stream_stops_only_itself(nats_url: str) -> None:
    chain = dev_chain("b5-junk", 48)
    genesis = chain.genesis_hash
    junk = os.urandom(32)
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url)  # every chain on the bus
        bus = await Bus.connect(settings)
        await ensure_chain(bus, junk)
        await bus.js.publish(raw_subject(junk), b"junk")
        await bus.js.add_stream(name="PINKPIPE_RAW_not_a_chain", subjects=["junk.b5"])
        async with running_pipeline(settings, bus, devnet.url) as pipeline:
            await wait_for(
                lambda: (
                    genesis in pipeline.validator.chains
                    and pipeline.validator.chains[genesis].progress.finalized >= 48
                    and junk in pipeline.validator.failed
                ),
                30,
                "the real chain verified and the junk one stopped",
            )
            assert isinstance(pipeline.validator.failed.get(junk), InvalidData)
            assert genesis not in pipeline.validator.failed
        assert await verified_numbers(bus, genesis) == list(range(1, 49))
        await bus.js.delete_stream("PINKPIPE_RAW_not_a_chain")
        await bus.close()


async def test_b10_buffered_bytes_without_a_justification_are_bounded(nats_url: str) -> None:
    blocks = 1200  # ~1.2k records of ~1.5 KB, one justification at the end: over 1 MiB
    chain = DevChain(DevnetConfig(chain_name="b10-buffer", justification_period=10_000))
    chain.produce(blocks)
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(
            nats_url, devnet.url, genesis=genesis.hex(), validator_max_buffer_bytes=1024 * 1024
        )
        bus = await Bus.connect(settings)
        await relay(settings, bus, devnet.url, blocks)

        async def published() -> bool:
            return await verified_last_seq(bus, genesis) > 0

        error, _ = await validate_until(settings, bus, published)
        assert isinstance(error, InvalidData), f"validator went on: {error!r}"
        assert "validator_max_buffer_bytes = 1048576" in str(error)
        assert error.number is not None and error.number < blocks
        assert await verified_numbers(bus, genesis) == []
        await bus.close()


def forged_checkpoint(raw: list[tuple[int, BootstrapRecord | RawBlockRecord]], upto: int) -> bytes:
    """What an attacker who can read the raw stream can write: a light client taken to #`upto`
    by the justifications alone, without checking a single proof or body."""
    bootstrap = raw[0][1]
    assert isinstance(bootstrap, BootstrapRecord)
    client = LightClient.from_genesis_proof(
        bootstrap.header,
        bootstrap.proof,
        genesis_hash=bootstrap.genesis_hash,
        max_recent=MAX_RECENT,
    )
    batch: list[Header] = []
    for seq, record in raw[1:]:
        assert isinstance(record, RawBlockRecord)
        batch.append(Header.decode(record.header))
        if record.justification is not None:
            client.import_batch(batch, record.justification)
            batch = []
        if record.number == upto:
            finalized = client.finalized
            assert finalized.number == upto
            return ValidatorCheckpoint(
                raw_seq=seq,
                verified_seq=0,
                number=upto,
                hash=finalized.hash,
                state=client.to_bytes(),
            ).to_bytes()
    raise AssertionError(f"no justified block #{upto} in the raw stream")


@pytest.mark.parametrize("signed_by", [None, b"\x01" * 32], ids=["unsigned", "another-secret"])
async def test_b12_a_forged_kv_checkpoint_does_not_skip_blocks(
    nats_url: str, signed_by: bytes | None
) -> None:
    bad, forged_at, total = 20, 80, 96
    chain = dev_chain(f"b12-forged-{signed_by is None}", total, Faults(bad_body_at=bad))
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex())
        bus = await Bus.connect(settings)
        await relay(settings, bus, devnet.url, total)
        raw = [
            (m.seq, decode_raw(m.data, "raw", m.seq))
            for m in await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
        ]
        payload = forged_checkpoint(raw, forged_at)
        store = await CheckpointStore.open(bus, signed_by or b"")
        if signed_by is None:
            await store.kv.put(checkpoint_key(genesis), payload)
        else:
            await store.save(genesis, payload)

        async def went_on() -> bool:
            return await verified_last_seq(bus, genesis) > bad

        error, _ = await validate_until(settings, bus, went_on)
        assert isinstance(error, InvalidData), f"validator went on: {error!r}"
        assert error.number == bad, str(error)
        assert await verified_numbers(bus, genesis) == list(range(1, bad))
        await bus.close()


async def test_b14_status_reflects_a_failed_exit_and_its_age(nats_url: str) -> None:
    bad = 20
    chain = dev_chain("b14-status", 48, Faults(bad_body_at=bad))
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex())
        bus = await Bus.connect(settings)
        await relay(settings, bus, devnet.url, 48)
        assert await run_validator(settings, asyncio.Event()) == EXIT_INVALID_DATA
        shown = await status_output(nats_url, genesis)
        assert f"chain 0x{genesis.hex()}: failed" in shown, shown
        assert f"last error  invalid block #{bad}" in shown, shown
        age = re.search(r"updated +(\d+)s ago", shown)
        assert age is not None and int(age.group(1)) <= 5, shown

        store = await CheckpointStore.open(bus, b"")
        stale = ValidatorStatus(
            state="running",
            finalized_number=16,
            finalized_hash=chain.block_hash(16),
            set_id=0,
            raw_seq=17,
            verified_blocks=16,
            updated_at=time.time() - 120,
        )
        await store.save_status(genesis, stale.to_bytes())
        shown = await status_output(nats_url, genesis)
        assert "running? (no update for 120s" in shown and "probably killed" in shown, shown
        await bus.close()


async def status_output(nats_url: str, genesis: bytes) -> str:
    args = ["validator", "status", "--nats", nats_url, "--genesis", genesis.hex()]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert result.exit_code == 0, result.output
    return result.output
