"""ink! 4 and 5 event decoding by ABI, on the events of the erc20 example contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.ink_abi import InkAbi, InvalidAbi, ink4_signature_topic
from pinkpipe.chain.scale import encode_u128

INK = Path(__file__).parent / "ink"
ALICE = bytes.fromhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
BOB = bytes([0xB0]) * 32


def abi(version: int) -> InkAbi:
    return InkAbi.from_json((INK / f"erc20_v{version}.json").read_text())


def some(account: bytes) -> bytes:
    return b"\x01" + account


def test_ink4_topic_rule_matches_the_phala_system_contract_event() -> None:
    """events.log block 1 carries the system contract's ink! 4 event `AdministratorAdded`."""
    topic = "0053797374656d3a3a41646d696e6973747261746f7241646465640000000000"
    assert ink4_signature_topic("System", "AdministratorAdded").hex() == topic
    long_topic = ink4_signature_topic("AVeryLongContractName", "SomethingHappened")
    assert long_topic == blake2_256(b"\x00AVeryLongContractName::SomethingHappened")


def test_ink5_signature_topics_are_the_event_signatures() -> None:
    transfer, approval = abi(5).events
    assert transfer.signature_topic == blake2_256(
        b"Transfer(Option<AccountId>,Option<AccountId>,Balance)"
    )
    assert approval.signature_topic == blake2_256(b"Approval(AccountId,AccountId,Balance)")


def test_ink4_transfer_and_approval() -> None:
    erc20 = abi(4)
    assert (erc20.ink_version, erc20.name, erc20.code_hash.hex()[:8]) == (4, "erc20", "114f5528")
    transfer = erc20.decode_event(
        b"\x00\x00" + some(BOB) + encode_u128(10**18),
        (ink4_signature_topic("Erc20", "Transfer"), blake2_256(b"topic of to")),
    )
    assert transfer is not None and transfer.name == "Transfer"
    assert transfer.fields == {"from": None, "to": BOB, "value": 10**18}
    approval = erc20.decode_event(
        b"\x01" + ALICE + BOB + encode_u128(5), (ink4_signature_topic("Erc20", "Approval"),)
    )
    assert approval is not None
    assert (approval.name, approval.fields) == (
        "Approval",
        {"owner": ALICE, "spender": BOB, "value": 5},
    )


def test_ink5_transfer_and_approval() -> None:
    erc20 = abi(5)
    transfer_topic, approval_topic = (e.signature_topic for e in erc20.events)
    transfer = erc20.decode_event(some(ALICE) + some(BOB) + encode_u128(7), (transfer_topic,))  # type: ignore[arg-type]
    assert transfer is not None
    assert transfer.fields == {"from": ALICE, "to": BOB, "value": 7}
    approval = erc20.decode_event(ALICE + BOB + encode_u128(2**127), (approval_topic,))  # type: ignore[arg-type]
    assert approval is not None and approval.fields["value"] == 2**127


def test_events_the_abi_cannot_tell_stay_undecoded() -> None:
    v4, v5 = abi(4), abi(5)
    transfer_topic = ink4_signature_topic("Erc20", "Transfer")
    data = b"\x00\x00" + some(BOB) + encode_u128(1)
    assert v4.decode_event(data, ()) is None  # no signature topic
    assert v4.decode_event(data, (ink4_signature_topic("Other", "Transfer"),)) is None
    assert v4.decode_event(data[:-1], (transfer_topic,)) is None  # truncated
    assert v4.decode_event(data + b"\x00", (transfer_topic,)) is None  # trailing byte
    assert v4.decode_event(b"\x07", (transfer_topic,)) is None  # no event 7
    assert v5.decode_event(ALICE + BOB + encode_u128(1), (bytes(32),)) is None


def test_bad_metadata_is_refused() -> None:
    with pytest.raises(InvalidAbi, match="ink! 3 metadata"):
        InkAbi.from_json(json.dumps({"V3": {}}))
    with pytest.raises(InvalidAbi, match="metadata version '6'"):
        InkAbi.from_json(json.dumps({"version": "6"}))
    with pytest.raises(InvalidAbi, match="not JSON"):
        InkAbi.from_json("{")
    broken = json.loads((INK / "erc20_v5.json").read_text())
    del broken["types"]
    with pytest.raises(InvalidAbi, match="missing or has a bad 'types'"):
        InkAbi.from_json(json.dumps(broken))
