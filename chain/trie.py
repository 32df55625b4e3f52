"""Substrate's base-16 Merkle-Patricia trie: node codec, roots, and an immutable state.

Layout facts (sp-trie `node_header.rs`, `node_codec.rs`, `trie_stream.rs`): a trie without
extension nodes where every node carries a partial key. The first byte of a node is its header:

- `0x00` empty trie; `0b01` leaf, `0b10` branch without value, `0b11` branch with value, each
  with a 6-bit nibble count; `0b001` leaf and `0b0001` branch whose value is stored as a
  separate node (layout V1), with 5- and 4-bit counts. A count that fills its bits continues in
  following bytes: 255 while more follows, then one byte < 255 (all summed). Counts above
  `NIBBLE_SIZE_BOUND` (u16::MAX, sp-trie's historical DoS bound; no real key comes close) are
  rejected.
- the partial key, packed two nibbles a byte; an odd count puts the first nibble alone in the
  low half of the first byte (high half zero).
- a branch then has a u16 LE bitmap of its children (bit i = nibble i), then its value.
- a value is `Compact(len) ‖ bytes`, or for the V1 kinds the 32-byte blake2-256 of the value.
- each child is `Compact(len) ‖ ref`: the 32-byte hash of the child's encoding, or the encoding
  itself when shorter than 32 bytes (inline node).

Layout V1 stores values of 33 bytes or more as hashed value nodes. The root is always the
blake2-256 of the root node's encoding.

`TrieState` is a persistent (immutable, structurally shared) trie: applying a block's changes
returns a new state that shares every untouched node with the old one, and every node caches its
encoded reference, so keeping one state per block is cheap and each root costs only the nodes
the block changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pinkpipe.chain.errors import InvalidChainData
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import CodecError, Reader, encode_compact

HASH_LEN = 32
EMPTY_NODE = b"\x00"
EMPTY_TRIE_ROOT = blake2_256(EMPTY_NODE)
VALUE_NODE_THRESHOLD = 33
"""Layout V1 stores values at least this long as separate nodes (`TRIE_VALUE_NODE_THRESHOLD`)."""
NIBBLE_SIZE_BOUND = 0xFFFF
CHILD_STORAGE_PREFIX = b":child_storage:"
DEFAULT_CHILD_STORAGE_PREFIX = b":child_storage:default:"
STATE_VERSIONS = (0, 1)

_LEAF = (0b01 << 6, 2)
_BRANCH_NO_VALUE = (0b10 << 6, 2)
_BRANCH_WITH_VALUE = (0b11 << 6, 2)
_HASHED_LEAF = (0b001 << 5, 3)
_HASHED_BRANCH = (0b0001 << 4, 4)

_HEX = b"0123456789abcdef"
_TO_NIBBLES = bytes.maketrans(_HEX, bytes(range(16)))
_TO_HEX = bytes.maketrans(bytes(range(16)), _HEX)


class TrieError(InvalidChainData, ValueError):
    """Base of every trie failure: malformed nodes, bad or incomplete proofs, bad input."""


class NodeDecodeError(TrieError):
    """A node's bytes do not follow the node codec; names the byte offset."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"invalid trie node at byte {offset}: {reason}")
        self.offset = offset
        self.reason = reason


class MalformedProof(TrieError):
    """A proof that cannot be trusted: root missing, a referenced node that does not decode."""


class ProofIncomplete(TrieError):
    """The proof lacks a node needed to decide a key (neither its value nor its absence)."""

    def __init__(self, key: bytes, node_hash: bytes) -> None:
        super().__init__(
            f"proof incomplete for key 0x{key.hex()}: node 0x{node_hash.hex()} is not in the proof"
        )
        self.key = key
        self.node_hash = node_hash


def check_version(version: int) -> int:
    if version not in STATE_VERSIONS:
        raise TrieError(f"unknown trie layout version {version!r} (expected 0 or 1)")
    return version


# -- nibbles -------------------------------------------------------------------------------


def key_to_nibbles(key: bytes) -> bytes:
    """One byte (0..15) per nibble, high nibble first: slicing and comparing stay C-fast."""
    return key.hex().encode().translate(_TO_NIBBLES)


def nibbles_to_key(nibbles: bytes) -> bytes:
    if len(nibbles) % 2:
        raise TrieError(f"{len(nibbles)} nibbles do not make whole bytes")
    return bytes.fromhex(nibbles.translate(_TO_HEX).decode())


def pack_partial(nibbles: bytes) -> bytes:
    """The partial key as stored in a node: an odd count is left-padded with a zero nibble."""
    digits = nibbles.translate(_TO_HEX).decode()
    return bytes.fromhex("0" + digits if len(digits) % 2 else digits)


# -- node codec ----------------------------------------------------------------------------


def encode_header(prefix: int, prefix_bits: int, nibble_count: int) -> bytes:
    if nibble_count > NIBBLE_SIZE_BOUND:
        raise TrieError(f"partial key of {nibble_count} nibbles exceeds {NIBBLE_SIZE_BOUND}")
    max_small = 0xFF >> prefix_bits
    if nibble_count < max_small:
        return bytes((prefix | nibble_count,))
    out = bytearray((prefix | max_small,))
    rest = nibble_count - max_small
    while rest >= 255:
        out.append(255)
        rest -= 255
    out.append(rest)
    return bytes(out)


def encode_value(value: bytes) -> bytes:
    return encode_compact(len(value)) + value


def encode_leaf(partial: bytes, value: bytes, hashed: bool = False) -> bytes:
    """A leaf; `hashed` means `value` is the 32-byte hash of a V1 value node."""
    if hashed:
        return encode_header(*_HASHED_LEAF, len(partial)) + pack_partial(partial) + value
    return encode_header(*_LEAF, len(partial)) + pack_partial(partial) + encode_value(value)


def encode_branch(
    partial: bytes, value: bytes | None, children: Sequence[bytes | None], hashed: bool = False
) -> bytes:
    """A branch; `children` are 16 child references (hash or inline encoding) or None."""
    kind = _BRANCH_WITH_VALUE if value is not None else _BRANCH_NO_VALUE
    if value is not None and hashed:
        kind = _HASHED_BRANCH
    bitmap = 0
    parts = [encode_header(*kind, len(partial)), pack_partial(partial), b""]
    if value is not None:
        parts.append(value if hashed else encode_value(value))
    for i, ref in enumerate(children):
        if ref is not None:
            bitmap |= 1 << i
            parts.append(bytes((len(ref) << 2,)))
            parts.append(ref)
    if not bitmap:
        raise TrieError("a branch node needs at least one child")
    parts[2] = bitmap.to_bytes(2, "little")
    return b"".join(parts)


def node_ref(encoding: bytes) -> bytes:
    """How a parent refers to a node: inline when shorter than a hash, else by its hash."""
    return encoding if len(encoding) < HASH_LEN else blake2_256(encoding)


@dataclass(frozen=True, slots=True)
class DecodedNode:
    """A decoded node. `children` is None for leaves and the empty node, else 16 references
    (32 bytes: a hash; shorter: an inline node's encoding) or None."""

    partial: bytes
    value: bytes | None = None
    value_hash: bytes | None = None
    children: tuple[bytes | None, ...] | None = None

    @property
    def is_empty(self) -> bool:
        return self.children is None and self.value is None and self.value_hash is None


def encode_node(node: DecodedNode) -> bytes:
    """Encode a decoded node again; strict decoding makes this the exact inverse."""
    stored = node.value if node.value_hash is None else node.value_hash
    hashed = node.value_hash is not None
    if node.children is not None:
        return encode_branch(node.partial, stored, node.children, hashed)
    if stored is None:
        return EMPTY_NODE
    return encode_leaf(node.partial, stored, hashed)


