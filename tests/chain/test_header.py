"""Headers and digests against real Westend and Rococo data: hashes, links, byte-exact codec."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.header import (
    EMPTY_TRIE_ROOT,
    DigestItem,
    DigestKind,
    Header,
    decode_headers,
    genesis_header,
    read_common_header,
    read_header_checked,
)
from pinkpipe.chain.scale import CodecError, Reader, encode_compact, encode_vec
from pinkpipe.chain.trie import ordered_trie_root, trie_root
from tests.fuzzing import mutated
from tests.vectors import (
    ROCOCO_SET_IDS,
    WESTEND_GENESIS_HASH,
    rococo_batch_data,
    rococo_register_header,
    rococo_register_header_bytes,
    split_batch,
    westend_block_responses,
    westend_blocks,
    westend_genesis_storage,
)


def reencoded(header: Header) -> bytes:
    """Encode from the parsed fields, not from the bytes the decoder kept."""
    return dataclasses.replace(header).encode()


def real_header_bytes() -> list[bytes]:
    """Every distinct real header in the vectors: Westend #1..#256 and all Rococo headers."""
    out = {b.header: None for b in westend_blocks()}
    for set_id in ROCOCO_SET_IDS:
        out[rococo_register_header_bytes(set_id)] = None
        for _, data in rococo_batch_data(set_id):
            batch = split_batch(data)
            for h in (*batch.headers, batch.justified_header):
                out[h.encode()] = None
    return list(out)


REAL_HEADERS = real_header_bytes()


# --- Westend #1..#256 --------------------------------------------------------------------------


def test_westend_responses_cover_1_to_256() -> None:
    responses = westend_block_responses()
    numbers = {
        name: [Header.decode(b.header).number for b in blocks] for name, blocks in responses.items()
    }
    assert numbers["blocks_1_to_10"] == list(range(1, 11))
    assert numbers["blocks_1_to_128"] == list(range(128, 0, -1))  # the descending one
    assert numbers["blocks_129_to_256"] == list(range(129, 257))
    assert [Header.decode(b.header).number for b in westend_blocks()] == list(range(1, 257))


def test_westend_hashes_and_links() -> None:
    parent = WESTEND_GENESIS_HASH
    for block in westend_blocks():
        header = Header.decode(block.header)
        assert blake2_256(block.header) == block.hash, header.number
        assert header.hash() == block.hash, header.number
        assert header.parent_hash == parent, header.number
        parent = block.hash


def test_westend_extrinsics_roots() -> None:
    blocks = westend_blocks()
    for block in blocks:
        header = Header.decode(block.header)
        assert block.extrinsics, header.number  # every block carries at least the timestamp
        assert ordered_trie_root(block.extrinsics) == header.extrinsics_root, header.number
    # Dropping or reordering extrinsics changes the root.
    body = blocks[1].extrinsics
    root = Header.decode(blocks[1].header).extrinsics_root
    assert len(body) > 1
    assert ordered_trie_root(body[:-1]) != root
    assert ordered_trie_root(body[::-1]) != root


def test_westend_genesis_header_hash() -> None:
    header = genesis_header(trie_root(westend_genesis_storage()))
    assert header.hash() == WESTEND_GENESIS_HASH
    assert header.extrinsics_root == EMPTY_TRIE_ROOT
    assert Header.decode(header.encode()) == header
    assert len(header.encode()) == 32 + 1 + 32 + 32 + 1


# --- Rococo --------------------------------------------------------------------------------------

# Where each batch's first header hangs: the register header, or the previous batch's justified
# header. set-3164's two batches start over from the same parent (overlapping ranges).
BATCH_ANCHOR = {
    (3164, "2-headers-roco.json"): "register",
    (3164, "6-headers-roco.json"): "register",
    (3165, "2-headers-roco.json"): "register",
    (3165, "5-headers-roco.json"): "previous",
}


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
def test_rococo_headers_hash_and_link(set_id: int) -> None:
    register = rococo_register_header(set_id)
    previous = register
    files = rococo_batch_data(set_id)
    assert {(set_id, name) for name, _ in files} == {k for k in BATCH_ANCHOR if k[0] == set_id}
    for name, data in files:
        batch = split_batch(data)
        anchor = register if BATCH_ANCHOR[(set_id, name)] == "register" else previous
        chain = [*batch.headers, batch.justified_header]
        assert chain[0].parent_hash == anchor.hash(), name
        assert chain[0].number == anchor.number + 1, name
        for parent, child in itertools.pairwise(chain):
            assert child.parent_hash == blake2_256(parent.encode()), (name, child.number)
            assert child.number == parent.number + 1, (name, child.number)
        previous = batch.justified_header


