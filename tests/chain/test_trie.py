"""The trie against real chains: roots, state replay, read proofs; plus codec edge cases and
properties (order independence, proof soundness and completeness, decoder fuzzing)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.header import Header, genesis_header
from pinkpipe.chain.keys import SYSTEM_EVENTS, TIMESTAMP_NOW
from pinkpipe.chain.proof import ReadProof, decode_proof, encode_proof, verify_read_proof
from pinkpipe.chain.scale import encode_compact
from pinkpipe.chain.trie import (
    DEFAULT_CHILD_STORAGE_PREFIX,
    EMPTY_TRIE_ROOT,
    MalformedProof,
    NodeDecodeError,
    ProofIncomplete,
    TrieError,
    TrieState,
    decode_node,
    encode_branch,
    encode_header,
    encode_leaf,
    encode_node,
    key_to_nibbles,
    ordered_trie_root,
    trie_root,
)
from tests.trie_vectors import (
    issue_2035_proof,
    phala_changes,
    phala_genesis_storage,
    phala_state_roots,
    rococo_events_proofs,
    smoldot_proof,
    smoldot_tests,
    unhex,
)
from tests.vectors import WESTEND_GENESIS_HASH, westend_blocks, westend_genesis_storage

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- codec ---------------------------------------------------------------------------------


def test_empty_trie_root_is_hash_of_empty_node() -> None:
    assert blake2_256(b"\x00") == EMPTY_TRIE_ROOT
    assert trie_root({}) == trie_root({}, 1) == EMPTY_TRIE_ROOT
    assert EMPTY_TRIE_ROOT.hex().startswith("03170a2e7597b7b7e3d84c05391d139a62b157e7")


@pytest.mark.parametrize(
    ("prefix", "bits", "count", "expected"),
    [
        (0x40, 2, 0, "40"),
        (0x40, 2, 62, "7e"),
        (0x40, 2, 63, "7f00"),
        (0x40, 2, 63 + 254, "7ffe"),
        (0x40, 2, 63 + 255, "7fff00"),
        (0x80, 2, 64, "bf01"),
        (0x20, 3, 31, "3f00"),
        (0x10, 4, 14, "1e"),
        (0x10, 4, 15, "1f00"),
    ],
)
def test_header_nibble_count_continuation(
    prefix: int, bits: int, count: int, expected: str
) -> None:
    assert encode_header(prefix, bits, count).hex() == expected


def test_header_nibble_count_is_bounded_to_u16() -> None:
    """Partial keys are bounded to `NIBBLE_SIZE_BOUND` (u16::MAX) nibbles, as sp-trie was."""
    node = decode_node(encode_header(0x40, 2, 0xFFFF) + b"\x0f" + b"\xff" * 0x7FFF + b"\x00")
    assert node.partial == b"\x0f" * 0xFFFF and node.value == b""
    with pytest.raises(TrieError, match="65535"):
        encode_header(0x40, 2, 0x10000)


@pytest.mark.parametrize("count", [0, 1, 14, 15, 16, 30, 31, 32, 62, 63, 64, 317, 318, 319, 1000])
def test_nodes_round_trip_every_kind(count: int) -> None:
    partial = bytes(i % 16 for i in range(count))
    child = blake2_256(b"child")
    inline = encode_leaf(b"\x01", b"v")
    children = [child if i % 5 == 0 else inline if i == 3 else None for i in range(16)]
    value_hash = blake2_256(b"value")
    for encoded, expected_value, expected_hash, expected_children in (
        (encode_leaf(partial, b"abc"), b"abc", None, None),
        (encode_leaf(partial, value_hash, hashed=True), None, value_hash, None),
        (encode_branch(partial, None, children), None, None, tuple(children)),
        (encode_branch(partial, b"", children), b"", None, tuple(children)),
        (encode_branch(partial, value_hash, children, hashed=True), None, value_hash, None),
    ):
        node = decode_node(encoded)
        assert node.partial == partial
        assert node.value == expected_value
        assert node.value_hash == expected_hash
        if expected_children is not None:
            assert node.children == expected_children


def test_children_shorter_than_32_bytes_are_inlined() -> None:
    """A child whose encoding has 31 bytes is embedded; one of 32 bytes is referenced by hash."""
    for value_len, inline in ((28, True), (29, False)):
        pairs = {b"\x10": b"a", b"\x20": b"v" * value_len}
        child = encode_leaf(b"\x00", b"v" * value_len)
        assert len(child) == value_len + 3
        root = decode_node(TrieState.from_pairs(pairs).read_proof([b"\x20"])[0])
        assert root.children is not None
        assert root.children[2] == (child if inline else blake2_256(child))
        children = [None, encode_leaf(b"\x00", b"a"), root.children[2], *[None] * 13]
        assert trie_root(pairs) == blake2_256(encode_branch(b"", None, children))


def test_odd_partial_is_left_padded() -> None:
    assert encode_leaf(b"\x0a\x0b\x0c", b"").hex() == "430abc00"


def test_v1_hashes_values_of_33_bytes_or_more() -> None:
    short, long = {b"k": b"x" * 32}, {b"k": b"x" * 33}
    assert trie_root(short, 0) == trie_root(short, 1)
    assert trie_root(long, 0) != trie_root(long, 1)
    state = TrieState.from_pairs(long, version=1)
    (node,) = state.read_proof([b"k"])[:1]
    assert node[0] >> 5 == 0b001
    assert decode_node(node).value_hash == blake2_256(b"x" * 33)


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"", 0),
        (b"\x01", 0),  # 0b0000_0001: neither empty nor a V1 kind
        (b"\x0f", 0),
        (b"\x00\x00", 1),  # trailing byte after the empty node
        (b"\x41\x10\x00", 1),  # odd partial with a non-zero padding nibble
        (b"\x42\xab", 2),  # truncated before the value
        (b"\x42\xab\x08\x01", 2),  # value length 2, one byte left
        (b"\x42\xab\x00\x00", 3),  # trailing byte
        (b"\x80\x00\x00", 1),  # branch bitmap without a child
        (b"\x80\x01\x00\x84" + b"\x00" * 33, 3),  # child reference of 33 bytes
        (b"\x80\x01\x00\x00", 3),  # child reference of 0 bytes
        (b"\x42\xab\x01\x00", 2),  # non-canonical compact length
        (b"\x7f" + b"\xff" * 300, 257),  # nibble count beyond 65535
        (b"\x7f\xff", 2),  # continuation truncated
    ],
)
def test_malformed_nodes_raise_decode_error_with_offset(data: bytes, offset: int) -> None:
    with pytest.raises(NodeDecodeError) as e:
        decode_node(data)
    assert e.value.offset == offset
    assert f"byte {offset}" in str(e.value)


# -- roots on real chains ------------------------------------------------------------------


def test_westend_genesis_hash_from_v0_trie_root() -> None:
    root = trie_root(westend_genesis_storage(), 0)
    assert genesis_header(root).hash() == WESTEND_GENESIS_HASH
    assert TrieState.from_pairs(westend_genesis_storage()).root() == root


def test_westend_extrinsics_roots_are_ordered_trie_roots() -> None:
    blocks = westend_blocks()
    assert len(blocks) == 256
    for block in blocks:
        header = Header.decode(block.header)
        assert ordered_trie_root(block.extrinsics) == header.extrinsics_root, header.number


def test_phala_replay_reproduces_every_state_root() -> None:
    roots = phala_state_roots()
    blocks = phala_changes()
    assert len(roots) == 51 and len(blocks) == 53
    assert dict(blocks[0].main) == phala_genesis_storage()
    state = TrieState.from_pairs(phala_genesis_storage())
    matched = [state.root() == roots[0]]
    history = [state]
    for block, expected in zip(blocks[1:], roots[1:], strict=False):
        state = state.apply(block.main, block.child)
        history.append(state)
        matched.append(state.root() == expected)
    assert all(matched[:31])
    assert sum(matched) == 51
    # Older snapshots are untouched by later blocks.
    assert [s.root() for s in history] == roots


def test_phala_genesis_via_apply_equals_bulk_build() -> None:
    state = TrieState().apply(phala_changes()[0].main)
    assert state.root() == phala_state_roots()[0]


# -- proofs on real chains -----------------------------------------------------------------


def test_smoldot_polkadot_genesis_proof_present_absent_incomplete() -> None:
    root, nodes = smoldot_proof("example_proof_polkadot_genesis")
    present, absent, uncovered = (
        unhex(r["key"]) for r in smoldot_tests()["example_proof_polkadot_genesis"]["reads"]
    )
    proof = ReadProof(root, nodes)
    assert proof.get(present) == unhex("0d1456fdda7b8ec7f9e5c794cd83194f0593e4ea")
    assert proof.get(absent) is None
    with pytest.raises(ProofIncomplete) as e:
        proof.get(uncovered)
    assert e.value.key == uncovered
    assert e.value.node_hash.hex() in str(e.value) and uncovered.hex() in str(e.value)
    assert verify_read_proof(root, nodes, [present, absent]) == {
        present: unhex("0d1456fdda7b8ec7f9e5c794cd83194f0593e4ea"),
        absent: None,
    }
    with pytest.raises(ProofIncomplete):
        verify_read_proof(root, nodes, [present, uncovered])


def test_smoldot_timestamp_now_proof() -> None:
    root, nodes = smoldot_proof("timestamp_now_proof")
    value = verify_read_proof(root, nodes, [TIMESTAMP_NOW])[TIMESTAMP_NOW]
    assert value is not None
    assert int.from_bytes(value, "little") == 1611308946000


def test_issue_2035_v1_proof_entries_and_hashed_values() -> None:
    root, nodes = issue_2035_proof()
    proof = ReadProof(root, nodes)
    entries = list(proof.entries())
    assert len(entries) == 81
    hashed = [e for e in entries if e.value_hash is not None]
    assert len(hashed) == 12
    for e in hashed:
        assert e.value is not None and blake2_256(e.value) == e.value_hash
        assert len(e.value) >= 33
    for e in entries:
        assert proof.get(e.key) == e.value
    keys = [e.key for e in entries]
    assert keys == sorted(keys)
    case = smoldot_tests()["issue_2035"]["issue_2035"]
    start = unhex(case["key"])
    assert next(k for k in keys if k > start) == unhex(case["expected_next_key"])


def test_rococo_system_events_proofs_verify_and_hold_the_event() -> None:
    cases = rococo_events_proofs()
    assert len(cases) == 2
    for case in cases:
        value = verify_read_proof(case.header.state_root, case.nodes, [SYSTEM_EVENTS])
        events = value[SYSTEM_EVENTS]
        assert events is not None and 11_000 <= len(events) <= 18_000, case.file
        assert case.event in events, case.file


def test_flipped_byte_in_any_rococo_proof_node_never_yields_a_value() -> None:
    case = rococo_events_proofs()[0]
    for i, node in enumerate(case.nodes):
        for pos in {0, 1, len(node) // 2, len(node) - 1}:
            tampered = list(case.nodes)
            tampered[i] = node[:pos] + bytes((node[pos] ^ 0x01,)) + node[pos + 1 :]
            with pytest.raises((MalformedProof, ProofIncomplete)):
                verify_read_proof(case.header.state_root, tampered, [SYSTEM_EVENTS])


def test_wrong_root_or_missing_root_is_bad_proof() -> None:
    root, nodes = smoldot_proof("timestamp_now_proof")
    with pytest.raises(MalformedProof, match=r"root 0x[0-9a-f]{64} is not in the proof"):
        verify_read_proof(bytes(32), nodes, [TIMESTAMP_NOW])
    without_root = [n for n in nodes if blake2_256(n) != root]
    assert len(without_root) == len(nodes) - 1
    with pytest.raises(MalformedProof):
        verify_read_proof(root, without_root, [TIMESTAMP_NOW])
    with pytest.raises(MalformedProof):
        verify_read_proof(root[:31], nodes, [TIMESTAMP_NOW])


def test_linked_node_that_does_not_decode_is_bad_proof() -> None:
    garbage = b"\x01" + b"\xff" * 40
    with pytest.raises(MalformedProof, match=blake2_256(garbage).hex()):
        verify_read_proof(blake2_256(garbage), [garbage], [b"k"])


def test_scale_proof_round_trip_and_strictness() -> None:
    _, nodes = smoldot_proof("example_proof_polkadot_genesis")
    encoded = encode_proof(nodes)
    assert decode_proof(encoded) == nodes
    with pytest.raises(MalformedProof):
        decode_proof(encoded[:-1])
    with pytest.raises(MalformedProof):
        decode_proof(encoded + b"\x00")
    with pytest.raises(MalformedProof):
        decode_proof(b"\xfe\xff\xff\xff")  # claims ~1 billion nodes, has none


def test_state_proof_of_real_phala_state_verifies() -> None:
    state = TrieState.from_pairs(phala_genesis_storage())
    for block in phala_changes()[1:]:
        state = state.apply(block.main, block.child)
    keys = [SYSTEM_EVENTS, TIMESTAMP_NOW, b":code", b"absent-key"]
    values = verify_read_proof(state.root(), state.read_proof(keys), keys)
    assert values == {k: state.get(k) for k in keys}
    assert values[b"absent-key"] is None and values[b":code"]


# -- state and child tries -----------------------------------------------------------------


def test_child_tries_store_their_root_in_the_top_trie() -> None:
    child = {b"a": b"1", b"b": b"2" * 40}
    for version in (0, 1):
        state = TrieState(version).apply([(b"top", b"v")], [(b"ck", list(child.items()))])
        child_root = trie_root(child, version)
        assert state.child_root(b"ck") == child_root
        expected_top = {b"top": b"v", DEFAULT_CHILD_STORAGE_PREFIX + b"ck": child_root}
        assert state.root() == trie_root(expected_top, version)
        assert dict(state.items()) == expected_top
        assert state.child_get(b"ck", b"b") == b"2" * 40
        from_pairs = TrieState.from_pairs({b"top": b"v"}, version, {b"ck": child})
        assert from_pairs.root() == state.root()
        proof = state.child_read_proof(b"ck", [b"a", b"zz"])
        assert verify_read_proof(child_root, proof, [b"a", b"zz"]) == {b"a": b"1", b"zz": None}
        emptied = state.apply([], [(b"ck", [(b"a", None), (b"b", None)])])
        assert emptied.child_root(b"ck") is None and emptied.child_keys() == []
        assert emptied.root() == trie_root({b"top": b"v"}, version)
        assert state.child_root(b"ck") == child_root


def test_child_storage_keys_are_reserved_in_main_changes() -> None:
    with pytest.raises(TrieError, match="reserved"):
        TrieState().apply([(b":child_storage:default:x", b"v")])
    with pytest.raises(TrieError, match="reserved"):
        TrieState.from_pairs({b":child_storage:default:x": b"v"})
    state = TrieState().apply([], [(b"ck", [(b"a", b"1")])])
    for key in (b":child_storage:default:ck", b":child_storage:other:x", b":child_storage:"):
        for value in (b"v", None):
            with pytest.raises(TrieError, match="reserved"):
                state.apply([(b"top", b"v"), (key, value)])
    assert state.get(b":child_storage:default:ck") == state.child_root(b"ck")


def test_child_trie_edge_cases() -> None:
    """An empty child trie has no root entry; deleting in a missing child changes nothing; a
    child emptied and refilled in one block ends with its new root."""
    assert TrieState.from_pairs({b"t": b"v"}, 0, {b"ck": {}}).root() == trie_root({b"t": b"v"})
    state = TrieState().apply([(b"t", b"v")])
    assert state.apply([], [(b"none", [(b"a", None)])]).root() == state.root()
    filled = state.apply([], [(b"ck", [(b"a", b"1")])])
    refilled = filled.apply([], [(b"ck", [(b"a", None), (b"b", b"2")])])
    expected = {b"t": b"v", DEFAULT_CHILD_STORAGE_PREFIX + b"ck": trie_root({b"b": b"2"})}
    assert refilled.root() == trie_root(expected)
    assert filled.child_get(b"ck", b"a") == b"1" and refilled.child_get(b"ck", b"a") is None


def test_empty_state_proves_absence() -> None:
    state = TrieState()
    assert verify_read_proof(state.root(), state.read_proof([b"k"]), [b"k"]) == {b"k": None}


@pytest.mark.slow
def test_deep_trie_needs_no_recursion() -> None:
    """1100 nested keys make a trie deeper than Python's recursion limit."""
    keys = [b"\x00" * i for i in range(1100)]
    state = TrieState().apply([(k, b"") for k in keys])
    deepest = keys[-1]
    proof = state.read_proof([deepest])
    assert verify_read_proof(state.root(), proof, [deepest]) == {deepest: b""}
    assert len(list(ReadProof(state.root(), proof).entries())) == len(keys)
    assert [k for k, _ in state.items()] == keys
    thinned = state.apply([(k, None) for k in keys[::2]])
    assert thinned.root() == trie_root({k: b"" for k in keys[1::2]})


