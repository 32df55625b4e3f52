"""Light-client speed: justification verification vs bare ed25519, header-chain import rate.

Run: .venv/bin/python bench/bench_validator.py
Prints numbers only (targets: justification <= 1.3x the bare ed25519 cost of its precommits,
about 8 ms for 200 precommits; header-chain import >= 100,000 headers/s, hashing included).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pinkpipe.chain.crypto import ed25519_verify
from pinkpipe.chain.grandpa import Justification, precommit_payload, threshold
from pinkpipe.chain.header import Header
from pinkpipe.validator import LightClient, VoterSet, import_batch, verify_justification
from tests.grandpa_builder import (
    authorities,
    extend,
    justify,
    make_genesis,
    make_voters,
)
from tests.validator_vectors import headers_of, rococo_client, rococo_set
from tests.vectors import ROCOCO_SET_IDS, rococo_batches


def best_of(fn: Callable[[], object], repeat: int = 15) -> float:
    """Fastest wall time of `fn` in seconds: the machine is shared, so the minimum is the
    least disturbed measurement."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_ed25519(j: Justification, set_id: int) -> Callable[[], None]:
    """Only the signature checks, on precomputed payloads: the floor for verification."""
    items = [
        (p.signature, precommit_payload(p.target_hash, p.target_number, j.round, set_id), p.id)
        for p in j.commit.precommits
    ]

    def run() -> None:
        for sig, msg, key in items:
            ed25519_verify(sig, msg, key)

    return run


def report_justification(label: str, j: Justification, voters: VoterSet, set_id: int) -> None:
    full = best_of(lambda: verify_justification(j, voters, set_id))
    bare = best_of(bare_ed25519(j, set_id))
    n = len(j.commit.precommits)
    print(
        f"  {label:<34} {n:>4} precommits  verify {full * 1e3:7.2f} ms  "
        f"bare ed25519 {bare * 1e3:7.2f} ms  ratio {full / bare:4.2f}x  "
        f"({full / n * 1e6:5.1f} us/precommit)"
    )


def justifications() -> None:
    print("Justification verification (best of 15)")
    for set_id in ROCOCO_SET_IDS:
        voters = VoterSet(rococo_set(set_id))
        for i, batch in enumerate(rococo_batches(set_id)):
            j = Justification.decode(batch.justification)
            report_justification(f"Rococo set {set_id} batch {i + 1} (68 auth.)", j, voters, set_id)
    target = extend(make_genesis("bench"), 1)[0]
    for size in (300, 1000):
        pool = make_voters(size, f"bench{size}")
        voters = VoterSet(authorities(pool))
        j = justify(target, pool[: threshold(size)], 7, round_=3)
        report_justification(f"synthetic {size} authorities", j, voters, 7)
    pool = make_voters(300, "bench300")
    j = justify(target, pool[:200], 7, round_=3)
    report_justification("synthetic 200 precommits of 300", j, VoterSet(authorities(pool[:200])), 7)


def longest_real_run() -> tuple[int, list[Header], bytes]:
    """The longest run of real headers one justification finalizes: set 3165's two files
    back to back (#1843327..#1843750, 424 headers), under the second file's justification.

    The issue asks for "the 569-header Rococo batch"; no combination of the vectors forms 569
    headers (runs: 3164 397 and 409 overlapping from #1842727; 3165 411 + 13 contiguous; the
    two sets are 190 blocks apart), so this is the largest real batch there is.
    """
    first, second = rococo_batches(3165)
    return 3165, headers_of(first) + headers_of(second), second.justification


def report_import(label: str, set_id: int, headers: list[Header], justification: bytes) -> None:
    state = rococo_client(set_id).state
    full = best_of(lambda: import_batch(state, headers, justification))
    voters = VoterSet(rococo_set(set_id))
    just = best_of(lambda: verify_justification(justification, voters, set_id))
    chain = full - just
    n = len(headers)
    print(
        f"  {label}, {n} headers: whole batch {full * 1e3:.2f} ms "
        f"({n / full:,.0f} headers/s); justification alone {just * 1e3:.2f} ms; "
        f"header chain {chain * 1e3:.2f} ms = {n / chain:,.0f} headers/s"
    )


def header_import() -> None:
    print("Header-chain import (best of 15; 100,000 headers: best of 3)")
    batches = [(s, b) for s in ROCOCO_SET_IDS for b in rococo_batches(s)]
    set_id, largest = max(batches, key=lambda sb: len(headers_of(sb[1])))
    report_import(
        f"Rococo set {set_id} largest file", set_id, headers_of(largest), largest.justification
    )
    report_import("Rococo set 3165 both files as one batch", *longest_real_run())
    pool = make_voters(1, "bench-long")
    genesis = make_genesis("bench-long")
    long_chain = extend(genesis, 100_000)
    j = justify(long_chain[-1], pool, 0)

    def long_import() -> None:
        client = LightClient.from_checkpoint(
            genesis, authorities(pool), 0, genesis_hash=genesis.hash()
        )
        client.import_batch(long_chain, j)

    took = best_of(long_import, repeat=3)
    print(
        f"  synthetic 100,000-header batch, 1 authority: {took * 1e3:.0f} ms = "
        f"{len(long_chain) / took:,.0f} headers/s"
    )


if __name__ == "__main__":
    justifications()
    header_import()
