"""Checks of data against a finalized header: storage read proofs and block bodies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pinkpipe.chain.proof import decode_proof, verify_read_proof
from pinkpipe.chain.trie import ProofIncomplete, TrieError, ordered_trie_root
from pinkpipe.validator.errors import BadBody, BadProof

TRIE_VERSIONS = (0, 1)


def verify_storage_proof(
    state_root: bytes,
    proof: bytes | Iterable[bytes],
    keys: Iterable[bytes],
    *,
    number: int | None = None,
    block_hash: bytes | None = None,
) -> dict[bytes, bytes | None]:
    """Each key's proven value, or None where the proof shows the key is absent.

    `proof` is the node list `state_getReadProof` returns, or its SCALE `Vec<Vec<u8>>`
    encoding. A key the proof cannot decide (a node on its path is missing) is a `BadProof`
    naming that key, never a silent absence. `number`/`block_hash` only label errors.
    """
    keys = [bytes(k) for k in keys]
    try:
        nodes = decode_proof(proof) if isinstance(proof, bytes | bytearray) else list(proof)
        return verify_read_proof(state_root, nodes, keys)
    except ProofIncomplete as e:
        raise BadProof(
            f"proof incomplete: node 0x{e.node_hash.hex()} is missing",
            number=number,
            block_hash=block_hash,
            key=e.key,
        ) from e
    except TrieError as e:
        raise BadProof(
            f"read proof rejected against state root 0x{state_root.hex()}: {e}",
            number=number,
            block_hash=block_hash,
        ) from e


def verify_body(
    extrinsics_root: bytes,
    extrinsics: Sequence[bytes],
    *,
    trie_version: int | None = None,
    number: int | None = None,
    block_hash: bytes | None = None,
) -> None:
    """Check a block body (each extrinsic's bytes, as `chain_getBlock` lists them).

    The root is the ordered trie root of the extrinsics under the runtime's state version.
    With `trie_version=None` either layout is accepted: V0 and V1 encode nodes differently,
    so a body matching under one layout cannot be forged for the other without a blake2
    collision, and callers need not track runtime upgrades of the state version.
    """
    versions = TRIE_VERSIONS if trie_version is None else (trie_version,)
    for version in versions:
        if ordered_trie_root(list(extrinsics), version) == extrinsics_root:
            return
    raise BadBody(
        f"{len(extrinsics)} extrinsics do not match extrinsics root 0x{extrinsics_root.hex()} "
        f"(trie layout {' or '.join(f'V{v}' for v in versions)})",
        number=number,
        block_hash=block_hash,
    )