def test_rococo_register_headers() -> None:
    assert [rococo_register_header(s).number for s in ROCOCO_SET_IDS] == [1842726, 1843326]
    for set_id in ROCOCO_SET_IDS:
        raw = rococo_register_header_bytes(set_id)
        header = Header.decode(raw)
        assert header.hash() == blake2_256(raw)
        assert len(header.items(DigestKind.CONSENSUS, b"FRNK")) == 1
        assert len(header.items(DigestKind.CONSENSUS)) == 4
        assert [d.engine for d in header.items(DigestKind.SEAL)] == [b"BABE"]


# --- byte-exact round trips ----------------------------------------------------------------------


def test_every_real_header_round_trips_from_its_fields() -> None:
    # Westend 256, 2 register headers, set 3164 #1842727..#1843135 (its two batches overlap),
    # set 3165 #1843327..#1843750.
    assert len(REAL_HEADERS) == 256 + 2 + 409 + 424
    for raw in REAL_HEADERS:
        header = Header.decode(raw)
        assert header.encode() == raw
        assert reencoded(header) == raw
        assert Header.decode(reencoded(header)) == header


def test_a_changed_decoded_header_hashes_its_new_fields() -> None:
    """The kept decoded bytes must not outlive a change: a header whose state root was
    replaced would otherwise keep the old hash while claiming the new root."""
    header = Header.decode(REAL_HEADERS[-1])
    changed = dataclasses.replace(header, state_root=bytes(32))
    assert changed.encode() != REAL_HEADERS[-1] and changed.hash() != header.hash()
    assert Header.decode(changed.encode()).state_root == bytes(32)
    assert dataclasses.replace(header).hash() == header.hash()


def test_header_lists_round_trip() -> None:
    headers = [Header.decode(raw) for raw in REAL_HEADERS[:50]]
    data = encode_vec(headers, reencoded)
    assert decode_headers(data) == headers


def _digest_items_with_bytes(raw: bytes) -> list[tuple[DigestItem, bytes]]:
    """Each digest item with the exact slice of `raw` it was read from."""
    r = Reader(raw, 32)
    r.compact()
    r.fixed(64)
    out = []
    for _ in range(r.compact()):
        start = r.offset
        item = DigestItem.read(r)
        out.append((item, raw[start : r.offset]))
    r.finish("Header")
    return out


def test_real_digest_items_round_trip_byte_exact() -> None:
    seen: Counter[tuple[str, bytes | None]] = Counter()
    for raw in REAL_HEADERS:
        for item, item_bytes in _digest_items_with_bytes(raw):
            assert item.encode() == item_bytes
            assert dataclasses.replace(item).encode() == item_bytes
            seen[(item.kind.name, item.engine)] += 1
    # The real set covers BABE pre-runtime and seal, FRNK, and engines we do not interpret.
    for kind_engine in [
        ("PRE_RUNTIME", b"BABE"),
        ("SEAL", b"BABE"),
        ("CONSENSUS", b"FRNK"),
        ("CONSENSUS", b"BABE"),
        ("CONSENSUS", b"BEEF"),
        ("CONSENSUS", b"POL1"),
    ]:
        assert seen[kind_engine] > 0, kind_engine


@pytest.mark.parametrize(
    ("item", "encoded"),
    [
        (DigestItem(DigestKind.OTHER, b"abc"), "000c616263"),
        (DigestItem(DigestKind.RUNTIME_ENVIRONMENT_UPDATED), "08"),
        (DigestItem(DigestKind.PRE_RUNTIME, b"\x01\x02", b"aura"), "0661757261080102"),
        (DigestItem(DigestKind.SEAL, b"", b"XYZW"), "0558595a5700"),
        (
            DigestItem(DigestKind.CONSENSUS, b"\xff" * 64, b"\x00\x01\x02\x03"),
            "04000102030101" + "ff" * 64,
        ),
    ],
)
def test_digest_item_encodings(item: DigestItem, encoded: str) -> None:
    assert item.encode().hex() == encoded
    assert DigestItem.read(Reader(bytes.fromhex(encoded))) == item


def test_digest_item_describe() -> None:
    assert DigestItem(DigestKind.SEAL, b"\xab", b"BABE").describe() == "seal BABE: 0xab"
    assert DigestItem(DigestKind.PRE_RUNTIME, b"\x01", b"aura").describe() == (
        "pre-runtime aura (Aura): 0x01"
    )
    assert DigestItem(DigestKind.SEAL, b"", b"\x00\x01\x02\x03").describe() == "seal 0x00010203: 0x"
    assert DigestItem(DigestKind.OTHER, b"\x01").describe() == "other: 0x01"
    assert DigestItem(DigestKind.RUNTIME_ENVIRONMENT_UPDATED).describe() == (
        "runtime environment updated"
    )


