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
from pinkpipe.bus import (
    Bus,
    BusError,
    CheckpointStore,
    ConsumerSpec,
    OrderedConsumer,
    OrderedPublisher,
    RecordTooLarge,
    msg_id,
    raw_spec,
    raw_stream,
    raw_subject,
    verified_stream,
)
from pinkpipe.bus.checkpoints import checkpoint_key, load_secret
from pinkpipe.bus.config import mask_url
from pinkpipe.bus.nats_server import EmbeddedNats, NatsServerError
from pinkpipe.bus.streams import CHECKPOINT_BUCKET, HEADER_ROOM
from tests.pipeline_support import ensure_chain, make_settings, nats_server_fixture, read_stream

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
    await ensure_chain(bus, GENESIS)
    first = await bus.js.stream_info(raw_stream(GENESIS))
    await ensure_chain(bus, GENESIS)
    await ensure_chain(bus, GENESIS)
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
    await ensure_chain(bus, GENESIS)
    tighter = Bus(bus.nc, make_settings(nats_url, raw_max_bytes=10_000_000, duplicate_window_s=30))
    await ensure_chain(tighter, GENESIS)
    cfg = (await bus.js.stream_info(raw_stream(GENESIS))).config
    assert cfg.max_bytes == 10_000_000
    assert cfg.duplicate_window == pytest.approx(30)
    spec = raw_spec(tighter.settings, GENESIS, MAX_PAYLOAD)
    assert spec.differs(cfg) == []


