"""Catch-up throughput of the pipeline: devnet → relayer → NATS → validator, and where time goes.

1. end to end: a 10,000-block devnet (`pinkpipe devnet`, its own process), the relayer and the
   validator as `pinkpipe` processes and an embedded nats-server; blocks/s from the services'
   start until the verified stream holds every block;
2. RPC modes, fetch only (no NATS): JSON-RPC batches vs concurrent single calls over one
   WebSocket, vs a pool of substrate-interface connections in threads;
3. where the time goes: every step of the relayer's and the validator's hot paths timed alone
   on the devnet's blocks (µs per block): JSON, checks, records, NATS, proofs, signatures.
   (cProfile was tried first: with four busy processes on two cores its wall-clock numbers
   mostly measured preemption, and its CPU-time mode doubled the run time.)

Prints numbers, asserts nothing. `python bench/bench_pipeline.py [BLOCKS]`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nats.js import api  # noqa: E402
from nats.js.errors import NotFoundError  # noqa: E402
from substrateinterface import SubstrateInterface  # noqa: E402

from pinkpipe.app.config import Settings, load_settings  # noqa: E402
from pinkpipe.bus import (  # noqa: E402
    Bus,
    OrderedPublisher,
    msg_id,
    raw_spec,
    raw_stream,
    raw_subject,
    verified_stream,
)
from pinkpipe.bus.config import DEFAULT_STORAGE_KEYS  # noqa: E402
from pinkpipe.bus.nats_server import EmbeddedNats  # noqa: E402
from pinkpipe.bus.records import RawBlockRecord, decode_raw  # noqa: E402
from pinkpipe.chain.header import Header  # noqa: E402
from pinkpipe.chain.keys import GENESIS_KEYS  # noqa: E402
from pinkpipe.relayer.node import Node, parse_block  # noqa: E402
from pinkpipe.validator.justification import verify_justification  # noqa: E402
from pinkpipe.validator.light_client import LightClient  # noqa: E402
from pinkpipe.validator.storage import verify_body, verify_storage_proof  # noqa: E402

PINKPIPE = ROOT / ".venv" / "bin" / "pinkpipe"
BLOCKS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
SET_PERIOD = 1000
JUSTIFICATION_PERIOD = 512


def start_devnet(blocks: int) -> tuple[subprocess.Popen[str], str, float]:
    """`pinkpipe devnet` pre-producing `blocks`; returns it, its URL and production time."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(PINKPIPE),
            "devnet",
            "--port",
            "0",
            "--blocks",
            str(blocks),
            "--block-time",
            "0",
            "--set-period",
            str(SET_PERIOD),
            "--justification-period",
            str(JUSTIFICATION_PERIOD),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"(ws://\S+)", line)
        if found:
            return proc, found.group(1), time.perf_counter() - started
    raise RuntimeError("devnet did not start")


def settings(nats_url: str, node_url: str, **overrides: object) -> Settings:
    return load_settings(default_file=False, nats_url=nats_url, node_url=node_url, **overrides)


async def wait_stream(bus: Bus, stream: str, count: int) -> float:
    while True:
        try:
            if await bus.last_seq(stream) >= count:
                return time.perf_counter()
        except NotFoundError:  # the stream does not exist yet
            pass
        await asyncio.sleep(0.05)


async def end_to_end(devnet_url: str, genesis: bytes, data: Path) -> None:
    async with EmbeddedNats(data / "e2e") as nats:
        env = {**os.environ, "PINKPIPE_NATS_URL": nats.url, "PINKPIPE_LOG_LEVEL": "WARNING"}
        bus = await Bus.connect(settings(nats.url, devnet_url))
        started = time.perf_counter()
        procs = [
            subprocess.Popen([str(PINKPIPE), "relayer", "--node", devnet_url], env=env),
            subprocess.Popen([str(PINKPIPE), "validator"], env=env),
        ]
        relayed = asyncio.create_task(wait_stream(bus, raw_stream(genesis), BLOCKS + 1))
        verified_at = await wait_stream(bus, verified_stream(genesis), BLOCKS)
        relayed_at = await relayed
        for proc in procs:
            proc.terminate()
            proc.wait()
        await bus.close()
    total = verified_at - started
    print(
        f"end to end (3 processes + nats-server, 2 cores): {BLOCKS} blocks verified in "
        f"{total:.1f}s = {BLOCKS / total:.0f} blocks/s (process start-up included)"
    )
    print(
        f"  relayer alone reached the head after {relayed_at - started:.1f}s "
        f"= {BLOCKS / (relayed_at - started):.0f} blocks/s"
    )