def test_values_must_be_bytes() -> None:
    with pytest.raises(TrieError, match="must be bytes"):
        TrieState().apply([(b"k", "text")])  # type: ignore[list-item]
    with pytest.raises(TrieError, match="must be bytes"):
        TrieState().apply([("k", b"v")])  # type: ignore[list-item]
    with pytest.raises(TrieError, match="must be bytes"):
        TrieState().get("k")  # type: ignore[arg-type]
    with pytest.raises(TrieError, match="must be bytes"):
        TrieState().child_get(b"ck", "k")  # type: ignore[arg-type]


def test_unknown_version_is_rejected() -> None:
    with pytest.raises(TrieError, match="version"):
        TrieState(2)
    with pytest.raises(TrieError, match="version"):
        trie_root({}, 3)


def test_ordered_trie_root_keys_are_compact_indices() -> None:
    values = [bytes([i]) * i for i in range(70)]
    assert ordered_trie_root(values) == trie_root(
        {encode_compact(i): v for i, v in enumerate(values)}
    )


# -- properties ----------------------------------------------------------------------------

keys_st = st.binary(min_size=0, max_size=6)
values_st = st.one_of(st.binary(max_size=4), st.binary(min_size=30, max_size=40))
storage_st = st.dictionaries(keys_st, values_st, max_size=40)
versions_st = st.sampled_from([0, 1])


@FAST
@given(storage_st, st.randoms(use_true_random=False), versions_st, storage_st)
def test_root_is_independent_of_insertion_order(
    pairs: dict[bytes, bytes], rnd: random.Random, version: int, noise: dict[bytes, bytes]
) -> None:
    items = list(pairs.items())
    rnd.shuffle(items)
    extra = [(k, v) for k, v in noise.items() if k not in pairs]
    state = TrieState(version)
    for key, value in extra:
        state = state.apply([(key, value)])
    state = state.apply(items)
    state = state.apply([(k, None) for k, _ in extra])
    assert state.root() == trie_root(pairs, version)
    assert dict(state.items()) == pairs


def _assert_canonical(state: TrieState, probes: list[bytes]) -> None:
    """Every node on the paths of `probes` is a leaf, or a branch with a value or 2+ children."""
    values = {state.get(k) for k in probes} if state.version else set()
    for data in state.read_proof(probes):
        if data in values:
            continue  # a V1 value node
        node = decode_node(data)
        if node.children is not None:
            count = sum(c is not None for c in node.children)
            assert count >= 2 or node.value is not None or node.value_hash is not None, node


def test_deleting_leaves_no_valueless_single_child_branch() -> None:
    state = TrieState().apply([(b"\xab\x01", b"1"), (b"\xab\x02", b"2"), (b"\xab", b"v" * 40)])
    for remove, left in (
        (b"\xab\x02", {b"\xab\x01": b"1", b"\xab": b"v" * 40}),
        (b"\xab", {b"\xab\x01": b"1"}),
    ):
        state = state.apply([(remove, None)])
        assert state.root() == trie_root(left)
        _assert_canonical(state, [b"\xab", b"\xab\x01", b"\xab\x02"])
    (root,) = state.read_proof([b"\xab\x01"])
    assert decode_node(root) == decode_node(encode_leaf(key_to_nibbles(b"\xab\x01"), b"1"))


