"""Event-store speed: appends/s, get and filtered-list latency (in-process and over HTTP), verify.

Run: .venv/bin/python bench/bench_eventstore.py [--blocks 100000] [--backends sqlite,postgresql]
Prints numbers only. Targets (issue 10): appends of 3-5-event blocks batched per transaction
>= 5,000/s SQLite and >= 2,000/s PostgreSQL; with 100,000 blocks stored, p50 of `events get`
and of a filtered `events list` page under 2 ms in-process and under 10 ms over HTTP.
PostgreSQL is the server at 127.0.0.1:5432 (database `test`), in a schema dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pinkpipe.chain.event_chain import EventsBlock
from pinkpipe.eventstore.api import create_app
from pinkpipe.eventstore.db import open_engine
from pinkpipe.eventstore.reader import BlockFilter, EventReader
from pinkpipe.eventstore.writer import EventWriter
from pinkpipe.migrations import upgrade
from tests.event_blocks import CLUSTER_A, CONTRACTS, make_chain
from tests.store_support import PG_SERVER, free_port, postgres_schema

BATCH = 1000
SAMPLES = 2000
HTTP_SAMPLES = 500
PAGE_SIZES = (10, 50)


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pinkpipe-bench-") as tmp:
            yield f"sqlite:///{tmp}/events.sqlite3"
        return
    with postgres_schema(create_engine(PG_SERVER), "pinkpipe_bench") as url:
        yield url


def percentiles(fn: Callable[[int], object], samples: int = SAMPLES) -> tuple[float, float]:
    """p50 and p99 in milliseconds of `fn(i)` over `samples` calls (after 50 warm-up calls)."""
    for i in range(50):
        fn(i)
    times = []
    for i in range(samples):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


@contextmanager
def served(app: object) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def bench_backend(backend: str, blocks: list) -> None:  # type: ignore[type-arg]
    total = len(blocks)
    events = sum(len(b.body.events) for b in blocks)
    with database(backend) as url:
        engine = open_engine(url)
        upgrade(engine)
        writer = EventWriter(engine)
        start = time.perf_counter()
        for i in range(0, total, BATCH):
            writer.append(CLUSTER_A, blocks[i : i + BATCH])
        elapsed = time.perf_counter() - start
        print(
            f"{backend}: append {total} blocks ({events / total:.1f} events each, {BATCH} per "
            f"transaction): {total / elapsed:,.0f} blocks/s ({elapsed:.1f} s)"
        )

        reader = EventReader(engine)
        rng = random.Random(7)
        numbers = [rng.randrange(total) for _ in range(SAMPLES + 50)]
        starts = [rng.randrange(total - 1000) for _ in range(SAMPLES + 50)]
        p50, p99 = percentiles(lambda i: reader.get(CLUSTER_A, numbers[i]))
        print(f"{backend}: in-process get: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        for size in PAGE_SIZES:

            def list_page(i: int, size: int = size) -> object:
                flt = BlockFilter(CLUSTER_A, number_from=starts[i], contract=CONTRACTS[1])
                return reader.list(flt, None, size)

            p50, p99 = percentiles(list_page)
            print(
                f"{backend}: in-process list (contract filter, {size} per page): "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
            )

        with served(create_app(engine)) as base, httpx.Client(base_url=base) as client:
            cluster = CLUSTER_A.hex()

            def http_get(i: int) -> object:
                return client.get(f"/clusters/{cluster}/blocks/{numbers[i]}").raise_for_status()

            p50, p99 = percentiles(http_get, HTTP_SAMPLES)
            print(f"{backend}: HTTP get: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
            for size in PAGE_SIZES:

                def http_list(i: int, size: int = size) -> object:
                    params = {"cluster": cluster, "from": starts[i], "limit": size}
                    params["contract"] = CONTRACTS[1].hex()
                    return client.get("/blocks", params=params).raise_for_status()

                p50, p99 = percentiles(http_list, HTTP_SAMPLES)
                print(
                    f"{backend}: HTTP list (contract filter, {size} per page): "
                    f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
                )

        start = time.perf_counter()
        report = reader.verify()
        elapsed = time.perf_counter() - start
        outcome = "intact" if report.broken is None else f"BROKEN: {report.broken}"
        print(
            f"{backend}: verify {report.blocks} blocks ({outcome}): "
            f"{report.blocks / elapsed:,.0f} blocks/s"
        )
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    start = time.perf_counter()
    blocks = make_chain(args.blocks)
    print(f"built {args.blocks} event blocks with the codec in {time.perf_counter() - start:.1f} s")
    raws = [b.encode() for b in blocks[:20_000]]
    start = time.perf_counter()
    for raw in raws:
        EventsBlock.decode(raw)
    elapsed = time.perf_counter() - start
    print(
        f"decode (strict, events by metadata, body hash): {len(raws) / elapsed:,.0f} blocks/s, "
        f"{sum(len(b.body.events) for b in blocks[:20_000]) / elapsed:,.0f} events/s"
    )
    for backend in args.backends.split(","):
        bench_backend(backend, blocks)


if __name__ == "__main__":
    main()