async def rpc_modes(devnet_url: str, count: int) -> None:
    keys = list(DEFAULT_STORAGE_KEYS)
    for batch, window in ((16, 256), (64, 512), (1, 256), (1, 32)):
        node = Node(devnet_url, keys, timeout_s=30, batch=batch)
        await node.connect()
        started = time.perf_counter()
        tasks: list[asyncio.Task[object]] = []
        for first in range(1, count + 1, batch):
            tasks.append(
                asyncio.create_task(node.fetch_blocks(first, min(count, first + batch - 1)))
            )
            if len(tasks) * batch >= window:
                await tasks.pop(0)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        await node.close()
        mode = f"batches of {batch}" if batch > 1 else "concurrent single calls"
        print(f"  raw websocket, {mode}, {window} blocks in flight: {count / elapsed:.0f} blocks/s")
    si_count = min(count, 1000)
    for threads in (1, 4):
        print(
            f"  substrate-interface, {threads} connection(s) in threads: "
            f"{si_count / substrate_pool(devnet_url, si_count, threads):.0f} blocks/s"
        )


def substrate_pool(url: str, count: int, threads: int) -> float:
    keys = ["0x" + k.hex() for k in DEFAULT_STORAGE_KEYS]
    conns = [SubstrateInterface(url=url, auto_reconnect=False) for _ in range(threads)]

    def fetch(i: int) -> None:
        s = conns[i % threads]
        block_hash = s.rpc_request("chain_getBlockHash", [i])["result"]
        s.rpc_request("chain_getBlock", [block_hash])
        s.rpc_request("state_getReadProof", [keys, block_hash])

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for start in range(1, count + 1, threads):
            list(pool.map(fetch, range(start, min(count, start + threads - 1) + 1)))
    elapsed = time.perf_counter() - started
    for s in conns:
        s.close()
    return elapsed


def per_block(label: str, seconds: float, count: int) -> None:
    print(f"    {label:<58} {1e6 * seconds / count:8.1f} us/block")


