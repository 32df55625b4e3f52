"""Gas (Weight) metering as pallet-contracts v1.5's `GasMeter`, with wasm fuel bridged in.

Pink passes `gas_limit` as ref_time and u64::MAX as proof size (PINK.md 3.3), so only ref_time
runs out; proof size is still summed and reported. Wasm instructions are counted by wasmtime's
fuel, one unit per instruction, converted at `REF_TIME_PER_FUEL` (wasmi 0.31's
`instruction_weights.base`): before wasm runs it receives `gas_left // 8000` fuel; at each host
call the fuel burnt since is charged back, the host's own weight is charged, and the remaining
gas is handed to wasm again (the sub-fuel remainder stays in the meter).

Known gap to exact gas: wasmi 0.31 (wasmi-labs/wasmi tag v0.31.0, `engine/config.rs`
`FuelCosts`, `engine/func_builder/`) is a stack machine that charges 1 fuel per emitted
instruction (base, entity, load, store and call costs are all 1) through one `ConsumeFuel` per
basic block, plus 1 per 8 locals and parameters on each call, 1 per 8 values kept across a
branch that drops values, and 1 per 64 bytes of bulk memory. wasmtime charges 1 per wasm
operator except `nop`, `drop`, `block`, `loop`, `end` and `else`, so the per-instruction
counts are close but not equal (the locals and branch surcharges are missing here, and the
instruction selections differ). Exact parity needs those rules applied to the parse of
`wasm.py` (per-block costs charged through this bridge) and v1.5's code-load weight per byte
(see `schedule.py`), which is the larger part of the gap on Phala's fixtures.
"""

from __future__ import annotations

from pinkpipe.executor.errors import fail
from pinkpipe.executor.schedule import REF_TIME_PER_FUEL, Weight


class GasMeter:
    """One frame's gas: a limit, what was consumed, and the lowest `gas_left` seen."""

    __slots__ = ("_engine_fuel", "consumed_proof", "gas_left", "limit", "lowest_left", "peak_proof")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.gas_left = limit
        self.lowest_left = limit
        self.consumed_proof = 0
        self.peak_proof = 0
        self._engine_fuel = 0

    @property
    def consumed(self) -> Weight:
        return Weight(self.limit - self.gas_left, self.consumed_proof)

    @property
    def required(self) -> Weight:
        """The peak usage (pallet's gas_required): pre-charges that were refunded count."""
        return Weight(self.limit - self.lowest_left, self.peak_proof)

    def charge(self, weight: Weight, what: str) -> None:
        if weight.ref_time > self.gas_left:
            self.lowest_left = 0
            self.gas_left = 0
            raise fail("OutOfGas", f"{what} needs {weight.ref_time} ref_time")
        self.gas_left -= weight.ref_time
        self.consumed_proof += weight.proof_size
        self.lowest_left = min(self.lowest_left, self.gas_left)
        self.peak_proof = max(self.peak_proof, self.consumed_proof)

    def refund(self, weight: Weight) -> None:
        """Give back the unused part of a pre-charge (the peak stays)."""
        self.gas_left = min(self.gas_left + weight.ref_time, self.limit)
        self.consumed_proof = max(self.consumed_proof - weight.proof_size, 0)

    def nested(self, limit: int) -> GasMeter:
        """A child meter: `limit` 0 means everything left (seal0/seal1 call semantics)."""
        return GasMeter(self.gas_left if limit == 0 else min(limit, self.gas_left))

    def absorb(self, child: GasMeter) -> None:
        """Charge what `child` used; keep the deepest point it reached for gas_required."""
        self.lowest_left = min(self.lowest_left, self.gas_left - (child.limit - child.lowest_left))
        self.peak_proof = max(self.peak_proof, self.consumed_proof + child.peak_proof)
        self.gas_left -= child.limit - child.gas_left
        self.consumed_proof += child.consumed_proof

    # --- the wasm fuel bridge ------------------------------------------------------------

    def fuel_for_engine(self) -> int:
        self._engine_fuel = self.gas_left // REF_TIME_PER_FUEL
        return self._engine_fuel

    def sync_from_engine(self, fuel_left: int, what: str) -> None:
        """Charge the fuel burnt since `fuel_for_engine`; out of fuel means out of gas."""
        burnt = self._engine_fuel - fuel_left
        self._engine_fuel = fuel_left
        self.charge(Weight(burnt * REF_TIME_PER_FUEL, 0), what)
