"""Event chains built with the codec, for store tests and benches.

Events are the real ones of `phala/events.log` (re-used byte for byte) plus encoded
`Balances::Transfer`s and pink events, so every generated block decodes with the shipped
metadata exactly as a block from the Pink runtime would.
"""

from __future__ import annotations

from functools import cache

from pinkpipe.chain.event_chain import ZERO_HASH, EventRecord, EventsBlock, EventsBlockBody
from pinkpipe.chain.pink_events import PINK_EVENT_TOPIC, shipped_event_types
from pinkpipe.chain.scale import encode_bytes, encode_u32, encode_u64, encode_u128
from tests.vectors import phala_event_blocks

CLUSTER_A = bytes([0xA1]) * 32
CLUSTER_B = bytes([0xB2]) * 32
ALICE = bytes.fromhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
CONTRACTS = tuple(bytes([0xC0 + i]) * 32 for i in range(4))


@cache
def real_blocks() -> tuple[EventsBlock, ...]:
    return tuple(EventsBlock.decode(raw) for raw in phala_event_blocks())


def transfer(source: bytes, dest: bytes, amount: int) -> EventRecord:
    raw = b"\x02\x02" + source + dest + encode_u128(amount)
    return EventRecord(shipped_event_types((1, 2)).decode(raw))


def instantiated(deployer: bytes, contract: bytes) -> EventRecord:
    return EventRecord(shipped_event_types((1, 2)).decode(b"\x04\x00" + deployer + contract))


def set_hook(system: bytes, contract: bytes) -> EventRecord:
    """A `PinkEvent::SetHook` emitted by the system contract under the pink topic."""
    data = b"\x02\x00" + contract + encode_u32(0xDEADBEEF) + encode_u64(10**9)
    raw = b"\x04\x03" + system + encode_bytes(data)
    return EventRecord(shipped_event_types((1, 2)).decode(raw), (PINK_EVENT_TOPIC,))


def emitted(contract: bytes, data: bytes, topics: tuple[bytes, ...]) -> EventRecord:
    raw = b"\x04\x03" + contract + encode_bytes(data)
    return EventRecord(shipped_event_types((1, 2)).decode(raw), topics)


def contract_call(i: int) -> list[EventRecord]:
    """A real contract call's events (events.log block 1) with the ink! event emitted by
    contract i % 4, plus a Transfer on odd i: 3 or 4 events."""
    real_emitted, called, deposit = real_blocks()[1].body.events
    own = emitted(CONTRACTS[i % 4], real_emitted.event.fields["data"], real_emitted.topics)
    return [own, called, deposit, transfer(ALICE, CONTRACTS[i % 4], i)][: 3 + i % 2]


def make_chain(
    count: int, parent: EventsBlock | None = None, events_per_block: int | None = None
) -> list[EventsBlock]:
    """`count` linked blocks after `parent` (from #0 if None), 3-4 events each."""
    blocks: list[EventsBlock] = []
    number = 0 if parent is None else parent.number + 1
    parent_hash = ZERO_HASH if parent is None else parent.hash()
    for i in range(number, number + count):
        records = contract_call(i)
        if events_per_block is not None:
            records = (records * events_per_block)[:events_per_block]
        body = EventsBlockBody(
            phala_block_number=1000 + i // 2,
            contract_call_nonce=i.to_bytes(8, "little"),
            entry_contract=CONTRACTS[i % 4],
            events=tuple(records),
            origin=ALICE if i % 3 else CONTRACTS[0],
        )
        block = EventsBlock.new(i, (1, 2), parent_hash, body)
        blocks.append(block)
        parent_hash = block.hash()
    return blocks