@FAST
@given(storage_st, st.lists(keys_st, max_size=30), versions_st)
def test_random_deletes_keep_the_trie_canonical(
    pairs: dict[bytes, bytes], removed: list[bytes], version: int
) -> None:
    state = TrieState.from_pairs(pairs, version).apply((k, None) for k in removed)
    _assert_canonical(state, [*pairs, *removed])
    assert state.root() == trie_root({k: v for k, v in pairs.items() if k not in removed}, version)


@FAST
@given(storage_st, st.lists(keys_st, max_size=8), versions_st)
def test_every_key_is_proven_by_a_proof_built_from_the_state(
    pairs: dict[bytes, bytes], others: list[bytes], version: int
) -> None:
    state = TrieState.from_pairs(pairs, version)
    keys = [*pairs, *others]
    proof = state.read_proof(keys)
    assert verify_read_proof(state.root(), proof, keys) == {k: pairs.get(k) for k in keys}
    for key in keys:
        single = state.read_proof([key])
        assert verify_read_proof(state.root(), single, [key]) == {key: pairs.get(key)}


@FAST
@given(storage_st.filter(bool), st.data(), versions_st)
def test_proof_missing_a_node_is_incomplete_for_the_key(
    pairs: dict[bytes, bytes], data: st.DataObject, version: int
) -> None:
    state = TrieState.from_pairs(pairs, version)
    key = data.draw(st.sampled_from(sorted(pairs)))
    proof = state.read_proof([key])
    dropped = data.draw(st.integers(0, len(proof) - 1))
    rest = proof[:dropped] + proof[dropped + 1 :]
    if dropped == 0:  # the root comes first
        with pytest.raises(MalformedProof):
            verify_read_proof(state.root(), rest, [key])
    else:
        with pytest.raises(ProofIncomplete) as e:
            verify_read_proof(state.root(), rest, [key])
        assert e.value.node_hash == blake2_256(proof[dropped])


