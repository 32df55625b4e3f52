"""Storage key builders reproduce the well-known constants and the keys of real genesis state."""

from __future__ import annotations

import pytest

from pinkpipe.chain import keys
from pinkpipe.chain.hashing import blake2_128, blake2_256, twox_64, twox_128, twox_256
from pinkpipe.chain.keys import (
    Hasher,
    StorageKeyError,
    storage_double_map_key,
    storage_map_key,
    storage_nmap_key,
    storage_prefix,
)
from tests.vectors import westend_genesis_storage

ALICE = bytes.fromhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")


@pytest.mark.parametrize(
    ("pallet", "item", "constant"),
    [
        ("Grandpa", "Authorities", keys.GRANDPA_AUTHORITIES),
        ("Grandpa", "CurrentSetId", keys.GRANDPA_CURRENT_SET_ID),
        ("System", "Events", keys.SYSTEM_EVENTS),
        ("System", "Number", keys.SYSTEM_NUMBER),
        ("PhalaMq", "OutboundMessages", keys.PHALA_MQ_OUTBOUND_MESSAGES),
        ("Timestamp", "Now", keys.TIMESTAMP_NOW),
        ("PhalaPhatContracts", "PinkSystemCode", keys.PINK_SYSTEM_CODE),
        ("PhalaPhatContracts", "PinkRuntimeVersion", keys.PINK_RUNTIME_VERSION),
    ],
)
def test_storage_prefix_reproduces_constants(pallet: str, item: str, constant: bytes) -> None:
    assert storage_prefix(pallet, item) == constant
    assert storage_prefix(pallet.encode(), item.encode()) == constant


def test_well_known_keys() -> None:
    assert keys.CODE == b":code"
    assert keys.GRANDPA_AUTHORITIES_WELL_KNOWN.hex() == "3a6772616e6470615f617574686f726974696573"
    assert keys.SYSTEM_EVENTS.hex() == (
        "26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7"
    )


def test_hashers() -> None:
    data = b"pinkpipe"
    assert Hasher.IDENTITY.hash(data) == data
    assert Hasher.TWOX64_CONCAT.hash(data) == twox_64(data) + data
    assert Hasher.BLAKE2_128_CONCAT.hash(data) == blake2_128(data) + data
    assert Hasher.TWOX128.hash(data) == twox_128(data)
    assert Hasher.TWOX256.hash(data) == twox_256(data)
    assert Hasher.BLAKE2_128.hash(data) == blake2_128(data)
    assert Hasher.BLAKE2_256.hash(data) == blake2_256(data)
    assert twox_128(b"System").hex() == "26aa394eea5630e07c48ae0c9558cef7"


def test_metadata_hasher_names() -> None:
    names = [h.value for h in Hasher]
    assert names == [
        "Identity",
        "Twox64Concat",
        "Blake2_128Concat",
        "Twox128",
        "Twox256",
        "Blake2_128",
        "Blake2_256",
    ]
    assert storage_map_key("System", "Account", "Blake2_128Concat", ALICE) == storage_map_key(
        "System", "Account", Hasher.BLAKE2_128_CONCAT, ALICE
    )
    with pytest.raises(StorageKeyError, match="Sha256"):
        storage_map_key("System", "Account", "Sha256", ALICE)
    for not_bytes in (5, "alice"):
        with pytest.raises(StorageKeyError, match="SCALE-encoded bytes"):
            storage_map_key("System", "Account", Hasher.TWOX64_CONCAT, not_bytes)  # type: ignore[arg-type]


def test_alice_account_key() -> None:
    assert storage_map_key("System", "Account", Hasher.BLAKE2_128_CONCAT, ALICE).hex() == (
        "26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9"
        "de1e86a9a8c739864cf3cc5ec2bea59f"
        "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
    )


def _keys_under(pallet: str, item: str) -> list[bytes]:
    prefix = storage_prefix(pallet, item)
    return [k for k in westend_genesis_storage() if k.startswith(prefix)]


def test_westend_genesis_map_keys_rebuild_from_their_raw_keys() -> None:
    accounts = _keys_under("System", "Account")
    assert len(accounts) == 5
    for key in accounts:
        assert storage_map_key("System", "Account", Hasher.BLAKE2_128_CONCAT, key[48:]) == key
    bonded = _keys_under("Staking", "Bonded")
    assert len(bonded) == 4
    for key in bonded:
        assert storage_map_key("Staking", "Bonded", Hasher.TWOX64_CONCAT, key[40:]) == key


def test_westend_genesis_double_map_keys() -> None:
    stakers = _keys_under("Staking", "ErasStakers")
    assert len(stakers) == 4
    for key in stakers:
        era, account = key[40:44], key[52:]
        assert era == bytes(4)
        rebuilt = storage_double_map_key(
            "Staking", "ErasStakers", Hasher.TWOX64_CONCAT, era, Hasher.TWOX64_CONCAT, account
        )
        assert rebuilt == key
        assert rebuilt == storage_nmap_key(
            "Staking", "ErasStakers", [("Twox64Concat", era), ("Twox64Concat", account)]
        )
