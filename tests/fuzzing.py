"""Hypothesis strategies that damage real encodings, for the decoders' fuzz tests.

Mutating real bytes reaches deep into a decoder (past the first length prefix) far more often
than uniformly random bytes, which is where off-by-one and allocation bugs hide.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

MUTATIONS = ("flip", "set", "insert", "delete", "truncate", "append")


@st.composite
def mutated(draw: st.DrawFn, samples: Sequence[bytes], max_mutations: int = 4) -> bytes:
    """One of `samples` with 1..max_mutations random edits applied."""
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, max_mutations))):
        op = draw(st.sampled_from(MUTATIONS))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from((0x00, 0x01, 0x03, 0x7F, 0xFF)))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[pos:]
        else:
            data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)
