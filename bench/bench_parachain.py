"""Parachain finality speed: parachain blocks verified per second by the pure core.

Each parachain block arrives as header bytes (decoded here, as the validator decodes bus
records) and becomes final through `import_para_batch`: one `Paras::Heads` read proof per
finalized relay block, checked against its state root, then the parent-hash links up to the
proven head. Measured on the devnet pair (relay blocks with GRANDPA, Phala-storage parachain),
at Phala's own cadence (a new head every other relay block, 1-2 parachain blocks per proof) and
with a relayer that proves once per 100 parachain blocks, and on the real Polkadot proof.
Issue 12 targets >= 500 parachain blocks/s end to end; this is the verification floor of that.

Run: .venv/bin/python bench/bench_parachain.py   (prints numbers, asserts nothing)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_validator import best_of
from pinkpipe.chain.header import Header
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.parachain import ParachainDevnet
from pinkpipe.validator.parachain import (
    ParachainState,
    RelayBlock,
    anchored_at_genesis,
    import_para_batch,
)
from tests.parachain_vectors import (
    POLKADOT_RELAY_HASH,
    POLKADOT_RELAY_NUMBER,
    POLKADOT_STATE_ROOT,
    SPIRITNET_HEADS_PROOF,
    SPIRITNET_PARA_ID,
)

RELAY_BLOCKS = 4000

Batch = tuple[RelayBlock, list[bytes], list[bytes]]
"""A finalized relay block, its `Paras::Heads` proof, the parachain header bytes up to it."""


def devnet_batches(pair: ParachainDevnet, proof_every: int) -> list[Batch]:
    """What a relayer would send when it proves a head every `proof_every` relay blocks."""
    batches: list[Batch] = []
    final = 0
    for number in range(proof_every, pair.relay.best_number + 1, proof_every):
        relay_hash = pair.relay.block_hash(number) or b""
        relay_header = pair.relay.block(number).header
        held = pair.head_number_at(number) or 0
        headers = [pair.para.block(n).header.encode() for n in range(final + 1, held + 1)]
        relay = RelayBlock(number, relay_hash, relay_header.state_root)
        batches.append((relay, pair.heads_proof(relay_hash), headers))
        final = held
    return batches


def verify_all(pair: ParachainDevnet, batches: list[Batch]) -> int:
    state = anchored_at_genesis(pair.para_id, pair.para.genesis_hash)
    count = 0
    for relay, proof, raw_headers in batches:
        result = import_para_batch(state, relay, proof, [Header.decode(h) for h in raw_headers])
        state = result.state
        count += len(result.finalized)
    return count


def main() -> None:
    start = time.perf_counter()
    pair = ParachainDevnet(
        DevnetConfig(chain_name="bench relay", set_period=600),
        DevnetConfig(chain_name="bench para"),
    )
    pair.produce(RELAY_BLOCKS)
    built = time.perf_counter() - start
    para_blocks = pair.head_number_at(RELAY_BLOCKS) or 0
    print(
        f"devnet pair: {RELAY_BLOCKS} relay blocks, {para_blocks} parachain blocks included, "
        f"built in {built:.1f} s"
    )
    print("Parachain blocks verified per second (decode + proof + links; best of 5)")
    for label, proof_every in (
        ("proof at every relay block (Phala cadence)", 1),
        ("proof every 200 relay blocks (~100 parachain blocks)", 200),
    ):
        batches = devnet_batches(pair, proof_every)
        verified = verify_all(pair, batches)
        seconds = best_of(lambda b=batches: verify_all(pair, b), repeat=5)
        print(
            f"  {label}: {verified} blocks, {len(batches)} proofs in {seconds * 1000:.0f} ms: "
            f"{verified / seconds:,.0f} blocks/s, {len(batches) / seconds:,.0f} proofs/s"
        )
    relay = RelayBlock(POLKADOT_RELAY_NUMBER, POLKADOT_RELAY_HASH, POLKADOT_STATE_ROOT)
    state = ParachainState(SPIRITNET_PARA_ID)
    rounds = 2000
    seconds = best_of(
        lambda: [import_para_batch(state, relay, SPIRITNET_HEADS_PROOF, []) for _ in range(rounds)],
        repeat=5,
    )
    print(
        f"Real Polkadot Paras::Heads(2086) proof (5 nodes, 1,751 bytes): "
        f"{rounds / seconds:,.0f} proofs/s ({seconds / rounds * 1e6:.0f} us each)"
    )


if __name__ == "__main__":
    main()
