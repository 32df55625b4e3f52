"""`pinkpipe inspect header`: decode a SCALE header and explain its digest.

A thin adapter over `chain.header` and `chain.grandpa`; registered in the `inspect` group.
"""

from __future__ import annotations

import sys

import click

from pinkpipe.app.options import BadInput
from pinkpipe.chain.grandpa import (
    Authority,
    ConsensusLog,
    ForcedChange,
    OnDisabled,
    Pause,
    Resume,
    ScheduledChange,
    decode_consensus_log,
)
from pinkpipe.chain.header import GRANDPA_ENGINE_ID, DigestItem, DigestKind, Header
from pinkpipe.chain.hextext import HexError, parse_hex
from pinkpipe.chain.scale import CodecError

SHORT = 64
"""Bytes of a digest item's data shown without --full."""


def read_hex_argument(text: str) -> bytes:
    """HEX, or `-` for hex on stdin; 0x prefix and surrounding whitespace allowed."""
    if text == "-":
        text = sys.stdin.read()
    try:
        return parse_hex("".join(text.split()), prefix_optional=True)
    except HexError as e:
        raise BadInput(f"HEX argument is {e}") from None


def data_hex(data: bytes, full: bool) -> str:
    if full or len(data) <= SHORT:
        return f"0x{data.hex()} ({len(data)} bytes)"
    return f"0x{data[:SHORT].hex()}… ({len(data)} bytes, --full shows all)"


def authority_lines(authorities: tuple[Authority, ...]) -> list[str]:
    return [f"      0x{a.id.hex()} weight {a.weight}" for a in authorities]


def describe_grandpa_log(log: ConsensusLog) -> list[str]:
    """GRANDPA's consensus log as lines: the change and, for set changes, the new set."""
    match log:
        case ScheduledChange(authorities, delay):
            head = f"ScheduledChange: delay {delay}, {len(authorities)} authorities"
            return [head, *authority_lines(authorities)]
        case ForcedChange(median, ScheduledChange(authorities, delay)):
            head = (
                f"ForcedChange: median last finalized #{median}, delay {delay}, "
                f"{len(authorities)} authorities"
            )
            return [head, *authority_lines(authorities)]
        case OnDisabled(index):
            return [f"OnDisabled: authority index {index}"]
        case Pause(delay):
            return [f"Pause: delay {delay}"]
        case Resume(delay):
            return [f"Resume: delay {delay}"]
    raise TypeError(f"not a GRANDPA consensus log: {log!r}")


def describe_item(item: DigestItem, full: bool) -> list[str]:
    """One digest item as lines; GRANDPA logs decoded, everything else shown raw."""
    head = item.label()
    if item.kind is DigestKind.RUNTIME_ENVIRONMENT_UPDATED:
        return [head]
    if item.kind is DigestKind.CONSENSUS and item.engine == GRANDPA_ENGINE_ID:
        try:
            first, *rest = describe_grandpa_log(decode_consensus_log(item.data))
        except CodecError as e:
            return [f"{head}: {data_hex(item.data, full)}", f"    does not decode: {e}"]
        return [f"{head}: {first}", *rest]
    return [f"{head}: {data_hex(item.data, full)}"]


def header_lines(header: Header, full: bool) -> list[str]:
    lines = [
        f"number:          {header.number}",
        f"hash:            0x{header.hash().hex()}",
        f"parent hash:     0x{header.parent_hash.hex()}",
        f"state root:      0x{header.state_root.hex()}",
        f"extrinsics root: 0x{header.extrinsics_root.hex()}",
        f"digest:          {len(header.digest)} items",
    ]
    for index, item in enumerate(header.digest):
        first, *rest = describe_item(item, full)
        lines.append(f"  [{index}] {first}")
        lines.extend(rest)
    return lines


@click.command("header")
@click.argument("hex_header", metavar="HEX")
@click.option("--full", is_flag=True, help="Print whole digest data (default: first 64 bytes).")
def header(hex_header: str, full: bool) -> None:
    """Decode the SCALE-encoded block header HEX (0x optional; `-` reads it from stdin).

    Prints number, hash (blake2-256 of the bytes), parent hash, roots and every digest item:
    pre-runtime and seal items with their engine, GRANDPA (FRNK) consensus logs decoded with
    the authority set they schedule, other engines' data as hex.
    """
    data = read_hex_argument(hex_header)
    try:
        decoded = Header.decode(data)
    except CodecError as e:
        raise click.ClickException(f"not a SCALE header ({len(data)} bytes): {e}") from None
    for line in header_lines(decoded, full):
        click.echo(line)