@FAST
@given(storage_st, storage_st, st.lists(keys_st, max_size=8), versions_st, st.data())
def test_proof_never_answers_wrongly_for_keys_it_does_not_cover(
    pairs: dict[bytes, bytes],
    decoy_pairs: dict[bytes, bytes],
    probes: list[bytes],
    version: int,
    data: st.DataObject,
) -> None:
    """A proof for some keys, padded with the nodes of another state that holds different
    values, answers every other key either correctly or with `ProofIncomplete`: nodes not
    linked from the root by hash, or sitting on another key's path, are never used."""
    state = TrieState.from_pairs(pairs, version)
    decoy = state.apply((k, v + b"!") for k, v in decoy_pairs.items())
    proven = data.draw(st.lists(st.sampled_from(sorted(pairs)), max_size=3)) if pairs else []
    proven.append(b"\x00" * 7)  # longer than any drawn key: the root is always in the proof
    everything = [*pairs, *decoy_pairs, *probes]
    nodes = state.read_proof(proven) + decoy.read_proof(everything)
    nodes += [encode_leaf(key_to_nibbles(k)[1:], b"forged") for k in everything if k]
    proof = ReadProof(state.root(), nodes)
    for key in everything:
        try:
            answer = proof.get(key)
        except ProofIncomplete:
            assert key not in proven
            continue
        assert answer == pairs.get(key)


