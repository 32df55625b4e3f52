"""Typed access to the runtime state: balances, code, contracts, storage, cluster parameters.

Everything lives in one `State` so a frame's rollback undoes balances, storage, code refcounts
and events alike. Balances follow pallet-balances v1.5 as Pink configures it (ExistentialDeposit
1, holds for storage deposits): `transfer` is fungible `transfer` (zero or self transfers are
no-ops; a new account needs at least ED; `keep_alive` keeps the source at ED or more), `mint`
is `Currency::deposit_creating` (events Deposit, NewAccount, Endowed, in that order).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pinkpipe.chain.scale import encode_compact, encode_u32, encode_u128
from pinkpipe.executor import events
from pinkpipe.executor.errors import DispatchFailure, fail, token_error
from pinkpipe.executor.events import EventRecord
from pinkpipe.executor.state import State

EXISTENTIAL_DEPOSIT = 1


@dataclass(frozen=True)
class Account:
    free: int = 0
    held: int = 0

    @property
    def total(self) -> int:
        return self.free + self.held


@dataclass(frozen=True)
class ClusterParams:
    cluster_id: bytes
    gas_price: int
    deposit_per_item: int
    deposit_per_byte: int
    treasury: bytes


@dataclass(frozen=True)
class CodeInfo:
    """pallet-contracts `CodeInfo`: who paid, how much is held, how many contracts use it."""

    owner: bytes
    deposit: int
    refcount: int
    deterministic: bool
    code_len: int


@dataclass(frozen=True)
class ContractInfo:
    """pallet-contracts v1.5 `ContractInfo` (fields that shape deposits and behaviour)."""

    trie_id: bytes
    code_hash: bytes
    storage_bytes: int = 0
    storage_items: int = 0
    storage_byte_deposit: int = 0
    storage_item_deposit: int = 0
    storage_base_deposit: int = 0

    def encoded_size(self) -> int:
        """Length of its SCALE encoding (empty delegate-dependency map): 122 for a 32-byte id."""
        return (
            len(encode_compact(len(self.trie_id)))
            + len(self.trie_id)
            + 32
            + 4
            + 4
            + 16 * 3
            + len(encode_compact(0))
        )

    def encode(self) -> bytes:
        return (
            encode_compact(len(self.trie_id))
            + self.trie_id
            + self.code_hash
            + encode_u32(self.storage_bytes)
            + encode_u32(self.storage_items)
            + encode_u128(self.storage_byte_deposit)
            + encode_u128(self.storage_item_deposit)
            + encode_u128(self.storage_base_deposit)
            + encode_compact(0)
        )


class Ledger:
    """The state's typed views; every write goes through `State.put` and so is journaled."""

    __slots__ = ("state",)

    def __init__(self, state: State) -> None:
        self.state = state

    # --- events --------------------------------------------------------------------------

    def emit(self, record: EventRecord) -> None:
        self.state.put(("System", "Events"), (*self.events(), record))

    def events(self) -> tuple[EventRecord, ...]:
        return self.state.get(("System", "Events"), ())

    def reset_events(self) -> None:
        self.state.put(("System", "Events"), None)

    # --- balances ------------------------------------------------------------------------

    def account(self, who: bytes) -> Account:
        return self.state.get(("System", "Account", who), Account())

    def exists(self, who: bytes) -> bool:
        return ("System", "Account", who) in self.state

    def _set_account(self, who: bytes, account: Account) -> None:
        existed = self.exists(who)
        alive = account.free >= EXISTENTIAL_DEPOSIT or account.held > 0
        self.state.put(("System", "Account", who), account if alive else None)
        if existed and not alive:
            self.emit(events.killed_account(who))

    def _credit(self, who: bytes, amount: int) -> None:
        """Add to free balance, creating the account (NewAccount, Endowed) when needed."""
        before = self.account(who)
        is_new = not self.exists(who)
        if is_new and amount < EXISTENTIAL_DEPOSIT:
            raise DispatchFailure(token_error("BelowMinimum"), f"0x{who.hex()} would be dust")
        self._set_account(who, replace(before, free=before.free + amount))
        if is_new:
            self.emit(events.new_account(who))
            self.emit(events.endowed(who, amount))

    def mint(self, who: bytes, amount: int) -> None:
        """`Currency::deposit_creating`: silently nothing if zero or below ED for a new account."""
        if amount == 0 or (not self.exists(who) and amount < EXISTENTIAL_DEPOSIT):
            return
        self.emit(events.minted_deposit(who, amount))
        self._credit(who, amount)
        self._add_issuance(amount)

    def _add_issuance(self, amount: int) -> None:
        self.state.put(("Balances", "TotalIssuance"), self.total_issuance() + amount)

    def total_issuance(self) -> int:
        return self.state.get(("Balances", "TotalIssuance"), 0)

    def transfer(self, source: bytes, dest: bytes, amount: int, keep_alive: bool) -> None:
        """fungible `transfer`; raises a Token error, nothing changed, when it cannot."""
        if amount == 0 or source == dest:
            return
        src = self.account(source)
        floor = EXISTENTIAL_DEPOSIT if keep_alive or src.held else 0
        if src.free < amount or src.free - amount < floor:
            name = "FundsUnavailable" if src.free < amount else "NotExpendable"
            raise DispatchFailure(
                token_error(name), f"0x{source.hex()} has {src.free} free, cannot send {amount}"
            )
        if not self.exists(dest) and amount < EXISTENTIAL_DEPOSIT:
            raise DispatchFailure(token_error("BelowMinimum"), f"0x{dest.hex()} would be dust")
        self._set_account(source, replace(src, free=src.free - amount))
        self._credit(dest, amount)
        self.emit(events.transfer(source, dest, amount))

    def transfer_and_hold(self, source: bytes, dest: bytes, amount: int) -> None:
        """Move free balance of `source` onto hold at `dest` (Preserve: source keeps ED)."""
        src = self.account(source)
        if src.free < amount or src.free - amount < EXISTENTIAL_DEPOSIT:
            raise fail(
                "StorageDepositNotEnoughFunds",
                f"0x{source.hex()} has {src.free} free, deposit needs {amount}",
            )
        self._set_account(source, replace(src, free=src.free - amount))
        dst = self.account(dest)
        self._set_account(dest, replace(dst, held=dst.held + amount))

    def hold(self, who: bytes, amount: int) -> None:
        """Put `amount` of `who`'s free balance on hold (the code upload deposit)."""
        account = self.account(who)
        if account.free < amount:
            raise fail("StorageDepositNotEnoughFunds", f"0x{who.hex()} cannot hold {amount}")
        self._set_account(
            who, replace(account, free=account.free - amount, held=account.held + amount)
        )

    def release_to(self, source: bytes, dest: bytes, amount: int) -> None:
        """Move `amount` held at `source` to the free balance of `dest` (a deposit refund)."""
        src = self.account(source)
        amount = min(amount, src.held)
        self._set_account(source, replace(src, held=src.held - amount))
        if amount:
            dst = self.account(dest)
            self._set_account(dest, replace(dst, free=dst.free + amount))

    # --- cluster -------------------------------------------------------------------------

    def params(self) -> ClusterParams:
        return self.state.get(("Pink", "Params"), ClusterParams(bytes(32), 0, 0, 0, bytes(32)))

    def set_params(self, params: ClusterParams) -> None:
        self.state.put(("Pink", "Params"), params)

    def system_contract(self) -> bytes | None:
        return self.state.get(("Pink", "SystemContract"))

    # --- code ----------------------------------------------------------------------------

    def code_info(self, code_hash: bytes) -> CodeInfo | None:
        return self.state.get(("Contracts", "CodeInfoOf", code_hash))

    def set_code_info(self, code_hash: bytes, info: CodeInfo | None) -> None:
        self.state.put(("Contracts", "CodeInfoOf", code_hash), info)

    def code(self, code_hash: bytes) -> bytes | None:
        return self.state.get(("Contracts", "PristineCode", code_hash))

    def set_code(self, code_hash: bytes, code: bytes | None) -> None:
        self.state.put(("Contracts", "PristineCode", code_hash), code)

    def add_code_user(self, code_hash: bytes, delta: int) -> None:
        info = self.code_info(code_hash)
        if info is None:
            raise fail("CodeNotFound", f"code 0x{code_hash.hex()}")
        self.set_code_info(code_hash, replace(info, refcount=info.refcount + delta))

    # --- contracts -----------------------------------------------------------------------

    def contract(self, address: bytes) -> ContractInfo | None:
        return self.state.get(("Contracts", "ContractInfoOf", address))

    def set_contract(self, address: bytes, info: ContractInfo | None) -> None:
        self.state.put(("Contracts", "ContractInfoOf", address), info)

    def next_nonce(self) -> int:
        nonce = self.state.get(("Contracts", "Nonce"), 0) + 1
        self.state.put(("Contracts", "Nonce"), nonce)
        return nonce

    def queue_trie_for_deletion(self, trie_id: bytes) -> None:
        """A terminated contract's storage waits in `DeletionQueue` for `on_idle` (v1.5)."""
        counter = self.state.get(("Contracts", "DeletionQueueCounter"), 0)
        self.state.put(("Contracts", "DeletionQueue", counter), trie_id)
        self.state.put(("Contracts", "DeletionQueueCounter"), counter + 1)

    def process_deletion_queue(self) -> int:
        """Delete every queued trie (Pink gives on_idle unlimited weight); the tries deleted."""
        queued = self.state.keys_with_prefix(("Contracts", "DeletionQueue"))
        for entry in queued:
            trie_id = self.state.get(entry)
            for key in self.state.keys_with_prefix(("Contracts", "Storage", trie_id)):
                self.state.put(key, None)
            self.state.put(entry, None)
        return len(queued)

    def storage(self, trie_id: bytes, key: bytes) -> bytes | None:
        return self.state.get(("Contracts", "Storage", trie_id, key))

    def set_storage(self, trie_id: bytes, key: bytes, value: bytes | None) -> None:
        self.state.put(("Contracts", "Storage", trie_id, key), value)
