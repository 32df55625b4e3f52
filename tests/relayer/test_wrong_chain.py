"""A node of another chain behind the relayer's URL (a devnet restarted with other options, a
node replaced behind a load balancer) is named as such, not reported as a finality conflict."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from pinkpipe.bus import Bus
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.node import Node, WrongChain
from pinkpipe.relayer.relayer import RelayerError
from tests.pipeline_support import make_relayer, make_settings, nats_server_fixture, wait_for

BLOCKS = 20

nats_url = nats_server_fixture()


def chain(name: str) -> DevChain:
    dev = DevChain(DevnetConfig(chain_name=name, justification_period=8))
    dev.produce(BLOCKS)
    return dev


@asynccontextmanager
async def served(dev: DevChain, port: int = 0) -> AsyncIterator[DevnetServer]:
    async with DevnetServer(dev, port=port) as server:
        yield server


def _port(server: DevnetServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _message(first: DevChain, second: DevChain) -> str:
    """The error, as a `match=` pattern."""
    return re.escape(
        f"serves a different chain (genesis 0x{second.genesis_hash.hex()}), "
        f"not 0x{first.genesis_hash.hex()}"
    )


async def test_a_node_replaced_by_another_chain_is_named_on_reconnect() -> None:
    first, second = chain("first"), chain("second")
    assert first.genesis_hash != second.genesis_hash
    async with served(first) as server:
        port = _port(server)
        node = Node(server.url, (), timeout_s=2, retries=3)
        assert (await node.chain_info()).genesis_hash == first.genesis_hash
        await node.connect()
        assert (await node.finalized_head())[0] == BLOCKS
    async with served(second, port):
        with pytest.raises(WrongChain, match=_message(first, second)) as info:
            await node.finalized_head()
    await node.close()
    assert "gave up" not in str(info.value)  # not retried: no retry can help


async def test_the_relayer_stops_naming_the_other_chain(nats_url: str) -> None:
    first, second = chain("relayed"), chain("impostor")
    async with served(first) as server:
        port = _port(server)
        settings = make_settings(nats_url, server.url, rpc_timeout_s=1.0)
        bus = await Bus.connect(settings)
        stop = asyncio.Event()
        relayer = make_relayer(settings, bus, server.url, stop)
        task = asyncio.create_task(relayer.run())
        await wait_for(lambda: relayer.progress.published >= BLOCKS - 8, 30, "blocks relayed")
    async with served(second, port):
        with pytest.raises(RelayerError, match=_message(first, second)):
            await asyncio.wait_for(task, 60)
    await bus.close()
