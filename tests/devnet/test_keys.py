"""Substrate's development keys, derived as sp-core derives them."""

from __future__ import annotations

import pytest

from pinkpipe.chain.crypto import ed25519_verify
from pinkpipe.devnet.keys import dev_keypair


@pytest.mark.parametrize(
    ("name", "crypto", "public"),
    [
        ("Alice", "ed25519", "88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"),
        ("Bob", "ed25519", "d17c2d7823ebf260fd138f2d7e27d114c0145d968b5ff5006125f2414fadae69"),
        ("//Alice", "sr25519", "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"),
        ("Bob", "sr25519", "8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"),
    ],
)
def test_dev_keypairs(name: str, crypto: str, public: str) -> None:
    assert dev_keypair(name, crypto).public_key.hex() == public


def test_dev_ed25519_key_signs_verifiably() -> None:
    alice = dev_keypair("Alice")
    signature = alice.sign(b"pinkpipe")
    assert ed25519_verify(signature, b"pinkpipe", alice.public_key)
    assert not ed25519_verify(signature, b"pinkpipf", alice.public_key)
    assert not ed25519_verify(signature, b"pinkpipe", dev_keypair("Bob").public_key)
    with pytest.raises(ValueError, match="unknown key type"):
        dev_keypair("Alice", "ecdsa")
