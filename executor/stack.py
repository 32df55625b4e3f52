"""One call stack: frames, their transactions, gas and deposit meters (pallet-contracts `exec.rs`).

A `Stack` runs one top-level call or instantiation in a fresh wasmtime `Store`. Every frame is
a state snapshot: a trap or an error rolls it back completely (its events included), a REVERT
return rolls it back but is a normal result, success folds it into the parent. At most
`CALL_STACK_FRAMES` (6) frames are live. Errors raised while a callee runs are marked as the
callee's, so the caller's `call`/`instantiate` turns them into return codes (PINK.md 2.2).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import wasmtime

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.executor import events
from pinkpipe.executor.deposit import Charge, Diff, StorageMeter, base_deposit
from pinkpipe.executor.errors import (
    DispatchError,
    DispatchFailure,
    contracts_error,
    fail,
    pink_error,
)
from pinkpipe.executor.gas import GasMeter
from pinkpipe.executor.host import (
    CALLEE_TRAPPED,
    CODE_NOT_FOUND,
    NOT_CALLABLE,
    TRANSFER_FAILED,
    ReturnSignal,
    TerminateSignal,
)
from pinkpipe.executor.ledger import EXISTENTIAL_DEPOSIT, ContractInfo, Ledger
from pinkpipe.executor.results import REVERT
from pinkpipe.executor.schedule import (
    CALL_STACK_FRAMES,
    CODE_LOAD_PER_BYTE,
    MAX_DEBUG_BUFFER,
    SENTINEL,
    Weight,
)

if TYPE_CHECKING:
    from pinkpipe.executor.engine import CheckedCode, Engine
    from pinkpipe.executor.extension import Extension

OUTPUT_BUFFER_TOO_SMALL = contracts_error("OutputBufferTooSmall")
EXTENSION_BUFFER_OVERFLOW = pink_error("ContractIoBufferOverflow")
_MAPPED_ERRORS = {
    contracts_error("TransferFailed"): TRANSFER_FAILED,
    contracts_error("CodeNotFound"): CODE_NOT_FOUND,
    contracts_error("ContractNotFound"): NOT_CALLABLE,
}


@dataclass(frozen=True)
class ExecContext:
    """What pRuntime's `exec_context` ocall gives: mode, Phala block number, time."""

    mode: int  # 0 Query, 1 Estimating, 2 Transaction
    block_number: int = 0
    now_ms: int = 0

    @property
    def is_query(self) -> bool:
        return self.mode == 0


@dataclass
class Frame:
    account: bytes
    caller: bytes
    value: int
    code_hash: bytes
    trie_id: bytes
    gas: GasMeter
    deposit: StorageMeter
    input: bytes | None
    allows_reentry: bool = True
    memory: wasmtime.Memory | None = field(default=None, repr=False)
    memory_base: int = 0  # address and size of `memory`, taken when a host call starts
    memory_size: int = 0

    def take_input(self) -> bytes:
        """The call input, once (`seal0.input` after forwarding is `InputForwarded`)."""
        if self.input is None:
            raise fail("InputForwarded", "the input was already read or forwarded")
        data, self.input = self.input, None
        return data

    def peek_input(self) -> bytes:
        if self.input is None:
            raise fail("InputForwarded", "the input was already read or forwarded")
        return self.input


