"""SCALE primitives: canonical compacts, strict bounds, and errors that say what and where."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scalecodec.base import RuntimeConfiguration

from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    decode_all,
    encode_bool,
    encode_bytes,
    encode_compact,
    encode_option,
    encode_u32,
    encode_u64,
    encode_u128,
    encode_uint,
    encode_vec,
)

# Compact vectors from the parity-scale-codec documentation and the mode boundaries.
COMPACT_VECTORS = [
    (0, "00"),
    (1, "04"),
    (42, "a8"),
    (63, "fc"),
    (64, "0101"),
    (69, "1501"),
    (16383, "fdff"),
    (16384, "02000100"),
    (2**30 - 1, "feffffff"),
    (2**30, "0300000040"),
    (2**32 - 1, "03ffffffff"),
    (2**32, "070000000001"),
    (2**64 - 1, "13ffffffffffffffff"),
    (2**128 - 1, "33" + "ff" * 16),
]


def expect_codec_error(
    fn: Callable[[], object], type_name: str, offset: int, reason: str = ""
) -> CodecError:
    """Assert a CodecError naming `type_name` at `offset`, in the attributes and the message."""
    with pytest.raises(CodecError) as info:
        fn()
    err = info.value
    assert err.type_name == type_name
    assert err.offset == offset
    assert type_name in str(err)
    assert f"at byte {offset}" in str(err)
    assert reason in err.reason
    return err


@pytest.mark.parametrize(("value", "encoded"), COMPACT_VECTORS)
def test_compact_known_encodings(value: int, encoded: str) -> None:
    assert encode_compact(value).hex() == encoded
    assert decode_all(bytes.fromhex(encoded), Reader.compact, "Compact") == value


_scalecodec = RuntimeConfiguration()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_compact_round_trip_below_2_128(value: int) -> None:
    encoded = encode_compact(value)
    assert decode_all(encoded, Reader.compact, "Compact") == value
    reference = _scalecodec.create_scale_object("Compact<u128>").encode(value)
    assert encoded.hex() == reference.data.hex()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**536 - 1))
def test_compact_round_trip_full_range(value: int) -> None:
    assert decode_all(encode_compact(value), Reader.compact, "Compact") == value


@pytest.mark.parametrize(
    "encoded",
    [
        "0100",  # mode 1 holding 0
        "fd00",  # mode 1 holding 63
        "02000000",  # mode 2 holding 0
        "feff0000",  # mode 2 holding 16383
        "0300000000",  # mode 3, 4 bytes, holding 0
        "03ffffff3f",  # mode 3, 4 bytes, holding 2^30 - 1
        "07ffffffff00",  # mode 3, 5 bytes, top byte zero (fits in 4)
        "33" + "ff" * 15 + "00",  # mode 3, 16 bytes, top byte zero
    ],
)
def test_non_canonical_compacts_are_rejected(encoded: str) -> None:
    data = b"\xaa" + bytes.fromhex(encoded)  # one byte in front: the offset must point past it

    def read() -> int:
        r = Reader(data)
        r.u8()
        return r.compact()

    expect_codec_error(read, "Compact", 1, "non-canonical")


def test_compact_u32_rejects_values_above_u32() -> None:
    expect_codec_error(
        lambda: Reader(encode_compact(2**32)).compact_u32(), "Compact<u32>", 0, "fit in u32"
    )
    assert Reader(encode_compact(2**32 - 1)).compact_u32() == 2**32 - 1


def test_compact_encoder_limits() -> None:
    with pytest.raises(ValueError, match="negative"):
        encode_compact(-1)
    with pytest.raises(ValueError, match="67 bytes"):
        encode_compact(2**536)


@pytest.mark.parametrize(
    ("read", "data", "type_name", "offset"),
    [
        (Reader.u16, b"\x01", "u16", 0),
        (Reader.u32, b"\x01\x02\x03", "u32", 0),
        (Reader.u64, b"\x00" * 7, "u64", 0),
        (Reader.u128, b"\x00" * 15, "u128", 0),
        (Reader.hash32, b"\x00" * 31, "H256", 0),
        (Reader.u8, b"", "u8", 0),
        (Reader.boolean, b"", "bool", 0),
        (Reader.compact, b"\x01", "Compact", 1),
        (Reader.compact, b"\x02\x00\x01", "Compact", 1),
        (Reader.compact, b"\x07\x00\x00\x00\x00", "Compact", 1),
    ],
)
def test_truncated_input(
    read: Callable[[Reader], object], data: bytes, type_name: str, offset: int
) -> None:
    """The offset is where the read that ran out of input began."""
    err = expect_codec_error(lambda: read(Reader(data)), type_name, offset)
    assert "left" in err.reason


def test_integers_are_little_endian() -> None:
    r = Reader(bytes.fromhex("010201040302010807060504030201") + b"\x10" + b"\x00" * 15)
    assert (r.u8(), r.u16(), r.u32(), r.u64(), r.u128()) == (
        1,
        0x0102,
        0x01020304,
        0x0102030405060708,
        16,
    )
    r.finish("ints")
    assert encode_u32(0x01020304) + encode_u64(1) + encode_u128(2) + encode_uint(3, 2) == (
        bytes.fromhex("040302010100000000000000") + b"\x02" + b"\x00" * 15 + b"\x03\x00"
    )


def test_trailing_bytes() -> None:
    expect_codec_error(
        lambda: decode_all(b"\x01\x00\x00\x00\xff\xff", Reader.u32, "u32 value"),
        "u32 value",
        4,
        "2 trailing bytes",
    )


def test_bool_and_option_tags() -> None:
    assert decode_all(encode_bool(True), Reader.boolean, "bool") is True
    assert decode_all(encode_bool(False), Reader.boolean, "bool") is False
    expect_codec_error(
        lambda: decode_all(b"\x00\x02", lambda r: (r.u8(), r.boolean()), "t"),
        "bool",
        1,
        "invalid value 2",
    )
    expect_codec_error(
        lambda: Reader(b"\x02\x05").option(Reader.u8, "Option<u8>"),
        "Option<u8>",
        0,
        "invalid Option tag 2",
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=20), st.none() | st.binary(max_size=70))
def test_vec_option_bytes_round_trip(items: list[bytes], maybe: bytes | None) -> None:
    data = encode_vec(items, encode_bytes) + encode_option(maybe, encode_bytes)

    def read(r: Reader) -> tuple[list[bytes], bytes | None]:
        return r.vec(Reader.var_bytes, "Vec<Vec<u8>>"), r.option(Reader.var_bytes, "Option")

    assert decode_all(data, read, "pair") == (items, maybe)


def _bounded(fn: Callable[[], object]) -> tuple[float, int]:
    """Seconds and peak bytes allocated while `fn` runs (to prove a failure is cheap)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        fn()
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, peak


