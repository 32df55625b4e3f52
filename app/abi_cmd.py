"""`pinkpipe abi add|list`: ink! contract ABIs, by code hash, for decoding contract events."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from pinkpipe.app.events_cmd import open_store, parse_hash, store_errors_to_exit, store_options
from pinkpipe.eventstore.abis import add_abi
from pinkpipe.eventstore.db import store_errors
from pinkpipe.eventstore.models import Abi, Contract


@click.group("abi")
def abi_group() -> None:
    """ink! ABIs: events of contracts with a registered ABI show their ink! name and fields."""


@abi_group.command("add")
@store_options
@click.argument("metadata", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--contract",
    "contracts",
    multiple=True,
    help="a contract (0x hex address) running this code; repeatable",
)
def abi_add(
    config_file: Path | None,
    db_url: str | None,
    data_dir: Path | None,
    metadata: Path,
    contracts: tuple[str, ...],
) -> None:
    """Register METADATA (ink! 4 or 5 contract metadata JSON) by its code hash."""
    addresses = [parse_hash(c, "--contract") for c in contracts]
    with store_errors_to_exit():
        engine, _ = open_store(config_file, db_url, data_dir)
        abi = add_abi(engine, metadata.read_text(), [a for a in addresses if a is not None])
    events = ", ".join(e.name for e in abi.events) or "no events"
    click.echo(
        f"ink! {abi.ink_version} ABI of {abi.name} (code hash 0x{abi.code_hash.hex()}): "
        f"{events}; {len(addresses)} contract(s) linked"
    )


@abi_group.command("list")
@store_options
def abi_list(config_file: Path | None, db_url: str | None, data_dir: Path | None) -> None:
    """Every registered ABI and the contracts linked to it."""
    with store_errors_to_exit():
        engine, _ = open_store(config_file, db_url, data_dir)
        with store_errors(engine, "list ABIs"), engine.connect() as conn:
            abis = conn.execute(select(Abi.code_hash, Abi.name, Abi.ink_version)).all()
            links = conn.execute(select(Contract.address, Contract.code_hash)).all()
    for code_hash, name, version in abis:
        linked = [f"0x{a.hex()}" for a, c in links if c == code_hash]
        click.echo(f"0x{code_hash.hex()} {name} (ink! {version}): {' '.join(linked) or '-'}")