class Stack:
    """A call stack over a `Ledger`; `run_call` / `run_instantiate` are the entry points."""

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        extension: Extension,
        origin: bytes,
        context: ExecContext,
        deterministic: bool,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.extension = extension
        self.origin = origin
        self.context = context
        self.deterministic = deterministic
        self.frames: list[Frame] = []
        self.store = wasmtime.Store(engine.engine)
        self.debug = bytearray()
        self.root_gas = GasMeter(0)
        self.root_deposit = StorageMeter(0)

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    @property
    def prices(self) -> tuple[int, int]:
        params = self.ledger.params()
        return params.deposit_per_byte, params.deposit_per_item

    # --- gas and memory (used by every host function) -------------------------------------

    def enter_host(self, name: str) -> None:
        """Charge the fuel burnt so far; note where the frame's memory lives for this call
        (only wasm's memory.grow can move or resize it, and no wasm of this frame runs until
        the host function returns)."""
        frame = self.frame
        frame.gas.sync_from_engine(self.store.get_fuel(), name)
        memory = frame.memory
        assert memory is not None
        frame.memory_base = ctypes.cast(memory.data_ptr(self.store), ctypes.c_void_p).value or 0
        frame.memory_size = memory.data_len(self.store)

    def leave_host(self) -> None:
        self.store.set_fuel(self.frame.gas.fuel_for_engine())

    def charge(self, weight: Weight, what: str) -> None:
        self.frame.gas.charge(weight, what)

    def refund(self, weight: Weight) -> None:
        self.frame.gas.refund(weight)

    def read(self, ptr: int, length: int) -> bytes:
        """Bytes of the top frame's memory; beyond its end is `OutOfBounds` (a trap)."""
        frame = self.frame
        if ptr + length > frame.memory_size:
            raise fail("OutOfBounds", f"read of {length} bytes at {ptr}")
        return ctypes.string_at(frame.memory_base + ptr, length) if length else b""

    def write(self, ptr: int, data: bytes) -> None:
        frame = self.frame
        if ptr + len(data) > frame.memory_size:
            raise fail("OutOfBounds", f"write of {len(data)} bytes at {ptr}")
        if data:
            ctypes.memmove(frame.memory_base + ptr, data, len(data))

    def write_output(
        self,
        out_ptr: int,
        out_len_ptr: int,
        data: bytes,
        allow_skip: bool = False,
        per_byte: Weight | None = None,
        too_small: DispatchError = OUTPUT_BUFFER_TOO_SMALL,
    ) -> None:
        """`write_sandbox_output`: check the buffer length at out_len_ptr, write both."""
        if allow_skip and out_ptr == SENTINEL:
            return
        capacity = int.from_bytes(self.read(out_len_ptr, 4), "little")
        if capacity < len(data):
            raise DispatchFailure(too_small, f"{len(data)} bytes for a {capacity}-byte buffer")
        if per_byte is not None:
            self.charge(Weight(per_byte.ref_time * len(data), 0), "output copy")
        self.write(out_ptr, data)
        self.write(out_len_ptr, len(data).to_bytes(4, "little"))

    # --- contract storage, events, debug ----------------------------------------------------

    def read_storage(self, key: bytes) -> bytes | None:
        return self.ledger.storage(self.frame.trie_id, key)

    def write_storage(self, key: bytes, value: bytes | None) -> int | None:
        """Write (None clears) and charge the deposit diff; returns the old value's size."""
        old = self.ledger.storage(self.frame.trie_id, key)
        old_len = None if old is None else len(old)
        self.frame.deposit.charge(Diff.of_write(old_len, None if value is None else len(value)))
        self.ledger.set_storage(self.frame.trie_id, key, value)
        return old_len

    def reducible(self, who: bytes) -> int:
        return max(self.ledger.account(who).free - EXISTENTIAL_DEPOSIT, 0)

    def emit_contract_event(self, topics: tuple[bytes, ...], data: bytes) -> None:
        self.ledger.emit(events.contract_emitted(self.frame.account, data, topics))

    def append_debug(self, message: bytes) -> None:
        """Valid UTF-8 only, and only if it fits the 128 KiB buffer whole (`try_extend`)."""
        try:
            message.decode("utf-8")
        except UnicodeDecodeError:
            return
        if len(self.debug) + len(message) <= MAX_DEBUG_BUFFER:
            self.debug += message

    def chain_extension(self, func_id: int, data: bytes, out_ptr: int, out_len_ptr: int) -> int:
        """Pink's extension writes without gas and overflows as its own error (PINK.md 4.1)."""
        status, output = self.extension.dispatch(self, func_id, data)
        self.write_output(out_ptr, out_len_ptr, output, too_small=EXTENSION_BUFFER_OVERFLOW)
        return status

    # --- frames -----------------------------------------------------------------------------

    def _allows_reentry(self, account: bytes) -> bool:
        return not any(f.account == account and not f.allows_reentry for f in self.frames)

    def _check_depth(self) -> None:
        if len(self.frames) >= CALL_STACK_FRAMES:
            raise fail("MaxCallDepthReached", f"{CALL_STACK_FRAMES} frames are live")

    def _load(self, code_hash: bytes) -> CheckedCode:
        info = self.ledger.code_info(code_hash)
        code = self.ledger.code(code_hash)
        if info is None or code is None:
            raise fail("CodeNotFound", f"code 0x{code_hash.hex()}")
        if self.deterministic and not info.deterministic:
            raise fail("Indeterministic", f"code 0x{code_hash.hex()} is indeterministic")
        self._parent_meters()[0].charge(
            Weight(
                CODE_LOAD_PER_BYTE.ref_time * len(code), CODE_LOAD_PER_BYTE.proof_size * len(code)
            ),
            "code load",
        )
        return self.engine.compile(code_hash, code, deterministic=False)

    def _execute(self, frame: Frame, checked: CheckedCode, entry: str) -> ReturnSignal:
        """Run one entry point of the frame's code; errors inside are the callee's."""
        minimum, maximum = checked.memory_limits
        memory = wasmtime.Memory(self.store, wasmtime.MemoryType(wasmtime.Limits(minimum, maximum)))
        frame.memory = memory
        self.store.set_fuel(frame.gas.fuel_for_engine())
        try:
            self.engine.linker.define(self.store, "env", "memory", memory)
            instance = self.engine.linker.instantiate(self.store, checked.module)
            export = instance.exports(self.store)[entry]
            assert isinstance(export, wasmtime.Func)
            export(self.store)
            output = ReturnSignal(0, b"")
        except ReturnSignal as returned:
            output = returned
        except TerminateSignal:
            output = ReturnSignal(0, b"")
        except wasmtime.Trap as trap:
            frame.gas.sync_from_engine(self.store.get_fuel(), entry)
            if trap.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
                raise _callee(fail("OutOfGas", f"wasm ran out of gas in {entry}")) from None
            reason = str(trap).splitlines()[0]
            raise _callee(fail("ContractTrapped", f"{entry}: {reason}")) from None
        except DispatchFailure as e:
            raise _callee(e) from None
        except wasmtime.WasmtimeError as e:
            raise _callee(fail("ContractTrapped", str(e).splitlines()[0])) from None
        frame.gas.sync_from_engine(self.store.get_fuel(), entry)
        return output

    def _enter(self, frame: Frame, body: Callable[[], ReturnSignal]) -> ReturnSignal:
        """Run `body` as a frame: snapshot, commit on success, roll back on revert or error."""
        self.frames.append(frame)
        self.ledger.state.snapshot()
        try:
            output = body()
        except BaseException:
            self.ledger.state.rollback()
            self._pop(frame, persist=False)
            raise
        if output.flags & REVERT:
            self.ledger.state.rollback()
            self._pop(frame, persist=False)
        else:
            self.ledger.state.commit()
            self._pop(frame, persist=True)
        return output

    def _pop(self, frame: Frame, persist: bool) -> None:
        self.frames.pop()
        parent_gas, parent_deposit = self._parent_meters()
        parent_gas.absorb(frame.gas)
        if persist:
            info = self.ledger.contract(frame.account)
            info = parent_deposit.absorb(frame.deposit, frame.account, info, self.prices)
            if info is not None:
                self.ledger.set_contract(frame.account, info)
        if self.frames:
            self.store.set_fuel(self.frame.gas.fuel_for_engine())

    def _parent_meters(self) -> tuple[GasMeter, StorageMeter]:
        if self.frames:
            return self.frame.gas, self.frame.deposit
        return self.root_gas, self.root_deposit

    def _new_meters(self, gas_limit: int, deposit_limit: int) -> tuple[GasMeter, StorageMeter]:
        gas, deposit = self._parent_meters()
        return gas.nested(gas_limit), deposit.nested(deposit_limit)

    # --- call -------------------------------------------------------------------------------

    def _call_frame(
        self, caller: bytes, dest: bytes, value: int, data: bytes, gas_limit: int
    ) -> ReturnSignal:
        self._check_depth()
        info = self.ledger.contract(dest)
        if info is None:
            raise fail("ContractNotFound", f"no contract at 0x{dest.hex()}")
        checked = self._load(info.code_hash)
        gas, deposit = self._new_meters(gas_limit, 0)
        frame = Frame(dest, caller, value, info.code_hash, info.trie_id, gas, deposit, data)

        def body() -> ReturnSignal:
            self._transfer(caller, dest, value)
            output = self._execute(frame, checked, "call")
            if not output.flags & REVERT:
                self.ledger.emit(events.called(caller, dest))
            return output

        return self._enter(frame, body)

    def _transfer(self, source: bytes, dest: bytes, value: int) -> None:
        try:
            self.ledger.transfer(source, dest, value, keep_alive=True)
        except DispatchFailure as e:
            raise fail("TransferFailed", e.detail or str(e)) from None

    def call(
        self, dest: bytes, value: int, data: bytes, gas_limit: int, allow_reentry: bool
    ) -> ReturnSignal | int:
        """`seal_call` from the top frame: callee errors become return codes."""
        caller = self.frame
        caller.allows_reentry = allow_reentry
        try:
            if not self._allows_reentry(dest):
                raise fail("ReentranceDenied", f"0x{dest.hex()} is on the stack")
            return self._call_frame(caller.account, dest, value, data, gas_limit)
        except DispatchFailure as e:
            return _return_code(e)
        finally:
            caller.allows_reentry = True

    def delegate_call(self, code_hash: bytes, data: bytes) -> ReturnSignal | int:
        """Run `code_hash` in the top frame's context (account, storage, caller, value)."""
        current = self.frame
        try:
            self._check_depth()
            checked = self._load(code_hash)
            gas, deposit = self._new_meters(0, 0)
            frame = Frame(
                current.account, current.caller, current.value, code_hash, current.trie_id,
                gas, deposit, data,
            )  # fmt: skip

            def body() -> ReturnSignal:
                output = self._execute(frame, checked, "call")
                if not output.flags & REVERT:
                    self.ledger.emit(events.delegate_called(current.account, code_hash))
                return output

            return self._enter(frame, body)
        except DispatchFailure as e:
            return _return_code(e)

    # --- instantiate ------------------------------------------------------------------------

    def _instantiate_frame(
        self,
        deployer: bytes,
        code_hash: bytes,
        value: int,
        data: bytes,
        salt: bytes,
        gas_limit: int,
    ) -> tuple[ReturnSignal, bytes]:
        self._check_depth()
        checked = self._load(code_hash)
        address = contract_address(deployer, code_hash, self.ledger.params().cluster_id, salt)
        if self.ledger.contract(address) is not None:
            raise fail("DuplicateContract", f"0x{address.hex()} exists")
        nonce = self.ledger.next_nonce()
        trie_id = blake2_256(address + nonce.to_bytes(8, "little"))
        gas, deposit = self._new_meters(gas_limit, 0)
        frame = Frame(address, deployer, value, code_hash, trie_id, gas, deposit, data)

        def body() -> ReturnSignal:
            self._charge_instantiate(frame, ContractInfo(trie_id, code_hash))
            self._transfer(deployer, address, value)
            output = self._execute(frame, checked, "deploy")
            if output.flags & REVERT:
                return output
            if self.ledger.contract(address) is None:
                raise fail("TerminatedInConstructor", f"0x{address.hex()}")
            self.ledger.emit(events.instantiated(deployer, address))
            return output

        return self._enter(frame, body), address

    def _charge_instantiate(self, frame: Frame, info: ContractInfo) -> None:
        """meter.rs `charge_instantiate`: the origin pays ED, then the base deposit is due."""
        per_byte, per_item = self.prices
        deposit = base_deposit(info, per_byte, per_item)
        if deposit > frame.deposit.available():
            raise fail("StorageDepositLimitExhausted", f"base deposit {deposit}")
        self.ledger.set_contract(frame.account, replace(info, storage_base_deposit=deposit))
        self.ledger.add_code_user(info.code_hash, 1)
        frame.deposit.total = EXISTENTIAL_DEPOSIT
        self.ledger.transfer(self.origin, frame.account, EXISTENTIAL_DEPOSIT, keep_alive=True)
        frame.deposit.charge_deposit(frame.account, deposit)

    def instantiate(
        self, code_hash: bytes, value: int, data: bytes, salt: bytes, gas_limit: int
    ) -> tuple[ReturnSignal | int, bytes]:
        """`seal_instantiate` from the top frame: callee errors become return codes."""
        deployer = self.frame.account
        try:
            return self._instantiate_frame(deployer, code_hash, value, data, salt, gas_limit)
        except DispatchFailure as e:
            return _return_code(e), b""

    # --- terminate and set_code_hash --------------------------------------------------------

    def terminate(self, beneficiary: bytes) -> None:
        frame = self.frame
        if sum(1 for f in self.frames if f.account == frame.account) > 1:
            raise fail("TerminatedWhileReentrant", f"0x{frame.account.hex()}")
        info = self.ledger.contract(frame.account)
        assert info is not None
        held = info.storage_base_deposit + info.storage_byte_deposit + info.storage_item_deposit
        frame.deposit.own = Diff()
        frame.deposit.terminated_to = beneficiary
        frame.deposit.total -= held
        frame.deposit.charges.append(Charge(frame.account, -held, beneficiary))
        self.ledger.queue_trie_for_deletion(info.trie_id)
        self.ledger.set_contract(frame.account, None)
        self.ledger.add_code_user(info.code_hash, -1)
        self.ledger.emit(events.terminated(frame.account, beneficiary))

    def set_code_hash(self, new: bytes) -> None:
        frame = self.frame
        info = self.ledger.contract(frame.account)
        assert info is not None
        self.ledger.add_code_user(new, 1)
        self.ledger.add_code_user(info.code_hash, -1)
        self.ledger.set_contract(frame.account, replace(info, code_hash=new))
        self.ledger.emit(events.contract_code_updated(frame.account, new, info.code_hash))

    # --- the two entry points ---------------------------------------------------------------

    def _run_root(
        self, gas_limit: int, deposit_limit: int | None, value: int, run: Callable[[], object]
    ) -> object:
        """Set up the root meters, run, then settle deposits (refunds first) as `bare_call`."""
        self.root_gas = GasMeter(gas_limit)
        available = max(self.ledger.account(self.origin).free - EXISTENTIAL_DEPOSIT - value, 0)
        limit = available if deposit_limit is None else deposit_limit
        if limit > available:
            raise fail("StorageDepositNotEnoughFunds", f"limit {limit}, {available} available")
        self.root_deposit = StorageMeter(limit)
        self.engine.active = self
        self.ledger.state.snapshot()  # a late failure (limit, settlement) undoes the frames too
        try:
            outcome = run()
            self.root_deposit.enforce_limit()
            self._settle_deposits()
        except BaseException:
            self.ledger.state.rollback()
            raise
        finally:
            self.engine.active = None
        self.ledger.state.commit()
        return outcome

    def _settle_deposits(self) -> None:
        for charge in self.root_deposit.ordered_charges():
            if charge.amount > 0:
                self.ledger.transfer_and_hold(self.origin, charge.contract, charge.amount)
                self.ledger.emit(events.deposit_held(self.origin, charge.contract, charge.amount))
                continue
            self.ledger.release_to(charge.contract, self.origin, -charge.amount)
            self.ledger.emit(events.deposit_released(charge.contract, self.origin, -charge.amount))
            if charge.terminated_to is not None:
                rest = self.ledger.account(charge.contract).free
                self.ledger.transfer(charge.contract, charge.terminated_to, rest, keep_alive=False)

    def run_call(
        self, dest: bytes, value: int, data: bytes, gas_limit: int, deposit_limit: int | None
    ) -> ReturnSignal:
        def run() -> ReturnSignal:
            return self._call_frame(self.origin, dest, value, data, gas_limit)

        output = self._run_root(gas_limit, deposit_limit, value, run)
        assert isinstance(output, ReturnSignal)
        return output

    def run_instantiate(
        self,
        code_hash: bytes,
        value: int,
        data: bytes,
        salt: bytes,
        gas_limit: int,
        deposit_limit: int | None,
    ) -> tuple[ReturnSignal, bytes]:
        def run() -> tuple[ReturnSignal, bytes]:
            return self._instantiate_frame(self.origin, code_hash, value, data, salt, gas_limit)

        outcome = self._run_root(gas_limit, deposit_limit, value, run)
        assert isinstance(outcome, tuple)
        return outcome

    @property
    def storage_deposit(self) -> int:
        return self.root_deposit.total


def contract_address(deployer: bytes, code_hash: bytes, cluster_id: bytes, salt: bytes) -> bytes:
    """Pink's AddressGenerator: blake2_256(deployer ‖ code_hash ‖ cluster_id ‖ salt)."""
    return blake2_256(deployer + code_hash + cluster_id + salt)


def _callee(error: DispatchFailure) -> DispatchFailure:
    error.from_callee = True
    return error


def _return_code(error: DispatchFailure) -> int:
    """`exec_into_return_code`: known errors map to codes, callee errors to CalleeTrapped."""
    code = _MAPPED_ERRORS.get(error.error)
    if code is not None:
        return code
    if error.from_callee:
        return CALLEE_TRAPPED
    raise error