@pytest.mark.parametrize(
    ("read", "type_name", "min_item_size"),
    [
        (lambda r: r.vec(Reader.u8, "Vec<u8 item>"), "Vec<u8 item>", 1),
        (lambda r: r.vec(Reader.hash32, "Vec<H256>", 32), "Vec<H256>", 32),
        (Reader.var_bytes, "Vec<u8>", 1),
    ],
)
def test_oversized_length_prefix_fails_fast(
    read: Callable[[Reader], object], type_name: str, min_item_size: int
) -> None:
    data = encode_compact(2**30) + b"\x00" * 5  # claims 2^30 items, holds 5 bytes
    assert len(data) == 10

    def decode() -> None:
        expect_codec_error(lambda: read(Reader(data)), type_name, 0, "exceeds the 5 bytes left")

    elapsed, peak = _bounded(decode)
    assert elapsed < 0.5
    assert peak < 1 << 20


def test_length_accounts_for_item_size() -> None:
    # 3 items of >= 32 bytes cannot fit in 64 bytes even though 3 <= 64.
    expect_codec_error(
        lambda: Reader(encode_compact(3) + b"\x00" * 64).vec(Reader.hash32, "Vec<H256>", 32),
        "Vec<H256>",
        0,
    )
    hashes = Reader(encode_compact(2) + b"\x01" * 64).vec(Reader.hash32, "Vec<H256>", 32)
    assert hashes == [b"\x01" * 32] * 2


def test_reader_copies_and_tracks_offset() -> None:
    buf = bytearray(b"\x04\x09\x08")
    r = Reader(buf)
    buf[1] = 0
    assert r.compact() == 1
    assert r.fixed(2, "pair") == b"\x09\x08"
    assert (r.offset, r.remaining) == (3, 0)


def test_length_requires_a_positive_item_size() -> None:
    """A zero item size would let a prefix claim 2^32 items of nothing and loop that long."""
    for size in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            Reader(encode_compact(3) + b"\x00" * 3).vec(lambda r: None, "Vec<()>", size)


def test_items_that_read_nothing_are_bounded_by_the_input() -> None:
    data = encode_compact(5) + b"\x00" * 5
    assert Reader(data).vec(lambda r: None, "Vec<()>") == [None] * 5
    expect_codec_error(
        lambda: Reader(encode_compact(6) + b"\x00" * 5).vec(lambda r: None, "Vec<()>"),
        "Vec<()>",
        0,
        "exceeds the 5 bytes left",
    )


def _nested(r: Reader) -> list[object]:
    """A shape that exercises every primitive: Vec<(Vec<Vec<u8>>, Option<Compact>, bool)>."""
    return r.vec(
        lambda rr: (
            rr.vec(Reader.var_bytes, "inner"),
            rr.option(Reader.compact, "Option<Compact>"),
            rr.boolean(),
        ),
        "outer",
        3,
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
@example(bytes.fromhex("0804086162011401000000"))
def test_random_input_yields_codec_error_or_bounded_output(data: bytes) -> None:
    """Whatever the bytes, decoding ends with a value no bigger than its input or a CodecError,
    and allocates at most a small multiple of the input."""
    result: list[object] = []

    def decode() -> None:
        with contextlib.suppress(CodecError):
            result.append(decode_all(data, _nested, "nested"))

    elapsed, peak = _bounded(decode)
    assert elapsed < 0.5
    assert peak < 64 * 1024 + 200 * len(data)
    if result:
        (items,) = result
        assert len(items) <= len(data)
        assert all(len(inner) <= len(data) for inner, _, _ in items)  # type: ignore[misc]