async def test_only_a_streams_owner_changes_its_limits(
    nats_url: str, bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    """A validator started with default limits must not reset what the relayer set (B13)."""
    owner = Bus(bus.nc, make_settings(nats_url, raw_max_bytes=10_000_000))
    await owner.ensure_stream(raw_spec(owner.settings, GENESIS, MAX_PAYLOAD), owner=True)
    reader = Bus(bus.nc, make_settings(nats_url))
    await reader.ensure_stream(raw_spec(reader.settings, GENESIS, MAX_PAYLOAD), owner=False)
    cfg = (await bus.js.stream_info(raw_stream(GENESIS))).config
    assert cfg.max_bytes == 10_000_000
    assert "other limits than this process's configuration (max_bytes)" in caplog.text
    assert "the relayer, sets them: left unchanged" in caplog.text


async def _publisher(bus: Bus, last_seq: int = 0, window: int = 8) -> OrderedPublisher:
    return OrderedPublisher(
        bus.nc, raw_stream(GENESIS), raw_subject(GENESIS), last_seq, bus.max_payload, window
    )


async def test_ordered_publish_and_resume_from_last_message(bus: Bus) -> None:
    await ensure_chain(bus, GENESIS)
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
    await ensure_chain(bus, GENESIS)
    pub = await _publisher(bus)
    await pub.publish("a", b"1", "#1")
    await pub.flush()
    stale = await _publisher(bus, last_seq=0)  # believes the stream is empty
    await stale.publish("b", b"other", "#1 again")
    with pytest.raises(BusError, match="last message is not the one sent before it"):
        await stale.flush()
    ahead = await _publisher(bus, last_seq=5)  # would leave a gap
    await ahead.publish("c", b"gap", "#7")
    with pytest.raises(BusError, match="last message is not the one sent before it"):
        await ahead.flush()
    assert await bus.last_seq(raw_stream(GENESIS)) == 1


async def test_duplicate_msg_id_is_not_stored_twice(bus: Bus) -> None:
    await ensure_chain(bus, GENESIS)
    await bus.js.publish(raw_subject(GENESIS), b"x", headers={"Nats-Msg-Id": "same"})
    ack = await bus.js.publish(raw_subject(GENESIS), b"x", headers={"Nats-Msg-Id": "same"})
    assert ack.duplicate is True
    assert await bus.last_seq(raw_stream(GENESIS)) == 1


async def test_record_over_the_server_limit_is_an_explicit_error(bus: Bus) -> None:
    await ensure_chain(bus, GENESIS)
    pub = await _publisher(bus)
    with pytest.raises(RecordTooLarge, match=r"block #9 record is \d+ bytes") as info:
        await pub.publish("big", b"\x00" * (MAX_PAYLOAD - HEADER_ROOM + 1), "block #9")
    assert "max_payload" in str(info.value)
    fits = b"\x00" * (MAX_PAYLOAD - HEADER_ROOM)
    await pub.publish("fits", fits, "block #9")
    assert await pub.flush() == 1


async def test_validator_kv_bucket_is_created_once(bus: Bus) -> None:
    kv = await bus.bucket(CHECKPOINT_BUCKET)
    await kv.put("k", b"v")
    again = await bus.bucket(CHECKPOINT_BUCKET)
    assert (await again.get("k")).value == b"v"
    status = await kv.status()
    assert status.bucket == CHECKPOINT_BUCKET


async def test_embedded_server_keeps_its_store_across_restarts(tmp_path: Path) -> None:
    async with EmbeddedNats(tmp_path) as server:
        b = await Bus.connect(make_settings(server.url))
        await ensure_chain(b, GENESIS)
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


async def test_a_writer_continues_after_a_deleted_tail(bus: Bus) -> None:
    """After `bus truncate` deleted the tail, the writer continues after the last message left:
    the stream's sequence counter does not go back, so it expects the counter."""
    await ensure_chain(bus, GENESIS)
    pub = await _publisher(bus)
    for n in range(1, 6):
        await pub.publish(f"m{n}", f"{n}".encode(), f"#{n}")
    await pub.flush()
    for seq in (4, 5):
        await bus.delete_message(raw_stream(GENESIS), seq)
    last = await bus.last_message(raw_stream(GENESIS), raw_subject(GENESIS))
    assert last is not None and last.seq == 3
    resumed = OrderedPublisher(
        bus.nc,
        raw_stream(GENESIS),
        raw_subject(GENESIS),
        last.seq,
        bus.max_payload,
        stream_last_seq=await bus.last_seq(raw_stream(GENESIS)),
    )
    await resumed.publish("m4-again", b"4'", "#4")
    assert await resumed.flush() == 6
    msgs = await read_stream(bus, raw_stream(GENESIS), raw_subject(GENESIS))
    assert [(m.seq, m.data) for m in msgs] == [(1, b"1"), (2, b"2"), (3, b"3"), (6, b"4'")]


async def test_the_consumer_skips_deleted_sequences_in_order(bus: Bus) -> None:
    await ensure_chain(bus, GENESIS)
    pub = await _publisher(bus)
    for n in range(1, 9):
        await pub.publish(f"m{n}", f"{n}".encode(), f"#{n}")
    await pub.flush()
    for seq in (3, 4, 7):
        await bus.delete_message(raw_stream(GENESIS), seq)
    spec = ConsumerSpec(raw_stream(GENESIS), raw_subject(GENESIS), "test", 30, 100, 2)
    consumer = OrderedConsumer(bus, spec, asyncio.Event())
    await consumer.start(after_seq=1)
    seen: list[int] = []
    while len(seen) < 4:
        seen += [d.seq for d in await consumer.next_batch(2.0)]
    await consumer.close()
    assert seen == [2, 5, 6, 8]


async def test_checkpoints_are_accepted_only_with_this_hosts_secret(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkpoint written into KV by anyone else is ignored, as if there were none (B12)."""
    store = await CheckpointStore.open(bus, b"k" * 32)
    await store.save(GENESIS, b"state at #400")
    assert await store.load(GENESIS) == b"state at #400"
    other = await CheckpointStore.open(bus, b"x" * 32)
    assert await other.load(GENESIS) is None
    assert "not written with this validator's secret" in caplog.text
    kv = await bus.bucket(CHECKPOINT_BUCKET)
    await kv.put(checkpoint_key(GENESIS), b'{"kind":"checkpoint","number":400}')
    assert await store.load(GENESIS) is None
    await kv.delete(checkpoint_key(GENESIS))
    assert await store.load(GENESIS) is None


def test_the_secret_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "validator.secret"
    secret = load_secret(path)
    assert len(secret) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_secret(path) == secret
    path.write_bytes(b"short")
    with pytest.raises(BusError, match="holds 5 bytes, expected 32"):
        load_secret(path)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("nats://user:pass@host:4222", "nats://***@host:4222"),
        ("nats://token@host:4222,nats://a:b@other:1", "nats://***@host:4222,nats://***@other:1"),
        ("nats://host:4222", "nats://host:4222"),
    ],
)
def test_credentials_in_urls_are_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown
