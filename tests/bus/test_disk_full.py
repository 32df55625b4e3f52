"""A full disk says "disk full", a full stream "stream full": the operator's fixes differ
(free space or raise JetStream's max_file_store; raise raw_max_bytes / verified_max_bytes).

The disk is filled for real, by a server whose JetStream file store is capped small."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinkpipe.bus import Bus, BusError, OrderedPublisher, PublishRefused, raw_stream, raw_subject
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.relayer import RelayerError
from tests.pipeline_support import ensure_chain, make_relayer, make_settings

GENESIS = bytes.fromhex("33" * 32)
STORE_BYTES = 1024 * 1024
RECORD = b"x" * 100_000
RELAYER_STORE_BYTES = 256 * 1024
RELAYED_BLOCKS = 400
"""More than fit: devnet records are about 1.2 KB."""


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose JetStream may keep only 1 MiB on disk."""
    server = EmbeddedNats(tmp_path_factory.mktemp("full"), max_file_store=STORE_BYTES)
    url = asyncio.run(server.start())
    yield url
    asyncio.run(server.stop())


async def _fill(bus: Bus, genesis: bytes) -> PublishRefused:
    """Publish 100 KB records until the server refuses one; that refusal."""
    await ensure_chain(bus, genesis)
    publisher = OrderedPublisher(
        bus.nc, raw_stream(genesis), raw_subject(genesis), 0, bus.max_payload, window=4
    )
    try:
        for n in range(3 * STORE_BYTES // len(RECORD)):
            await publisher.publish(f"{genesis.hex()}:{n}", RECORD, f"#{n}")
        await publisher.flush()
    except PublishRefused as e:
        return e
    finally:
        await publisher.close()
    raise AssertionError("the server stored more than its max_file_store")


async def test_a_full_store_refuses_the_publisher_saying_disk_full(small_store: str) -> None:
    bus = await Bus.connect(make_settings(small_store))
    try:
        refused = await _fill(bus, GENESIS)
        assert "disk full" in str(refused) and "max_file_store" in str(refused)
        with pytest.raises(BusError, match="disk full"):
            await bus.call("a plain publish", lambda: bus.js.publish(raw_subject(GENESIS), RECORD))
    finally:
        await bus.js.delete_stream(raw_stream(GENESIS))
        await bus.close()


async def test_a_full_stream_says_stream_full_not_disk_full(small_store: str) -> None:
    bus = await Bus.connect(make_settings(small_store, raw_max_bytes=300_000))
    genesis = bytes.fromhex("44" * 32)
    try:
        refused = await _fill(bus, genesis)
    finally:
        await bus.close()
    assert "stream full" in str(refused) and "raw_max_bytes" in str(refused)
    assert "disk full" not in str(refused)


@pytest.mark.slow
async def test_the_relayer_stops_saying_disk_full(tmp_path: Path) -> None:
    """The whole path: a relayer filling the disk stops with an error that says so (after
    its publish retries, about 15 s: space may be freed meanwhile)."""
    chain = DevChain(DevnetConfig(chain_name="full-disk", justification_period=64))
    chain.produce(RELAYED_BLOCKS)
    async with (
        EmbeddedNats(tmp_path, max_file_store=RELAYER_STORE_BYTES) as server,
        DevnetServer(chain) as devnet,
    ):
        settings = make_settings(server.url, devnet.url, rpc_batch=64)
        bus = await Bus.connect(settings)
        stop = asyncio.Event()
        try:
            with pytest.raises(RelayerError, match="disk full") as info:
                await asyncio.wait_for(make_relayer(settings, bus, devnet.url, stop).run(), 120)
        finally:
            await bus.close()
    assert "publishing failed" in str(info.value)  # after the relayer's retries
