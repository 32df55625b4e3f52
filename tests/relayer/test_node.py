"""The relayer's node client against a scripted JSON-RPC server: every bad answer is caught.

Unit level only: a tiny websockets server answers with hand-made (and hand-broken) JSON, so
each error path of `relayer.rpc` and `relayer.node` is exercised exactly. The end-to-end
behaviour against a real chain is in the devnet tests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from pinkpipe.chain.grandpa import Commit, FinalityProof, Justification
from pinkpipe.chain.header import Header
from pinkpipe.relayer.node import Node, NodeError
from pinkpipe.relayer.rpc import RpcCallError, RpcClient, RpcTransportError

Handler = Callable[[dict[str, Any]], Any]
"""Returns the answer object, a raw string to send as is, or None to stay silent."""


def make_header(number: int, parent: bytes) -> Header:
    return Header(parent, number, bytes([number]) * 32, bytes([0xEE]) * 32, ())


def header_json(h: Header) -> dict[str, Any]:
    return {
        "parentHash": "0x" + h.parent_hash.hex(),
        "number": hex(h.number),
        "stateRoot": "0x" + h.state_root.hex(),
        "extrinsicsRoot": "0x" + h.extrinsics_root.hex(),
        "digest": {"logs": []},
    }


HEADERS: list[Header] = []
for _n in range(1, 6):
    HEADERS.append(make_header(_n, HEADERS[-1].hash() if HEADERS else b"\x00" * 32))
BY_HASH = {h.hash(): h for h in HEADERS}


def justification_for(h: Header) -> bytes:
    return Justification(1, Commit(h.hash(), h.number, ()), ()).encode()


def chain_answer(request: dict[str, Any]) -> Any:
    """A correct node for HEADERS: blocks 1..5, a justification on #3."""
    method, params = request["method"], request["params"]
    if method == "chain_getBlockHash":
        n = params[0]
        return "0x" + HEADERS[n - 1].hash().hex() if 1 <= n <= len(HEADERS) else None
    if method == "chain_getBlock":
        h = BY_HASH.get(bytes.fromhex(params[0][2:]))
        if h is None:
            return None
        justifications = None
        if h.number == 3:
            justifications = [[list(b"FRNK"), list(justification_for(h))]]
        return {
            "block": {"header": header_json(h), "extrinsics": ["0x0102"]},
            "justifications": justifications,
        }
    if method == "state_getReadProof":
        return {"at": params[1], "proof": ["0xabcd"]}
    if method == "chain_getFinalizedHead":
        return "0x" + HEADERS[-1].hash().hex()
    if method == "chain_getHeader":
        h = BY_HASH.get(bytes.fromhex(params[0][2:]))
        return None if h is None else header_json(h)
    if method == "grandpa_proveFinality":
        h = HEADERS[-1]
        return "0x" + FinalityProof(h.hash(), justification_for(h), ()).encode().hex()
    raise AssertionError(f"unexpected method {method}")


def answer(request: dict[str, Any], result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


@asynccontextmanager
async def fake_node(handler: Handler, reverse_batches: bool = False) -> AsyncIterator[str]:
    async def serve_one(ws: ServerConnection) -> None:
        async for frame in ws:
            message = json.loads(frame)
            requests = message if isinstance(message, list) else [message]
            answers = [handler(r) for r in requests]
            if any(isinstance(a, str) for a in answers):
                await ws.send(next(a for a in answers if isinstance(a, str)))
                continue
            answers = [a for a in answers if a is not None]
            if not answers:
                continue
            if isinstance(message, list):
                await ws.send(json.dumps(answers[::-1] if reverse_batches else answers))
            else:
                await ws.send(json.dumps(answers[0]))

    async with serve(serve_one, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


def correct(request: dict[str, Any]) -> Any:
    return answer(request, chain_answer(request))


TIMEOUT_S = 5.0
"""Generous: only the stall test waits for a timeout, and a loaded CI machine must never turn
a prompt answer into one (the error tests check which error was the last)."""


async def fetch(
    url: str, first: int, last: int, batch: int = 4, retries: int = 1, timeout_s: float = TIMEOUT_S
) -> Any:
    node = Node(
        url, [b"\x01" * 32], timeout_s=timeout_s, retries=retries, batch=batch, max_backoff_s=0.01
    )
    try:
        await node.connect()
        return await node.fetch_blocks(first, last)
    finally:
        await node.close()


@pytest.mark.parametrize("batch", [1, 4])
async def test_blocks_are_fetched_and_checked_in_any_answer_order(batch: int) -> None:
    async with fake_node(correct, reverse_batches=True) as url:
        blocks = await fetch(url, 1, 5, batch=batch)
    assert [b.number for b in blocks] == [1, 2, 3, 4, 5]
    assert [b.hash for b in blocks] == [h.hash() for h in HEADERS]
    assert blocks[2].justification == justification_for(HEADERS[2])
    assert all(b.justification is None for b in blocks if b.number != 3)
    assert blocks[0].body == [b"\x01\x02"] and blocks[0].proof == [b"\xab\xcd"]


def broken(method: str, result: Any) -> Handler:
    def handler(request: dict[str, Any]) -> Any:
        if request["method"] == method:
            return answer(request, result(request) if callable(result) else result)
        return correct(request)

    return handler


def block_with(**changes: Any) -> Callable[[dict[str, Any]], Any]:
    def result(request: dict[str, Any]) -> Any:
        block = chain_answer(request)
        if block is not None and block["block"]["header"]["number"] == "0x2":
            block["block"].update(changes.get("block", {}))
            block.update({k: v for k, v in changes.items() if k != "block"})
        return block

    return result


B2 = f"block #2 0x{HEADERS[1].hash().hex()}"


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (
            broken(
                "chain_getBlockHash", lambda r: None if r["params"][0] == 2 else chain_answer(r)
            ),
            "block #2: node has no such block (missing block)",
        ),
        (
            broken(
                "chain_getBlockHash",
                lambda r: "0xnothex" if r["params"][0] == 2 else chain_answer(r),
            ),
            "block #2 hash is not hex: 'nothex'",
        ),
        (
            broken(
                "chain_getBlockHash", lambda r: "0x1234" if r["params"][0] == 2 else chain_answer(r)
            ),
            "block #2 hash is not 32 bytes long but 2",
        ),
        (
            broken("chain_getBlock", block_with(block={"header": header_json(HEADERS[3])})),
            f"{B2}: header hashes to 0x{HEADERS[3].hash().hex()}",
        ),
        (
            broken(
                "chain_getBlock",
                lambda r: (
                    None
                    if chain_answer(r)["block"]["header"]["number"] == "0x2"
                    else chain_answer(r)
                ),
            ),
            f"{B2}: node returned no block",
        ),
        (
            broken("chain_getBlock", block_with(block={"extrinsics": ["0x12", "zz"]})),
            f"{B2} extrinsic is not 0x-prefixed hex: 'zz'",
        ),
        (
            broken(
                "chain_getBlock",
                block_with(justifications=[[list(b"FRNK"), list(justification_for(HEADERS[0]))]]),
            ),
            f"{B2}: justification targets #1",
        ),
        (
            broken("chain_getBlock", block_with(justifications=[[list(b"FRNK"), [1, 2]]])),
            f"{B2}: justification does not decode",
        ),
        (
            broken("state_getReadProof", lambda r: {"at": r["params"][1], "proof": "0x00"}),
            "read proof nodes is not a list",
        ),
    ],
)
async def test_bad_answers_are_errors_naming_the_block(handler: Handler, expected: str) -> None:
    async with fake_node(handler) as url:
        with pytest.raises(NodeError) as info:
            await fetch(url, 1, 3)
    message = str(info.value)
    assert expected in message
    assert "fetching blocks #1..#3" in message and "gave up after 2 attempts" in message


