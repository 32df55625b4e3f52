"""Faults: a flaky node (drops, stalls, reordered answers) is survived; a lying node (bad
signature, wrong set id, wrong state root, truncated proof, bad body at block B) stops
validation at B with an error naming B, and nothing at or after B is verified."""

from __future__ import annotations

import asyncio

import pytest

from pinkpipe.app.commands import run_validator
from pinkpipe.app.process import EXIT_INVALID_DATA
from pinkpipe.bus import Bus, raw_stream, raw_subject, verified_stream, verified_subject
from pinkpipe.bus.checkpoints import status_key
from pinkpipe.bus.records import RawBlockRecord, decode_raw, decode_status, decode_verified
from pinkpipe.bus.streams import CHECKPOINT_BUCKET, VALIDATOR_CONSUMER
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.faults import Faults
from pinkpipe.devnet.rpc import DevnetServer, TransportFaults
from tests.pipeline_support import (
    ensure_chain,
    make_relayer,
    make_settings,
    nats_server_fixture,
    read_stream,
    running_pipeline,
    wait_for,
)

PRODUCED = 300
LIVE = 30
FAULT_AT = 150


nats_url = nats_server_fixture()


def dev_chain(name: str, faults: Faults | None = None) -> DevChain:
    config = DevnetConfig(
        chain_name=name, set_period=100, justification_period=32, faults=faults or Faults()
    )
    chain = DevChain(config)
    chain.produce(PRODUCED)
    return chain


@pytest.mark.parametrize(
    "transport",
    [
        TransportFaults(drop_every=37),
        TransportFaults(drop_at_block=PRODUCED + 10),
        TransportFaults(stall_seconds=2.5, stall_at_block=PRODUCED + 5),
        TransportFaults(reorder=True, reorder_window=0.002),
    ],
    ids=["drop-every-37", "drop-at-block", "stall-2.5s", "reorder"],
)
async def test_a_flaky_node_is_survived(nats_url: str, transport: TransportFaults) -> None:
    chain = dev_chain(f"flaky-{transport}")
    genesis = chain.genesis_hash
    total = PRODUCED + LIVE
    async with DevnetServer(chain, faults=transport) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex(), rpc_timeout_s=1.0)
        bus = await Bus.connect(settings)
        async with running_pipeline(settings, bus, devnet.url) as pipeline:
            await pipeline.wait_verified(PRODUCED, 60)
            for _ in range(LIVE):
                await devnet.produce(1)
                await asyncio.sleep(0.02)
            await pipeline.wait_verified(total, 60)
        records = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        await bus.close()
    assert [decode_verified(m.data, "v", m.seq).hash for m in records] == [
        chain.block_hash(n) for n in range(1, total + 1)
    ]
    if transport.drop_every or transport.drop_at_block or transport.stall_seconds:
        assert pipeline.relayer.node.reconnects > 1  # the connection really broke and was re-opened


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("bad_justification_signature", "signature"),
        ("wrong_set_id", "signature"),
        ("wrong_state_root", "state root"),
        ("truncated_proof", "proof incomplete"),
        ("bad_body", "extrinsics root"),
    ],
)
async def test_invalid_data_stops_validation_at_the_block(
    nats_url: str, fault: str, reason: str
) -> None:
    faults = Faults()
    faults.set(fault, FAULT_AT)
    chain = dev_chain(f"lying-{fault}", faults)
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex())
        bus = await Bus.connect(settings)
        stop_relayer = asyncio.Event()
        relayer = make_relayer(settings, bus, devnet.url, stop_relayer)
        relaying = asyncio.create_task(relayer.run())
        await wait_for(lambda: relayer.progress.published >= PRODUCED, 30, "relayed")
        code = await asyncio.wait_for(run_validator(settings, asyncio.Event()), 30)
        stop_relayer.set()
        await relaying

        assert code == EXIT_INVALID_DATA
        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        numbers = [decode_verified(m.data, "v", m.seq).number for m in verified]
        assert numbers == list(range(1, len(numbers) + 1))
        assert all(n < FAULT_AT for n in numbers)
        if fault in ("wrong_state_root", "truncated_proof", "bad_body"):
            assert numbers[-1] == FAULT_AT - 1  # the batch is good up to B

        # A restart replays from the last checkpoint (before B's batch): the blocks of that
        # batch already published are not published twice, and B is refused again, not skipped.
        assert await asyncio.wait_for(run_validator(settings, asyncio.Event()), 30) == code
        again = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        assert [(m.seq, m.msg_id, m.data) for m in again] == [
            (m.seq, m.msg_id, m.data) for m in verified
        ]

        kv = await bus.bucket(CHECKPOINT_BUCKET)
        entry = await kv.get(status_key(genesis))
        status = decode_status(entry.value or b"", "status", entry.revision or 0)
        assert status.state == "failed"
        assert status.invalid_records == 1
        assert status.last_error is not None
        assert f"invalid block #{FAULT_AT} " in status.last_error
        assert reason in status.last_error.lower()
        assert status.finalized_number < FAULT_AT

        raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
        kept = [decode_raw(m.data, "raw", m.seq) for m in raw]
        bad = next(r for r in kept if isinstance(r, RawBlockRecord) and r.number == FAULT_AT)
        assert bad.hash == chain.block_hash(FAULT_AT)  # kept in the stream for inspection
        consumer = await bus.js.consumer_info(raw_stream(genesis), VALIDATOR_CONSUMER)
        assert consumer.ack_floor is not None
        assert consumer.ack_floor.stream_seq < FAULT_AT + 1  # B's record (seq B+1) not acked
        await bus.close()