def _read_header(r: Reader) -> tuple[str, int]:
    """Kind ('empty', 'leaf', 'branch', 'branch+value') with V1 flag folded in, and count."""
    first = r.u8("node header")
    if first == 0:
        return "empty", 0
    top2 = first >> 6
    if top2 == 0b01:
        kind, bits = "leaf", 2
    elif top2 == 0b10:
        kind, bits = "branch", 2
    elif top2 == 0b11:
        kind, bits = "branch+value", 2
    elif first >> 5 == 0b001:
        kind, bits = "hashed-leaf", 3
    elif first >> 4 == 0b0001:
        kind, bits = "hashed-branch", 4
    else:
        raise NodeDecodeError(r.offset - 1, f"header byte 0x{first:02x} is not a node kind")
    max_small = 0xFF >> bits
    count = first & max_small
    if count == max_small:
        while True:
            more = r.u8("node header")
            count += more
            if count > NIBBLE_SIZE_BOUND:
                raise NodeDecodeError(r.offset - 1, f"nibble count exceeds {NIBBLE_SIZE_BOUND}")
            if more < 255:
                break
    return kind, count


def _read_partial(r: Reader, count: int) -> bytes:
    start = r.offset
    packed = r.fixed((count + 1) // 2, "partial key")
    nibbles = key_to_nibbles(packed)
    if count % 2:
        if nibbles[0]:
            raise NodeDecodeError(start, "odd partial key has a non-zero padding nibble")
        nibbles = nibbles[1:]
    return nibbles


def _read_inline_value(r: Reader) -> bytes:
    return r.var_bytes("node value")


def _read_child(r: Reader) -> bytes:
    start = r.offset
    size = r.compact_u32("child reference")
    if size == 0 or size > HASH_LEN:
        raise NodeDecodeError(start, f"child reference of {size} bytes (must be 1..32)")
    return r.fixed(size, "child reference")


def _decode(data: bytes) -> DecodedNode:
    r = Reader(data)
    kind, count = _read_header(r)
    if kind == "empty":
        node = DecodedNode(b"")
    else:
        partial = _read_partial(r, count)
        if kind in ("leaf", "hashed-leaf"):
            if kind == "leaf":
                node = DecodedNode(partial, value=_read_inline_value(r))
            else:
                node = DecodedNode(partial, value_hash=r.fixed(HASH_LEN, "value hash"))
        else:
            start = r.offset
            bitmap = r.u16()
            if bitmap == 0:
                raise NodeDecodeError(start, "branch bitmap has no child")
            value = value_hash = None
            if kind == "branch+value":
                value = _read_inline_value(r)
            elif kind == "hashed-branch":
                value_hash = r.fixed(HASH_LEN, "value hash")
            children = tuple(_read_child(r) if bitmap >> i & 1 else None for i in range(16))
            node = DecodedNode(partial, value, value_hash, children)
    if r.remaining:
        raise NodeDecodeError(r.offset, f"{r.remaining} trailing bytes after the node")
    return node


def decode_node(data: bytes) -> DecodedNode:
    """Strictly decode one node; any malformation raises `NodeDecodeError` with its offset."""
    try:
        return _decode(data)
    except CodecError as e:
        raise NodeDecodeError(e.offset, f"{e.type_name}: {e.reason}") from None


# -- persistent trie -----------------------------------------------------------------------


class _Node:
    """An immutable node: partial nibbles, optional value, 16 children (None for a leaf).

    `ref0`/`ref1` cache the node's reference (inline encoding or hash) per layout version;
    they are filled lazily and stay valid forever because the node never changes.
    """

    __slots__ = ("children", "partial", "ref0", "ref1", "value")

    def __init__(
        self, partial: bytes, value: bytes | None, children: tuple[_Node | None, ...] | None
    ) -> None:
        self.partial = partial
        self.value = value
        self.children = children
        self.ref0: bytes | None = None
        self.ref1: bytes | None = None


_NO_CHILDREN: tuple[_Node | None, ...] = (None,) * 16


def _common_prefix(a: bytes, b: bytes) -> int:
    if a == b:
        return len(a)
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _rebuild(path: list[tuple[_Node, int]], new: _Node | None) -> _Node | None:
    """Copy the ancestors on `path` (node, child index taken) above a replaced child,
    restoring the canonical shape (no empty node, no valueless single-child branch).

    Only a removed child can break that shape, so a present one skips `_normalize`."""
    for parent, index in reversed(path):
        kids = list(parent.children or _NO_CHILDREN)
        kids[index] = new
        if new is None:
            new = _normalize(parent.partial, parent.value, kids)
        else:
            new = _Node(parent.partial, parent.value, tuple(kids))
    return new


def _normalize(partial: bytes, value: bytes | None, children: list[_Node | None]) -> _Node | None:
    live = [(i, c) for i, c in enumerate(children) if c is not None]
    if not live:
        return None if value is None else _Node(partial, value, None)
    if value is None and len(live) == 1:
        i, only = live[0]
        return _Node(partial + bytes((i,)) + only.partial, only.value, only.children)
    return _Node(partial, value, tuple(children))


def _insert(root: _Node | None, key: bytes, value: bytes) -> _Node | None:
    """The trie with `key` set (nibbles); `root` itself when nothing changes."""
    path: list[tuple[_Node, int]] = []
    node, pos = root, 0
    while node is not None:
        partial = node.partial
        n = _common_prefix(partial, key[pos : pos + len(partial)])
        if n < len(partial):
            kids: list[_Node | None] = [None] * 16
            kids[partial[n]] = _Node(partial[n + 1 :], node.value, node.children)
            split = pos + n
            if split == len(key):
                return _rebuild(path, _Node(partial[:n], value, tuple(kids)))
            kids[key[split]] = _Node(key[split + 1 :], value, None)
            return _rebuild(path, _Node(partial[:n], None, tuple(kids)))
        pos += n
        if pos == len(key):
            if node.value == value:
                return root
            return _rebuild(path, _Node(partial, value, node.children))
        path.append((node, key[pos]))
        node = node.children[key[pos]] if node.children else None
        pos += 1
    return _rebuild(path, _Node(key[pos:], value, None))


def _delete(root: _Node | None, key: bytes) -> _Node | None:
    """The trie without `key` (nibbles); `root` itself when the key is absent."""
    path: list[tuple[_Node, int]] = []
    node, pos = root, 0
    while node is not None:
        partial = node.partial
        if key[pos : pos + len(partial)] != partial:
            return root
        pos += len(partial)
        if pos == len(key):
            if node.value is None:
                return root
            return _rebuild(path, _normalize(partial, None, list(node.children or ())))
        if node.children is None:
            return root
        path.append((node, key[pos]))
        node = node.children[key[pos]]
        pos += 1
    return root


def _lookup(node: _Node | None, key: bytes) -> bytes | None:
    pos = 0
    while node is not None:
        partial = node.partial
        if key[pos : pos + len(partial)] != partial:
            return None
        pos += len(partial)
        if pos == len(key):
            return node.value
        if node.children is None:
            return None
        node = node.children[key[pos]]
        pos += 1
    return None


def _hashed(value: bytes, version: int) -> bool:
    return version == 1 and len(value) >= VALUE_NODE_THRESHOLD


def _encode(node: _Node, version: int) -> bytes:
    value = node.value
    hashed = value is not None and _hashed(value, version)
    stored = blake2_256(value) if hashed and value is not None else value
    if node.children is None:
        if stored is None:
            raise TrieError("a leaf node without a value")
        return encode_leaf(node.partial, stored, hashed)
    refs = [None if c is None else _ref(c, version) for c in node.children]
    return encode_branch(node.partial, stored, refs, hashed)


def _cached(node: _Node, version: int) -> bytes | None:
    return node.ref1 if version else node.ref0


def _ref(node: _Node, version: int) -> bytes:
    """The node's reference, encoding (bottom-up, without recursion) whatever is not cached."""
    ref = _cached(node, version)
    if ref is not None:
        return ref
    stack = [node]
    while True:
        top = stack[-1]
        missing = [c for c in top.children or () if c is not None and _cached(c, version) is None]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        computed = node_ref(_encode(top, version))
        if version:
            top.ref1 = computed
        else:
            top.ref0 = computed
        if not stack:
            return computed


def _root_hash(node: _Node | None, version: int) -> bytes:
    if node is None:
        return EMPTY_TRIE_ROOT
    ref = _ref(node, version)
    return ref if len(ref) == HASH_LEN else blake2_256(ref)


def _iter_items(root: _Node | None) -> Iterator[tuple[bytes, bytes]]:
    """Pairs in key order (depth-first, children by nibble), without recursion."""
    stack = [(root, b"")]
    while stack:
        node, prefix = stack.pop()
        if node is None:
            continue
        path = prefix + node.partial
        if node.value is not None:
            yield nibbles_to_key(path), node.value
        if node.children is not None:
            stack.extend(
                (c, path + bytes((i,))) for i, c in reversed(list(enumerate(node.children)))
            )


def _prove(node: _Node | None, key: bytes, version: int, out: dict[bytes, None]) -> None:
    """Add to `out` the nodes (and V1 value nodes) a verifier needs to decide `key`."""
    pos = 0
    is_root = True
    while node is not None:
        ref = _ref(node, version)
        if is_root or len(ref) == HASH_LEN:
            out[_encode(node, version)] = None
        is_root = False
        partial = node.partial
        if key[pos : pos + len(partial)] != partial:
            return
        pos += len(partial)
        if pos == len(key):
            if node.value is not None and _hashed(node.value, version):
                out[node.value] = None
            return
        if node.children is None:
            return
        node = node.children[key[pos]]
        pos += 1


def _as_pairs(pairs: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    out = dict(pairs.items() if isinstance(pairs, Mapping) else pairs)
    for k, v in out.items():
        if not isinstance(k, bytes | bytearray) or not isinstance(v, bytes | bytearray):
            raise TrieError(f"trie keys and values must be bytes, got {type(k)}: {type(v)}")
    return {bytes(k): bytes(v) for k, v in out.items()}


def trie_root(
    pairs: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]], version: int = 0
) -> bytes:
    """Root of the trie holding `pairs` (a repeated key keeps its last value)."""
    return _root_hash(_build_root(_as_pairs(pairs)), check_version(version))


