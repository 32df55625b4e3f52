"""The devnet as a node: every RPC method over a real WebSocket, errors, subscriptions,
transport faults, substrate-interface round trips and the `pinkpipe devnet` command.

Answers are judged with the chain core (`chain.*`): headers are re-hashed, bodies checked
against the extrinsics root, proofs verified against the header's state root, justification
signatures checked against the genesis authority set read over RPC.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from substrateinterface import SubstrateInterface
from substrateinterface.exceptions import SubstrateRequestException
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from pinkpipe.chain import keys
from pinkpipe.chain.crypto import ed25519_verify
from pinkpipe.chain.grandpa import (
    FinalityProof,
    Justification,
    decode_versioned_authorities,
    precommit_payload,
    threshold,
)
from pinkpipe.chain.header import DigestItem, Header
from pinkpipe.chain.messages import FORCE_PUSHED_PALLET, Message, MessageOrigin, decode_messages
from pinkpipe.chain.proof import verify_read_proof
from pinkpipe.chain.scale import Reader
from pinkpipe.chain.trie import MalformedProof, ProofIncomplete, ordered_trie_root
from pinkpipe.devnet import DevChain, DevnetConfig
from pinkpipe.devnet.cli import devnet, parse_faults
from pinkpipe.devnet.config import DevnetError
from pinkpipe.devnet.extrinsics import ExtrinsicBuilder
from pinkpipe.devnet.keys import dev_keypair
from pinkpipe.devnet.rpc import BackgroundDevnet, DevnetServer, TransportFaults
from tests.devnet_process import running_devnet
from tests.vectors import PROJECT_ROOT, VECTORS

ALICE = dev_keypair("Alice", "sr25519")
BOB = dev_keypair("Bob", "sr25519")
GRANDPA_AUTHORITIES_KEY = b":grandpa_authorities"


def new_chain(**options: Any) -> DevChain:
    return DevChain(DevnetConfig(justification_period=4, **options))


@pytest.fixture
async def server() -> AsyncIterator[DevnetServer]:
    async with DevnetServer(new_chain()) as srv:
        await srv.produce(5)
        yield srv


@pytest.fixture
async def ws(server: DevnetServer) -> AsyncIterator[ClientConnection]:
    async with connect(server.url) as client:
        yield client


class Rpc:
    """A minimal JSON-RPC client over one connection (ids count from 1)."""

    def __init__(self, client: ClientConnection) -> None:
        self.client = client
        self.next_id = 0

    async def raw(self, text: str) -> Any:
        await self.client.send(text)
        return json.loads(await asyncio.wait_for(self.client.recv(), 5))

    async def request(self, method: str, *params: Any) -> dict[str, Any]:
        self.next_id += 1
        return await self.raw(
            json.dumps(
                {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": list(params)}
            )
        )

    async def __call__(self, method: str, *params: Any) -> Any:
        answer = await self.request(method, *params)
        assert "error" not in answer, answer
        return answer["result"]

    async def error(self, method: str, *params: Any) -> dict[str, Any]:
        answer = await self.request(method, *params)
        assert "result" not in answer, answer
        return answer["error"]


@pytest.fixture
def rpc(ws: ClientConnection) -> Rpc:
    return Rpc(ws)


def unhex(text: str) -> bytes:
    assert text.startswith("0x")
    return bytes.fromhex(text[2:])


def header_from_json(value: dict[str, Any]) -> Header:
    digest = tuple(DigestItem.read(Reader(unhex(log))) for log in value["digest"]["logs"])
    return Header(
        unhex(value["parentHash"]),
        int(value["number"], 16),
        unhex(value["stateRoot"]),
        unhex(value["extrinsicsRoot"]),
        digest,
    )


# --- system ------------------------------------------------------------------------------------


async def test_system_methods(rpc: Rpc) -> None:
    assert await rpc("system_chain") == "pinkpipe devnet"
    assert await rpc("system_name") == "pinkpipe-devnet"
    assert isinstance(await rpc("system_version"), str)
    assert await rpc("system_health") == {"peers": 0, "isSyncing": False, "shouldHavePeers": False}
    assert (await rpc("system_properties"))["ss58Format"] == 30
    assert await rpc("system_accountNextIndex", ALICE.ss58_address) == 0
    assert await rpc("system_accountNextIndex", "0x" + ALICE.public_key.hex()) == 0
    methods = (await rpc("rpc_methods"))["methods"]
    for name in (
        "chain_getBlock",
        "grandpa_proveFinality",
        "state_getReadProof",
        "author_submitExtrinsic",
        "chain_subscribeFinalizedHeads",
    ):
        assert name in methods


# --- chain -------------------------------------------------------------------------------------


async def test_block_hashes_and_headers_link_up(rpc: Rpc, server: DevnetServer) -> None:
    hashes = await rpc("chain_getBlockHash", list(range(7)))
    assert hashes[6] is None and None not in hashes[:6]
    assert unhex(hashes[0]) == server.chain.genesis_hash
    assert await rpc("chain_getBlockHash", 3) == hashes[3]
    assert await rpc("chain_getBlockHash", "0x3") == hashes[3]
    assert await rpc("chain_getBlockHash") == hashes[5]
    assert await rpc("chain_getHead") == hashes[5]
    assert await rpc("chain_getFinalizedHead") == hashes[5]
    parent = server.chain.genesis_hash
    for number in range(1, 6):
        value = await rpc("chain_getHeader", hashes[number])
        assert value["number"] == hex(number)
        header = header_from_json(value)
        assert header.hash() == unhex(hashes[number])
        assert header.parent_hash == parent
        parent = header.hash()
    assert await rpc("chain_getHeader") == await rpc("chain_getHeader", hashes[5])
    assert await rpc("chain_getHeader", "0x" + "00" * 32) is None


async def test_blocks_bodies_and_justifications(rpc: Rpc) -> None:
    genesis_authorities = decode_versioned_authorities(
        unhex(
            await rpc(
                "state_getStorage",
                "0x" + GRANDPA_AUTHORITIES_KEY.hex(),
                await rpc("chain_getBlockHash", 0),
            )
        )
    )
    block_hash = await rpc("chain_getBlockHash", 4)
    block = await rpc("chain_getBlock", block_hash)
    header = header_from_json(block["block"]["header"])
    assert header.hash() == unhex(block_hash)
    body = [unhex(x) for x in block["block"]["extrinsics"]]
    assert ordered_trie_root(body) == header.extrinsics_root
    ((engine, encoded),) = block["justifications"]  # the node shape: [[engine bytes, bytes]]
    assert engine == list(b"FRNK")
    justification = Justification.decode(bytes(encoded))
    commit = justification.commit
    assert (commit.target_hash, commit.target_number) == (unhex(block_hash), 4)
    ids = {a.id for a in genesis_authorities}
    valid = [
        p
        for p in commit.precommits
        if p.id in ids
        and ed25519_verify(
            p.signature,
            precommit_payload(p.target_hash, p.target_number, justification.round, 0),
            p.id,
        )
    ]
    assert len(valid) >= threshold(len(genesis_authorities))
    unjustified = await rpc("chain_getBlock", await rpc("chain_getBlockHash", 3))
    assert unjustified["justifications"] is None
    assert await rpc("chain_getBlock", "0x" + "11" * 32) is None


async def test_prove_finality(rpc: Rpc) -> None:
    proof = FinalityProof.decode(unhex(await rpc("grandpa_proveFinality", 2)))
    assert proof.block == unhex(await rpc("chain_getBlockHash", 5))
    assert [h.number for h in proof.unknown_headers] == [3, 4, 5]
    assert Justification.decode(proof.justification).commit.target_number == 5
    assert await rpc.error("grandpa_proveFinality", 99) == {
        "code": 4,
        "message": "GRANDPA prove finality rpc failed: Block not yet finalized",
    }


async def test_runtime_version_and_metadata(rpc: Rpc) -> None:
    version = await rpc("state_getRuntimeVersion")
    assert (version["specName"], version["specVersion"], version["transactionVersion"]) == (
        "phala-node",
        1,
        1,
    )
    assert await rpc("chain_getRuntimeVersion") == version
    metadata = unhex(await rpc("state_getMetadata"))
    assert metadata == (VECTORS / "phala" / "phala_standalone_metadata.scale").read_bytes()


# --- state -------------------------------------------------------------------------------------


async def test_storage_and_read_proofs_verify_against_the_header(rpc: Rpc) -> None:
    block_hash = await rpc("chain_getBlockHash", 3)
    header = header_from_json(await rpc("chain_getHeader", block_hash))
    now_key = "0x" + keys.TIMESTAMP_NOW.hex()
    now = unhex(await rpc("state_getStorage", now_key, block_hash))
    assert int.from_bytes(now, "little") == 1_700_000_000_000 + 3 * 6000
    assert await rpc("state_getStorageAt", now_key, block_hash) == "0x" + now.hex()
    missing = "0x" + keys.PHALA_MQ_OUTBOUND_MESSAGES.hex()
    assert await rpc("state_getStorage", missing, block_hash) is None
    proof = await rpc("state_getReadProof", [now_key, missing], block_hash)
    assert proof["at"] == block_hash
    proven = verify_read_proof(
        header.state_root,
        [unhex(n) for n in proof["proof"]],
        [keys.TIMESTAMP_NOW, keys.PHALA_MQ_OUTBOUND_MESSAGES],
    )
    assert proven == {keys.TIMESTAMP_NOW: now, keys.PHALA_MQ_OUTBOUND_MESSAGES: None}
    changes = await rpc("state_queryStorageAt", [now_key, missing], block_hash)
    assert changes == [
        {"block": block_hash, "changes": [[now_key, "0x" + now.hex()], [missing, None]]}
    ]


async def test_keys_paged(rpc: Rpc) -> None:
    prefix = "0x" + keys.storage_prefix("System", "Account").hex()
    all_keys = await rpc("state_getKeysPaged", prefix, 100)
    assert len(all_keys) == 6 and all_keys == sorted(all_keys)
    page = await rpc("state_getKeysPaged", prefix, 2, all_keys[1])
    assert page == all_keys[2:4]
    assert await rpc("state_getKeysPagedAt", prefix, 2, all_keys[1]) == page
    assert (await rpc.error("state_getKeysPaged", prefix, 1001))["code"] == 4002


async def test_unknown_block_for_state_queries(rpc: Rpc) -> None:
    unknown = "0x" + "22" * 32
    for method, params in [
        ("state_getStorage", ["0x00", unknown]),
        ("state_getReadProof", [["0x00"], unknown]),
        ("state_getRuntimeVersion", [unknown]),
        ("state_getMetadata", [unknown]),
    ]:
        error = await rpc.error(method, *params)
        assert error["code"] == 4003 and "UnknownBlock" in error["message"]


# --- JSON-RPC errors ---------------------------------------------------------------------------


async def test_protocol_errors(rpc: Rpc) -> None:
    assert (await rpc.error("chain_noSuchMethod")) == {
        "code": -32601,
        "message": "Method not found",
    }
    assert (await rpc.error("chain_getBlockHash", -1))["code"] == -32602
    assert (await rpc.error("chain_getBlockHash", "12"))["code"] == -32602
    assert (await rpc.error("chain_getHeader", "0xzz"))["code"] == -32602
    assert (await rpc.error("chain_getHeader", "0x1234"))["code"] == -32602
    assert (await rpc.error("state_getStorage", 5))["code"] == -32602
    assert (await rpc.error("chain_getHeader", None, 1, 2))["code"] == -32602
    assert (await rpc.error("author_submitExtrinsic", "0xnothex"))["code"] == -32602
    parse = await rpc.raw("{not json")
    assert parse == {
        "jsonrpc": "2.0",
        "error": {"code": -32700, "message": "Parse error"},
        "id": None,
    }
    for bad in [
        '{"id":1,"method":"system_chain"}',
        '{"jsonrpc":"2.0","id":1,"method":5}',
        '"text"',
        "[]",
    ]:
        assert (await rpc.raw(bad))["error"]["code"] == -32600
    named = await rpc.raw(
        json.dumps(
            {"jsonrpc": "2.0", "id": "x", "method": "chain_getBlockHash", "params": {"number": 0}}
        )
    )
    assert named["id"] == "x" and named["result"].startswith("0x")


async def test_batches_and_notifications(rpc: Rpc) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "chain_getBlockHash", "params": [0]},
        {"jsonrpc": "2.0", "method": "system_chain"},  # a notification: no answer
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "id": 3, "method": "system_chain"},
        5,
    ]
    answers = await rpc.raw(json.dumps(batch))
    assert [a["id"] for a in answers] == [1, 2, 3, None]
    assert answers[1]["error"]["code"] == -32601
    assert answers[2]["result"] == "pinkpipe devnet"
    assert answers[3]["error"]["code"] == -32600
    await rpc.client.send(json.dumps({"jsonrpc": "2.0", "method": "system_chain"}))
    assert await rpc("system_name") == "pinkpipe-devnet"  # the notification got no answer


# --- subscriptions and extrinsics ----------------------------------------------------------------


async def next_notification(client: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(client.recv(), 5))


async def test_head_subscriptions(rpc: Rpc, server: DevnetServer) -> None:
    finalized = await rpc("chain_subscribeFinalizedHeads")
    first = await next_notification(rpc.client)
    assert first["method"] == "chain_finalizedHead"
    assert first["params"]["subscription"] == finalized
    assert first["params"]["result"]["number"] == "0x5"
    new_heads = await rpc("chain_subscribeNewHeads")
    assert (await next_notification(rpc.client))["method"] == "chain_newHead"
    await server.produce(1)
    seen = {}
    for _ in range(2):
        note = await next_notification(rpc.client)
        seen[note["method"]] = note["params"]["result"]
    assert seen["chain_finalizedHead"] == seen["chain_newHead"]
    assert header_from_json(seen["chain_newHead"]).hash() == server.chain.best_hash
    assert await rpc("chain_unsubscribeFinalizedHeads", finalized) is True
    assert await rpc("chain_unsubscribeFinalizedHeads", finalized) is False
    assert await rpc("chain_unsubscribeNewHeads", new_heads) is True
    await server.produce(1)
    assert await rpc("system_chain") == "pinkpipe devnet"  # no notification came first


async def test_submit_and_watch(rpc: Rpc, server: DevnetServer) -> None:
    data = ExtrinsicBuilder(server.pool).push_message(ALICE, b"phala/watch", b"\x07")
    sub = await rpc("author_submitAndWatchExtrinsic", "0x" + data.hex())
    assert (await next_notification(rpc.client))["params"] == {
        "subscription": sub,
        "result": "ready",
    }
    assert await rpc("author_pendingExtrinsics") == ["0x" + data.hex()]
    await server.produce(1)
    block_hash = "0x" + server.chain.best_hash.hex()
    updates = [(await next_notification(rpc.client))["params"]["result"] for _ in range(2)]
    assert updates == [{"inBlock": block_hash}, {"finalized": block_hash}]


async def test_submit_errors_are_the_nodes(rpc: Rpc, server: DevnetServer) -> None:
    data = bytearray(ExtrinsicBuilder(server.pool).push_message(ALICE, b"t", b"p"))
    data[-3] ^= 0xFF
    assert await rpc.error("author_submitExtrinsic", "0x" + data.hex()) == {
        "code": 1010,
        "message": "Invalid Transaction",
        "data": "Transaction has a bad signature",
    }


# --- transport faults ----------------------------------------------------------------------------


async def test_drop_every_n_requests() -> None:
    faults = TransportFaults(drop_every=3)
    async with DevnetServer(new_chain(), faults=faults) as srv, connect(srv.url) as client:
        rpc = Rpc(client)
        assert await rpc("system_chain") == "pinkpipe devnet"
        assert await rpc("system_chain") == "pinkpipe devnet"
        with pytest.raises(ConnectionClosed):
            await rpc("system_chain")
        async with connect(srv.url) as again:
            assert await Rpc(again)("system_chain") == "pinkpipe devnet"


async def test_drop_at_block() -> None:
    async with (
        DevnetServer(new_chain(), faults=TransportFaults(drop_at_block=2)) as srv,
        connect(srv.url) as client,
    ):
        rpc = Rpc(client)
        await srv.produce(1)
        assert await rpc("chain_getBlockHash", 1) is not None
        await srv.produce(1)
        with pytest.raises(ConnectionClosed):
            await rpc("system_chain")


async def test_stall_always_and_at_block() -> None:
    async with (
        DevnetServer(new_chain(), faults=TransportFaults(stall_seconds=0.3)) as srv,
        connect(srv.url) as client,
    ):
        start = time.monotonic()
        await Rpc(client)("system_chain")
        assert time.monotonic() - start >= 0.3
    faults = TransportFaults(stall_seconds=0.4, stall_at_block=1)
    async with DevnetServer(new_chain(), faults=faults) as srv, connect(srv.url) as client:
        rpc = Rpc(client)
        start = time.monotonic()
        await rpc("system_chain")
        assert time.monotonic() - start < 0.3
        await srv.produce(1)
        start = time.monotonic()
        await rpc("system_chain")
        assert time.monotonic() - start >= 0.3


async def test_reorder() -> None:
    async with (
        DevnetServer(new_chain(), faults=TransportFaults(reorder=True)) as srv,
        connect(srv.url) as client,
    ):
        for i in (1, 2, 3):
            await client.send(
                json.dumps(
                    {"jsonrpc": "2.0", "id": i, "method": "chain_getBlockHash", "params": [0]}
                )
            )
        ids = [json.loads(await asyncio.wait_for(client.recv(), 5))["id"] for _ in range(3)]
        assert ids == [3, 2, 1]
        batch = [{"jsonrpc": "2.0", "id": i, "method": "system_chain"} for i in (1, 2, 3)]
        await client.send(json.dumps(batch))
        answers = json.loads(await asyncio.wait_for(client.recv(), 5))
        assert [a["id"] for a in answers] == [3, 2, 1]


def test_fault_specs() -> None:
    plan = parse_faults(
        [
            "drop-every=50",
            "bad-signature=120",
            "wrong-state-root=300",
            "truncated-proof=7",
            "bad-body=8",
            "wrong-set-id=9",
            "stall=1.5@4",
            "reorder",
            "drop-at=11",
        ]
    )
    assert plan.transport == TransportFaults(
        drop_every=50, drop_at_block=11, stall_seconds=1.5, stall_at_block=4, reorder=True
    )
    assert plan.data.active() == {
        "bad_justification_signature": 120,
        "wrong_state_root": 300,
        "truncated_proof": 7,
        "bad_body": 8,
        "wrong_set_id": 9,
    }
    for bad in (
        "explode=1",
        "drop-every=x",
        "stall=soon",
        "bad-body=0",
        "drop-every=0",
        "bad-body=\u00b2",
        "drop-at=\u0661",
        "stall=nan",
        "stall=inf",
        "stall=-1",
    ):
        with pytest.raises(DevnetError):
            parse_faults([bad])


def test_parachain_fault_specs_only_with_parachain() -> None:
    plan = parse_faults(
        ["wrong-head=5", "head-skips-back=7", "withheld-head=3", "bad-body=2"], True
    )
    assert plan.data.active() == {
        "wrong_head": 5,
        "head_skips_back": 7,
        "withheld_head": 3,
        "bad_body": 2,
    }
    with pytest.raises(DevnetError, match="unknown fault 'wrong-head=5'"):
        parse_faults(["wrong-head=5"])
    with pytest.raises(DevnetError, match="block number >= 1"):
        parse_faults(["withheld-head=0"], True)


async def test_data_fault_switches_reach_the_wire() -> None:
    plan = parse_faults(["truncated-proof=3", "bad-signature=4"])
    async with (
        DevnetServer(new_chain(faults=plan.data), faults=plan.transport) as srv,
        connect(srv.url) as client,
    ):
        await srv.produce(5)
        rpc = Rpc(client)
        key = "0x" + keys.TIMESTAMP_NOW.hex()
        for number, complete in ((2, True), (3, False)):
            block_hash = await rpc("chain_getBlockHash", number)
            root = header_from_json(await rpc("chain_getHeader", block_hash)).state_root
            proof = await rpc("state_getReadProof", [key], block_hash)
            nodes = [unhex(n) for n in proof["proof"]]
            if complete:
                assert keys.TIMESTAMP_NOW in verify_read_proof(root, nodes, [keys.TIMESTAMP_NOW])
            else:
                with pytest.raises(ProofIncomplete):
                    verify_read_proof(root, nodes, [keys.TIMESTAMP_NOW])
        block = await rpc("chain_getBlock", await rpc("chain_getBlockHash", 4))
        justification = Justification.decode(bytes(block["justifications"][0][1]))
        bad = [
            p
            for p in justification.commit.precommits
            if not ed25519_verify(
                p.signature,
                precommit_payload(p.target_hash, p.target_number, justification.round, 0),
                p.id,
            )
        ]
        assert len(bad) == 1


async def served_block(rpc: Rpc, number: int) -> tuple[Header, list[bytes], bytes | None]:
    """Header, body and GRANDPA justification of block `number`, as `chain_getBlock` serves."""
    block = await rpc("chain_getBlock", await rpc("chain_getBlockHash", number))
    header = header_from_json(block["block"]["header"])
    body = [unhex(x) for x in block["block"]["extrinsics"]]
    justifications = block["justifications"]
    return header, body, None if justifications is None else bytes(justifications[0][1])


def signed_with_set(justification: bytes, set_id: int) -> bool:
    j = Justification.decode(justification)
    return all(
        ed25519_verify(
            p.signature, precommit_payload(p.target_hash, p.target_number, j.round, set_id), p.id
        )
        for p in j.commit.precommits
    )


async def test_every_data_fault_reaches_the_wire_at_its_block_only() -> None:
    plan = parse_faults(["wrong-state-root=2", "bad-body=3", "wrong-set-id=4"])
    async with DevnetServer(new_chain(faults=plan.data)) as srv, connect(srv.url) as client:
        await srv.produce(5)
        rpc = Rpc(client)
        key = "0x" + keys.TIMESTAMP_NOW.hex()
        for number in range(1, 6):
            header, body, justification = await served_block(rpc, number)
            proof = await rpc("state_getReadProof", [key], "0x" + header.hash().hex())
            nodes = [unhex(n) for n in proof["proof"]]
            if number == 2:
                with pytest.raises(MalformedProof):
                    verify_read_proof(header.state_root, nodes, [keys.TIMESTAMP_NOW])
            else:
                assert verify_read_proof(header.state_root, nodes, [keys.TIMESTAMP_NOW])
            assert (ordered_trie_root(body) == header.extrinsics_root) == (number != 3)
            assert (justification is not None) == (number == 4)
        assert justification is None
        _, _, wrong = await served_block(rpc, 4)
        assert wrong is not None and signed_with_set(wrong, 1) and not signed_with_set(wrong, 0)
        srv.chain.faults.clear()
        _, body, right = await served_block(rpc, 3)
        assert (
            ordered_trie_root(body)
            == header_from_json(
                await rpc("chain_getHeader", await rpc("chain_getBlockHash", 3))
            ).extrinsics_root
        )
        _, _, right = await served_block(rpc, 4)
        assert right is not None and signed_with_set(right, 0)


# --- determinism ---------------------------------------------------------------------------------


async def test_answers_are_deterministic() -> None:
    session = [
        ("chain_getBlockHash", [3]),
        ("chain_getBlock", []),
        ("chain_subscribeFinalizedHeads", []),
        ("state_getReadProof", [["0x" + keys.TIMESTAMP_NOW.hex()]]),
        ("grandpa_proveFinality", [1]),
        ("system_accountNextIndex", [ALICE.ss58_address]),
    ]
    transcripts = []
    for _ in range(2):
        async with DevnetServer(new_chain()) as srv, connect(srv.url) as client:
            await srv.produce(6)
            texts = []
            for i, (method, params) in enumerate(session):
                await client.send(
                    json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
                )
                texts.append(await asyncio.wait_for(client.recv(), 5))
            texts.append(await asyncio.wait_for(client.recv(), 5))  # the head notification
            transcripts.append(texts)
    assert transcripts[0] == transcripts[1]


# --- substrate-interface, as the relayer uses it --------------------------------------------------


@pytest.fixture
def background() -> Iterator[BackgroundDevnet]:
    with BackgroundDevnet(new_chain()) as bg:
        bg.produce(2)
        yield bg


def outbound_at(substrate: SubstrateInterface, block_hash: str) -> list[Message]:
    raw = substrate.rpc_request(
        "state_getStorage", ["0x" + keys.PHALA_MQ_OUTBOUND_MESSAGES.hex(), block_hash]
    )
    return decode_messages(None if raw["result"] is None else unhex(raw["result"]))


@pytest.mark.slow
def test_substrate_interface_reads_the_devnet(background: BackgroundDevnet) -> None:
    substrate = SubstrateInterface(url=background.url)
    try:
        assert substrate.chain == "pinkpipe devnet"
        assert substrate.get_block_hash(0) == "0x" + background.chain.genesis_hash.hex()
        block = substrate.get_block()
        assert block["header"]["number"] == 2
        (inherent,) = block["extrinsics"]
        assert inherent.value["call"]["call_module"] == "Timestamp"
        assert inherent.value["call"]["call_args"][0]["value"] == 1_700_000_012_000
        assert substrate.query("Timestamp", "Now").value == 1_700_000_012_000
        account = substrate.query("System", "Account", [ALICE.ss58_address]).value
        assert account["data"]["free"] == 10**18 and account["nonce"] == 0
    finally:
        substrate.close()


@pytest.mark.slow
def test_substrate_interface_extrinsics_land(background: BackgroundDevnet) -> None:
    substrate = SubstrateInterface(url=background.url)
    try:
        call = substrate.compose_call(
            "PhalaMq",
            "push_message",
            {"destination": "0x" + b"phala/test".hex(), "payload": "0x0102"},
        )
        receipt = substrate.submit_extrinsic(substrate.create_signed_extrinsic(call, ALICE))
        inner = substrate.compose_call(
            "PhalaMq",
            "force_push_pallet_message",
            {"destination": "0x" + b"phala/cluster/key".hex(), "payload": "0x" + "01" + "00" * 32},
        )
        sudo = substrate.compose_call("Sudo", "sudo", {"call": inner})
        substrate.submit_extrinsic(substrate.create_signed_extrinsic(sudo, ALICE))
        background.produce(1)
        block_hash = substrate.get_block_hash(3)
        block = substrate.get_block(block_hash)
        hashes = [x.value["extrinsic_hash"] for x in block["extrinsics"]]
        assert receipt.extrinsic_hash in hashes
        calls = [x.value["call"] for x in block["extrinsics"]]
        assert [(c["call_module"], c["call_function"]) for c in calls] == [
            ("Timestamp", "set"),
            ("PhalaMq", "push_message"),
            ("Sudo", "sudo"),
        ]
        alice = substrate.ss58_encode(ALICE.public_key)  # the devnet's ss58Format, 30
        assert [x.value.get("address") for x in block["extrinsics"]] == [None, alice, alice]
        assert calls[2]["call_args"][0]["value"]["call_function"] == "force_push_pallet_message"
        assert outbound_at(substrate, block_hash) == [
            Message(MessageOrigin.account(bytes(ALICE.public_key)), b"phala/test", b"\x01\x02"),
            Message(
                MessageOrigin.pallet(FORCE_PUSHED_PALLET), b"phala/cluster/key", b"\x01" + bytes(32)
            ),
        ]
        assert substrate.get_account_nonce(ALICE.ss58_address) == 2
        stale = substrate.create_signed_extrinsic(call, ALICE, nonce=0)
        with pytest.raises(SubstrateRequestException) as err:
            substrate.submit_extrinsic(stale)
        assert err.value.args[0] == {
            "code": 1010,
            "message": "Invalid Transaction",
            "data": "Transaction is outdated",
        }
        forged = substrate.create_signed_extrinsic(call, BOB, signature="0x" + "00" * 64)
        with pytest.raises(SubstrateRequestException) as err:
            substrate.submit_extrinsic(forged)
        assert err.value.args[0]["data"] == "Transaction has a bad signature"
    finally:
        substrate.close()


@pytest.mark.slow
def test_substrate_interface_waits_for_inclusion() -> None:
    with BackgroundDevnet(new_chain(), block_time=0.2) as bg:
        substrate = SubstrateInterface(url=bg.url)
        try:
            call = substrate.compose_call(
                "PhalaMq",
                "push_message",
                {"destination": "0x" + b"phala/wait".hex(), "payload": "0x"},
            )
            receipt = substrate.submit_extrinsic(
                substrate.create_signed_extrinsic(call, BOB), wait_for_inclusion=True
            )
            assert receipt.block_hash is not None
            assert outbound_at(substrate, receipt.block_hash)[0].destination == b"phala/wait"
        finally:
            substrate.close()


# --- the command ---------------------------------------------------------------------------------


def test_devnet_command_explains_a_missing_metadata_file(tmp_path: Path) -> None:
    absent = tmp_path / "absent.scale"
    result = CliRunner().invoke(devnet, ["--port", "0", "--metadata", str(absent)])
    assert result.exit_code == 1 and result.exception is not None
    assert not isinstance(result.exception, DevnetError)  # a clean click error, no traceback
    assert f"Error: cannot read the devnet metadata {absent}" in result.output
    assert "--metadata FILE" in result.output
    bad = CliRunner().invoke(devnet, ["--port", "0", "--fault", "stall=nan"])
    assert bad.exit_code == 2 and "stall seconds must be finite" in bad.output


@pytest.mark.slow
def test_devnet_command_serves_until_interrupted() -> None:
    pinkpipe = Path(sys.executable).parent / "pinkpipe"
    options = ("--blocks", "3", "--fault", "reorder")
    with running_devnet(pinkpipe, *options, cwd=PROJECT_ROOT) as lines:
        assert lines[0].startswith("genesis 0x") and lines[1].startswith("best #3 ")
        url = lines[2].split("listening on ")[1].strip()

        async def head() -> str:
            async with connect(url) as client:
                return await Rpc(client)("chain_getBlockHash")

        assert asyncio.run(head()) == lines[1].split()[2]
