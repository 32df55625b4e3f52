"""Loaders for the real-chain vectors in `../shared/vectors` (relative to the project root).

Shared by tests and benches so every file reads the recorded data the same way. Loaders return
the recorded bytes untouched; only framing (protobuf, JSON, batch concatenation) is undone here.
Import as `from tests.vectors import ...` with the project root on `sys.path`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from pinkpipe.chain.header import Header, read_headers
from pinkpipe.chain.keys import GRANDPA_AUTHORITIES_WELL_KNOWN
from pinkpipe.chain.scale import Reader


def _project_root() -> Path:
    """The directory holding pyproject.toml, found upwards from this file."""
    here = Path(__file__).resolve().parent
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    raise FileNotFoundError(f"no pyproject.toml above {here}")


PROJECT_ROOT = _project_root()
VECTORS = (PROJECT_ROOT / "../shared/vectors").resolve()
WESTEND = VECTORS / "westend"
ROCOCO = VECTORS / "rococo"

WESTEND_GENESIS_HASH = bytes.fromhex(
    "e143f23803ac50e8f6f8e62695d1ce9e4e1d68aa36c1cd2cfd15340213f3423e"
)
GRANDPA_AUTHORITIES_KEY = GRANDPA_AUTHORITIES_WELL_KNOWN
ROCOCO_SET_IDS = (3164, 3165)


class WestendBlock(NamedTuple):
    hash: bytes
    header: bytes
    extrinsics: list[bytes]


class RococoBatch(NamedTuple):
    """One `N-headers` submission: a justified header, the range before it, its justification."""

    justified_header: Header
    headers: list[Header]
    justification: bytes


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


# --- protobuf wire format: just varints and length-delimited fields --------------------------


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError(f"protobuf varint truncated at byte {pos}")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def protobuf_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of one message; varint (0) and bytes (2) wire types only."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
            yield number, value
        elif wire_type == 2:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise ValueError(f"protobuf field {number} overruns the message at byte {pos}")
            yield number, data[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"protobuf wire type {wire_type} of field {number} not supported")


def _bytes_field(value: int | bytes, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError(f"{what} is a varint, expected bytes")
    return value


def _block_data(message: bytes) -> WestendBlock:
    """BlockData: 1 = hash, 2 = SCALE header, 3 = repeated extrinsic."""
    hash_ = header = b""
    extrinsics: list[bytes] = []
    for number, value in protobuf_fields(message):
        if number == 1:
            hash_ = _bytes_field(value, "BlockData.hash")
        elif number == 2:
            header = _bytes_field(value, "BlockData.header")
        elif number == 3:
            extrinsics.append(_bytes_field(value, "BlockData.body"))
    return WestendBlock(hash_, header, extrinsics)


def decode_block_response(message: bytes) -> list[WestendBlock]:
    """BlockResponse: field 1 = repeated BlockData, in the order the peer sent them."""
    return [
        _block_data(_bytes_field(value, "BlockResponse.blocks"))
        for number, value in protobuf_fields(message)
        if number == 1
    ]


# --- Westend ---------------------------------------------------------------------------------


def westend_block_responses() -> dict[str, list[WestendBlock]]:
    """The three recorded responses by name, blocks in recorded order (one list descends)."""
    # BaseLoader keeps the 0x... strings as strings instead of turning them into integers.
    with (WESTEND / "westend_blocks.yaml").open() as f:
        raw: dict[str, str] = yaml.load(f, Loader=yaml.BaseLoader)
    return {name: decode_block_response(_unhex(text)) for name, text in raw.items()}


@cache
def _westend_blocks() -> tuple[WestendBlock, ...]:
    unique: dict[bytes, WestendBlock] = {}
    for blocks in westend_block_responses().values():
        for block in blocks:
            seen = unique.setdefault(block.hash, block)
            if seen != block:
                raise ValueError(f"two different recordings of block 0x{block.hash.hex()}")
    return tuple(sorted(unique.values(), key=lambda b: Header.decode(b.header).number))


def westend_blocks() -> list[WestendBlock]:
    """Westend #1..#256, each once, ascending (the overlap of two responses is merged)."""
    return list(_westend_blocks())


@cache
def westend_chain_spec() -> dict[str, Any]:
    with (WESTEND / "chain-spec-raw.json").open() as f:
        return json.load(f)


def westend_genesis_storage() -> dict[bytes, bytes]:
    """Raw genesis key/value pairs (`genesis.raw.top`)."""
    top: dict[str, str] = westend_chain_spec()["genesis"]["raw"]["top"]
    return {_unhex(k): _unhex(v) for k, v in top.items()}


def westend_block512_justification() -> bytes:
    return _unhex((WESTEND / "block512-justification.hex").read_text().strip())


# --- Rococo ----------------------------------------------------------------------------------


def _rococo_dir(set_id: int) -> Path:
    path = ROCOCO / f"set-{set_id}"
    if not path.is_dir():
        raise FileNotFoundError(f"no Rococo vectors for set {set_id} at {path}")
    return path


def _numbered(path: Path) -> int:
    return int(path.name.split("-", 1)[0])


def rococo_register_header_bytes(set_id: int) -> bytes:
    """The exact SCALE bytes of the header in `1-register-roco.json` (a `Vec<u8>` there)."""
    with (_rococo_dir(set_id) / "1-register-roco.json").open() as f:
        (entry,) = json.load(f)
    return Reader(_unhex(entry["encoded_registration_data"])).var_bytes("registration header")


def rococo_register_header(set_id: int) -> Header:
    """The header whose FRNK ScheduledChange names the authorities that sign `set_id`."""
    return Header.decode(rococo_register_header_bytes(set_id))


def rococo_batch_data(set_id: int) -> list[tuple[str, bytes]]:
    """(file name, `encoded_data`) of every `N-headers-roco.json`, in file-number order."""
    out = []
    for path in sorted(_rococo_dir(set_id).glob("*-headers-roco.json"), key=_numbered):
        with path.open() as f:
            out.extend((path.name, _unhex(entry["encoded_data"])) for entry in json.load(f))
    return out


def split_batch(data: bytes) -> RococoBatch:
    """Header ‖ Vec<Header> ‖ Justification (the justification takes the rest, unprefixed)."""
    r = Reader(data)
    justified = Header.read(r)
    headers = read_headers(r)
    return RococoBatch(justified, headers, data[r.offset :])


def rococo_batches(set_id: int) -> list[RococoBatch]:
    return [split_batch(data) for _, data in rococo_batch_data(set_id)]


# --- Phala -----------------------------------------------------------------------------------

PHALA = VECTORS / "phala"


def phala_event_blocks() -> list[bytes]:
    """The SCALE `EventsBlock` payloads of `events.log`, in log order (event blocks #0..#2)."""
    out = []
    for line in (PHALA / "events.log").read_text().splitlines():
        for part in line.split():
            if part.startswith("payload="):
                out.append(bytes.fromhex(part.removeprefix("payload=")))
    return out