def test_tampered_or_missing_v1_value_node_never_yields_a_value() -> None:
    value = b"v" * 40
    state = TrieState.from_pairs({b"key": value, b"kez": b"short"}, version=1)
    nodes = state.read_proof([b"key"])
    assert value in nodes
    tampered = value[:-1] + b"w"
    for bad in ([n for n in nodes if n != value], [tampered if n == value else n for n in nodes]):
        with pytest.raises(ProofIncomplete) as e:
            verify_read_proof(state.root(), bad, [b"key"])
        assert e.value.node_hash == blake2_256(value)
        (entry,) = [e for e in ReadProof(state.root(), bad).entries() if e.key == b"key"]
        assert entry.value is None and entry.value_hash == blake2_256(value)
    assert verify_read_proof(state.root(), nodes, [b"key", b"kez"]) == {
        b"key": value,
        b"kez": b"short",
    }


def test_absence_is_proven_only_where_the_path_diverges() -> None:
    """Keys ending inside a partial, continuing past a leaf, or taking an empty branch slot
    are absent; a key whose path leaves the proof is incomplete, never absent."""
    far = b"c" * 40  # long enough that its leaf is referenced by hash, not inlined
    state = TrieState.from_pairs({b"\x12\x34\x56": b"a", b"\x12\x34\x57": b"b", b"\x99": far})
    nodes = state.read_proof([b"\x12\x34\x56"])
    absent = [b"\x12", b"\x12\x34", b"\x12\x35", b"\x12\x34\x56\x00", b"\x12\x34\x66", b"\x55"]
    assert verify_read_proof(state.root(), nodes, absent) == dict.fromkeys(absent)
    assert verify_read_proof(state.root(), nodes, [b"\x12\x34\x57"]) == {b"\x12\x34\x57": b"b"}
    for uncovered in (b"\x99", b"\x98", b"\x99\x00"):
        with pytest.raises(ProofIncomplete):
            verify_read_proof(state.root(), nodes, [uncovered])
    assert verify_read_proof(state.root(), state.read_proof([b"\x98"]), [b"\x98", b"\x99"]) == {
        b"\x98": None,
        b"\x99": far,
    }


