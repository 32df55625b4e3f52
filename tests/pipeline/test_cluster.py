"""The bus on a three-node JetStream cluster with replicas=3: no single-node assumption.

The cluster is three real nats-server processes routed on loopback; the relayer and the
validator run against it unchanged, with every stream and the KV bucket replicated.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinkpipe.bus import Bus, BusError, raw_stream, verified_stream, verified_subject
from pinkpipe.bus.nats_server import nats_server_binary
from pinkpipe.bus.records import decode_verified
from pinkpipe.bus.streams import CHECKPOINT_BUCKET
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from tests.pipeline_support import make_settings, read_stream, running_pipeline

NODES = 3
BLOCKS = 150


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def cluster_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    base: Path = tmp_path_factory.mktemp("cluster")
    ports = free_ports(2 * NODES)
    client_ports, route_ports = ports[:NODES], ports[NODES:]
    routes = [f"nats-route://127.0.0.1:{p}" for p in route_ports]
    procs = []
    for i in range(NODES):
        conf = base / f"n{i}.conf"
        conf.write_text(
            "\n".join(
                (
                    f'server_name: "n{i}"',
                    f'listen: "127.0.0.1:{client_ports[i]}"',
                    "max_payload: 8388608",
                    f"jetstream {{ store_dir: {json.dumps(str(base / f'store{i}'))} }}",
                    f'cluster {{ name: "pinkpipe", listen: "127.0.0.1:{route_ports[i]}", '
                    f"routes: {json.dumps(routes)} }}",
                )
            )
        )
        log = (base / f"n{i}.log").open("wb")
        procs.append(
            subprocess.Popen([str(nats_server_binary()), "-c", str(conf)], stdout=log, stderr=log)
        )
    urls = [f"nats://127.0.0.1:{p}" for p in client_ports]
    try:
        asyncio.run(_wait_for_jetstream(urls[0]))
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)


async def _wait_for_jetstream(url: str) -> None:
    """Until the cluster has elected a meta leader and accepts a replicated stream."""

    async def ready() -> bool:
        try:
            bus = await Bus.connect(make_settings(url, stream_replicas=NODES))
        except BusError:
            return False
        try:
            await bus.js.account_info()
            await bus.bucket(CHECKPOINT_BUCKET)
            return True
        except Exception:  # not elected yet: any JetStream error means try again
            return False
        finally:
            await bus.close()

    for _ in range(150):
        if await ready():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("JetStream cluster did not become ready")


async def test_relayer_and_validator_on_a_replicated_cluster(cluster_urls: list[str]) -> None:
    chain = DevChain(DevnetConfig(chain_name="cluster", set_period=50, justification_period=16))
    chain.produce(BLOCKS)
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = make_settings(",".join(cluster_urls), devnet.url, stream_replicas=NODES)
        bus = await Bus.connect(settings)
        async with running_pipeline(settings, bus, devnet.url) as pipeline:
            await pipeline.wait_verified(BLOCKS, 60, f"#{BLOCKS} verified on the cluster")

        for name in (raw_stream(genesis), verified_stream(genesis), f"KV_{CHECKPOINT_BUCKET}"):
            info = await bus.js.stream_info(name)
            assert info.config.num_replicas == NODES, name
            assert info.cluster is not None and len(info.cluster.replicas or []) == NODES - 1
        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        await bus.close()
    assert [decode_verified(m.data, "v", m.seq).hash for m in verified] == [
        chain.block_hash(n) for n in range(1, BLOCKS + 1)
    ]
