"""What the store keeps of an event block: its columns and event rows, derived from the block.

Event fields keep their decoded values (bytes included); the JSON columns' serializer
(`db.dumps_json`) writes bytes as 0x-hex, which is what reading them back returns.

The writer inserts these and `verify` derives them again from the stored SCALE bytes, so one
function decides what every column means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pinkpipe.chain.event_chain import EventRecord, EventsBlock

CONTRACT_FIELD = "contract"
PINK_EVENT_FIELD = "pink_event"


def event_row(cluster: int, block_number: int, index: int, record: EventRecord) -> dict[str, Any]:
    event = record.event
    fields = event.fields
    pink = record.pink_event()
    if pink is not None:
        fields = {**fields, PINK_EVENT_FIELD: {pink.name: pink.fields}}
    contract = event.fields.get(CONTRACT_FIELD)
    return {
        "cluster": cluster,
        "block_number": block_number,
        "index": index,
        "pallet": event.pallet,
        "name": event.name,
        "pink_event": None if pink is None else pink.name,
        "contract": contract if isinstance(contract, bytes) else None,
        "topics": ["0x" + t.hex() for t in record.topics],
        "fields": fields,
    }


def block_row(cluster: int, block: EventsBlock) -> dict[str, Any]:
    header, body = block.header, block.body
    return {
        "cluster": cluster,
        "number": header.number,
        "hash": block.hash(),
        "parent_hash": header.parent_hash,
        "body_hash": header.body_hash,
        "runtime_major": header.runtime_version[0],
        "runtime_minor": header.runtime_version[1],
        "phala_block_number": body.phala_block_number,
        "contract_call_nonce": body.contract_call_nonce,
        "entry_contract": body.entry_contract,
        "origin": body.origin,
        "event_count": len(body.events),
        "scale": block.encode(),
    }


def event_rows(cluster: int, block: EventsBlock) -> list[dict[str, Any]]:
    return [event_row(cluster, block.number, i, r) for i, r in enumerate(block.body.events)]


@dataclass(frozen=True, slots=True)
class Instantiation:
    address: bytes
    deployer: bytes
    block_number: int


def instantiations(block: EventsBlock) -> list[Instantiation]:
    """The contracts a block's `Contracts::Instantiated` events create."""
    return [
        Instantiation(r.event.fields["contract"], r.event.fields["deployer"], block.number)
        for r in block.body.events
        if r.event.pallet == "Contracts" and r.event.name == "Instantiated"
    ]
