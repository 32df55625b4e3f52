"""Devnet production speed and memory: 10,000 blocks with full history kept.

Why: end-to-end and replay tests run long devnet chains, and the devnet must keep every past
state (structurally shared tries) to serve read proofs at any block. Target: 10,000 blocks in
under 60 s with justifications every 512 blocks, authority rotations, some extrinsics carrying
Phala messages, and every state still provable. Prints numbers, asserts nothing.
Run: `.venv/bin/python bench/bench_devnet.py [blocks]`.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pinkpipe.chain import keys
from pinkpipe.chain.proof import verify_read_proof
from pinkpipe.devnet import DevChain, DevnetConfig
from pinkpipe.devnet.config import dev_account
from pinkpipe.devnet.genesis import account_key

MESSAGE = b"\x00\x1cphala/x\x1cdestination\x10data"
TX_EVERY = 10


def rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def produce(chain: DevChain, blocks: int) -> float:
    alice = dev_account("Alice")
    start = time.perf_counter()
    for n in range(1, blocks + 1):
        if n % TX_EVERY == 0:
            chain.include(b"\x84" + n.to_bytes(4, "little") * 8, [MESSAGE], alice)
        chain.produce_block()
    return time.perf_counter() - start


def serve(chain: DevChain, samples: int) -> tuple[float, float]:
    """Mean ms per read proof (+ verification) at spread-out past blocks, and per prove_finality."""
    wanted = [keys.TIMESTAMP_NOW, keys.PHALA_MQ_OUTBOUND_MESSAGES, account_key(dev_account("Bob"))]
    step = max(1, chain.best_number // samples)
    numbers = range(1, chain.best_number + 1, step)
    start = time.perf_counter()
    for n in numbers:
        at = chain.block_hash(n)
        header = chain.header(at or b"")
        assert header is not None
        verify_read_proof(header.state_root, chain.read_proof(wanted, at), wanted)
    proof_ms = (time.perf_counter() - start) * 1000 / len(numbers)
    start = time.perf_counter()
    for n in numbers:
        chain.prove_finality(n)
    finality_ms = (time.perf_counter() - start) * 1000 / len(numbers)
    return proof_ms, finality_ms


def main() -> None:
    blocks = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    config = DevnetConfig(justification_period=512, set_period=2_500)
    DevChain(config)  # warm the metadata and key caches so they are not timed
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    chain = DevChain(config)
    seconds = produce(chain, blocks)
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    proof_ms, finality_ms = serve(chain, 200)
    print(f"blocks produced            : {blocks} (extrinsic+message every {TX_EVERY})")
    print(f"justifications stored      : {len(chain.justified_numbers())}")
    print(f"authority set at head      : {chain.authority_set(chain.best_number)[0]}")
    print(f"production (tracemalloc on): {seconds:.2f} s ({blocks / seconds:.0f} blocks/s)")
    per_block = held / blocks / 1024
    print(f"memory held by the chain   : {held / 2**20:.1f} MiB ({per_block:.1f} KiB/block)")
    print(f"peak RSS of the process    : {rss_mb():.0f} MiB")
    print(f"read proof + verify        : {proof_ms:.3f} ms at past blocks")
    print(f"prove_finality             : {finality_ms:.3f} ms")
    chain2 = DevChain(config)
    seconds2 = produce(chain2, blocks)
    print(f"production (no tracemalloc): {seconds2:.2f} s ({blocks / seconds2:.0f} blocks/s)")


if __name__ == "__main__":
    main()
