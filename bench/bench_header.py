"""Header decode + hash throughput: our codec vs scalecodec on the 256 real Westend headers.

Why: hand-written codecs are only allowed on hot paths where they pay for themselves; this is
the number that justifies `chain/header.py`. Prints rates, asserts nothing.
Run: `.venv/bin/python bench/bench_header.py`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for `tests.vectors`

from scalecodec.base import RuntimeConfiguration, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.header import Header
from tests.vectors import westend_blocks

ROUNDS = 5
ROUND_SECONDS = 0.4


def ours(header: bytes) -> bytes:
    return Header.decode(header).hash()


def scalecodec_decoder() -> Callable[[bytes], bytes]:
    config = RuntimeConfiguration()
    config.update_type_registry(load_type_registry_preset("legacy"))

    def decode(header: bytes) -> bytes:
        obj = config.create_scale_object("Header", ScaleBytes(header))
        obj.decode()
        return blake2_256(obj.data.data[: obj.data.offset])

    return decode


def check(fn: Callable[[bytes], bytes], headers: list[bytes], expected: list[bytes]) -> None:
    if [fn(h) for h in headers] != expected:
        raise SystemExit(f"{fn.__qualname__} disagrees with the recorded hashes")


def round_rate(fn: Callable[[bytes], bytes], headers: list[bytes]) -> float:
    """Headers per second over whole passes of the set, for at least ROUND_SECONDS."""
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < ROUND_SECONDS:
        for h in headers:
            fn(h)
        done += len(headers)
    return done / elapsed


def best_rates(
    decoders: dict[str, Callable[[bytes], bytes]], headers: list[bytes]
) -> dict[str, float]:
    """Best round of each decoder, rounds interleaved so load from other processes hits both."""
    best = dict.fromkeys(decoders, 0.0)
    for _ in range(ROUNDS):
        for name, fn in decoders.items():
            best[name] = max(best[name], round_rate(fn, headers))
    return best


def main() -> None:
    blocks = westend_blocks()
    headers = [b.header for b in blocks]
    hashes = [b.hash for b in blocks]
    size = sum(map(len, headers)) / len(headers)
    print(f"{len(headers)} Westend headers (#1..#256), mean {size:.0f} bytes")
    decoders = {"chain.header": ours, "scalecodec": scalecodec_decoder()}
    for fn in decoders.values():
        check(fn, headers, hashes)
    rates = best_rates(decoders, headers)
    for name, value in rates.items():
        print(f"{name:<13} decode+hash: {value:12,.0f} headers/s (best of {ROUNDS} rounds)")
    ratio = rates["chain.header"] / rates["scalecodec"]
    print(f"speed-up: {ratio:.1f}x (target >= 30x)")


if __name__ == "__main__":
    main()
