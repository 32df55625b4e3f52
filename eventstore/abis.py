"""ink! ABIs in the store: registered by code hash, linked to contracts, used when reading.

`Contracts::Instantiated` names no code hash, so a contract's code is linked when its ABI is
added (`pinkpipe abi add FILE --contract ADDR`) or by the executor, which knows what it
instantiated (`link_contracts`). Events are decoded by ABI when read, so an ABI added later
applies to every event already stored; the stored rows never change.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, insert, select, update

from pinkpipe.chain.ink_abi import InkAbi
from pinkpipe.eventstore.db import store_errors
from pinkpipe.eventstore.errors import BadQuery, NotStored
from pinkpipe.eventstore.models import Abi, Contract


def add_abi(engine: Engine, metadata_json: str, contracts: Sequence[bytes] = ()) -> InkAbi:
    """Store an ABI (the same one again is a no-op; another one for its code hash is refused)
    and link `contracts` to its code hash, all in one transaction."""
    abi = InkAbi.from_json(metadata_json)
    with store_errors(engine, "add an ink! ABI"), engine.begin() as conn:
        stored = conn.execute(
            select(Abi.metadata_json).where(Abi.code_hash == abi.code_hash)
        ).scalar_one_or_none()
        if stored is None:
            conn.execute(
                insert(Abi).values(
                    code_hash=abi.code_hash,
                    name=abi.name,
                    ink_version=abi.ink_version,
                    metadata_json=metadata_json,
                )
            )
        elif stored != metadata_json:
            raise BadQuery(
                f"another ABI is already stored for code hash 0x{abi.code_hash.hex()}; "
                "ABIs are never replaced"
            )
        link_contracts(conn, abi.code_hash, contracts)
    return abi


def link_contracts(conn: Connection, code_hash: bytes, contracts: Sequence[bytes]) -> None:
    """Record that `contracts` run `code_hash` (each must be a contract the store has seen)."""
    for address in contracts:
        known = conn.execute(
            select(Contract.code_hash).where(Contract.address == address)
        ).one_or_none()
        if known is None:
            raise NotStored(f"no instantiated contract 0x{address.hex()} in the store")
        if known.code_hash not in (None, code_hash):
            raise BadQuery(
                f"contract 0x{address.hex()} already runs code 0x{known.code_hash.hex()}"
            )
        conn.execute(
            update(Contract).where(Contract.address == address).values(code_hash=code_hash)
        )


class AbiCache:
    """Parsed ABIs by code hash, each parsed once (an ABI is never replaced)."""

    def __init__(self) -> None:
        self._by_code: dict[bytes, InkAbi] = {}

    def by_code_hash(self, conn: Connection, code_hashes: set[bytes]) -> dict[bytes, InkAbi]:
        """The registered ABIs among `code_hashes` (one query for those not parsed yet)."""
        missing = code_hashes - set(self._by_code)
        if missing:
            rows = conn.execute(
                select(Abi.code_hash, Abi.metadata_json).where(Abi.code_hash.in_(missing))
            ).all()
            for code_hash, metadata_json in rows:
                self._by_code[code_hash] = InkAbi.from_json(metadata_json)
        return {h: self._by_code[h] for h in code_hashes if h in self._by_code}
