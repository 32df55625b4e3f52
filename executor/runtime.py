"""The Pink runtime's ecalls (PINK.md 5): one cluster's state and the calls pRuntime makes on it.

Every mutating ecall runs in one state snapshot, as `execute_mut` does: events are reset first,
the ecall runs, and the snapshot is committed (Transaction) or discarded (Query, Estimating). It
returns an `Outcome`: the ecall's value, the events it deposited with private pink events
filtered out (what an event block would carry, PINK.md 6.2; Transaction only), the state
changes it committed (for the replay to persist) and its side effects (`ExecSideEffects`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any, Generic, TypeVar

from pinkpipe.executor.code import store_code, store_sidevm_code
from pinkpipe.executor.engine import Engine
from pinkpipe.executor.errors import CodeRejected, DispatchFailure
from pinkpipe.executor.events import EventRecord, SideEffects
from pinkpipe.executor.extension import Extension
from pinkpipe.executor.ledger import ClusterParams, Ledger
from pinkpipe.executor.results import REVERT, ContractResult, ExecReturnValue, coarse
from pinkpipe.executor.schedule import (
    GAS_CLIP_QUERY,
    GAS_CLIP_TRANSACTION,
    U64_MAX,
    Weight,
)
from pinkpipe.executor.stack import ExecContext, Stack, contract_address
from pinkpipe.executor.state import Key, State

T = TypeVar("T")

SYSTEM_CONSTRUCTOR = bytes.fromhex("ed4b9d1b")  # the system contract's `default`


class Mode(IntEnum):
    QUERY = 0
    ESTIMATING = 1
    TRANSACTION = 2


@dataclass(frozen=True)
class ClusterSetup:
    """`ClusterSetupConfig` of ecall `setup`."""

    cluster_id: bytes
    owner: bytes
    deposit: int
    gas_price: int
    deposit_per_item: int
    deposit_per_byte: int
    treasury: bytes
    system_code: bytes


@dataclass(frozen=True)
class TxArgs:
    """`TransactionArguments`; `storage_deposit_limit` None = unlimited."""

    origin: bytes
    transfer: int = 0
    gas_limit: int = U64_MAX
    gas_free: bool = True
    storage_deposit_limit: int | None = None
    deposit: int = 0


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """An ecall's value and effects. `entry_contract` and `origin` are the event block's
    fields for contract ecalls (PINK.md 6.3: the called or computed address, even when the
    call failed; the transaction origin); None for the others."""

    value: T
    events: tuple[EventRecord, ...] = ()
    changes: list[tuple[Key, Any]] = field(default_factory=list)
    side_effects: SideEffects = field(default_factory=SideEffects)
    entry_contract: bytes | None = None
    origin: bytes | None = None


class SetupError(Exception):
    """`setup` returned Err(String): FailedToUploadSystemCode or FailedToDeploySystemContract."""


class PinkRuntime:
    """One cluster: its state, the shared engine, and the extension's query backend."""

    def __init__(
        self,
        engine: Engine | None = None,
        extension: Extension | None = None,
        state: State | None = None,
    ) -> None:
        self.engine = engine or Engine()
        self.extension = extension or Extension()
        self.state = state or State()
        self.ledger = Ledger(self.state)

    # --- plumbing --------------------------------------------------------------------------

    def _ecall(self, context: ExecContext, commit: bool, body: Any) -> Outcome[Any]:
        self.state.snapshot()
        try:
            self.ledger.reset_events()
            value = body()
            deposited = self.ledger.events()
            self.ledger.reset_events()
            changes = self.state.changes()
        except BaseException:
            self.state.rollback()
            raise
        if commit:
            self.state.commit()
        else:
            self.state.rollback()
        kept = tuple(e for e in deposited if not e.is_private)
        emitted = kept if context.mode == Mode.TRANSACTION else ()
        effects = SideEffects.of(deposited, query=context.mode != Mode.TRANSACTION)
        return Outcome(value, emitted, changes if commit else [], effects)

    # --- read-only ecalls ------------------------------------------------------------------

    def cluster_id(self) -> bytes:
        return self.ledger.params().cluster_id

    def system_contract(self) -> bytes | None:
        return self.ledger.system_contract()

    def free_balance(self, who: bytes) -> int:
        return self.ledger.account(who).free

    def total_balance(self, who: bytes) -> int:
        return self.ledger.account(who).total

    def code_hash(self, contract: bytes) -> bytes | None:
        info = self.ledger.contract(contract)
        return None if info is None else info.code_hash

    # --- setup, deposit, upload ------------------------------------------------------------

    def _configure(self, config: ClusterSetup) -> None:
        params = ClusterParams(
            config.cluster_id,
            config.gas_price,
            config.deposit_per_item,
            config.deposit_per_byte,
            config.treasury,
        )
        self.ledger.set_params(params)
        self.ledger.mint(config.owner, config.deposit)

    def configure(self, config: ClusterSetup, context: ExecContext) -> Outcome[None]:
        """Parameters and the owner's mint only: a cluster without a system contract (like
        Phala's `TestCluster::bare()`, plus parameters), for trying contracts in isolation."""
        return self._ecall(context, commit=True, body=lambda: self._configure(config))

    def setup(self, config: ClusterSetup, context: ExecContext) -> Outcome[None]:
        """The exact sequence of PINK.md 5.4 step 2; storage is kept even when it fails."""
        failure: list[str] = []

        def body() -> None:
            self._configure(config)
            try:
                code_hash = self._upload(config.owner, config.system_code, deterministic=True)
            except (CodeRejected, DispatchFailure) as e:
                failure.append(f"FailedToUploadSystemCode: {e}")
                return
            args = TxArgs(config.owner, gas_limit=U64_MAX, gas_free=True)
            result = self._instantiate(code_hash, SYSTEM_CONSTRUCTOR, b"", context, args)
            if not result.ok or (result.output is not None and result.output.reverted):
                failure.append(f"FailedToDeploySystemContract: {result.error}")
                return
            assert result.account is not None
            self.state.put(("Pink", "SystemContract"), result.account)

        outcome = self._ecall(context, commit=True, body=body)
        if failure:
            raise SetupError(failure[0])
        return outcome

    def set_key(self, secret: bytes, context: ExecContext) -> Outcome[None]:
        """The cluster's 64-byte sr25519 secret (`Pink::Key`), the root of contract keys."""
        if len(secret) != 64:
            raise ValueError(f"the cluster key is a 64-byte secret, not {len(secret)} bytes")
        return self._ecall(context, True, lambda: self.state.put(("Pink", "Key"), secret))

    def get_key(self) -> bytes | None:
        return self.state.get(("Pink", "Key"))

    def on_idle(self, block_number: int, context: ExecContext) -> Outcome[int]:
        """Ecall 24 (runtime >= 1.2): the pallets' on_idle with unlimited weight; for
        pallet-contracts that empties the deletion queue of terminated contracts' storage.
        The value is the number of contract tries deleted."""
        return self._ecall(context, True, self.ledger.process_deletion_queue)

    def deposit(self, who: bytes, amount: int, context: ExecContext) -> Outcome[None]:
        return self._ecall(context, True, lambda: self.ledger.mint(who, amount))

    def upload_code(
        self, owner: bytes, code: bytes, deterministic: bool, context: ExecContext
    ) -> Outcome[bytes]:
        """Check, hold the deposit and store; raises CodeRejected / DispatchFailure, state kept."""
        return self._ecall(context, True, lambda: self._upload(owner, code, deterministic))

    def _upload(self, owner: bytes, code: bytes, deterministic: bool) -> bytes:
        return store_code(self.ledger, self.engine, owner, code, deterministic)

    def upload_sidevm_code(self, owner: bytes, code: bytes, context: ExecContext) -> Outcome[bytes]:
        """Raises a DispatchFailure (Token error) if the owner cannot pay the fee; unchanged."""
        return self._ecall(context, True, lambda: store_sidevm_code(self.ledger, owner, code))

    def get_sidevm_code(self, code_hash: bytes) -> bytes | None:
        stored = self.state.get(("Pink", "SidevmCodes", code_hash))
        return None if stored is None else stored[1]

    # --- contracts -------------------------------------------------------------------------

    def contract_instantiate(
        self, code_hash: bytes, data: bytes, salt: bytes, mode: Mode, args: TxArgs,
        context: ExecContext,
    ) -> Outcome[ContractResult]:  # fmt: skip
        args = _sanitize(args, mode)

        def run() -> ContractResult:
            return self._instantiate(code_hash, data, salt, context, args)

        outcome = self._ecall(
            context, mode == Mode.TRANSACTION, lambda: self._paid(args, mode, run)
        )
        entry = self.contract_address(args.origin, code_hash, salt)
        return replace(outcome, entry_contract=entry, origin=args.origin)

    def contract_call(
        self, contract: bytes, data: bytes, mode: Mode, args: TxArgs, context: ExecContext
    ) -> Outcome[ContractResult]:
        args = _sanitize(args, mode)

        def run() -> ContractResult:
            return self._call(contract, data, context, args)

        outcome = self._ecall(
            context, mode == Mode.TRANSACTION, lambda: self._paid(args, mode, run)
        )
        return replace(outcome, entry_contract=contract, origin=args.origin)

    # --- the event chain's counters (the EventsBlock codec lives in the chain layer) --------

    def event_chain_head(self) -> tuple[int, bytes]:
        """(`Pink::NextEventBlockNumber`, `Pink::LastEventBlockHash`): what the next event
        block is numbered and chained to (PINK.md 6.3)."""
        number = self.state.get(("Pink", "NextEventBlockNumber"), 0)
        return number, self.state.get(("Pink", "LastEventBlockHash"), bytes(32))

    def advance_event_chain(self, header_hash: bytes) -> None:
        """Record that block `event_chain_head()[0]` was emitted with this header hash.

        Pink does this inside the ecall that produced the events; here the caller encodes the
        block (with the shared codec) and reports its hash, in the same commit."""
        if len(header_hash) != 32:
            raise ValueError(f"an event block header hash is 32 bytes, not {len(header_hash)}")
        number, _ = self.event_chain_head()
        self.state.put(("Pink", "NextEventBlockNumber"), number + 1)
        self.state.put(("Pink", "LastEventBlockHash"), header_hash)

    def _paid(self, args: TxArgs, mode: Mode, run: Callable[[], ContractResult]) -> ContractResult:
        """Deposit, upfront gas payment, the run, the refund, then query rounding (5.2)."""
        if args.deposit:
            self.ledger.mint(args.origin, args.deposit)
        params = self.ledger.params()
        if not args.gas_free:
            try:
                upfront = args.gas_limit * params.gas_price
                self.ledger.transfer(args.origin, params.treasury, upfront, keep_alive=True)
            except DispatchFailure as e:
                return ContractResult(Weight(0, 0), Weight(0, 0), 0, b"", None, e.error)
        result = run()
        if not args.gas_free:
            refund = (args.gas_limit - result.gas_consumed.ref_time) * params.gas_price
            self.ledger.transfer(params.treasury, args.origin, refund, keep_alive=False)
        if mode == Mode.TRANSACTION:
            return result
        min_bits = (256 * params.deposit_per_byte - 1).bit_length()
        deposit = result.storage_deposit
        rounded = coarse(abs(deposit), min_bits) if deposit else 0
        return replace(
            result,
            gas_consumed=Weight(coarse(result.gas_consumed.ref_time), 0),
            gas_required=Weight(coarse(result.gas_required.ref_time), 0),
            storage_deposit=rounded if deposit >= 0 else -rounded,
        )

    def _stack(self, origin: bytes, context: ExecContext) -> Stack:
        deterministic = context.mode != Mode.QUERY
        return Stack(self.engine, self.ledger, self.extension, origin, context, deterministic)

    def _call(
        self, contract: bytes, data: bytes, context: ExecContext, args: TxArgs
    ) -> ContractResult:
        stack = self._stack(args.origin, context)
        try:
            output = stack.run_call(
                contract, args.transfer, data, args.gas_limit, args.storage_deposit_limit
            )
        except DispatchFailure as e:
            return _failed(stack, e)
        return _succeeded(stack, output, None)

    def _instantiate(
        self, code_hash: bytes, data: bytes, salt: bytes, context: ExecContext, args: TxArgs
    ) -> ContractResult:
        stack = self._stack(args.origin, context)
        try:
            output, account = stack.run_instantiate(
                code_hash, args.transfer, data, salt, args.gas_limit, args.storage_deposit_limit
            )
        except DispatchFailure as e:
            return _failed(stack, e, instantiate=True)
        return _succeeded(stack, output, account)

    def contract_address(self, deployer: bytes, code_hash: bytes, salt: bytes) -> bytes:
        return contract_address(deployer, code_hash, self.ledger.params().cluster_id, salt)


def _sanitize(args: TxArgs, mode: Mode) -> TxArgs:
    clip = GAS_CLIP_QUERY if mode == Mode.QUERY else GAS_CLIP_TRANSACTION
    if args.gas_limit <= clip:
        return args
    return TxArgs(
        args.origin, args.transfer, clip, args.gas_free, args.storage_deposit_limit, args.deposit
    )


def _succeeded(stack: Stack, output: Any, account: bytes | None) -> ContractResult:
    reverted = bool(output.flags & REVERT)
    return ContractResult(
        stack.root_gas.consumed,
        stack.root_gas.required,
        0 if reverted else stack.storage_deposit,
        bytes(stack.debug),
        ExecReturnValue(output.flags, output.data),
        None,
        account,
        instantiate=account is not None,
    )


def _failed(stack: Stack, error: DispatchFailure, instantiate: bool = False) -> ContractResult:
    return ContractResult(
        stack.root_gas.consumed,
        stack.root_gas.required,
        0,
        bytes(stack.debug),
        None,
        error.error,
        None,
        instantiate=instantiate,
    )
