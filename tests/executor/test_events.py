"""Event records against Phala's real event chain (`vectors/phala/events.log`).

Every record of the three recorded event blocks is decoded with the field sizes of metadata 1.2
and rebuilt with `pinkpipe.executor.events`; the bytes (phase, event, topics) must be identical.
A flipped byte must no longer decode to the same records.
"""

from __future__ import annotations

import re

import pytest

from pinkpipe.chain.scale import Reader, encode_compact
from pinkpipe.executor import events
from pinkpipe.executor.events import PINK_EVENT_TOPIC, EventRecord
from tests.vectors import VECTORS

EVENTS_LOG = VECTORS / "phala" / "events.log"


def payloads() -> list[bytes]:
    text = EVENTS_LOG.read_text()
    return [bytes.fromhex(m) for m in re.findall(r"payload=([0-9a-f]+)", text)]


def rebuild(r: Reader) -> EventRecord:
    """One EventRecord read field by field and rebuilt through our constructors."""
    if r.u8("phase") != 2:
        raise ValueError("phase is not Initialization")
    pallet, variant = r.u8("pallet"), r.u8("variant")
    account = lambda: r.hash32("AccountId")  # noqa: E731
    match (pallet, variant):
        case (0, 4):
            record = events.killed_account(account())
        case (2, 2):
            record = events.transfer(account(), account(), r.u128())
        case (2, 5):  # Unreserved{who, amount}: no constructor needed by the runtime
            record = EventRecord(2, 5, account() + r.u128().to_bytes(16, "little"))
        case (2, 14):  # Upgraded{who}
            record = EventRecord(2, 14, account())
        case (4, 3):
            contract = account()
            data = r.var_bytes("ContractEmitted.data")
            topics = tuple(r.vec(Reader.hash32, "topics", 32))
            return events.contract_emitted(contract, data, topics)
        case (4, 6):
            if r.u8("Origin") != 1:
                raise ValueError("caller is not Origin::Signed")
            record = events.called(account(), account())
        case (4, 8):
            record = events.deposit_held(account(), account(), r.u128())
        case _:
            raise ValueError(f"event {pallet}/{variant} not expected in the vector")
    topics = tuple(r.vec(Reader.hash32, "topics", 32))
    assert topics == record.topics, f"topics of {pallet}/{variant}"
    return record


def body_records(payload: bytes) -> tuple[bytes, list[EventRecord]]:
    """(the encoded events vector, its records) of one EventsBlock payload."""
    r = Reader(payload, 80)
    r.u32()
    r.option(lambda x: x.var_bytes(), "nonce")
    r.option(lambda x: x.hash32(), "entry")
    start = r.offset
    records = [rebuild(r) for _ in range(r.compact("events"))]
    return payload[start : r.offset], records


@pytest.mark.parametrize("number", [0, 1, 2])
def test_records_rebuild_byte_for_byte(number: int) -> None:
    encoded, records = body_records(payloads()[number])
    assert encode_compact(len(records)) + b"".join(rec.encode() for rec in records) == encoded


def test_the_recorded_call_block_has_called_and_deposit_events() -> None:
    _, records = body_records(payloads()[1])
    assert [(rec.pallet, rec.variant) for rec in records] == [(4, 3), (4, 6), (4, 8)]
    emitted = records[0]
    assert not emitted.is_private  # an ink! event, not a private pink event
    assert records[2].fields[64:] == (1).to_bytes(16, "little")


def test_private_pink_events_are_recognised() -> None:
    contract = bytes(range(32))
    cache_op = events.contract_emitted(contract, b"\x05\x00\x04ab\x04cd", (PINK_EVENT_TOPIC,))
    set_hook = events.contract_emitted(contract, b"\x02\x00", (PINK_EVENT_TOPIC,))
    assert cache_op.is_private and not set_hook.is_private


def test_a_flipped_contract_byte_no_longer_matches_its_topics() -> None:
    payload = bytearray(payloads()[1])
    encoded, records = body_records(bytes(payload))
    called = encoded.index(records[1].encode())
    contract_at = bytes(payload).index(encoded) + called + 1 + 2 + 33  # phase, ids, Origin
    payload[contract_at] ^= 0x01
    with pytest.raises(AssertionError, match="topics of 4/6"):
        body_records(bytes(payload))