async def test_node_error_object_is_reported_with_the_block() -> None:
    def handler(request: dict[str, Any]) -> Any:
        if request["method"] == "state_getReadProof":
            return {
                "jsonrpc": "2.0",
                "id": request["id"],
                "error": {"code": 4003, "message": "State already discarded"},
            }
        return correct(request)

    async with fake_node(handler) as url:
        with pytest.raises(
            NodeError,
            match=r"block #1 0x[0-9a-f]{64}: state_getReadProof "
            r"failed: node error 4003",
        ):
            await fetch(url, 1, 1)


async def test_malformed_json_breaks_the_connection_and_a_retry_recovers() -> None:
    calls = {"n": 0}

    def handler(request: dict[str, Any]) -> Any:
        calls["n"] += 1
        return "{not json" if calls["n"] == 1 else correct(request)

    async with fake_node(handler) as url:
        blocks = await fetch(url, 1, 2, retries=2)
    assert [b.number for b in blocks] == [1, 2]


async def test_malformed_json_every_time_gives_up() -> None:
    async with fake_node(lambda r: "{not json") as url:
        with pytest.raises(NodeError, match="malformed JSON"):
            await fetch(url, 1, 2, retries=2)


async def test_a_stalled_answer_times_out_then_reconnects() -> None:
    calls = {"n": 0}

    def handler(request: dict[str, Any]) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else correct(request)

    async with fake_node(handler) as url:
        blocks = await fetch(url, 1, 1, batch=1, retries=2, timeout_s=1.0)
    assert blocks[0].number == 1


async def test_rpc_client_raw_behaviour() -> None:
    async with fake_node(correct) as url:
        client = RpcClient(url, timeout_s=TIMEOUT_S)
        await client.connect()
        assert await client.call("chain_getBlockHash", [1]) == "0x" + HEADERS[0].hash().hex()
        results = await client.batch([("chain_getBlockHash", [2]), ("chain_getBlockHash", [9])])
        assert results == ["0x" + HEADERS[1].hash().hex(), None]
        await client.close()
        with pytest.raises(RpcTransportError, match="not connected"):
            await client.call("chain_getBlockHash", [1])

    async with fake_node(
        lambda r: {"jsonrpc": "2.0", "id": r["id"], "error": {"code": -32601, "message": "nope"}}
    ) as url:
        client = RpcClient(url, timeout_s=TIMEOUT_S)
        await client.connect()
        with pytest.raises(RpcCallError, match="node error -32601: nope"):
            await client.call("x", [])
        assert isinstance((await client.batch([("x", [])]))[0], RpcCallError)
        await client.close()


async def test_finalized_head_and_finality_proof() -> None:
    async with fake_node(correct) as url:
        node = Node(url, [], timeout_s=TIMEOUT_S, retries=0)
        await node.connect()
        assert await node.finalized_head() == (5, HEADERS[-1].hash())
        target = await node.prove_finality(4)
        assert target is not None
        assert (target.number, target.hash) == (5, HEADERS[-1].hash())
        await node.close()


async def test_unreachable_node_gives_up_after_bounded_retries() -> None:
    node = Node("ws://127.0.0.1:9", [], timeout_s=0.2, retries=2, max_backoff_s=0.01)
    with pytest.raises(NodeError, match=r"connecting: cannot connect.*gave up after 3 attempts"):
        await node.connect()
