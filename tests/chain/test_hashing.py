"""Substrate's hashers against published values and the real Westend genesis storage keys."""

from __future__ import annotations

import pytest

from pinkpipe.chain.hashing import blake2_128, blake2_256, twox, twox_64, twox_128, twox_256
from tests.vectors import westend_genesis_storage

ALICE_SR25519 = bytes.fromhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")


@pytest.mark.parametrize(
    ("pallet", "item", "key"),
    [
        ("System", "Events", "26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7"),
        ("System", "Account", "26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9"),
        ("Timestamp", "Now", "f0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb"),
        (
            "Grandpa",
            "Authorities",
            "5f9cc45b7a00c5899361e1c6099678dc5e0621c4869aa60c02be9adcc98a0d1d",
        ),
        (
            "Grandpa",
            "CurrentSetId",
            "5f9cc45b7a00c5899361e1c6099678dc8a2d09463effcc78a22d75b9cb87dffc",
        ),
        (
            "PhalaMq",
            "OutboundMessages",
            "2f039a6a7f13e94b9545257e54062a048a395e6242c6813b196ca31ed0547ea7",
        ),
        (
            "PhalaPhatContracts",
            "PinkSystemCode",
            "87e421a91abbc42f22fc6f8dd9881942f2dcb23f9488d599611623c4015b1f20",
        ),
        (
            "PhalaPhatContracts",
            "PinkRuntimeVersion",
            "87e421a91abbc42f22fc6f8dd988194229351c140a37db3b6930837c36e18d48",
        ),
    ],
)
def test_storage_value_keys(pallet: str, item: str, key: str) -> None:
    assert (twox_128(pallet.encode()) + twox_128(item.encode())).hex() == key


@pytest.mark.parametrize(
    ("pallet", "item"),
    [
        ("Babe", "Authorities"),
        ("Session", "Validators"),
        ("Balances", "TotalIssuance"),
        ("Staking", "ValidatorCount"),
        ("System", "ParentHash"),
    ],
)
def test_keys_present_in_westend_genesis(pallet: str, item: str) -> None:
    assert twox_128(pallet.encode()) + twox_128(item.encode()) in westend_genesis_storage()


def test_westend_genesis_accounts_use_blake2_128_concat() -> None:
    prefix = twox_128(b"System") + twox_128(b"Account")
    accounts = [k for k in westend_genesis_storage() if k.startswith(prefix)]
    assert len(accounts) == 5
    for key in accounts:
        assert len(key) == 32 + 16 + 32
        assert key[32:48] == blake2_128(key[48:])


def test_known_digests() -> None:
    assert twox_64(b"").hex() == "99e9d85137db46ef"  # xxHash64("", seed 0), little-endian
    assert twox_128(b"").hex() == "99e9d85137db46ef4bbea33613baafd5"
    assert blake2_256(b"").hex() == (
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
    )
    assert blake2_256(b"abc").hex() == (
        "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
    )
    assert blake2_128(b"").hex() == "cae66941d9efbd404e4d88758ea67670"
    # Substrate's empty trie root is blake2-256 of the single empty-node byte.
    assert blake2_256(b"\x00").hex() == (
        "03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314"
    )
    # System.Account key hash of //Alice (blake2_128 part of Blake2_128Concat).
    assert blake2_128(ALICE_SR25519).hex() == "de1e86a9a8c739864cf3cc5ec2bea59f"


def test_twox_widths_share_their_seeds() -> None:
    data = b"Grandpa"
    assert len(twox_64(data)) == 8
    assert len(twox_128(data)) == 16
    assert len(twox_256(data)) == 32
    assert twox_256(data)[:16] == twox_128(data)
    assert twox_128(data)[:8] == twox_64(data)
    with pytest.raises(ValueError, match="64, 128 or 256"):
        twox(data, 192)
