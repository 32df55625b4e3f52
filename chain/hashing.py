"""The hash functions of Substrate: blake2b (128/256) and xxHash64-based twox (64/128/256)."""

from __future__ import annotations

import hashlib

import xxhash


def blake2_128(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def blake2_256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def twox(data: bytes, bits: int) -> bytes:
    """xxHash64 with seeds 0, 1, ... concatenated little-endian, `bits` wide (64/128/256)."""
    if bits not in (64, 128, 256):
        raise ValueError(f"twox supports 64, 128 or 256 bits, not {bits}")
    return b"".join(
        xxhash.xxh64_intdigest(data, seed=seed).to_bytes(8, "little") for seed in range(bits // 64)
    )


def twox_64(data: bytes) -> bytes:
    return twox(data, 64)


def twox_128(data: bytes) -> bytes:
    return twox(data, 128)


def twox_256(data: bytes) -> bytes:
    return twox(data, 256)
