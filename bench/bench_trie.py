"""Trie benchmarks on real data; prints numbers, asserts nothing.

Run from the project root: `.venv/bin/python bench/bench_trie.py [--history N]`.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pinkpipe.chain.keys import SYSTEM_EVENTS, TIMESTAMP_NOW
from pinkpipe.chain.proof import verify_read_proof
from pinkpipe.chain.trie import TrieState, trie_root
from tests.trie_vectors import (
    phala_changes,
    phala_genesis_storage,
    phala_state_roots,
    rococo_events_proofs,
)
from tests.vectors import westend_genesis_storage


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_westend_genesis() -> None:
    storage = westend_genesis_storage()
    size = sum(len(k) + len(v) for k, v in storage.items())
    for version in (0, 1):
        seconds = _best(lambda v=version: trie_root(storage, v), 10)
        print(
            f"westend genesis trie root V{version}: {seconds * 1e3:.2f} ms "
            f"({len(storage)} keys, {size / 1e6:.2f} MB)"
        )


def bench_phala_replay() -> None:
    genesis = phala_genesis_storage()
    blocks = phala_changes()[1:]
    roots = phala_state_roots()

    def replay() -> int:
        state = TrieState.from_pairs(genesis)
        matched = int(state.root() == roots[0])
        for i, block in enumerate(blocks, start=1):
            state = state.apply(block.main, block.child)
            root = state.root()
            matched += i < len(roots) and root == roots[i]
        return matched

    matched = replay()
    seconds = _best(replay, 5)
    print(
        f"phala replay: genesis + {len(blocks)} blocks in {seconds * 1e3:.1f} ms "
        f"({len(blocks) / seconds:.0f} blocks/s incl. genesis build), "
        f"{matched}/{len(roots)} state roots match"
    )
    state = TrieState.from_pairs(genesis)
    start = time.perf_counter()
    for block in blocks:
        state = state.apply(block.main, block.child)
        state.root()
    seconds = time.perf_counter() - start
    print(f"phala blocks only: {len(blocks) / seconds:.0f} blocks/s")


def bench_proof_verification() -> None:
    for case in rococo_events_proofs():
        root = case.header.state_root
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            verify_read_proof(root, case.nodes, [SYSTEM_EVENTS])
        seconds = time.perf_counter() - start
        size = sum(map(len, case.nodes))
        print(
            f"rococo System.Events proof {case.file} (#{case.header.number}, "
            f"{len(case.nodes)} nodes, {size} bytes): {n / seconds:.0f} verifications/s"
        )


def _build_history(genesis: TrieState, blocks: int) -> list[TrieState]:
    """One snapshot per block, each block changing what a real Phala block changes (the
    recorded blocks, cycled) plus a timestamp."""
    recorded = phala_changes()[1:]
    state = genesis
    history = [state]
    for n in range(1, blocks + 1):
        block = recorded[n % len(recorded)]
        state = state.apply([*block.main, (TIMESTAMP_NOW, (n * 12_000).to_bytes(8, "little"))])
        state.root()
        history.append(state)
    return history


def bench_history(blocks: int) -> None:
    """A devnet-like history. Timed without tracemalloc (which slows allocation-heavy code
    about 3x), then rebuilt under tracemalloc to measure what the snapshots keep."""
    genesis = TrieState.from_pairs(phala_genesis_storage())
    genesis.root()
    start = time.perf_counter()
    history = _build_history(genesis, blocks)
    seconds = time.perf_counter() - start
    prove = partial(history[blocks // 2].read_proof, [TIMESTAMP_NOW, SYSTEM_EVENTS])
    proof_seconds = _best(prove, 20)
    del history, prove
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = _build_history(genesis, blocks)
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del kept
    recorded = phala_changes()[1:]
    changes = sum(len(b.main) for b in recorded) / len(recorded) + 1
    print(
        f"history: {blocks} snapshots (~{changes:.0f} changes/block) in {seconds:.2f} s "
        f"({blocks / seconds:.0f} blocks/s), {used / 1e6:.1f} MB kept "
        f"({used / blocks / 1e3:.1f} kB/block)"
    )
    print(f"read proof at a past block (2 keys): {proof_seconds * 1e6:.0f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", type=int, default=10_000, help="snapshots to keep")
    args = parser.parse_args()
    if args.history < 1:
        parser.error("--history must be at least 1")
    bench_westend_genesis()
    bench_phala_replay()
    bench_proof_verification()
    bench_history(args.history)


if __name__ == "__main__":
    main()