def test_header_from_fields() -> None:
    items = (DigestItem(DigestKind.PRE_RUNTIME, b"\x01", b"BABE"),)
    header = Header(b"\x01" * 32, 2**32 - 1, b"\x02" * 32, b"\x03" * 32, items)
    raw = header.encode()
    assert raw == (
        b"\x01" * 32
        + encode_compact(2**32 - 1)
        + b"\x02" * 32
        + b"\x03" * 32
        + b"\x04"
        + items[0].encode()
    )
    assert Header.decode(raw) == header
    assert header.items(DigestKind.PRE_RUNTIME, b"BABE") == list(items)
    assert header.items(DigestKind.PRE_RUNTIME, b"aura") == []


# --- negative ------------------------------------------------------------------------------------


def _header_prefix(number: int = 5) -> bytes:
    return b"\x11" * 32 + encode_compact(number) + b"\x22" * 64


@pytest.mark.parametrize("tag", [1, 2, 3, 7, 9, 255])
def test_invalid_digest_tags(tag: int) -> None:
    data = _header_prefix() + encode_compact(1) + bytes([tag]) + b"\x00" * 8
    with pytest.raises(CodecError) as info:
        Header.decode(data)
    assert (info.value.type_name, info.value.offset) == ("DigestItem", 98)
    assert f"DigestItem at byte 98: invalid tag {tag}" in str(info.value)


def test_header_number_must_fit_u32() -> None:
    data = b"\x00" * 32 + encode_compact(2**32) + b"\x00" * 65
    with pytest.raises(CodecError, match=r"Header\.number at byte 32"):
        Header.decode(data)


def test_header_trailing_and_truncated_bytes() -> None:
    raw = REAL_HEADERS[0]
    with pytest.raises(CodecError, match=f"Header at byte {len(raw)}: 1 trailing bytes"):
        Header.decode(raw + b"\x00")
    for end in range(len(raw)):
        with pytest.raises(CodecError):
            Header.decode(raw[:end])


def test_digest_count_larger_than_input_fails_fast() -> None:
    data = _header_prefix() + encode_compact(2**30 - 1) + b"\x00" * 3
    with pytest.raises(CodecError, match=r"Header\.digest at byte 97: length 1073741823 exceeds"):
        Header.decode(data)


@pytest.mark.parametrize("which", ["westend #1", "rococo register 3164"])
def test_any_flipped_byte_changes_the_hash_or_fails(which: str) -> None:
    raw = REAL_HEADERS[0] if which == "westend #1" else rococo_register_header_bytes(3164)
    original = blake2_256(raw)
    outcomes: Counter[str] = Counter()
    for pos in range(len(raw)):
        damaged = bytearray(raw)
        damaged[pos] ^= 0xFF
        try:
            header = Header.decode(bytes(damaged))
        except CodecError:
            outcomes["rejected"] += 1
            continue
        # Decodable damage still breaks the link: the child names the original hash.
        assert header.hash() != original, pos
        assert reencoded(header) == damaged, pos
        outcomes["hash changed"] += 1
    assert outcomes["rejected"] > 0
    assert outcomes["hash changed"] > 0
    assert sum(outcomes.values()) == len(raw)


# --- the fast path agrees with the checked reader -----------------------------------------------


def _agree(data: bytes, start: int = 0) -> bool:
    """The fast reader accepts only what the checked one reads identically; True if it did."""
    fast = read_common_header(data, start)
    if fast is None:
        return False
    r = Reader(data, start)
    assert fast == (read_header_checked(r), r.offset)
    assert fast[0].encode() == data[start : r.offset]
    return True


def test_fast_path_reads_every_real_header() -> None:
    for raw in REAL_HEADERS:
        assert _agree(raw)
        assert _agree(b"\x00" * 7 + raw + b"\x01\x02", 7)


@pytest.mark.parametrize(
    ("number", "digest"),
    [
        (5, b"\x04" + DigestItem(DigestKind.OTHER, b"x").encode()),
        (5, b"\x04" + DigestItem(DigestKind.RUNTIME_ENVIRONMENT_UPDATED).encode()),
        (5, encode_compact(64) + DigestItem(DigestKind.SEAL, b"", b"BABE").encode() * 64),
        (2**30, b"\x00"),
    ],
    ids=["other", "runtime-updated", "64 items", "number 2^30"],
)
def test_unusual_valid_headers_take_the_checked_path(number: int, digest: bytes) -> None:
    raw = _header_prefix(number) + digest
    assert read_common_header(raw, 0) is None
    assert Header.decode(raw).encode() == raw


# --- fuzz ----------------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=500, suppress_health_check=[HealthCheck.too_slow])


def _decode_or_codec_error(data: bytes) -> None:
    """Decoding either succeeds byte-exactly or raises CodecError; nothing else escapes."""
    _agree(data)
    try:
        header = Header.decode(data)
    except CodecError:
        return
    assert header.encode() == data
    assert reencoded(header) == data


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_into_header(data: bytes) -> None:
    _decode_or_codec_error(data)


@FUZZ
@given(mutated(REAL_HEADERS))
def test_fuzz_mutated_real_headers(data: bytes) -> None:
    _decode_or_codec_error(data)