def ordered_trie_root(values: Sequence[bytes], version: int = 0) -> bytes:
    """Root of the trie mapping SCALE `Compact(index)` to each value (extrinsics root)."""
    return trie_root({encode_compact(i): v for i, v in enumerate(values)}, version)


def child_storage_key(child_key: bytes) -> bytes:
    """Where the top trie stores a default child trie's root."""
    return DEFAULT_CHILD_STORAGE_PREFIX + child_key


Changes = Iterable[tuple[bytes, bytes | None]]


class TrieState:
    """An immutable storage state: the top trie plus default child tries, at one layout version.

    Every operation that changes storage returns a new `TrieState`; the receiver is never
    modified, and the two share all untouched nodes. Keep one state per block to serve roots,
    values and read proofs of past blocks; dropping a state frees only what nothing else uses.

    The layout version is fixed per state (`version`), as on a chain whose runtime declares one
    state version; the whole state is encoded with it (no mixed, half-migrated state).

    Typical use (a chain that keeps its history)::

        state = TrieState.from_pairs(genesis_pairs, version=0)
        history = [state]
        state = state.apply([(key, value_or_None), ...], [(child_key, [(k, v), ...])])
        history.append(state)                      # block N's snapshot; older ones unchanged
        history[n].root(); history[n].get(key)
        nodes = history[n].read_proof(keys)        # what `state_getReadProof` returns
        chain.proof.verify_read_proof(history[n].root(), nodes, keys)

    Roots are cached per node, so a block's root costs only the nodes it changed; a snapshot
    costs roughly the nodes its block changed (about 7 kB for a 28-change Phala block).
    """

    __slots__ = ("_children", "_top", "version")

    def __init__(self, version: int = 0) -> None:
        self.version = check_version(version)
        self._top: _Node | None = None
        self._children: dict[bytes, _Node] = {}

    @classmethod
    def from_pairs(
        cls,
        pairs: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]],
        version: int = 0,
        children: Mapping[bytes, Mapping[bytes, bytes]] | None = None,
    ) -> TrieState:
        """A state built in one pass from genesis pairs and optional default child tries
        (keyed by child key, without the `:child_storage:default:` prefix)."""
        state = cls(version)
        top = _as_pairs(pairs)
        _reject_child_keys(top)
        for child_key, child_pairs in (children or {}).items():
            node = _build_root(_as_pairs(child_pairs))
            if node is not None:
                state._children[bytes(child_key)] = node
                top[child_storage_key(child_key)] = _root_hash(node, state.version)
        state._top = _build_root(top)
        return state

    def _derive(self, top: _Node | None, children: dict[bytes, _Node]) -> TrieState:
        state = TrieState.__new__(TrieState)
        state.version = self.version
        state._top = top
        state._children = children
        return state

    def apply(
        self, main_changes: Changes, child_changes: Iterable[tuple[bytes, Changes]] = ()
    ) -> TrieState:
        """The state after one block's changes (value None deletes); `self` is unchanged.

        Child changes are keyed by child key (without prefix); a child trie left empty removes
        its root entry from the top trie, as Substrate does. A main change under
        `:child_storage:` raises `TrieError`: only the child tries may write those entries
        (Substrate's runtime refuses such writes, so a block's changes never contain them).
        """
        top = self._top
        for key, value in main_changes:
            if _as_key(key).startswith(CHILD_STORAGE_PREFIX):
                raise TrieError(f"key 0x{bytes(key).hex()} is reserved for child tries")
            top = _set(top, key, value)
        children = self._children
        for raw_child_key, changes in child_changes:
            child_key = _as_key(raw_child_key)
            if children is self._children:
                children = dict(children)
            node = children.get(child_key)
            for key, value in changes:
                node = _set(node, key, value)
            storage_key = child_storage_key(child_key)
            if node is None:
                children.pop(child_key, None)
                top = _set(top, storage_key, None)
            else:
                children[child_key] = node
                top = _set(top, storage_key, _root_hash(node, self.version))
        return self._derive(top, children)

    def root(self) -> bytes:
        """The state root (blake2-256 of the top trie's root node)."""
        return _root_hash(self._top, self.version)

    def get(self, key: bytes) -> bytes | None:
        return _lookup(self._top, key_to_nibbles(_as_key(key)))

    def child_get(self, child_key: bytes, key: bytes) -> bytes | None:
        return _lookup(self._children.get(child_key), key_to_nibbles(_as_key(key)))

    def child_root(self, child_key: bytes) -> bytes | None:
        """Root of a default child trie, None when it is empty."""
        node = self._children.get(child_key)
        return None if node is None else _root_hash(node, self.version)

    def child_keys(self) -> list[bytes]:
        return sorted(self._children)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Top-trie pairs in key order (child roots included, as the chain stores them)."""
        return _iter_items(self._top)

    def child_items(self, child_key: bytes) -> Iterator[tuple[bytes, bytes]]:
        return _iter_items(self._children.get(child_key))

    def read_proof(self, keys: Iterable[bytes]) -> list[bytes]:
        """The node set proving each key's value or absence (as `state_getReadProof`)."""
        return _read_proof(self._top, keys, self.version)

    def child_read_proof(self, child_key: bytes, keys: Iterable[bytes]) -> list[bytes]:
        """A proof against the child trie's root (as `state_getChildReadProof`)."""
        return _read_proof(self._children.get(child_key), keys, self.version)


