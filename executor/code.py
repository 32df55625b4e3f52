"""Storing contract code: pallet-contracts v1.5 `bare_upload_code` under Pink's parameters.

Shared by the `upload_code` ecall and the extension's `import_latest_system_code`. Validation
first (`check_code`, then compilation), then, unless the hash is already stored, the deposit
`per_byte x (code_len + CodeInfo max len 63) + 2 x per_item` is put on hold from the owner,
the code and its `CodeInfo` are stored and `CodeStored` is deposited (PINK.md 3.4).
"""

from __future__ import annotations

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.executor import events
from pinkpipe.executor.engine import Engine, check_code
from pinkpipe.executor.ledger import CodeInfo, Ledger

CODE_INFO_MAX_LEN = 63  # owner 32 + compact u128 17 + compact u64 9 + determinism 1 + len 4


def store_code(
    ledger: Ledger, engine: Engine, owner: bytes, code: bytes, deterministic: bool
) -> bytes:
    """Validate and store `code`; its hash. Raises CodeRejected / DispatchFailure, unchanged."""
    code = bytes(code)  # state values are immutable: a caller's bytearray must not leak in
    _, limits = check_code(code, deterministic)
    code_hash = blake2_256(code)
    engine.prepare(code_hash, code, limits)
    if ledger.code_info(code_hash) is not None:
        return code_hash
    params = ledger.params()
    deposit = (
        params.deposit_per_byte * (len(code) + CODE_INFO_MAX_LEN) + 2 * params.deposit_per_item
    )
    ledger.hold(owner, deposit)
    ledger.set_code(code_hash, code)
    ledger.set_code_info(code_hash, CodeInfo(owner, deposit, 0, deterministic, len(code)))
    ledger.emit(events.code_stored(code_hash, deposit, owner))
    return code_hash


def store_sidevm_code(ledger: Ledger, owner: bytes, code: bytes) -> bytes:
    """`pallet_pink::put_sidevm_code`: fee per_byte x (len + 32) + per_item to the treasury."""
    code = bytes(code)
    params = ledger.params()
    fee = params.deposit_per_byte * (len(code) + 32) + params.deposit_per_item
    ledger.transfer(owner, params.treasury, fee, keep_alive=True)
    code_hash = blake2_256(code)
    ledger.state.put(("Pink", "SidevmCodes", code_hash), (owner, code))
    return code_hash
