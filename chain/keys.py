"""Storage keys of FRAME pallets and the well-known keys the pipeline reads.

A FRAME storage item lives under `twox128(pallet) ‖ twox128(item)`; a map appends each key
hashed with the item's hasher (the `*Concat` hashers also append the raw key so it can be read
back). Hasher names are those of the runtime metadata, so `Hasher("Blake2_128Concat")` maps a
metadata entry directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import NamedTuple

from pinkpipe.chain.errors import ConfigError
from pinkpipe.chain.hashing import blake2_128, blake2_256, twox_64, twox_128, twox_256


class StorageKeyError(ConfigError):
    """A storage key that cannot be built (unknown hasher, bad name)."""


class Hasher(Enum):
    IDENTITY = "Identity"
    TWOX64_CONCAT = "Twox64Concat"
    BLAKE2_128_CONCAT = "Blake2_128Concat"
    TWOX128 = "Twox128"
    TWOX256 = "Twox256"
    BLAKE2_128 = "Blake2_128"
    BLAKE2_256 = "Blake2_256"

    def hash(self, data: bytes) -> bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            # bytes(5) would silently hash five zero bytes instead of the SCALE of 5.
            raise StorageKeyError(
                f"{self.value} hashes SCALE-encoded bytes, got {type(data).__name__}"
            )
        return _HASHERS[self](bytes(data))


_HASHERS: dict[Hasher, Callable[[bytes], bytes]] = {
    Hasher.IDENTITY: lambda d: d,
    Hasher.TWOX64_CONCAT: lambda d: twox_64(d) + d,
    Hasher.BLAKE2_128_CONCAT: lambda d: blake2_128(d) + d,
    Hasher.TWOX128: twox_128,
    Hasher.TWOX256: twox_256,
    Hasher.BLAKE2_128: blake2_128,
    Hasher.BLAKE2_256: blake2_256,
}


def _name(name: str | bytes) -> bytes:
    if isinstance(name, str):
        return name.encode()
    return bytes(name)


def _hasher(hasher: Hasher | str) -> Hasher:
    if isinstance(hasher, Hasher):
        return hasher
    try:
        return Hasher(hasher)
    except ValueError:
        raise StorageKeyError(f"unknown storage hasher {hasher!r}") from None


def storage_prefix(pallet: str | bytes, item: str | bytes) -> bytes:
    """Key of a plain storage value, and the prefix of every entry of a map."""
    return twox_128(_name(pallet)) + twox_128(_name(item))


def storage_nmap_key(
    pallet: str | bytes, item: str | bytes, keys: Sequence[tuple[Hasher | str, bytes]]
) -> bytes:
    """Key of an n-map entry; each key part is SCALE-encoded by the caller."""
    return storage_prefix(pallet, item) + b"".join(_hasher(h).hash(k) for h, k in keys)


def storage_map_key(
    pallet: str | bytes, item: str | bytes, hasher: Hasher | str, key: bytes
) -> bytes:
    return storage_nmap_key(pallet, item, [(hasher, key)])


def storage_double_map_key(
    pallet: str | bytes,
    item: str | bytes,
    hasher1: Hasher | str,
    key1: bytes,
    hasher2: Hasher | str,
    key2: bytes,
) -> bytes:
    return storage_nmap_key(pallet, item, [(hasher1, key1), (hasher2, key2)])


CODE = b":code"
"""The runtime wasm (`well_known_keys::CODE`)."""
HEAP_PAGES = b":heappages"
GRANDPA_AUTHORITIES_WELL_KNOWN = b":grandpa_authorities"
"""Genesis GRANDPA set of older runtimes: `0x01` version byte + `Vec<([u8;32], u64)>`."""

GRANDPA_AUTHORITIES = bytes.fromhex(
    "5f9cc45b7a00c5899361e1c6099678dc5e0621c4869aa60c02be9adcc98a0d1d"
)
GRANDPA_CURRENT_SET_ID = bytes.fromhex(
    "5f9cc45b7a00c5899361e1c6099678dc8a2d09463effcc78a22d75b9cb87dffc"
)


class GenesisKeys(NamedTuple):
    """The storage a light client reads, with a read proof, to start at genesis: the first
    GRANDPA set under either key a runtime may use, and the set id."""

    well_known_authorities: bytes
    authorities: bytes
    set_id: bytes


GENESIS_KEYS = GenesisKeys(
    GRANDPA_AUTHORITIES_WELL_KNOWN, GRANDPA_AUTHORITIES, GRANDPA_CURRENT_SET_ID
)
"""The bootstrap read: the relayer proves these keys at genesis, the light client checks them."""

SYSTEM_EVENTS = bytes.fromhex("26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7")
SYSTEM_NUMBER = bytes.fromhex("26aa394eea5630e07c48ae0c9558cef702a5c1b19ab7a04f536c519aca4983ac")
PHALA_MQ_OUTBOUND_MESSAGES = bytes.fromhex(
    "2f039a6a7f13e94b9545257e54062a048a395e6242c6813b196ca31ed0547ea7"
)
TIMESTAMP_NOW = bytes.fromhex("f0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb")
PINK_SYSTEM_CODE = bytes.fromhex("87e421a91abbc42f22fc6f8dd9881942f2dcb23f9488d599611623c4015b1f20")
PINK_RUNTIME_VERSION = bytes.fromhex(
    "87e421a91abbc42f22fc6f8dd988194229351c140a37db3b6930837c36e18d48"
)
