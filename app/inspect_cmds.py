"""`pinkpipe inspect ...`: look inside chain specs and read proofs from files.

A thin adapter: it reads files and prints; every check is done by the pure `chain` modules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pinkpipe.app.inspect_header import header
from pinkpipe.app.options import BadInput
from pinkpipe.chain.grandpa import GenesisGrandpaError, genesis_grandpa
from pinkpipe.chain.header import genesis_header
from pinkpipe.chain.hextext import HexError, parse_hex
from pinkpipe.chain.proof import ReadProof, decode_proof
from pinkpipe.chain.trie import DEFAULT_CHILD_STORAGE_PREFIX, ProofIncomplete, TrieError, TrieState


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def inspect() -> None:
    """Inspect chain data: chain specs and read proofs from files, SCALE headers as hex."""


inspect.add_command(header)


def _unhex(
    text: object, what: str, error: type[click.ClickException] = click.ClickException
) -> bytes:
    """Hex text (0x optional) from a JSON document, else a clean error; from the command line
    (`error=BadInput`), else a usage error."""
    try:
        return parse_hex(text.strip() if isinstance(text, str) else text, prefix_optional=True)
    except HexError as e:
        raise error(f"{what} is {e}") from None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"cannot read {path}: {e}") from None


def _storage_map(raw: Any, path: Path, where: str) -> dict[bytes, bytes]:
    if not isinstance(raw, dict):
        raise click.ClickException(f"{path}: {where} is not a key/value map")
    return {
        _unhex(k, f"{path}: key in {where}"): _unhex(v, f"{path}: {where}[{k}]")
        for k, v in raw.items()
    }


def _genesis_storage(
    spec: Any, path: Path
) -> tuple[dict[bytes, bytes], dict[bytes, dict[bytes, bytes]]]:
    """(top pairs, default child tries by unprefixed child key) of a raw chain spec."""
    genesis = spec.get("genesis") if isinstance(spec, dict) else None
    raw = genesis.get("raw") if isinstance(genesis, dict) else None
    if not isinstance(raw, dict) or "top" not in raw:
        raise click.ClickException(
            f"{path} is not a raw chain spec (no genesis.raw.top); build it with --raw"
        )
    top = _storage_map(raw["top"], path, "genesis.raw.top")
    children: dict[bytes, dict[bytes, bytes]] = {}
    children_default = raw.get("childrenDefault") or {}
    if not isinstance(children_default, dict):
        raise click.ClickException(f"{path}: genesis.raw.childrenDefault is not a map")
    for key, child in children_default.items():
        child_key = _unhex(key, f"{path}: childrenDefault key")
        child_key = child_key.removeprefix(DEFAULT_CHILD_STORAGE_PREFIX)
        children[child_key] = _storage_map(child, path, f"childrenDefault[{key}]")
    return top, children


@inspect.command()
@click.argument("chain_spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--state-version",
    type=click.IntRange(0, 1),
    default=0,
    show_default=True,
    help="Trie layout of the genesis state: the runtime's `state_version` (V1 stores values "
    "of 33+ bytes as hashed nodes). Most chains launched before 2022 use 0.",
)
def genesis(chain_spec: Path, state_version: int) -> None:
    """Genesis hash, state root and GRANDPA set of a raw CHAIN_SPEC (JSON)."""
    top, children = _genesis_storage(_load_json(chain_spec), chain_spec)
    try:
        state = TrieState.from_pairs(top, state_version, children)
    except TrieError as e:
        raise click.ClickException(f"{chain_spec}: {e}") from None
    root = state.root()
    try:
        grandpa = genesis_grandpa(top)
    except GenesisGrandpaError as e:
        raise click.ClickException(f"{chain_spec}: {e}") from None
    click.echo(f"genesis hash:   0x{genesis_header(root).hash().hex()}")
    click.echo(f"state root:     0x{root.hex()}")
    click.echo(f"state version:  V{state_version} (--state-version)")
    click.echo(f"keys:           {len(top)} top, {len(children)} child tries")
    click.echo(f"grandpa set id: {grandpa.set_id}")
    click.echo(f"grandpa authorities: {len(grandpa.authorities)} (from {grandpa.source})")
    for a in grandpa.authorities:
        click.echo(f"  0x{a.id.hex()} weight {a.weight}")


def _proof_nodes(path: Path) -> list[bytes]:
    """Accepts state_getReadProof JSON (bare or inside a JSON-RPC response), a JSON list of
    hex nodes, or a SCALE `Vec<Vec<u8>>` as hex text or raw bytes."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read {path}: {e}") from None
    text = data.strip()
    if text[:1] in (b"{", b"["):
        doc = _load_json(path)
        if isinstance(doc, dict):
            doc = doc.get("result", doc)
            doc = doc.get("proof") if isinstance(doc, dict) else None
        if not isinstance(doc, list) or not all(isinstance(n, str) for n in doc):
            raise click.ClickException(
                f"{path}: expected a list of hex nodes or {{'proof': [...]}}"
            )
        return [_unhex(n, f"{path}: proof node") for n in doc]
    try:
        scale = parse_hex(text.decode("ascii"), prefix_optional=True)
    except (UnicodeDecodeError, HexError):
        scale = data
    try:
        return decode_proof(scale)
    except TrieError as e:
        raise click.ClickException(f"{path}: {e}") from None


def _show_value(value: bytes, full: bool) -> str:
    shown = value if full or len(value) <= 64 else value[:64]
    more = "" if len(shown) == len(value) else "…"
    return f"value 0x{shown.hex()}{more} ({len(value)} bytes)"


@inspect.command()
@click.argument("proof_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", "root_hex", required=True, help="Trusted state root (32-byte hex).")
@click.option(
    "--key",
    "--keys",
    "keys",
    multiple=True,
    required=True,
    help="Storage key (hex) to look up; repeat, or separate with commas.",
)
@click.option("--full", is_flag=True, help="Print whole values (default: first 64 bytes).")
def proof(proof_file: Path, root_hex: str, keys: tuple[str, ...], full: bool) -> None:
    """Check the read proof in PROOF_FILE against --root and print each key's value, proven
    absence, or that the proof does not cover it."""
    root = _unhex(root_hex, "--root", BadInput)
    wanted = [_unhex(k, "--key", BadInput) for arg in keys for k in arg.split(",") if k.strip()]
    nodes = _proof_nodes(proof_file)
    try:
        checked = ReadProof(root, nodes)
        click.echo(f"proof: {len(nodes)} nodes, root 0x{root.hex()}")
        for key in wanted:
            try:
                value = checked.get(key)
            except ProofIncomplete as e:
                click.echo(f"0x{key.hex()}: not covered (missing node 0x{e.node_hash.hex()})")
                continue
            shown = "absent" if value is None else _show_value(value, full)
            click.echo(f"0x{key.hex()}: {shown}")
    except TrieError as e:
        raise click.ClickException(f"{proof_file}: {e}") from None