def _real_nodes() -> list[bytes]:
    """Trie nodes (not V1 value nodes) of the recorded proofs."""
    nodes = [*smoldot_proof("example_proof_polkadot_genesis")[1]]
    nodes += smoldot_proof("timestamp_now_proof")[1]
    root, v1_nodes = issue_2035_proof()
    values = {e.value for e in ReadProof(root, v1_nodes).entries() if e.value_hash is not None}
    return nodes + [n for n in v1_nodes if n not in values]


REAL_NODES = _real_nodes()


def _decodes_exactly_or_raises(data: bytes) -> None:
    """Only `NodeDecodeError` may escape, and whatever decodes re-encodes to the same bytes."""
    try:
        node = decode_node(data)
    except NodeDecodeError:
        return
    assert encode_node(node) == data


def test_real_nodes_round_trip() -> None:
    assert len(REAL_NODES) == 6 + 3 + 70 - 12
    for node in REAL_NODES:
        assert encode_node(decode_node(node)) == node


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decoder_fuzz_random_bytes(data: bytes) -> None:
    _decodes_exactly_or_raises(data)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(REAL_NODES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 10_000),
)
def test_decoder_fuzz_mutated_real_nodes(
    node: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    mutated = bytearray(node)
    for pos, byte in flips:
        mutated[pos % len(mutated)] = byte
    for candidate in (bytes(mutated), bytes(mutated[: cut % (len(mutated) + 1)])):
        _decodes_exactly_or_raises(candidate)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 255))
def test_mutated_proof_never_returns_a_wrong_value(pos: int, xor: int) -> None:
    root, nodes = smoldot_proof("timestamp_now_proof")
    i = pos % len(nodes)
    j = pos % len(nodes[i])
    tampered = list(nodes)
    tampered[i] = nodes[i][:j] + bytes((nodes[i][j] ^ xor,)) + nodes[i][j + 1 :]
    try:
        result = verify_read_proof(root, tampered, [TIMESTAMP_NOW])
    except TrieError:
        return
    assert result == {TIMESTAMP_NOW: unhex("50527f2977010000")}


def test_nibbles_of_a_key() -> None:
    assert key_to_nibbles(b"\x12\xab") == b"\x01\x02\x0a\x0b"
