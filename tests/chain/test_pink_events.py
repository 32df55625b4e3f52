"""Pink runtime events: RuntimeEvent by the shipped metadata, PinkEvent by hand."""

from __future__ import annotations

import pytest

from pinkpipe.chain.event_chain import EventRecord
from pinkpipe.chain.pink_events import (
    PINK_EVENT_TOPIC,
    decode_pink_event,
    jsonable,
    shipped_event_types,
)
from pinkpipe.chain.scale import CodecError, encode_bytes, encode_u32, encode_u64, encode_u128
from pinkpipe.chain.type_registry import TypeRegistry
from tests.vectors import PHALA

SYSTEM = bytes(range(32))
CONTRACT = bytes([7]) * 32


def contract_emitted(data: bytes) -> bytes:
    """RuntimeEvent::Contracts(4) ContractEmitted(3){contract, data}."""
    return b"\x04\x03" + SYSTEM + encode_bytes(data)


def test_pink_topic_bytes() -> None:
    assert PINK_EVENT_TOPIC.hex() == "40" + b"phala.pink.event".hex() + "00" * 15


def test_set_hook_inside_contract_emitted() -> None:
    data = b"\x02" + b"\x00" + CONTRACT + encode_u32(0x12345678) + encode_u64(10**12)
    event = shipped_event_types((1, 2)).decode(contract_emitted(data))
    record = EventRecord(event, (PINK_EVENT_TOPIC,))
    pink = record.pink_event()
    assert pink is not None and pink.name == "SetHook"
    assert pink.fields == {
        "hook": "OnBlockEnd",
        "contract": CONTRACT,
        "selector": 0x12345678,
        "gas_limit": 10**12,
    }
    # the same data under another topic is an ordinary contract event
    assert EventRecord(event, (bytes(32),)).pink_event() is None


def test_upgrade_runtime_and_cache_op() -> None:
    upgrade = decode_pink_event(b"\x0a" + encode_u32(1) + encode_u32(2))
    assert (upgrade.name, upgrade.fields) == ("UpgradeRuntimeTo", {"version": [1, 2]})
    op = decode_pink_event(b"\x05\x01" + encode_bytes(b"k") + encode_u64(9))
    assert op.fields == {"op": {"SetExpiration": {"key": b"k", "expiration": 9}}}


def test_undecodable_pink_data_stays_raw() -> None:
    with pytest.raises(CodecError, match="PinkEvent at byte 0: unknown variant index 0"):
        decode_pink_event(b"\x00")
    event = shipped_event_types((1, 2)).decode(contract_emitted(b"\x0a\x01"))
    assert EventRecord(event, (PINK_EVENT_TOPIC,)).pink_event() is None
    assert jsonable(event.fields) == {"contract": "0x" + SYSTEM.hex(), "data": "0x0a01"}


def test_balances_transfer_fields() -> None:
    raw = b"\x02\x02" + SYSTEM + CONTRACT + encode_u128(2**100)
    event = shipped_event_types((1, 2)).decode(raw)
    assert (event.pallet, event.name, event.raw) == ("Balances", "Transfer", raw)
    assert event.fields == {"from": SYSTEM, "to": CONTRACT, "amount": 2**100}


def test_event_errors_name_type_and_offset() -> None:
    types = shipped_event_types((1, 2))
    with pytest.raises(CodecError, match="Balances::Event at byte 1: invalid variant index 99"):
        types.decode(b"\x02\x63")
    with pytest.raises(CodecError, match=r"u128 at byte 66: needs 16 bytes, 3 left"):
        types.decode(b"\x02\x02" + SYSTEM + CONTRACT + b"\x01\x02\x03")
    with pytest.raises(CodecError, match="pallet_contracts::Origin at byte 2: invalid variant"):
        types.decode(b"\x04\x06\x05" + CONTRACT)


def test_registry_refuses_other_metadata() -> None:
    good = (PHALA / "metadata-1.2.bin").read_bytes()
    with pytest.raises(CodecError, match="magic"):
        TypeRegistry.from_metadata(b"atem" + good[4:])
    with pytest.raises(CodecError, match="version 15, expected 14"):
        TypeRegistry.from_metadata(good[:4] + b"\x0f" + good[5:])
    with pytest.raises(KeyError, match=r"no Pink runtime metadata for version 1\.1"):
        shipped_event_types((1, 1))
