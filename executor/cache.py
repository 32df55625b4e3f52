"""The worker-local contract cache that Query-mode calls read and write.

As Phala's `pink-chain-extension/src/local_cache.rs`: one store per contract, created by a
quota (`apply_quotas`; a contract without a quota cannot store anything), sizes counted as
key + value bytes, a default lifetime of one week, expired entries dropped when space is short
and every 1000 writes, and shrunk quotas fitted by evicting the entries expiring soonest.
Transaction-mode writes arrive as `PinkEvent::CacheOp`s that the replay applies with
`apply_cache_op`. Never consensus state: nothing here reaches the event chain. Time comes from
an injected clock in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pinkpipe.chain.scale import CodecError, Reader

GC_INTERVAL = 1000
DEFAULT_LIFETIME_S = 3600 * 24 * 7


@dataclass
class _Entry:
    expire_at: int
    value: bytes


@dataclass
class _Storage:
    max_size: int
    size: int = 0
    entries: dict[bytes, _Entry] = field(default_factory=dict)

    def remove(self, key: bytes) -> bytes | None:
        entry = self.entries.pop(key, None)
        if entry is None:
            return None
        self.size -= len(key) + len(entry.value)
        return entry.value

    def clear_expired(self, now: int) -> None:
        for key in [k for k, e in self.entries.items() if e.expire_at <= now]:
            self.remove(key)

    def fit_size(self) -> None:
        """Evict the entries that expire soonest until the store fits its quota."""
        for key in sorted(self.entries, key=lambda k: self.entries[k].expire_at):
            if self.size <= self.max_size:
                return
            self.remove(key)


class LocalCache:
    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.stores: dict[bytes, _Storage] = {}
        self._sets_since_gc = 0

    def apply_quotas(self, quotas: dict[bytes, int]) -> None:
        """Per-contract byte quotas; 0 drops the contract's store."""
        for contract, max_size in quotas.items():
            if max_size == 0:
                self.stores.pop(contract, None)
            elif contract in self.stores:
                self.stores[contract].max_size = max_size
                self.stores[contract].fit_size()
            else:
                self.stores[contract] = _Storage(max_size)

    def _maybe_clear_expired(self) -> None:
        self._sets_since_gc += 1
        if self._sets_since_gc == GC_INTERVAL:
            self._sets_since_gc = 0
            now = self.clock()
            for store in self.stores.values():
                store.clear_expired(now)

    def get(self, contract: bytes, key: bytes) -> bytes | None:
        store = self.stores.get(contract)
        entry = store.entries.get(key) if store else None
        if entry is None or entry.expire_at <= self.clock():
            return None
        return entry.value

    def set(self, contract: bytes, key: bytes, value: bytes) -> bool:
        """False when the contract's quota cannot hold it (StorageQuotaExceeded)."""
        self._maybe_clear_expired()
        store = self.stores.get(contract)
        if store is None:
            return False
        store.remove(key)
        needed = store.size + len(key) + len(value)
        if needed > store.max_size:
            store.clear_expired(self.clock())
            needed = store.size + len(key) + len(value)
            if needed > store.max_size:
                return False
        store.size = needed
        store.entries[key] = _Entry(self.clock() + DEFAULT_LIFETIME_S, value)
        return True

    def set_expiration(self, contract: bytes, key: bytes, expire_after_s: int) -> None:
        self._maybe_clear_expired()
        if expire_after_s == 0:
            self.remove(contract, key)
            return
        store = self.stores.get(contract)
        entry = store.entries.get(key) if store else None
        if entry is None:
            return
        now = self.clock()
        if entry.expire_at >= now:
            entry.expire_at = now + expire_after_s
        else:
            self.remove(contract, key)

    def remove(self, contract: bytes, key: bytes) -> bytes | None:
        self._maybe_clear_expired()
        store = self.stores.get(contract)
        return store.remove(key) if store else None

    def apply_cache_op(self, contract: bytes, op: bytes) -> None:
        """A `CacheOp` (Set 0, SetExpiration 1, Remove 2) from a transaction's pink events."""
        r = Reader(op)
        kind = r.u8("CacheOp")
        key = r.var_bytes("key")
        if kind == 0:
            self.set(contract, key, r.var_bytes("value"))
        elif kind == 1:
            self.set_expiration(contract, key, r.u64())
        elif kind == 2:
            self.remove(contract, key)
        else:
            raise CodecError("CacheOp", 0, f"invalid variant {kind}")
        r.finish("CacheOp")
