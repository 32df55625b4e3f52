"""Substrate's development keys (`//Alice`, ...), for the devnet, its scenarios and tests.

They live here, not in `pinkpipe.chain`, because deriving them needs substrate-interface and
bip39, which the pure light client must not load (issue 8, item 6).
"""

from __future__ import annotations

from bip39 import bip39_to_mini_secret
from substrateinterface import Keypair, KeypairType
from substrateinterface.constants import DEV_PHRASE

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import encode_bytes


def _chain_code(junction: str) -> bytes:
    """Substrate's junction encoding: u64 for numbers, SCALE string otherwise, 32 bytes."""
    code = (
        int(junction).to_bytes(8, "little")
        if junction.isdigit()
        else encode_bytes(junction.encode())
    )
    if len(code) > 32:
        code = blake2_256(code)
    return code.ljust(32, b"\x00")


def _ed25519_hard_derive(seed: bytes, junction: str) -> bytes:
    """sp-core's `ed25519::Pair::derive` for a hard junction (the only kind ed25519 has)."""
    return blake2_256(encode_bytes(b"Ed25519HDKD") + seed + _chain_code(junction))


def dev_keypair(name: str, crypto: str = "ed25519") -> Keypair:
    """A development key derived like Substrate's `//Alice` from the development phrase.

    substrate-interface derives only sr25519 paths, so ed25519 hard derivation is done here
    exactly as sp-core does it.
    """
    path = name if name.startswith("//") else f"//{name}"
    if crypto == "sr25519":
        return Keypair.create_from_uri(path, crypto_type=KeypairType.SR25519)
    if crypto != "ed25519":
        raise ValueError(f"unknown key type {crypto!r}: use ed25519 or sr25519")
    seed = bytes(bip39_to_mini_secret(DEV_PHRASE, ""))
    for junction in path.split("//")[1:]:
        seed = _ed25519_hard_derive(seed, junction)
    return Keypair.create_from_seed(seed, crypto_type=KeypairType.ED25519)
