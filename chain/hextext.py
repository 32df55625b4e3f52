"""Bytes as hex text: the one parser for JSON-RPC values, scenario files and command lines.

Substrate's JSON-RPC writes bytes as `0x`-prefixed hex (`sp_core::Bytes`); command lines also
take them without the prefix. Errors say what is wrong, starting with "not", so a caller can
prefix where: `f"{what} is {error}"`.
"""

from __future__ import annotations

from pinkpipe.chain.errors import InvalidChainData

SHOWN = 40
"""Characters of bad input quoted in an error."""


class HexError(InvalidChainData, ValueError):
    """Text that should be hex bytes is not (callers that read operator input re-raise it as
    their usage error)."""


def _shown(value: object) -> str:
    if not isinstance(value, str):
        return repr(value)[:SHOWN]
    return repr(value[:SHOWN]) + ("…" if len(value) > SHOWN else "")


def parse_hex(value: object, *, size: int | None = None, prefix_optional: bool = False) -> bytes:
    """The bytes of `0x…` hex text (also of bare hex with `prefix_optional`), of `size` bytes
    when given."""
    if not isinstance(value, str):
        raise HexError(f"not a hex string: {_shown(value)}")
    if value.startswith("0x"):
        digits = value[2:]
    elif prefix_optional:
        digits = value
    else:
        raise HexError(f"not 0x-prefixed hex: {_shown(value)}")
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        raise HexError(f"not hex: {_shown(digits)}") from None
    if size is not None and len(data) != size:
        raise HexError(f"not {size} bytes long but {len(data)}")
    return data


def hex_of(data: bytes) -> str:
    """`0x`-prefixed lowercase hex, as Substrate's JSON-RPC writes bytes."""
    return "0x" + bytes(data).hex()
