"""Signature verification: ed25519, as GRANDPA votes are signed.

ed25519 verification uses ed25519-zebra, the implementation Substrate's runtime and client
verify with, so edge cases (non-canonical points, small-order keys) are judged the same way.
Development keys (signing) live in `pinkpipe.devnet.keys`, outside the pure core.
"""

from __future__ import annotations

import ed25519_zebra


def ed25519_verify(signature: bytes, message: bytes, public_key: bytes) -> bool:
    if len(signature) != 64 or len(public_key) != 32:
        return False
    try:
        return bool(ed25519_zebra.ed_verify(signature, message, public_key))
    except (ValueError, TypeError):
        return False
