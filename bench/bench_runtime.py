"""Pink runtime throughput on one core: Transaction-mode calls, instantiations, host calls.

Why: the replay executes every contract command of the chain; the target is 2,000 flipper
`flip` calls per second. Prints rates and a per-call time split, asserts nothing.
Run: `.venv/bin/python bench/bench_runtime.py`.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for `tests.executor.support`

import wasmtime

from pinkpipe.executor.engine import Engine
from pinkpipe.executor.runtime import Mode
from tests.executor.support import (
    ALICE,
    BOB,
    DEFAULT,
    FLIP,
    NEW,
    TRANSFER,
    TX,
    args,
    call,
    contract,
    instantiate,
    new_cluster,
    u128,
    upload,
)

SECONDS = 1.0


class MemoryModuleStore:
    def __init__(self) -> None:
        self.saved: dict[bytes, bytes] = {}

    def load(self, code_hash: bytes) -> bytes | None:
        return self.saved.get(code_hash)

    def save(self, code_hash: bytes, data: bytes) -> None:
        self.saved[code_hash] = data


def rate(label: str, fn: Callable[[], object], seconds: float = SECONDS) -> float:
    fn()  # warm up
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        done += 1
    per_second = done / elapsed
    print(f"{label:<44} {per_second:>10,.0f}/s  {1e6 / per_second:>9,.1f} µs each")
    return per_second


def host_call_cost() -> None:
    """A contract calling seal0.value_transferred N times vs. a loop of the same length alone."""
    loops = 2000

    def probe(with_call: bool) -> bytes:
        work = "(call $value (i32.const 0) (i32.const 64))" if with_call else "(nop)"
        return bytes(
            wasmtime.wat2wasm(
                '(module (import "seal0" "value_transferred" (func $value (param i32 i32)))'
                '(import "env" "memory" (memory 1 16)) (func (export "deploy"))'
                '(func (export "call") (local $i i32) (i32.store (i32.const 64) (i32.const 16))'
                f"(loop $l {work} (local.set $i (i32.add (local.get $i) (i32.const 1)))"
                f"(br_if $l (i32.lt_u (local.get $i) (i32.const {loops}))))))"
            )
        )

    runtime = new_cluster()
    timings = []
    for with_call in (False, True):
        code_hash = runtime.upload_code(ALICE, probe(with_call), True, TX).value
        address = runtime.contract_instantiate(
            code_hash, b"", b"", Mode.TRANSACTION, args(), TX
        ).value.account
        assert address is not None
        timings.append(
            rate(
                f"{loops} loop iterations, host call={with_call}",
                lambda a=address: call(runtime, a, b""),
            )
        )
    per_host_call = (1 / timings[1] - 1 / timings[0]) / loops
    print(f"{'one host call (value_transferred)':<44} {per_host_call * 1e6:>21,.2f} µs")


def where_flip_time_goes(runtime: object, flipper: bytes) -> None:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(500):
        call(runtime, flipper, FLIP)  # type: ignore[arg-type]
    profile.disable()
    print("\nflip x500, top functions by own time:")
    pstats.Stats(profile).sort_stats("tottime").print_stats(12)


def main() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    token = instantiate(runtime, "erc20", NEW + u128(10**30))
    rate("flipper flip (Transaction)", lambda: call(runtime, flipper, FLIP))
    rate("flipper flip (Query)", lambda: call(runtime, flipper, FLIP, Mode.QUERY))
    rate("erc20 transfer (Transaction)", lambda: call(runtime, token, TRANSFER + BOB + u128(1)))

    code_hash = upload(runtime, "flipper")
    salts = iter(range(10**9))

    def warm_instantiate() -> None:
        salt = next(salts).to_bytes(8, "little")
        runtime.contract_instantiate(code_hash, DEFAULT, salt, Mode.TRANSACTION, args(), TX)

    rate("flipper instantiate (warm: cached module)", warm_instantiate)

    def cold_instantiate() -> None:
        runtime.engine.forget_modules()  # parse, check and compile again
        warm_instantiate()

    rate("flipper instantiate (cold: first compile)", cold_instantiate)

    runtime.engine = Engine(module_store=MemoryModuleStore())
    runtime.engine.compile(code_hash, contract("flipper"), True)

    def restarted_instantiate() -> None:
        runtime.engine.forget_modules()  # as after a restart: modules from the store
        warm_instantiate()

    rate("flipper instantiate (restart: module store)", restarted_instantiate)
    print(f"{'flipper wasm size':<44} {len(contract('flipper')):>10,} bytes")
    host_call_cost()
    where_flip_time_goes(runtime, flipper)


if __name__ == "__main__":
    main()