def _read_proof(node: _Node | None, keys: Iterable[bytes], version: int) -> list[bytes]:
    out: dict[bytes, None] = {}
    if node is None:
        return [EMPTY_NODE]
    for key in keys:
        _prove(node, key_to_nibbles(key), version, out)
    return list(out)


def _as_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise TrieError(f"storage key must be bytes, got {type(key).__name__}")
    return bytes(key)


def _set(root: _Node | None, key: bytes, value: bytes | None) -> _Node | None:
    nibbles = key_to_nibbles(_as_key(key))
    if value is None:
        return _delete(root, nibbles)
    if not isinstance(value, bytes | bytearray):
        raise TrieError(
            f"value of key 0x{bytes(key).hex()} must be bytes or None, got {type(value).__name__}"
        )
    return _insert(root, nibbles, bytes(value))


def _build_root(pairs: Mapping[bytes, bytes]) -> _Node | None:
    root = None
    for key, value in pairs.items():
        root = _insert(root, key_to_nibbles(key), value)
    return root


def _reject_child_keys(pairs: Mapping[bytes, bytes]) -> None:
    for key in pairs:
        if key.startswith(CHILD_STORAGE_PREFIX):
            raise TrieError(
                f"key 0x{key.hex()} is reserved for child tries; pass them as `children`"
            )
