"""Loaders for the trie-related real-chain vectors (Phala storage changes, smoldot and Rococo
read proofs), shared by `tests/test_trie.py` and `bench/bench_trie.py`.

Import as `from tests.trie_vectors import ...` with the project root on `sys.path`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from pinkpipe.chain.header import Header
from pinkpipe.chain.proof import decode_proof
from pinkpipe.chain.scale import Reader
from tests.vectors import ROCOCO, VECTORS, rococo_batches

PHALA = VECTORS / "phala"
SMOLDOT = VECTORS / "smoldot"

Changes = list[tuple[bytes, bytes | None]]


class BlockChanges(NamedTuple):
    main: Changes
    child: list[tuple[bytes, Changes]]


class EventsProof(NamedTuple):
    """A Rococo `System.Events` proof, its block's header, and the event it must contain."""

    file: str
    header: Header
    nodes: list[bytes]
    event: bytes


def unhex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _maybe(text: str | None) -> bytes | None:
    return None if text is None else unhex(text)


def _changes(raw: list[list[Any]]) -> Changes:
    return [(unhex(k), _maybe(v)) for k, v in raw]


@cache
def _phala_genesis() -> tuple[tuple[bytes, bytes], ...]:
    with (PHALA / "db-0.json").open() as f:
        top: dict[str, str] = json.load(f)["genesis"]["raw"]["top"]
    return tuple((unhex(k), unhex(v)) for k, v in top.items())


def phala_genesis_storage() -> dict[bytes, bytes]:
    """Genesis pairs of the Phala development chain (`db-0.json` genesis.raw.top)."""
    return dict(_phala_genesis())


@cache
def _phala_changes() -> tuple[BlockChanges, ...]:
    with (PHALA / "changes.json").open() as f:
        blocks = json.load(f)["result"]
    return tuple(
        BlockChanges(
            _changes(b["mainStorageChanges"]),
            [(unhex(ck), _changes(c)) for ck, c in b["childStorageChanges"]],
        )
        for b in blocks
    )


def phala_changes() -> list[BlockChanges]:
    """Per block, its storage changes; block 0 holds every genesis pair."""
    return list(_phala_changes())


def phala_state_roots() -> list[bytes]:
    """Expected state root after genesis (index 0) and after each following block."""
    return [unhex(line) for line in (PHALA / "state_roots.txt").read_text().split()]


@cache
def smoldot_tests() -> dict[str, Any]:
    with (SMOLDOT / "proof_decode_tests.extracted.json").open() as f:
        return json.load(f)


def smoldot_proof(name: str) -> tuple[bytes, list[bytes]]:
    """(state root, proof nodes) of `example_proof_polkadot_genesis` or `timestamp_now_proof`."""
    case = smoldot_tests()[name]
    return unhex(case["state_root"]), decode_proof(unhex(case["proof"]))


def issue_2035_proof() -> tuple[bytes, list[bytes]]:
    """(state root, nodes) of the V1 proof recorded for smoldot issue 2035."""
    root = unhex(smoldot_tests()["issue_2035"]["issue_2035"]["state_root"])
    return root, decode_proof((SMOLDOT / "issue_2035_proof").read_bytes())


def _rococo_headers(folder: Path) -> dict[bytes, Header]:
    set_id = int(folder.name.removeprefix("set-"))
    out: dict[bytes, Header] = {}
    for batch in rococo_batches(set_id):
        for header in (batch.justified_header, *batch.headers):
            out[header.hash()] = header
    return out


@cache
def rococo_events_proofs() -> tuple[EventsProof, ...]:
    """Every `N-confirm-transfer-*.json`: inclusion data = Vec<u8> event ‖ Vec<Vec<u8>> proof
    ‖ block hash, paired with that block's header from the same folder."""
    out = []
    for folder in sorted(ROCOCO.glob("set-*")):
        headers = _rococo_headers(folder)
        for path in sorted(folder.glob("*-confirm-transfer-*.json")):
            with path.open() as f:
                entries = json.load(f)
            for entry in entries:
                r = Reader(unhex(entry["confirmed_side_effect"]["inclusion_data"]))
                event = r.var_bytes("event")
                nodes = r.vec(lambda rr: rr.var_bytes("proof node"), "proof")
                block_hash = r.hash32("block hash")
                r.finish("inclusion data")
                header = headers.get(block_hash)
                if header is None:
                    raise LookupError(f"{path}: block 0x{block_hash.hex()} not in headers files")
                out.append(EventsProof(path.name, header, nodes, event))
    return tuple(out)
