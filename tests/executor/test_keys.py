"""Key derivation and signatures of the chain extension, against published vectors and libraries."""

from __future__ import annotations

import pytest
import sr25519

from pinkpipe.executor import keys


def test_hkdf_matches_rfc5869_case_1() -> None:
    ikm = bytes([0x0B] * 22)
    salt = bytes(range(13))
    info = bytes(range(0xF0, 0xFA))
    okm = keys.hkdf_sha256(ikm, salt, info, 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_mini_secret_expansion_matches_schnorrkel() -> None:
    for seed in (bytes(32), bytes(range(32)), bytes([42] * 32)):
        assert keys.expand_mini_secret(seed) == bytes(sr25519.pair_from_seed(seed)[1])


def test_derivation_is_deterministic_and_part_sensitive() -> None:
    root = keys.expand_mini_secret(bytes([42] * 32))
    one = keys.derive_secret(root, [b"contract_key", bytes(32)])
    assert one == keys.derive_secret(root, [b"contract_key", bytes(32)])
    assert one != keys.derive_secret(root, [b"contract_key", bytes(31) + b"\x01"])
    assert len(one) == 64 and keys.public_key(keys.SR25519, one)


@pytest.mark.parametrize("sig_type", [keys.ED25519, keys.SR25519, keys.ECDSA])
def test_sign_and_verify(sig_type: int) -> None:
    key = bytes(range(1, 33))
    public = keys.public_key(sig_type, key)
    signature = keys.sign(sig_type, key, b"pink")
    assert keys.verify(sig_type, public, b"pink", signature)
    assert not keys.verify(sig_type, public, b"punk", signature)


def test_ecdsa_is_deterministic_and_recoverable() -> None:
    key = bytes(range(1, 33))
    digest = bytes(32)
    signature = keys.ecdsa_sign_prehashed(key, digest)
    assert signature == keys.ecdsa_sign_prehashed(key, digest) and len(signature) == 65
    assert keys.ecdsa_verify_prehashed(signature, digest, keys.public_key(keys.ECDSA, key))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: keys.sign(keys.ED25519, bytes(31), b""), "ed25519 seed is 32 bytes"),
        (lambda: keys.sign(keys.SR25519, bytes(40), b""), "32 or 64 bytes"),
        (lambda: keys.public_key(keys.ECDSA, bytes(32)), "invalid secp256k1 secret"),
        (lambda: keys.verify(keys.ED25519, bytes(31), b"", bytes(64)), "public key is 32 bytes"),
        (lambda: keys.ecdsa_verify_prehashed(bytes(64), bytes(32), bytes(33)), "65 bytes"),
    ],
)
def test_bad_keys_are_errors(call: object, message: str) -> None:
    with pytest.raises(keys.BadKey, match=message):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("sig_type", [keys.ED25519, keys.SR25519])
def test_malformed_signatures_do_not_verify(sig_type: int) -> None:
    public = keys.public_key(sig_type, bytes(range(1, 33)))
    assert not keys.verify(sig_type, public, b"pink", bytes(64))
    assert not keys.verify(sig_type, public, b"pink", bytes([255] * 64))
    assert not keys.verify(sig_type, bytes([255] * 32), b"pink", bytes(64))
