"""The worker-local cache: quotas, sizes, lifetimes and eviction as Phala's local_cache.rs."""

from __future__ import annotations

import pytest

from pinkpipe.chain.scale import CodecError
from pinkpipe.executor.cache import DEFAULT_LIFETIME_S, LocalCache

A, B = b"a" * 32, b"b" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1000

    def __call__(self) -> int:
        return self.now


def test_a_contract_needs_a_quota() -> None:
    cache = LocalCache(Clock())
    assert not cache.set(A, b"k", b"v")
    cache.apply_quotas({A: 10})
    assert cache.set(A, b"k", b"v") and cache.get(A, b"k") == b"v"
    assert cache.get(B, b"k") is None


def test_quota_counts_keys_and_values() -> None:
    cache = LocalCache(Clock())
    cache.apply_quotas({A: 10})
    assert cache.set(A, b"k1", b"1234")  # 6 bytes
    assert not cache.set(A, b"k2", b"12345")  # 6 + 7 > 10
    assert cache.set(A, b"k1", b"12345678")  # replacing frees the old 6 first: 10
    assert cache.remove(A, b"k1") == b"12345678" and cache.remove(A, b"k1") is None


def test_lifetimes_and_expiration() -> None:
    clock = Clock()
    cache = LocalCache(clock)
    cache.apply_quotas({A: 100})
    cache.set(A, b"k", b"v")
    clock.now += DEFAULT_LIFETIME_S - 1
    assert cache.get(A, b"k") == b"v"
    cache.set_expiration(A, b"k", 5)
    clock.now += 5
    assert cache.get(A, b"k") is None  # expire_at <= now
    cache.set(A, b"x", b"y")
    cache.set_expiration(A, b"x", 0)  # 0 removes
    assert cache.remove(A, b"x") is None


def test_expired_entries_make_room_and_shrinking_evicts_soonest_first() -> None:
    clock = Clock()
    cache = LocalCache(clock)
    cache.apply_quotas({A: 8})
    cache.set(A, b"k1", b"11")
    cache.set_expiration(A, b"k1", 1)
    cache.set(A, b"k2", b"22")
    clock.now += 1
    assert cache.set(A, b"k3", b"33")  # k1 expired: its 4 bytes are reclaimed
    cache.set_expiration(A, b"k3", 10)
    cache.apply_quotas({A: 4})
    assert cache.get(A, b"k3") is None and cache.get(A, b"k2") == b"22"
    cache.apply_quotas({A: 0})
    assert cache.get(A, b"k2") is None and not cache.set(A, b"k", b"v")


def test_cache_ops_from_transactions() -> None:
    cache = LocalCache(Clock())
    cache.apply_quotas({A: 100})
    cache.apply_cache_op(A, b"\x00\x04k\x04v")
    assert cache.get(A, b"k") == b"v"
    cache.apply_cache_op(A, b"\x02\x04k")
    assert cache.get(A, b"k") is None
    with pytest.raises(CodecError):
        cache.apply_cache_op(A, b"\x07\x04k")