async def test_lost_deliveries_are_read_again_not_taken_for_a_gap(nats_url: str) -> None:
    """Deliveries lost on the way (a reconnect, a slow-consumer disconnect) make the consumer
    skip ahead; the validator re-reads from the missing sequence instead of stopping."""
    chain = DevChain(DevnetConfig(chain_name="lost", set_period=100, justification_period=32))
    chain.produce(100)
    genesis = chain.genesis_hash
    stream = raw_stream(genesis)
    async with DevnetServer(chain) as devnet:
        settings = make_settings(nats_url, devnet.url, genesis=genesis.hex())
        bus = await Bus.connect(settings)
        async with running_pipeline(settings, bus, devnet.url) as pipeline:
            await pipeline.wait_verified(100, 60)
            # The validator waits at raw sequence 102 (#101): swap its consumer for one that
            # starts at 150, as if 102..149 had been delivered and lost.
            consumer = await bus.js.consumer_info(stream, VALIDATOR_CONSUMER)
            await bus.js.delete_consumer(stream, VALIDATOR_CONSUMER)
            config = consumer.config
            config.opt_start_seq = 150
            await bus.js.add_consumer(stream, config)
            await devnet.produce(200)
            await pipeline.wait_verified(300, 60)
        records = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        await bus.close()
    assert [decode_verified(m.data, "v", m.seq).hash for m in records] == [
        chain.block_hash(n) for n in range(1, 301)
    ]


async def test_an_invalid_record_stops_validation_naming_its_sequence(nats_url: str) -> None:
    genesis = bytes.fromhex("5e" * 32)
    settings = make_settings(nats_url, genesis=genesis.hex())
    bus = await Bus.connect(settings)
    await ensure_chain(bus, genesis)
    await bus.js.publish(raw_subject(genesis), b'{"kind": "block", "version": 1, "number": "7"}')
    code = await asyncio.wait_for(run_validator(settings, asyncio.Event()), 30)
    assert code == EXIT_INVALID_DATA
    entry = await (await bus.bucket(CHECKPOINT_BUCKET)).get(status_key(genesis))
    status = decode_status(entry.value or b"", "status", entry.revision or 0)
    assert status.state == "failed" and status.last_error is not None
    assert "invalid record (raw stream sequence 1)" in status.last_error
    assert "number" in status.last_error
    await bus.close()
