"""Shared helpers for the runtime tests: the example contracts, a ready cluster, call shortcuts."""

from __future__ import annotations

from functools import cache

import wasmtime

from pinkpipe.executor.engine import Engine
from pinkpipe.executor.results import ContractResult
from pinkpipe.executor.runtime import ClusterSetup, Mode, Outcome, PinkRuntime, TxArgs
from pinkpipe.executor.stack import ExecContext
from tests.vectors import PROJECT_ROOT

CONTRACTS = PROJECT_ROOT / "examples" / "contracts"
ALICE = bytes([1] * 32)  # Phala's test owner (PINK.md 8.1)
BOB = bytes([3] * 32)
TREASURY = bytes([2] * 32)
ENOUGH = 2**127 - 1  # u128::MAX / 2
TX = ExecContext(Mode.TRANSACTION, block_number=1, now_ms=1)
QUERY = ExecContext(Mode.QUERY, block_number=1, now_ms=1)
ESTIMATE = ExecContext(Mode.ESTIMATING, block_number=1, now_ms=1)
CONTEXTS = {Mode.TRANSACTION: TX, Mode.QUERY: QUERY, Mode.ESTIMATING: ESTIMATE}

NEW = bytes.fromhex("9bae9d5e")
DEFAULT = bytes.fromhex("ed4b9d1b")
FLIP = bytes.fromhex("633aa551")
GET = bytes.fromhex("2f865bd9")
TRANSFER = bytes.fromhex("84a15da1")
BALANCE_OF = bytes.fromhex("0f755a56")
TOTAL_SUPPLY = bytes.fromhex("db6375a8")
FORWARD = bytes.fromhex("45753c2b")
DEPLOY_CHILD = bytes.fromhex("0c0120d6")
RECURSE = bytes.fromhex("6f815c62")


@cache
def contract(name: str) -> bytes:
    """The wasm of `examples/contracts/<name>.wat`."""
    return bytes(wasmtime.wat2wasm((CONTRACTS / f"{name}.wat").read_text()))


@cache
def shared_engine() -> Engine:
    """One engine for the whole test session (it is stateless apart from its module cache)."""
    return Engine()


def new_cluster(gas_price: int = 1, per_item: int = 1, per_byte: int = 1) -> PinkRuntime:
    """A cluster set up as Phala's runtime tests do (owner ALICE, cluster zero)."""
    runtime = PinkRuntime(engine=shared_engine())
    setup = ClusterSetup(
        bytes(32), ALICE, ENOUGH, gas_price, per_item, per_byte, TREASURY, contract("system")
    )
    runtime.setup(setup, TX)
    return runtime


def args(origin: bytes = ALICE, **kwargs: object) -> TxArgs:
    return TxArgs(origin, **kwargs)  # type: ignore[arg-type]


def upload(runtime: PinkRuntime, name: str) -> bytes:
    return runtime.upload_code(ALICE, contract(name), True, TX).value


def instantiate(
    runtime: PinkRuntime, name: str, data: bytes, salt: bytes = b"", tx: TxArgs | None = None
) -> bytes:
    code_hash = upload(runtime, name)
    outcome = runtime.contract_instantiate(
        code_hash, data, salt, Mode.TRANSACTION, tx or args(), TX
    )
    assert outcome.value.ok, outcome.value.error
    assert outcome.value.account is not None
    return outcome.value.account


def call(
    runtime: PinkRuntime,
    address: bytes,
    data: bytes,
    mode: Mode = Mode.TRANSACTION,
    tx: TxArgs | None = None,
) -> Outcome[ContractResult]:
    return runtime.contract_call(address, data, mode, tx or args(), CONTEXTS[mode])


def output(outcome: Outcome[ContractResult]) -> bytes:
    result = outcome.value
    assert result.ok, result.error
    assert result.output is not None
    return result.output.data


def u128(value: int) -> bytes:
    return value.to_bytes(16, "little")
