"""How far our gas and deposits are from Phala's recorded numbers (PINK.md section 8).

Runs Phala's own runtime-test fixtures the way `crates/pink/runtime/tests/test_pink_contract.rs`
does (owner [1;32], cluster zero, gas price, deposit per item and per byte 1, system.wasm as
system code) and prints our `ContractResult` next to the values in its insta snapshots
(`test_pink_contract__ink_flip.snap`, `..._ink_cross_contract_instantiate.snap`).
The fixtures are not part of this repository; point the script at a checkout:
`.venv/bin/python bench/parity_phala.py PHALA/crates/pink/runtime/tests/fixtures`.
Prints numbers, asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pinkpipe.executor.results import ContractResult
from pinkpipe.executor.runtime import ClusterSetup, Mode, PinkRuntime, TxArgs
from pinkpipe.executor.stack import ExecContext

ALICE = bytes([1] * 32)
ENOUGH = 2**127 - 1
TX = ExecContext(Mode.TRANSACTION, block_number=1, now_ms=1)
U64_MAX = 2**64 - 1
# (gas_consumed ref_time, proof_size), (gas_required ref_time, proof_size), storage deposit
PHALA = {
    "flip new(true)": ((1_004_638_278, 24_635), (1_582_359_686, 1_073_211), 126),
    "cross new() with ENOUGH/100": ((3_125_415_497, 37_600), (3_703_360_905, 1_086_176), 283),
}


def cluster(fixtures: Path) -> PinkRuntime:
    runtime = PinkRuntime()
    system = (fixtures / "system" / "system.wasm").read_bytes()
    runtime.setup(ClusterSetup(bytes(32), ALICE, ENOUGH, 1, 1, 1, bytes([2] * 32), system), TX)
    return runtime


def show(label: str, result: ContractResult) -> None:
    (consumed, consumed_proof), (required, required_proof), deposit = PHALA[label]
    print(f"{label}: {'ok' if result.ok else result.error}")
    rows = [
        ("gas_consumed.ref_time", result.gas_consumed.ref_time, consumed),
        ("gas_consumed.proof_size", result.gas_consumed.proof_size, consumed_proof),
        ("gas_required.ref_time", result.gas_required.ref_time, required),
        ("gas_required.proof_size", result.gas_required.proof_size, required_proof),
        ("storage_deposit", result.storage_deposit, deposit),
    ]
    for name, ours, theirs in rows:
        ratio = f"{ours / theirs:8.3f}x" if theirs else ""
        print(f"  {name:<26} ours {ours:>15,}  Phala {theirs:>15,}  {ratio}")


def main(fixtures: Path) -> None:
    runtime = cluster(fixtures)
    flip = (fixtures / "flip" / "flip.wasm").read_bytes()
    code_hash = runtime.upload_code(ALICE, flip, True, TX).value
    args = TxArgs(ALICE, gas_limit=U64_MAX, gas_free=True)
    flip_new = runtime.contract_instantiate(
        code_hash, bytes.fromhex("9bae9d5e01"), b"", Mode.TRANSACTION, args, TX
    )
    show("flip new(true)", flip_new.value)
    gap = PHALA["flip new(true)"][0][0] - flip_new.value.gas_consumed.ref_time
    print(
        f"  ref_time gap per flip.wasm byte (if it were all code loading): {gap / len(flip):,.0f}"
    )
    address = flip_new.value.account or b""
    expected = "35db55bc9f81c9b14ae536cc43c37786f3ff62fe5247a4dccfd7ba3c8bf316af"
    print(f"  contract address: {'same' if address.hex() == expected else address.hex()}")

    runtime = cluster(fixtures)
    runtime.upload_code(ALICE, flip, True, TX)
    cross = (fixtures / "cross" / "cross.wasm").read_bytes()
    code_hash = runtime.upload_code(ALICE, cross, True, TX).value
    paying = TxArgs(ALICE, transfer=ENOUGH // 100, gas_limit=U64_MAX, gas_free=True)
    cross_new = runtime.contract_instantiate(
        code_hash, bytes.fromhex("9bae9d5e"), b"", Mode.TRANSACTION, paying, TX
    )
    show("cross new() with ENOUGH/100", cross_new.value)
    # `..._ink_cross_contract_instantiate-2.snap`: the side effects' instantiated list
    phala_instantiated = [
        ("056a8ab55cc7f7405e121302a0af5b46d8c5fd78d2dbc8c2ac994802bdfb71dc",
         "21987f6137bade4149694c00329d55d598d109be0b22535758528d14fc12b4e9"),
        ("01" * 32, "056a8ab55cc7f7405e121302a0af5b46d8c5fd78d2dbc8c2ac994802bdfb71dc"),
    ]  # fmt: skip
    ours = [(a.hex(), b.hex()) for a, b in cross_new.side_effects.instantiated]
    verdict = "same" if ours == phala_instantiated else ours
    print(f"  instantiated (deployer, contract) pairs: {verdict}")
    print(f"code sizes: flip {len(flip):,} bytes, cross {len(cross):,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