async def stage_costs(devnet_url: str, genesis: bytes, data: Path, count: int) -> None:
    """Each step of the hot paths timed alone on the devnet's own blocks (µs per block)."""
    keys = list(DEFAULT_STORAGE_KEYS)
    node = Node(devnet_url, keys, timeout_s=30, batch=16)
    await node.connect()
    calls: list[tuple[str, list[object]]] = []
    hashes = [await node.block_hash(n) for n in range(1, count + 1)]
    for h in hashes:
        assert h is not None
        calls += [
            ("chain_getBlock", ["0x" + h.hex()]),
            ("state_getReadProof", [["0x" + k.hex() for k in keys], "0x" + h.hex()]),
        ]
    answers = []
    for i in range(0, len(calls), 32):
        answers += await node.client.batch(calls[i : i + 32])
    frames = [json.dumps(answers[i : i + 32]) for i in range(0, len(answers), 32)]
    await node.close()

    print("  relayer, per block:")
    t = time.perf_counter()
    for frame in frames:
        json.loads(frame)
    per_block("JSON parsing of the node's answers", time.perf_counter() - t, count)
    t = time.perf_counter()
    blocks = [
        parse_block(n, h, answers[2 * i], answers[2 * i + 1])
        for i, (n, h) in enumerate(zip(range(1, count + 1), hashes, strict=True))
        if h is not None
    ]
    per_block(
        "checks: hex, header re-encode + hash, justification decode", time.perf_counter() - t, count
    )
    t = time.perf_counter()
    records = [
        RawBlockRecord(
            number=b.number,
            hash=b.hash,
            header=b.header.encode(),
            body=b.body,
            justification=b.justification,
            keys=keys,
            proof=b.proof,
        ).to_bytes()
        for b in blocks
    ]
    per_block("raw record: pydantic model + JSON", time.perf_counter() - t, count)
    print(f"    (raw record size: {sum(map(len, records)) / count:.0f} bytes on average)")

    async with EmbeddedNats(data / "stages") as nats:
        bus = await Bus.connect(settings(nats.url, devnet_url))
        await bus.ensure_stream(raw_spec(bus.settings, genesis, bus.max_payload), owner=True)
        pub = OrderedPublisher(
            bus.nc, raw_stream(genesis), raw_subject(genesis), 0, bus.max_payload, window=512
        )
        t = time.perf_counter()
        for block, record in zip(blocks, records, strict=True):
            await pub.publish(msg_id(genesis, block.number, block.hash), record, "bench")
        await pub.flush()
        per_block(
            "NATS publish with ack (window 512, server on this machine)",
            time.perf_counter() - t,
            count,
        )

        print("  validator, per block:")
        sub = await bus.js.pull_subscribe(
            raw_subject(genesis),
            stream=raw_stream(genesis),
            config=api.ConsumerConfig(ack_policy=api.AckPolicy.NONE),
        )
        t = time.perf_counter()
        fetched = []
        while len(fetched) < count:
            fetched += await sub.fetch(512, timeout=5)
        per_block("NATS pull of raw records (512 per fetch)", time.perf_counter() - t, count)
        await sub.unsubscribe()
        t = time.perf_counter()
        decoded = [decode_raw(m.data, "raw", i) for i, m in enumerate(fetched, 1)]
        per_block("raw record: strict pydantic JSON validation", time.perf_counter() - t, count)
        t = time.perf_counter()
        headers = [Header.decode(r.header) for r in decoded]
        for h in headers:
            h.hash()
        per_block("header SCALE decode + blake2 hash", time.perf_counter() - t, count)
        chain_state = LightClient.from_genesis_proof(
            *await genesis_bootstrap(devnet_url), genesis_hash=genesis
        )
        ends = [
            i
            for i, r in enumerate(decoded)
            if isinstance(r, RawBlockRecord) and r.justification is not None
        ]
        t = time.perf_counter()
        signatures = 0.0
        start = 0
        for end in ends:
            record = decoded[end]
            assert isinstance(record, RawBlockRecord) and record.justification is not None
            s0 = time.perf_counter()
            verify_justification(
                record.justification,
                chain_state.authority_set.voters,
                chain_state.authority_set.set_id,
            )
            signatures += time.perf_counter() - s0
            chain_state.import_batch(headers[start : end + 1], record.justification)
            start = end + 1
        imports = time.perf_counter() - t - signatures  # signatures were checked twice
        per_block(
            f"batch import: links, set changes, signatures ({len(ends)} batches)", imports, start
        )
        per_block("  of which justification signatures (ed25519, 4 signers)", signatures, start)
        t = time.perf_counter()
        for r, h in zip(decoded, headers, strict=True):
            assert isinstance(r, RawBlockRecord)
            verify_storage_proof(h.state_root, r.proof, r.keys)
        per_block("read proof of 4 keys against the state root", time.perf_counter() - t, count)
        t = time.perf_counter()
        for r, h in zip(decoded, headers, strict=True):
            assert isinstance(r, RawBlockRecord)
            verify_body(h.extrinsics_root, r.body)
        per_block(
            "body against the extrinsics root (ordered trie root)", time.perf_counter() - t, count
        )
        await bus.close()


async def genesis_bootstrap(url: str) -> tuple[bytes, list[bytes]]:
    node = Node(url, [], timeout_s=30)
    await node.connect()
    genesis = await node.block_hash(0)
    assert genesis is not None
    header = await node.header_at(0, genesis)
    proof = await node.read_proof(list(GENESIS_KEYS), genesis, "genesis")
    await node.close()
    return header.encode(), proof


async def main() -> None:
    devnet, url, produced = start_devnet(BLOCKS)
    print(f"devnet: {BLOCKS} blocks produced and served in {produced:.1f}s ({url})")
    try:
        genesis = bytes.fromhex(
            SubstrateInterface(url=url, auto_reconnect=False).get_block_hash(0)[2:]
        )
        with tempfile.TemporaryDirectory() as tmp:
            await end_to_end(url, genesis, Path(tmp))
            print(f"RPC modes, fetching {BLOCKS // 2} blocks (hash, block, read proof):")
            await rpc_modes(url, BLOCKS // 2)
            print(f"where the time goes: each step alone over {min(BLOCKS, 3000)} blocks")
            await stage_costs(url, genesis, Path(tmp), min(BLOCKS, 3000))
    finally:
        devnet.terminate()
        devnet.wait()


if __name__ == "__main__":
    asyncio.run(main())
