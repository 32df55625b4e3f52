"""B7 (issue 13): requests whose send fails on a dying connection must not leave futures whose
exception nobody retrieves (asyncio then logs "Future exception was never retrieved" with a
traceback for each, 64 of them when the relayer gave up on a failing node)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.rpc import RpcClient, RpcTransportError

pytestmark = pytest.mark.integration


async def test_a_send_on_a_dead_connection_leaves_no_unretrieved_future() -> None:
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    chain = DevChain(DevnetConfig(chain_name="rpc-futures"))
    chain.produce(3)
    try:
        async with DevnetServer(chain) as devnet:
            client = RpcClient(devnet.url, timeout_s=2)
            await client.connect()
            assert await client.call("chain_getBlockHash", [1]) == "0x" + chain.block_hash(1).hex()
            # The connection dies before its reader has noticed (the race a killed node
            # causes): the next send is what fails.
            reader, ws = client._reader, client._ws
            assert reader is not None and ws is not None
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            client._reader = None
            await ws.close()
            with pytest.raises(RpcTransportError, match="cannot send"):
                await client.batch([("chain_getBlockHash", [n]) for n in range(3)])
            with pytest.raises(RpcTransportError):
                await client.call("chain_getBlockHash", [2])
            await client.close()
            del client, reader, ws  # the client keeps its last error, which holds the futures
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert [c.get("message") for c in reports] == []
