"""Relayer behaviours against the devnet: finality conflicts, checkpoint bootstrap, status.

A node that contradicts itself is two devnets behind one URL (`split_node`): the same genesis,
blocks that differ from a given height, and each request answered by the one its method is
routed to. Everything on the wire is still the devnets' real JSON-RPC.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from pinkpipe.app.commands import collect_status
from pinkpipe.app.config import Settings
from pinkpipe.bus import Bus, raw_stream, raw_subject, verified_stream, verified_subject
from pinkpipe.bus.records import BootstrapRecord, decode_raw, decode_verified
from pinkpipe.chain.scale import encode_bytes
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.relayer import RelayerError
from pinkpipe.services.validator import InvalidData
from tests.pipeline_support import (
    make_relayer,
    make_settings,
    make_validator,
    nats_server_fixture,
    read_stream,
    wait_for,
)

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
    relayer = make_relayer(settings, bus, url, stop)
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
        relayer = make_relayer(settings, bus, second.url, asyncio.Event())
        with pytest.raises(RelayerError) as info:
            await asyncio.wait_for(relayer.run(), 30)
    message = str(info.value)
    assert "finality conflict at #60" in message
    assert published.hex() in message and reported.hex() in message
    genesis = original.genesis_hash
    raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
    assert len(raw) == 61  # nothing from the forked node was published
    await bus.close()


Route = Callable[[str], str]
"""Method name -> the URL of the devnet that answers it (a batch goes by its first call)."""


@asynccontextmanager
async def split_node(route: Route) -> AsyncIterator[str]:
    """One node URL whose requests are answered by the devnet `route` names; answers and
    notifications come back unchanged."""

    async def pump(upstream: ClientConnection, client: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in upstream:
                await client.send(frame)

    async def serve_one(client: ServerConnection) -> None:
        upstreams: dict[str, ClientConnection] = {}
        pumps: list[asyncio.Task[None]] = []
        try:
            with contextlib.suppress(ConnectionClosed):
                async for frame in client:
                    message = json.loads(frame)
                    first = message[0] if isinstance(message, list) else message
                    url = route(first["method"])
                    if url not in upstreams:
                        upstreams[url] = await connect(url, max_size=None, ping_interval=None)
                        pumps.append(asyncio.create_task(pump(upstreams[url], client)))
                    await upstreams[url].send(frame)
        finally:
            for task in pumps:
                task.cancel()
            for upstream in upstreams.values():
                await upstream.close()

    async with serve(serve_one, "127.0.0.1", 0, max_size=None, ping_interval=None) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


CONFLICT_AT = 20


@asynccontextmanager
async def honest_and_forked(name: str) -> AsyncIterator[tuple[DevnetServer, DevnetServer]]:
    """Two devnets with the same #0..#CONFLICT_AT-1 and different blocks #CONFLICT_AT."""
    honest = dev_chain(name, CONFLICT_AT)
    forked = dev_chain(name, CONFLICT_AT, fork_at=CONFLICT_AT)
    assert honest.block_hash(CONFLICT_AT - 1) == forked.block_hash(CONFLICT_AT - 1)
    assert honest.block_hash(CONFLICT_AT) != forked.block_hash(CONFLICT_AT)
    async with DevnetServer(honest) as a, DevnetServer(forked) as b:
        yield a, b


async def relay_into_conflict(settings: Settings, bus: Bus, url: str) -> str:
    """Run a relayer on `url` until it stops; the RelayerError's message."""
    relayer = make_relayer(settings, bus, url, asyncio.Event())
    with pytest.raises(RelayerError) as info:
        await asyncio.wait_for(relayer.run(), 30)
    return str(info.value)


async def published_hashes(bus: Bus, genesis: bytes) -> list[bytes]:
    raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
    return [decode_raw(m.data, "raw", m.seq).hash for m in raw]


def hash_of(devnet: DevnetServer, number: int) -> bytes:
    found = devnet.chain.block_hash(number)
    assert found is not None
    return found


async def test_a_finalized_head_that_is_not_the_nodes_block_stops_the_relayer(
    nats_url: str,
) -> None:
    """The node's finality view (head, its header, the head subscription) is the fork's while
    its blocks are the honest chain's: the block at the finalized head has another hash."""
    finality = {"chain_getFinalizedHead", "chain_getHeader", "chain_subscribeFinalizedHeads"}
    async with honest_and_forked("tip-conflict") as (honest, forked):

        def route(method: str) -> str:
            return forked.url if method in finality else honest.url

        async with split_node(route) as url:
            settings = make_settings(nats_url, url)
            bus = await Bus.connect(settings)
            message = await relay_into_conflict(settings, bus, url)
    head, block = hash_of(forked, CONFLICT_AT), hash_of(honest, CONFLICT_AT)
    assert f"finality conflict at #{CONFLICT_AT}: finalized head is 0x{head.hex()}" in message
    assert f"the node's block #{CONFLICT_AT} is 0x{block.hex()}" in message
    published = await published_hashes(bus, honest.chain.genesis_hash)
    assert published == [hash_of(honest, n) for n in range(CONFLICT_AT)]  # no #20 of either
    await bus.close()


async def test_a_finality_notification_contradicting_a_published_block_stops_the_relayer(
    nats_url: str,
) -> None:
    """All of #0..#20 is relayed from the honest chain, then the node's finalized-head
    subscription announces the fork's #20."""
    async with honest_and_forked("notified-conflict") as (honest, forked):

        def route(method: str) -> str:
            return forked.url if method == "chain_subscribeFinalizedHeads" else honest.url

        async with split_node(route) as url:
            settings = make_settings(nats_url, url)
            bus = await Bus.connect(settings)
            message = await relay_into_conflict(settings, bus, url)
    published, reported = hash_of(honest, CONFLICT_AT), hash_of(forked, CONFLICT_AT)
    assert (
        f"finality conflict at #{CONFLICT_AT}: published 0x{published.hex()}, "
        f"node now reports 0x{reported.hex()}"
    ) in message
    hashes = await published_hashes(bus, honest.chain.genesis_hash)
    assert hashes == [hash_of(honest, n) for n in range(CONFLICT_AT + 1)]
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

        untrusting = await make_validator(base, bus, asyncio.Event())
        with pytest.raises(InvalidData, match=r"checkpoint 249:0x[0-9a-f]+ is not trusted"):
            await asyncio.wait_for(untrusting.run(), 30)

        trusted = base.model_copy(update={"trusted_checkpoint": f"249:0x{checkpoint.hex()}"})
        stop = asyncio.Event()
        validator = await make_validator(trusted, bus, stop)
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
