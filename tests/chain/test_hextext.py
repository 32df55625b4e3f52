"""The one hex parser: what it accepts, and errors that say what is wrong."""

from __future__ import annotations

import pytest

from pinkpipe.chain.hextext import HexError, hex_of, parse_hex


def test_round_trip() -> None:
    assert parse_hex("0x00ff") == b"\x00\xff"
    assert parse_hex("0x") == b""
    assert parse_hex(hex_of(bytes(range(256)))) == bytes(range(256))
    assert hex_of(b"\xab") == "0xab"
    assert parse_hex("abcd", prefix_optional=True) == b"\xab\xcd"
    assert parse_hex("0xabcd", prefix_optional=True) == b"\xab\xcd"
    assert parse_hex("0x" + "11" * 32, size=32) == b"\x11" * 32


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        (5, {}, "not a hex string: 5"),
        (None, {"prefix_optional": True}, "not a hex string: None"),
        ("abcd", {}, "not 0x-prefixed hex: 'abcd'"),
        ("0xzz", {}, "not hex: 'zz'"),
        ("0xabc", {}, "not hex: 'abc'"),
        ("zz", {"prefix_optional": True}, "not hex: 'zz'"),
        ("0x" + "g" * 50, {}, "not hex: '" + "g" * 40 + "'…"),
        ("0x1234", {"size": 32}, "not 32 bytes long but 2"),
    ],
)
def test_errors_say_what_is_wrong(value: object, options: dict[str, bool], message: str) -> None:
    with pytest.raises(HexError) as err:
        parse_hex(value, **options)  # type: ignore[arg-type]
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)
