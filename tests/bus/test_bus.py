"""The bus on a real nats-server: idempotent streams, ordered exactly-once publishing, limits."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from nats.js import api
from nats.js.errors import NotFoundError

from pinkpipe.app.cli import cli
from pinkpipe.bus.client import (
    HEADER_ROOM,
    VALIDATOR_KV_BUCKET,
    Bus,
    BusError,
    OrderedPublisher,
    RecordTooLarge,
    chain_streams,
    msg_id,
    raw_stream,
    raw_subject,
    verified_stream,
)
from pinkpipe.bus.nats_server import EmbeddedNats, NatsServerError
from tests.pipeline_support import make_settings, nats_server_fixture, read_stream

GENESIS = bytes.fromhex("11" * 32)
MAX_PAYLOAD = 2 * 1024 * 1024


nats_url = nats_server_fixture(max_payload=MAX_PAYLOAD)


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    b = await Bus.connect(make_settings(nats_url))
    yield b
    for name in (raw_stream(GENESIS), verified_stream(GENESIS)):
        with contextlib.suppress(NotFoundError):
            await b.js.delete_stream(name)
    await b.close()


async def test_embedded_server_is_loopback_on_a_free_port(nats_url: str, bus: Bus) -> None:
    assert nats_url.startswith("nats://127.0.0.1:")
    assert not nats_url.endswith(":4222")
    assert bus.max_payload == MAX_PAYLOAD


async def test_stream_creation_is_idempotent(bus: Bus) -> None:
    await bus.ensure_chain(GENESIS)
    first = await bus.js.stream_info(raw_stream(GENESIS))
    await bus.ensure_chain(GENESIS)
    await bus.ensure_chain(GENESIS)
    again = await bus.js.stream_info(raw_stream(GENESIS))
    assert again.created == first.created
    cfg = again.config
    assert cfg.subjects == [raw_subject(GENESIS)]
    assert cfg.storage == api.StorageType.FILE
    assert cfg.retention == api.RetentionPolicy.LIMITS
    assert cfg.discard == api.DiscardPolicy.NEW
    assert cfg.max_msg_size == MAX_PAYLOAD
    assert cfg.num_replicas == 1
    assert await bus.chains() == [GENESIS]


async def test_changed_limits_update_the_existing_stream(nats_url: str, bus: Bus) -> None:
    await bus.ensure_chain(GENESIS)
    tighter = Bus(bus.nc, make_settings(nats_url, raw_max_bytes=10_000_000, duplicate_window_s=30))
    await tighter.ensure_chain(GENESIS)
    cfg = (await bus.js.stream_info(raw_stream(GENESIS))).config
    assert cfg.max_bytes == 10_000_000
    assert cfg.duplicate_window == pytest.approx(30)
    spec = chain_streams(tighter.settings, GENESIS, MAX_PAYLOAD)[0]
    assert spec.differs(cfg) == []


async def _publisher(bus: Bus, last_seq: int = 0, window: int = 8) -> OrderedPublisher:
    return OrderedPublisher(
        bus.nc, raw_stream(GENESIS), raw_subject(GENESIS), last_seq, bus.max_payload, window
    )


async def test_ordered_publish_and_resume_from_last_message(bus: Bus) -> None:
    await bus.ensure_chain(GENESIS)
    pub = await _publisher(bus)
    for n in range(1, 21):
        await pub.publish(msg_id(GENESIS, n, bytes([n]) * 32), f"block {n}".encode(), f"#{n}")
    assert await pub.flush() == 20
    msgs = await read_stream(bus, raw_stream(GENESIS), raw_subject(GENESIS))
    assert [m.seq for m in msgs] == list(range(1, 21))
    assert [m.data for m in msgs] == [f"block {n}".encode() for n in range(1, 21)]
    assert msgs[4].msg_id == f"{GENESIS.hex()}:5:{'05' * 32}"
    last = await bus.last_message(raw_stream(GENESIS), raw_subject(GENESIS))
    assert last is not None and last.seq == 20 and last.data == b"block 20"


async def test_a_second_writer_or_a_gap_is_refused(bus: Bus) -> None:
    await bus.ensure_chain(GENESIS)
    pub = await _publisher(bus)
    await pub.publish("a", b"1", "#1")
    await pub.flush()
    stale = await _publisher(bus, last_seq=0)  # believes the stream is empty
    await stale.publish("b", b"other", "#1 again")
    with pytest.raises(BusError, match="not at sequence 0"):
        await stale.flush()
    ahead = await _publisher(bus, last_seq=5)  # would leave a gap
    await ahead.publish("c", b"gap", "#7")
    with pytest.raises(BusError, match="not at sequence 5"):
        await ahead.flush()
    assert await bus.last_seq(raw_stream(GENESIS)) == 1


async def test_duplicate_msg_id_is_not_stored_twice(bus: Bus) -> None:
    await bus.ensure_chain(GENESIS)
    await bus.js.publish(raw_subject(GENESIS), b"x", headers={"Nats-Msg-Id": "same"})
    ack = await bus.js.publish(raw_subject(GENESIS), b"x", headers={"Nats-Msg-Id": "same"})
    assert ack.duplicate is True
    assert await bus.last_seq(raw_stream(GENESIS)) == 1


async def test_record_over_the_server_limit_is_an_explicit_error(bus: Bus) -> None:
    await bus.ensure_chain(GENESIS)
    pub = await _publisher(bus)
    with pytest.raises(RecordTooLarge, match=r"block #9 record is \d+ bytes") as info:
        await pub.publish("big", b"\x00" * (MAX_PAYLOAD - HEADER_ROOM + 1), "block #9")
    assert "max_payload" in str(info.value)
    fits = b"\x00" * (MAX_PAYLOAD - HEADER_ROOM)
    await pub.publish("fits", fits, "block #9")
    assert await pub.flush() == 1


async def test_validator_kv_bucket_is_created_once(bus: Bus) -> None:
    kv = await bus.kv()
    await kv.put("k", b"v")
    again = await bus.kv()
    assert (await again.get("k")).value == b"v"
    status = await kv.status()
    assert status.bucket == VALIDATOR_KV_BUCKET


async def test_embedded_server_keeps_its_store_across_restarts(tmp_path: Path) -> None:
    async with EmbeddedNats(tmp_path) as server:
        b = await Bus.connect(make_settings(server.url))
        await b.ensure_chain(GENESIS)
        await b.js.publish(raw_subject(GENESIS), b"kept")
        await b.close()
        pid = server.pid
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    async with EmbeddedNats(tmp_path) as server:
        b = await Bus.connect(make_settings(server.url))
        last = await b.last_message(raw_stream(GENESIS), raw_subject(GENESIS))
        assert last is not None and last.data == b"kept"
        await b.close()


async def test_embedded_server_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    async with EmbeddedNats(tmp_path / "a") as server:
        port = int(server.url.rsplit(":", 1)[1])
        clash = EmbeddedNats(tmp_path / "b", port=port, startup_timeout_s=5)
        with pytest.raises(NatsServerError, match="exited"):
            await clash.start()


def test_unreachable_nats_is_a_clear_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """nats-py alone would retry a first connection forever; commands must fail instead."""
    settings = make_settings("nats://127.0.0.1:9", nats_connect_timeout_s=1.0)
    with pytest.raises(BusError, match=r"cannot connect to NATS at nats://127\.0\.0\.1:9"):
        asyncio.run(asyncio.wait_for(Bus.connect(settings), 10))
    monkeypatch.setenv("PINKPIPE_NATS_CONNECT_TIMEOUT_S", "1")
    result = CliRunner().invoke(cli, ["validator", "status", "--nats", "nats://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "Error: cannot connect to NATS at nats://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
