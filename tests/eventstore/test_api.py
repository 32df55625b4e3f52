"""The HTTP API on SQLite and PostgreSQL: routes, pages, SSE over a real uvicorn, and every
parameter fuzzed with bad values (4xx with a message, never a 500)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from pinkpipe.eventstore.api import create_app
from pinkpipe.eventstore.db import open_engine
from pinkpipe.eventstore.writer import EventWriter, decode_blocks
from pinkpipe.migrations import upgrade
from tests.event_blocks import CLUSTER_A, CLUSTER_B, CONTRACTS, make_chain
from tests.store_support import free_port
from tests.vectors import phala_event_blocks

PAGE_LIMIT = 50


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = open_engine(url)
    upgrade(engine)
    EventWriter(engine).write(
        {CLUSTER_A: decode_blocks(CLUSTER_A, phala_event_blocks()), CLUSTER_B: make_chain(120)}
    )
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine) -> TestClient:
    return TestClient(create_app(engine, PAGE_LIMIT, poll_interval_s=0.05))


def test_health_heads_and_docs(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "schema": "0002", "clusters": 2}
    heads = client.get("/heads").json()
    assert heads[0] == {
        "cluster": "0x" + CLUSTER_A.hex(),
        "number": 2,
        "hash": "0x2007ae66179ea4ef884267c9c5587c143451f25a98b2cc02851950cfb698401d",
    }
    assert "/blocks" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_get_block(client: TestClient) -> None:
    block = client.get(f"/clusters/0x{CLUSTER_A.hex()}/blocks/1", params={"scale": True}).json()
    assert [e["name"] for e in block["events"]] == [
        "ContractEmitted",
        "Called",
        "StorageDepositTransferredAndHeld",
    ]
    assert block["scale"] == "0x" + phala_event_blocks()[1].hex()
    missing = client.get(f"/clusters/{CLUSTER_A.hex()}/blocks/9")
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"cluster 0x{CLUSTER_A.hex()} has no event block #9"


def test_pages_and_filters(client: TestClient) -> None:
    numbers, cursor = [], None
    while True:
        params = {"cluster": CLUSTER_B.hex(), "limit": PAGE_LIMIT}
        body = client.get("/blocks", params={**params, **({"cursor": cursor} if cursor else {})})
        page = body.json()
        numbers += [b["number"] for b in page["blocks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert numbers == list(range(120))
    filtered = client.get(
        "/blocks",
        params={"contract": CONTRACTS[3].hex(), "event": "Contracts", "from": 10, "to": 40},
    )
    assert filtered.status_code == 200, filtered.text
    assert [b["number"] for b in filtered.json()["blocks"]] == [11, 15, 19, 23, 27, 31, 35, 39]
    too_big = client.get("/blocks", params={"limit": PAGE_LIMIT + 1})
    assert too_big.status_code == 422 and "limit" in json.dumps(too_big.json())


PARAMS = {
    "cluster": st.text(max_size=80),
    "from": st.one_of(st.integers(), st.text(max_size=30)),
    "to": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=30)),
    "chain_from": st.one_of(st.integers(), st.text(max_size=30)),
    "chain_to": st.integers(min_value=-(2**80), max_value=2**80),
    "contract": st.one_of(st.text(max_size=80), st.binary(max_size=40).map(bytes.hex)),
    "origin": st.one_of(st.text(max_size=80), st.just("0x" + "00" * 31)),
    "event": st.text(max_size=140),
    "limit": st.one_of(st.integers(min_value=-5, max_value=10**30), st.text(max_size=10)),
    "cursor": st.one_of(
        st.text(max_size=50),
        st.tuples(st.integers(0, 10**20), st.integers(0, 10**20)).map(lambda t: f"{t[0]}.{t[1]}"),
    ),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_list_parameter_fuzzed(client: TestClient, data: st.DataObject) -> None:
    for name, strategy in PARAMS.items():
        value = data.draw(strategy, label=name)
        response = client.get("/blocks", params={name: value})
        assert response.status_code in (200, 400, 404, 422), (name, value, response.text)
        if response.status_code != 200:
            assert response.json()["detail"], (name, value)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cluster=st.one_of(st.text(max_size=70), st.just(CLUSTER_A.hex())),
    number=st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=25)),
    replay=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=PAGE_LIMIT + 1),
        st.text(max_size=8).filter(lambda t: not any(c.isdigit() for c in t)),
    ),
)
def test_get_and_stream_parameters_fuzzed(
    client: TestClient, cluster: str, number: object, replay: object
) -> None:
    response = client.get(
        f"/clusters/{quote(cluster, safe='')}/blocks/{quote(str(number), safe='')}"
    )
    assert response.status_code in (200, 400, 404, 405, 422), (cluster, number, response.text)
    # only bad values: a valid stream request never ends (test_sse_stream_over_uvicorn)
    bad = client.get("/stream", params={"replay": replay})
    assert bad.status_code == 422 and bad.json()["detail"]


def test_database_down_is_503(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x?connect_timeout=2"
    )
    client = TestClient(create_app(engine))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("event store postgresql+psycopg://postgres@")


def test_sse_stream_over_uvicorn(engine: Engine) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine, PAGE_LIMIT, 0.05), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        with httpx.stream(
            "GET", f"http://127.0.0.1:{port}/stream", params={"replay": 1}, timeout=10
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            received: list[tuple[str, int]] = []
            appended = False
            for line in lines:
                if line.startswith("data: "):
                    block = json.loads(line.removeprefix("data: "))
                    received.append((block["cluster"][-4:], block["number"]))
                if len(received) == 2 and not appended:
                    EventWriter(engine).append(CLUSTER_B, make_chain(2, make_chain(120)[-1]))
                    appended = True
                if len(received) == 4:
                    break
        assert received == [("a1a1", 2), ("b2b2", 119), ("b2b2", 120), ("b2b2", 121)]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
