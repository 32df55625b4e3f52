"""`pinkpipe abi add|list`: contract events decoded by a registered ink! 4 or 5 ABI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pinkpipe.chain.event_chain import EventsBlock, EventsBlockBody
from pinkpipe.chain.ink_abi import InkAbi, ink4_signature_topic
from pinkpipe.chain.scale import encode_u128
from pinkpipe.eventstore.db import open_engine
from pinkpipe.eventstore.writer import EventWriter
from pinkpipe.migrations import upgrade
from tests.event_blocks import ALICE, CLUSTER_A, emitted, instantiated
from tests.store_support import run_cli as run

INK = Path(__file__).resolve().parent.parent / "chain" / "ink"
V4, V5 = INK / "erc20_v4.json", INK / "erc20_v5.json"
TOKEN4, TOKEN5 = bytes([0x44]) * 32, bytes([0x55]) * 32
BOB = bytes([0xB0]) * 32


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    """Two erc20 tokens instantiated in block 0; block 1 holds one event of each."""
    engine = open_engine(url)
    upgrade(engine)
    deploy = EventsBlockBody(
        10, None, None, (instantiated(ALICE, TOKEN4), instantiated(ALICE, TOKEN5)), None
    )
    block0 = EventsBlock.new(0, (1, 2), bytes(32), deploy)
    v5_approval = InkAbi.from_json(V5.read_text()).events[1].signature_topic
    assert v5_approval is not None
    events = (
        emitted(
            TOKEN4,
            b"\x00\x00\x01" + BOB + encode_u128(10**18),
            (ink4_signature_topic("Erc20", "Transfer"), bytes(32)),
        ),
        emitted(TOKEN5, ALICE + BOB + encode_u128(5), (v5_approval, bytes(32), bytes(32))),
    )
    block1 = EventsBlock.new(
        1, (1, 2), block0.hash(), EventsBlockBody(11, None, None, events, None)
    )
    EventWriter(engine).append(CLUSTER_A, [block0, block1])
    yield engine
    engine.dispose()


def ink_events(url: str) -> list[object]:
    result = run(url, "events", "get", CLUSTER_A.hex(), "1", "--json")
    assert result.exit_code == 0, result.output
    return [e["ink_event"] for e in json.loads(result.output)["events"]]


def test_events_decode_once_their_abi_is_added(url: str, engine: Engine) -> None:
    assert ink_events(url) == [None, None]
    added = run(url, "abi", "add", str(V4), "--contract", TOKEN4.hex())
    assert added.exit_code == 0, added.output
    assert added.output.startswith("ink! 4 ABI of erc20 (code hash 0x114f5528")
    assert ink_events(url) == [
        {"Transfer": {"from": None, "to": "0x" + BOB.hex(), "value": 10**18}},
        None,
    ]
    assert run(url, "abi", "add", str(V5), "--contract", "0x" + TOKEN5.hex()).exit_code == 0
    assert ink_events(url)[1] == {
        "Approval": {"owner": "0x" + ALICE.hex(), "spender": "0x" + BOB.hex(), "value": 5}
    }
    listed = run(url, "abi", "list").output.splitlines()
    assert listed == [
        f"0x114f55289bcdfd0d28e0bbd1c63452b4e45901a022b1011d298fa2eb12d1711d erc20 (ink! 4): "
        f"0x{TOKEN4.hex()}",
        f"0x656ec6137638ba8ad1477e96dfe91eb90ca625dfbe543057868ea521fd1b73fe erc20 (ink! 5): "
        f"0x{TOKEN5.hex()}",
    ]
    assert run(url, "events", "verify").exit_code == 0  # decoding by ABI changes no stored row


def test_abi_refusals(url: str, engine: Engine, tmp_path: Path) -> None:
    assert run(url, "abi", "add", str(V4)).exit_code == 0
    assert run(url, "abi", "add", str(V4)).exit_code == 0  # the same ABI again: a no-op
    other = json.loads(V4.read_text())
    other["contract"]["name"] = "not-erc20"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(other))
    refused = run(url, "abi", "add", str(changed))
    assert refused.exit_code == 2 and "ABIs are never replaced" in refused.output
    unknown = run(url, "abi", "add", str(V5), "--contract", "ee" * 32)
    assert unknown.exit_code == 1
    assert unknown.output.strip() == f"error: no instantiated contract 0x{'ee' * 32} in the store"
    assert run(url, "abi", "list").output.count("\n") == 1  # the refused V5 was not stored
    v3 = tmp_path / "v3.json"
    v3.write_text('{"V3": {}}')
    assert "ink! 3 metadata" in run(url, "abi", "add", str(v3)).output
