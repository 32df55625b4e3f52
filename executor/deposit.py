"""Storage deposits as pallet-contracts v1.5's `storage/meter.rs` computes them.

A frame's storage writes add up in a `Diff`; when the frame returns successfully its parent
meter absorbs it: the net growth is charged at `deposit_per_byte`/`deposit_per_item`, shrinkage
is refunded pro rata of what the contract paid (FixedU128 arithmetic, rounding down). Charges
are executed at the end of the outermost call, refunds first (balance held on the contract
account, `StorageDepositTransferredAndHeld` / `...Released`). A new contract pays the existential
deposit plus its base deposit: its `ContractInfo` bytes + 1 item (CodeHashLockupDepositPercent
is 0 in Pink). Deposits are signed ints here: positive = Charge, negative = Refund.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pinkpipe.executor.errors import fail
from pinkpipe.executor.ledger import ContractInfo

FIXED_ONE = 10**18  # FixedU128's accuracy


@dataclass
class Diff:
    bytes_added: int = 0
    bytes_removed: int = 0
    items_added: int = 0
    items_removed: int = 0

    def add(self, other: Diff) -> None:
        self.bytes_added += other.bytes_added
        self.bytes_removed += other.bytes_removed
        self.items_added += other.items_added
        self.items_removed += other.items_removed

    @staticmethod
    def of_write(old_len: int | None, new_len: int | None) -> Diff:
        """storage.rs `write`: value bytes and items (the key length is not counted in v1.5)."""
        if old_len is not None and new_len is not None:
            grow = new_len - old_len
            return Diff(bytes_added=max(grow, 0), bytes_removed=max(-grow, 0))
        if new_len is not None:
            return Diff(bytes_added=new_len, items_added=1)
        if old_len is not None:
            return Diff(bytes_removed=old_len, items_removed=1)
        return Diff()


def _pro_rata(removed: int, total: int, paid: int) -> int:
    """FixedU128::checked_from_rational(removed, total) (down, capped at 1) x paid, floored."""
    if total == 0:
        return 0
    ratio = min(removed * FIXED_ONE // total, FIXED_ONE)
    return ratio * paid // FIXED_ONE


def update_contract(
    diff: Diff, info: ContractInfo | None, per_byte: int, per_item: int
) -> tuple[int, ContractInfo | None]:
    """`Diff::update_contract`: the deposit for `diff` and the contract info it leaves."""
    bytes_added = max(diff.bytes_added - diff.bytes_removed, 0)
    items_added = max(diff.items_added - diff.items_removed, 0)
    bytes_deposit = per_byte * bytes_added
    items_deposit = per_item * items_added
    if info is None:
        return bytes_deposit + items_deposit, None
    bytes_removed = max(diff.bytes_removed - diff.bytes_added, 0)
    items_removed = max(diff.items_removed - diff.items_added, 0)
    bytes_deposit -= _pro_rata(bytes_removed, info.storage_bytes, info.storage_byte_deposit)
    items_deposit -= _pro_rata(items_removed, info.storage_items, info.storage_item_deposit)
    info = replace(
        info,
        storage_bytes=max(info.storage_bytes + bytes_added - bytes_removed, 0),
        storage_items=max(info.storage_items + items_added - items_removed, 0),
        storage_byte_deposit=max(info.storage_byte_deposit + bytes_deposit, 0),
        storage_item_deposit=max(info.storage_item_deposit + items_deposit, 0),
    )
    return bytes_deposit + items_deposit, info


def base_deposit(info: ContractInfo, per_byte: int, per_item: int) -> int:
    """`ContractInfo::update_base_deposit`: the info's own bytes and one item."""
    return per_byte * info.encoded_size() + per_item


@dataclass(frozen=True)
class Charge:
    contract: bytes
    amount: int  # > 0 charge, < 0 refund
    terminated_to: bytes | None = None


@dataclass
class StorageMeter:
    """One frame's meter (the root one too): limit, total so far, own diff, pending charges."""

    limit: int
    total: int = 0
    own: Diff = field(default_factory=Diff)
    charges: list[Charge] = field(default_factory=list)
    terminated_to: bytes | None = None

    def available(self) -> int:
        return self.limit - self.total

    def nested(self, limit: int) -> StorageMeter:
        """Child meter; `limit` 0 means all that is left (v1.5 `nested`)."""
        left = max(self.available(), 0)
        return StorageMeter(left if limit == 0 else min(limit, left))

    def charge(self, diff: Diff) -> None:
        self.own.add(diff)

    def charge_deposit(self, contract: bytes, amount: int) -> None:
        self.total += amount
        self.charges.append(Charge(contract, amount))

    def absorb(
        self,
        child: StorageMeter,
        contract: bytes,
        info: ContractInfo | None,
        prices: tuple[int, int],
    ) -> ContractInfo | None:
        """Fold a returned child frame's meter in; returns the contract's updated info."""
        own, info = (0, None) if child.terminated_to else update_contract(child.own, info, *prices)
        self.total += child.total + own
        self.charges.extend(child.charges)
        if own:
            self.charges.append(Charge(contract, own, child.terminated_to))
        return info

    def enforce_limit(self) -> None:
        if self.total > self.limit:
            raise fail(
                "StorageDepositLimitExhausted",
                f"storage deposit {self.total} exceeds the limit {self.limit}",
            )

    def ordered_charges(self) -> list[Charge]:
        """Refunds before charges, each group in the order incurred (`try_into_deposit`)."""
        return [c for c in self.charges if c.amount < 0] + [c for c in self.charges if c.amount > 0]
