"""Read-proof verification: values and proven absences checked against a trusted state root.

A read proof is an unordered set of trie nodes (what `state_getReadProof` returns, SCALE
`Vec<Vec<u8>>` on the wire); each node is addressed by the blake2-256 of its bytes. Starting
from the root hash, a key is looked up by following hashes into the set; only nodes reached this
way are trusted, so extra or tampered nodes can never change an answer: a missing link is
`ProofIncomplete`, never a guessed absence. A tampered node (or V1 value) is just an extra
node, so the one it replaced counts as missing: `ProofIncomplete` naming the expected hash, as
Substrate's `read_proof_check` reports an incomplete database. Layout V1 hashed values are
looked up in the same set by their hash; the node headers say which layout applies, so V0 and
V1 need no flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import CodecError, Reader, encode_bytes, encode_vec
from pinkpipe.chain.trie import (
    HASH_LEN,
    DecodedNode,
    MalformedProof,
    NodeDecodeError,
    ProofIncomplete,
    decode_node,
    key_to_nibbles,
    nibbles_to_key,
)


def decode_proof(data: bytes) -> list[bytes]:
    """Split a SCALE `Vec<Vec<u8>>` proof into its nodes."""
    r = Reader(data)
    try:
        nodes = r.vec(lambda rr: rr.var_bytes("proof node"), "Vec<Vec<u8>> proof")
        r.finish("Vec<Vec<u8>> proof")
    except CodecError as e:
        raise MalformedProof(f"malformed proof encoding: {e}") from None
    return nodes


def encode_proof(nodes: Iterable[bytes]) -> bytes:
    return encode_vec(list(nodes), encode_bytes)


@dataclass(frozen=True, slots=True)
class ProofEntry:
    """A key found in a proof; `value` is None when only its V1 value hash is in the proof."""

    key: bytes
    value: bytes | None
    value_hash: bytes | None


class ReadProof:
    """A proof's nodes indexed by hash, answering lookups relative to one trusted root."""

    __slots__ = ("_decoded", "_nodes", "root")

    def __init__(self, root: bytes, nodes: Iterable[bytes]) -> None:
        if len(root) != HASH_LEN:
            raise MalformedProof(f"state root must be 32 bytes, got {len(root)}")
        self.root = bytes(root)
        self._nodes = {blake2_256(n): bytes(n) for n in nodes}
        if self.root not in self._nodes:
            raise MalformedProof(f"root 0x{self.root.hex()} is not in the proof")
        self._decoded: dict[bytes, DecodedNode] = {}

    def _node(self, ref: bytes, key: bytes) -> DecodedNode:
        """Decode a child reference: a hash looked up in the proof, or an inline node."""
        if len(ref) < HASH_LEN:
            try:
                return decode_node(ref)
            except NodeDecodeError as e:
                raise MalformedProof(f"inline node 0x{ref.hex()} does not decode: {e}") from None
        node = self._decoded.get(ref)
        if node is None:
            data = self._nodes.get(ref)
            if data is None:
                raise ProofIncomplete(key, ref)
            try:
                node = decode_node(data)
            except NodeDecodeError as e:
                raise MalformedProof(f"proof node 0x{ref.hex()} does not decode: {e}") from None
            self._decoded[ref] = node
        return node

    def _value(self, node: DecodedNode, key: bytes) -> bytes | None:
        if node.value_hash is None:
            return node.value
        value = self._nodes.get(node.value_hash)
        if value is None:
            raise ProofIncomplete(key, node.value_hash)
        return value

    def get(self, key: bytes) -> bytes | None:
        """The value of `key`, or None when the proof shows it is absent.

        Raises `ProofIncomplete` when a node on the key's path (or its V1 value) is missing,
        and `MalformedProof` when a hash-linked node does not decode.
        """
        key = bytes(key)
        nibbles = key_to_nibbles(key)
        node = self._node(self.root, key)
        pos = 0
        while True:
            partial = node.partial
            if node.is_empty or nibbles[pos : pos + len(partial)] != partial:
                return None
            pos += len(partial)
            if pos == len(nibbles):
                return self._value(node, key)
            if node.children is None:
                return None
            ref = node.children[nibbles[pos]]
            if ref is None:
                return None
            node = self._node(ref, key)
            pos += 1

    def entries(self) -> Iterator[ProofEntry]:
        """Every key/value reachable from the root through nodes present in the proof,
        in key order; subtrees whose node is missing are skipped."""
        stack = [(self.root, b"")]
        while stack:
            ref, prefix = stack.pop()
            try:
                node = self._node(ref, b"")
            except ProofIncomplete:
                continue
            path = prefix + node.partial
            if node.value is not None or node.value_hash is not None:
                yield self._entry(ref, path, node)
            children = enumerate(node.children or ())
            stack.extend((c, path + bytes((i,))) for i, c in reversed(list(children)) if c)

    def _entry(self, ref: bytes, path: bytes, node: DecodedNode) -> ProofEntry:
        if len(path) % 2:
            raise MalformedProof(f"proof node 0x{ref.hex()} holds a value at a half-byte key")
        key = nibbles_to_key(path)
        if node.value_hash is None:
            return ProofEntry(key, node.value, None)
        return ProofEntry(key, self._nodes.get(node.value_hash), node.value_hash)


def verify_read_proof(
    root: bytes, proof_nodes: Iterable[bytes], keys: Iterable[bytes]
) -> dict[bytes, bytes | None]:
    """Each key's proven value, or None for a proven absence.

    Raises `ProofIncomplete` (naming the key and the missing node hash) as soon as one key cannot
    be decided, `MalformedProof` when the root is not in the proof or a linked node does not decode.
    """
    proof = ReadProof(root, proof_nodes)
    return {bytes(k): proof.get(k) for k in keys}
