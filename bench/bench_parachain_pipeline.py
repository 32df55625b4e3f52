"""Parachain mode's catch-up throughput end to end: devnet pair → parachain relayer → NATS →
parachain validator, in parachain blocks verified per second (issue 12's target: 500).

`pinkpipe devnet --parachain` pre-produces RELAY_BLOCKS relay blocks (a parachain block every
second one, so about half as many parachain blocks) in its own process; the relayer and the
validator run as `pinkpipe` processes with an embedded nats-server; the clock runs from their
start until the parachain's verified stream holds every final parachain block.

Prints numbers, asserts nothing. `python bench/bench_parachain_pipeline.py [RELAY_BLOCKS]`.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import PINKPIPE, settings  # noqa: E402
from pinkpipe.bus import Bus, BusError, verified_stream  # noqa: E402
from pinkpipe.bus.nats_server import EmbeddedNats  # noqa: E402
from pinkpipe.bus.streams import para_raw_stream  # noqa: E402

RELAY_BLOCKS = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
JUSTIFICATION_PERIOD = 256
SET_PERIOD = 1000


async def wait_stream(bus: Bus, stream: str, count: int) -> float:
    """When `stream` holds `count` messages (it may not exist yet)."""
    while True:
        try:
            if await bus.last_seq(stream) >= count:
                return time.perf_counter()
        except BusError:
            pass
        await asyncio.sleep(0.05)


def start_pair() -> tuple[subprocess.Popen[str], dict[str, str], int]:
    """The devnet pair; its URLs by chain and the final parachain block number."""
    command = [str(PINKPIPE), "devnet", "--parachain", "--port", "0", "--para-port", "0"]
    command += ["--blocks", str(RELAY_BLOCKS), "--block-time", "0"]
    command += ["--set-period", str(SET_PERIOD)]
    command += ["--justification-period", str(JUSTIFICATION_PERIOD)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    genesis = ""
    for line in proc.stdout:
        if found := re.match(r"(relay|parachain) listening on (ws://\S+)", line):
            urls[found.group(1)] = found.group(2)
        if found := re.match(r"parachain genesis (0x\S+)", line):
            genesis = found.group(1)
        if found := re.search(r"parachain final #(\d+)", line):
            urls["genesis"] = genesis
            return proc, urls, int(found.group(1))
    raise RuntimeError("devnet pair did not start")


async def end_to_end(urls: dict[str, str], final: int, data: Path) -> None:
    genesis = bytes.fromhex(urls["genesis"][2:])
    async with EmbeddedNats(data / "nats") as nats:
        env = {**os.environ, "PINKPIPE_NATS_URL": nats.url, "PINKPIPE_LOG_LEVEL": "WARNING"}
        bus = await Bus.connect(settings(nats.url, urls["parachain"]))
        started = time.perf_counter()
        relayer = ["relayer", "--relay", urls["relay"], "--node", urls["parachain"]]
        procs = [
            subprocess.Popen([str(PINKPIPE), *relayer], env=env),
            subprocess.Popen([str(PINKPIPE), "validator", "--parachain"], env=env),
        ]
        relayed = asyncio.create_task(
            wait_stream(bus, para_raw_stream(genesis), RELAY_BLOCKS + final + 1)
        )
        verified_at = await wait_stream(bus, verified_stream(genesis), final)
        relayed_at = await relayed
        for proc in procs:
            proc.terminate()
            proc.wait()
        await bus.close()
    total = verified_at - started
    print(
        f"parachain mode end to end (3 processes + nats-server): {final} parachain blocks "
        f"({RELAY_BLOCKS} relay blocks) verified in {total:.1f}s = {final / total:.0f} "
        "parachain blocks/s (process start-up included)"
    )
    print(
        f"  relayer alone: {relayed_at - started:.1f}s = "
        f"{(RELAY_BLOCKS + final) / (relayed_at - started):.0f} records/s"
    )


def main() -> None:
    started = time.perf_counter()
    proc, urls, final = start_pair()
    print(f"devnet pair: {RELAY_BLOCKS} relay blocks in {time.perf_counter() - started:.1f}s")
    try:
        with tempfile.TemporaryDirectory() as data:
            asyncio.run(end_to_end(urls, final, Path(data)))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
