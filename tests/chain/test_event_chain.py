"""The EventsBlock codec on the three real event blocks of `phala/events.log`."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

from pinkpipe.chain.event_chain import (
    HEADER_SIZE,
    ZERO_HASH,
    BrokenEventChain,
    EventRecord,
    EventsBlock,
    EventsBlockBody,
    Phase,
    PhaseKind,
    check_chain,
    check_link,
)
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.pink_events import shipped_event_types
from pinkpipe.chain.scale import CodecError
from tests.fuzzing import mutated
from tests.vectors import PHALA, phala_event_blocks

ALICE = bytes.fromhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
HASHES = (
    "5c4cf7ac07df1d524752c91778bb64ae659fcbb265671fe5c6935cb38b117af8",
    "f0d25f95dceacba9af2b4f3379570bc972b2b8568273b188a7c73ad05741a989",
    "2007ae66179ea4ef884267c9c5587c143451f25a98b2cc02851950cfb698401d",
)


@pytest.fixture(scope="module")
def raw_blocks() -> list[bytes]:
    return phala_event_blocks()


@pytest.fixture(scope="module")
def blocks(raw_blocks: list[bytes]) -> list[EventsBlock]:
    return [EventsBlock.decode(raw) for raw in raw_blocks]


def test_real_blocks_decode_and_hash(blocks: list[EventsBlock]) -> None:
    assert [b.number for b in blocks] == [0, 1, 2]
    assert [b.hash().hex() for b in blocks] == list(HASHES)
    assert all(b.header.runtime_version == (1, 2) for b in blocks)
    assert [b.body.phala_block_number for b in blocks] == [234, 257, 258]
    assert blocks[0].header.parent_hash == ZERO_HASH


def test_reencode_from_fields_is_byte_identical(
    raw_blocks: list[bytes], blocks: list[EventsBlock]
) -> None:
    for raw, block in zip(raw_blocks, blocks, strict=True):
        fresh = EventsBlock(block.header, block.body)  # no remembered bytes
        assert fresh.encode() == raw
        assert block.header.encode() == raw[:HEADER_SIZE]


def test_body_hashes_and_constructor(raw_blocks: list[bytes], blocks: list[EventsBlock]) -> None:
    for raw, block in zip(raw_blocks, blocks, strict=True):
        assert block.header.body_hash == blake2_256(raw[HEADER_SIZE:])
        rebuilt = EventsBlock.new(
            block.number, (1, 2), block.header.parent_hash, dataclasses.replace(block.body)
        )
        assert rebuilt.header == block.header
        assert rebuilt.encode() == raw


def test_chain_links(blocks: list[EventsBlock]) -> None:
    assert check_chain(blocks) == 3
    assert blocks[1].header.parent_hash == blocks[0].hash()
    with pytest.raises(BrokenEventChain, match=r"#2 0x2007ae66.*expected number 1"):
        check_link(blocks[0], blocks[2])
    with pytest.raises(BrokenEventChain, match="expected number 0"):
        check_chain(blocks[1:])


def test_block0_names_the_migration_events(blocks: list[EventsBlock]) -> None:
    events = [r.event for r in blocks[0].body.events]
    assert len(events) == 19
    assert [e.qualified_name for e in events[:7]] == ["Balances.Upgraded"] + [
        "Balances.Unreserved"
    ] * 6
    assert events[0].fields == {"who": ALICE}
    assert [e.fields["amount"] for e in events[1:7]] == [72752, 45059, 65214, 72807, 45113, 65268]
    transfers = [e.fields for e in events if e.qualified_name == "Balances.Transfer"]
    assert [t["amount"] for t in transfers] == [157, 224, 225]
    assert transfers[2]["to"].hex().startswith("28e3b7ec")
    killed = [e for e in events if e.qualified_name == "System.KilledAccount"]
    assert killed[0].fields["account"] == transfers[0]["from"]
    body = blocks[0].body
    assert (body.contract_call_nonce, body.entry_contract, body.origin) == (None, None, None)
    assert all(r.phase == Phase(PhaseKind.INITIALIZATION) and r.topics == () for r in body.events)


def test_block1_names_the_contract_call(blocks: list[EventsBlock]) -> None:
    body = blocks[1].body
    contract = bytes.fromhex("28e3b7ecac3fd20a127041e6f83e9c2bd6e18bae55f0d2afcd6cb327dad039b5")
    assert body.entry_contract == contract and body.origin == ALICE
    assert body.contract_call_nonce is not None and body.contract_call_nonce.hex()[:8] == "4035c057"
    emitted, called, deposit = (r.event for r in body.events)
    assert emitted.qualified_name == "Contracts.ContractEmitted"
    assert emitted.fields["contract"] == contract
    assert body.events[0].topics[0].startswith(b"\x00System::AdministratorAdded")
    assert body.events[0].pink_event() is None
    assert called.qualified_name == "Contracts.Called"
    assert called.fields == {"caller": {"Signed": ALICE}, "contract": contract}
    # pallet-contracts topics of Called: blake2(SCALE(Origin::Signed(caller))), blake2(contract)
    assert body.events[1].topics == (blake2_256(b"\x01" + ALICE), blake2_256(contract))
    assert deposit.qualified_name == "Contracts.StorageDepositTransferredAndHeld"
    assert deposit.fields == {"from": ALICE, "to": contract, "amount": 1}


def test_flipping_any_byte_is_rejected_or_changes_the_hash(
    raw_blocks: list[bytes], blocks: list[EventsBlock]
) -> None:
    raw = raw_blocks[1]
    for offset in range(len(raw)):
        damaged = bytearray(raw)
        damaged[offset] ^= 0x01
        try:
            block = EventsBlock.decode(bytes(damaged))
        except CodecError:
            continue
        # only header bytes can decode; the block then no longer is the one the chain links
        assert offset < HEADER_SIZE
        assert block.hash() != blocks[1].hash()
        with pytest.raises(BrokenEventChain):
            check_chain([blocks[0], block, blocks[2]])


def test_flipped_body_byte_names_the_body_hash(raw_blocks: list[bytes]) -> None:
    damaged = bytearray(raw_blocks[2])
    damaged[-40] ^= 0xFF  # inside the StorageDepositTransferredAndHeld amount
    with pytest.raises(CodecError, match=r"EventsBlockHeader at byte 48: body_hash 0x9749b117"):
        EventsBlock.decode(bytes(damaged))


def test_truncated_and_trailing(raw_blocks: list[bytes]) -> None:
    raw = raw_blocks[0]
    with pytest.raises(CodecError, match="body_hash at byte 48: needs 32 bytes, 27 left"):
        EventsBlock.decode(raw[:75])
    with pytest.raises(CodecError, match=r"Option<AccountId> at byte \d+: needs 1 byte"):
        EventsBlock.decode(raw[:-1])
    with pytest.raises(CodecError, match="1 trailing bytes"):
        EventsBlock.decode(raw + b"\x00")


def test_unknown_event_variant_is_named(raw_blocks: list[bytes]) -> None:
    raw = bytearray(raw_blocks[2])
    first_event = HEADER_SIZE + 4 + 1 + 33 + 32 + 1 + 1 + 1  # number, nonce, entry, len, phase
    assert raw[first_event] == 4  # Contracts
    raw[first_event] = 3  # Randomness has no events
    with pytest.raises(CodecError, match=f"RuntimeEvent at byte {first_event}: no pallet"):
        EventsBlock.decode(bytes(raw))


def test_wrong_runtime_version(raw_blocks: list[bytes]) -> None:
    for version, reason in (
        (b"\x01\x00\x00\x00\x03\x00\x00\x00", "runtime 1.3 has no event-chain body layout"),
        (b"\x01\x00\x00\x00\x00\x00\x00\x00", "runtime 1.0 has no event-chain body layout"),
        (b"\x01\x00\x00\x00\x01\x00\x00\x00", "no Pink runtime metadata for version 1.1"),
    ):
        raw = raw_blocks[1][:8] + version + raw_blocks[1][16:]
        with pytest.raises(CodecError, match=f"EventsBlockHeader at byte 8: {reason}"):
            EventsBlock.decode(raw)


def test_runtime_1_1_layout_has_no_origin(blocks: list[EventsBlock]) -> None:
    """A 1.1 body ends after its events; decoded here with events whose 1.1 and 1.2
    encodings agree (Balances::Transfer), because only 1.2 metadata ships."""
    transfer = next(r for r in blocks[0].body.events if r.event.name == "Transfer")
    body = dataclasses.replace(blocks[1].body, events=(transfer,), origin=None)
    block = EventsBlock.new(7, (1, 1), blocks[0].hash(), body)
    raw = block.encode()
    assert raw[HEADER_SIZE:] == body.encode((1, 2))[:-1]  # same bytes minus Option tag 0
    decoded = EventsBlock.decode(raw, {(1, 1): shipped_event_types((1, 2))})
    assert decoded.body == body and decoded.hash() == block.hash()
    with pytest.raises(ValueError, match=r"runtime 1\.1 body has no origin"):
        dataclasses.replace(body, origin=ALICE).encode((1, 1))


def test_new_block_from_fields_round_trips(blocks: list[EventsBlock]) -> None:
    """What the executor does: build records from event bytes, chain them, decode back."""
    types = shipped_event_types((1, 2))
    record = EventRecord(
        types.decode(blocks[2].body.events[0].event.raw), blocks[2].body.events[0].topics
    )
    body = EventsBlockBody(300, b"nonce", ALICE, (record,), ALICE)
    block = EventsBlock.new(3, (1, 2), blocks[2].hash(), body)
    assert EventsBlock.decode(block.encode()) == block
    check_chain([*blocks, block])


def test_shipped_metadata_is_the_recorded_vector() -> None:
    from pinkpipe.chain.pink_events import shipped_metadata

    assert shipped_metadata("pink-metadata-1.2.bin") == (PHALA / "metadata-1.2.bin").read_bytes()


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=mutated(phala_event_blocks()))
def test_damaged_real_blocks_raise_only_codec_errors(data: bytes) -> None:
    """Whatever the damage, decoding fails with CodecError or yields a block that re-encodes
    to exactly the bytes given (then only header bytes can have changed)."""
    try:
        block = EventsBlock.decode(data)
    except CodecError:
        return
    assert EventsBlock(block.header, block.body).encode() == data
    assert data[HEADER_SIZE:] in (raw[HEADER_SIZE:] for raw in phala_event_blocks())
