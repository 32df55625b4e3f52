"""Ecall results in pallet-contracts' layout (`ContractResult`, PINK.md 5.2).

`ContractResult{gas_consumed: Weight, gas_required: Weight, storage_deposit: StorageDeposit,
debug_message: Vec<u8>, result, events: Option<Vec<EventRecord>>}` with Weight =
(Compact<u64> ref_time, Compact<u64> proof_size), StorageDeposit = Refund(0) | Charge(1) of u128,
result = `Result<ExecReturnValue{flags: u32, data}, DispatchError>` for calls and
`Result<InstantiateReturnValue{result, account_id}, DispatchError>` for instantiations.
Pink always encodes `events` as None.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinkpipe.chain.scale import encode_bytes, encode_compact, encode_u32, encode_u128
from pinkpipe.executor.errors import DispatchError
from pinkpipe.executor.schedule import Weight

REVERT = 1


@dataclass(frozen=True)
class ExecReturnValue:
    flags: int
    data: bytes

    @property
    def reverted(self) -> bool:
        return bool(self.flags & REVERT)

    def encode(self) -> bytes:
        return encode_u32(self.flags) + encode_bytes(self.data)


def encode_weight(weight: Weight) -> bytes:
    return encode_compact(weight.ref_time) + encode_compact(weight.proof_size)


def encode_storage_deposit(amount: int) -> bytes:
    """Signed deposit: >= 0 is Charge (1), < 0 is Refund (0)."""
    return (b"\x01" + encode_u128(amount)) if amount >= 0 else (b"\x00" + encode_u128(-amount))


@dataclass(frozen=True)
class ContractResult:
    """One call's or instantiation's result; `account` is set for instantiations."""

    gas_consumed: Weight
    gas_required: Weight
    storage_deposit: int
    debug_message: bytes
    output: ExecReturnValue | None
    error: DispatchError | None = None
    account: bytes | None = None
    instantiate: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def encode(self) -> bytes:
        if self.error is not None:
            result = b"\x01" + self.error.encode()
        else:
            assert self.output is not None
            result = b"\x00" + self.output.encode()
            if self.instantiate:
                assert self.account is not None
                result += self.account
        return (
            encode_weight(self.gas_consumed)
            + encode_weight(self.gas_required)
            + encode_storage_deposit(self.storage_deposit)
            + encode_bytes(self.debug_message)
            + result
            + b"\x00"
        )


def coarse(value: int, min_bits: int = 28) -> int:
    """Pink's query/estimate rounding: set the low p bits, p = max(bitlen - 9, min_bits) <= 63."""
    bits = min(max(value.bit_length() - 9, min_bits), 63)
    return value | ((1 << bits) - 1)
