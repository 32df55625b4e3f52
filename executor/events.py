"""The Pink runtime's events as `EventRecord`s of its `RuntimeEvent` (metadata 1.2).

Only System (0), Balances (2) and Contracts (4) have events (PINK.md 6.2, 9.2). Records are kept
already SCALE-encoded: the event-chain codec (`pinkpipe.chain.event_chain`, another branch)
wraps them into `EventsBlock` bodies unchanged. Phase is always `Initialization` (index 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import Reader, encode_bytes, encode_compact, encode_u128

SYSTEM, BALANCES, CONTRACTS = 0, 2, 4
PHASE_INITIALIZATION = b"\x02"

# PinkEvent topic: 0x40 ‖ "phala.pink.event" ‖ zero padding to 32 bytes (PINK.md 4.2).
PINK_EVENT_TOPIC = (b"\x40" + b"phala.pink.event").ljust(32, b"\x00")
PRIVATE_PINK_EVENTS = frozenset({4, 5})  # SidevmMessage, CacheOp


@dataclass(frozen=True)
class EventRecord:
    """`frame_system::EventRecord{phase, event, topics}` with `event` = SCALE RuntimeEvent."""

    pallet: int
    variant: int
    fields: bytes
    topics: tuple[bytes, ...] = ()

    @property
    def event(self) -> bytes:
        return bytes([self.pallet, self.variant]) + self.fields

    def encode(self) -> bytes:
        return (
            PHASE_INITIALIZATION
            + self.event
            + encode_compact(len(self.topics))
            + b"".join(self.topics)
        )

    @property
    def is_private(self) -> bool:
        """A `ContractEmitted` carrying a private PinkEvent: left out of event blocks (6.2)."""
        if (self.pallet, self.variant) != (CONTRACTS, 3) or self.topics != (PINK_EVENT_TOPIC,):
            return False
        payload = Reader(self.fields, 32).var_bytes("ContractEmitted.data")  # after contract
        return bool(payload) and payload[0] in PRIVATE_PINK_EVENTS


def new_account(account: bytes) -> EventRecord:
    return EventRecord(SYSTEM, 3, account)


def killed_account(account: bytes) -> EventRecord:
    return EventRecord(SYSTEM, 4, account)


def endowed(account: bytes, free_balance: int) -> EventRecord:
    return EventRecord(BALANCES, 0, account + encode_u128(free_balance))


def transfer(source: bytes, dest: bytes, amount: int) -> EventRecord:
    return EventRecord(BALANCES, 2, source + dest + encode_u128(amount))


def minted_deposit(account: bytes, amount: int) -> EventRecord:
    """`Balances::Deposit{who, amount}` (what `Currency::deposit_creating` emits)."""
    return EventRecord(BALANCES, 7, account + encode_u128(amount))


def instantiated(deployer: bytes, contract: bytes) -> EventRecord:
    return EventRecord(
        CONTRACTS, 0, deployer + contract, (blake2_256(deployer), blake2_256(contract))
    )


def terminated(contract: bytes, beneficiary: bytes) -> EventRecord:
    return EventRecord(
        CONTRACTS, 1, contract + beneficiary, (blake2_256(contract), blake2_256(beneficiary))
    )


def code_stored(code_hash: bytes, deposit_held: int, uploader: bytes) -> EventRecord:
    return EventRecord(CONTRACTS, 2, code_hash + encode_u128(deposit_held) + uploader, (code_hash,))


def code_removed(code_hash: bytes, deposit_released: int, remover: bytes) -> EventRecord:
    return EventRecord(
        CONTRACTS, 4, code_hash + encode_u128(deposit_released) + remover, (code_hash,)
    )


def contract_emitted(contract: bytes, data: bytes, topics: tuple[bytes, ...]) -> EventRecord:
    return EventRecord(CONTRACTS, 3, contract + encode_bytes(data), topics)


def contract_code_updated(contract: bytes, new: bytes, old: bytes) -> EventRecord:
    return EventRecord(CONTRACTS, 5, contract + new + old, (blake2_256(contract), new, old))


def called(caller: bytes, contract: bytes) -> EventRecord:
    """`Called{caller: Origin::Signed(caller), contract}`; topics as observed in events.log."""
    origin = b"\x01" + caller
    return EventRecord(CONTRACTS, 6, origin + contract, (blake2_256(origin), blake2_256(contract)))


def delegate_called(contract: bytes, code_hash: bytes) -> EventRecord:
    return EventRecord(CONTRACTS, 7, contract + code_hash, (blake2_256(contract), code_hash))


def deposit_held(source: bytes, contract: bytes, amount: int) -> EventRecord:
    return EventRecord(
        CONTRACTS,
        8,
        source + contract + encode_u128(amount),
        (blake2_256(source), blake2_256(contract)),
    )


def deposit_released(contract: bytes, dest: bytes, amount: int) -> EventRecord:
    return EventRecord(
        CONTRACTS,
        9,
        contract + dest + encode_u128(amount),
        (blake2_256(contract), blake2_256(dest)),
    )


EVENT_NAMES = {
    (SYSTEM, 3): "System::NewAccount",
    (SYSTEM, 4): "System::KilledAccount",
    (BALANCES, 0): "Balances::Endowed",
    (BALANCES, 2): "Balances::Transfer",
    (BALANCES, 7): "Balances::Deposit",
    (CONTRACTS, 0): "Contracts::Instantiated",
    (CONTRACTS, 1): "Contracts::Terminated",
    (CONTRACTS, 2): "Contracts::CodeStored",
    (CONTRACTS, 3): "Contracts::ContractEmitted",
    (CONTRACTS, 4): "Contracts::CodeRemoved",
    (CONTRACTS, 5): "Contracts::ContractCodeUpdated",
    (CONTRACTS, 6): "Contracts::Called",
    (CONTRACTS, 7): "Contracts::DelegateCalled",
    (CONTRACTS, 8): "Contracts::StorageDepositTransferredAndHeld",
    (CONTRACTS, 9): "Contracts::StorageDepositTransferredAndReleased",
}


def event_name(record: EventRecord) -> str:
    return EVENT_NAMES.get((record.pallet, record.variant), f"{record.pallet}/{record.variant}")


# PinkEvents a query may leave behind (PINK.md 4.2): DeploySidevmTo, SidevmMessage, CacheOp,
# StopSidevm, ForceStopSidevm, SidevmOperation.
QUERY_PINK_EVENTS = frozenset({3, 4, 5, 6, 7, 11})


@dataclass(frozen=True)
class SideEffects:
    """`ExecSideEffects::V1`: what pRuntime applies after an ecall (PINK.md 5.3, 7.5, 7.6).

    `pink_events` are (contract, SCALE PinkEvent) from `ContractEmitted` with exactly the pink
    topic; `ink_events` every other `ContractEmitted` as (contract, topics, data);
    `instantiated` the (deployer, contract) of each `Instantiated`, nested ones included."""

    pink_events: tuple[tuple[bytes, bytes], ...] = ()
    ink_events: tuple[tuple[bytes, tuple[bytes, ...], bytes], ...] = ()
    instantiated: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def of(cls, deposited: tuple[EventRecord, ...], query: bool) -> SideEffects:
        pink: list[tuple[bytes, bytes]] = []
        ink: list[tuple[bytes, tuple[bytes, ...], bytes]] = []
        instantiated: list[tuple[bytes, bytes]] = []
        for record in deposited:
            kind = (record.pallet, record.variant)
            if kind == (CONTRACTS, 0):
                instantiated.append((record.fields[:32], record.fields[32:64]))
            elif kind == (CONTRACTS, 3):
                contract = record.fields[:32]
                data = Reader(record.fields, 32).var_bytes("ContractEmitted.data")
                if record.topics == (PINK_EVENT_TOPIC,):
                    if not query or (data and data[0] in QUERY_PINK_EVENTS):
                        pink.append((contract, data))
                else:
                    ink.append((contract, record.topics, data))
        return cls(tuple(pink), tuple(ink), tuple(instantiated))
