"""End to end: the devnet over real WebSocket JSON-RPC, the relayer, a real nats-server and the
validator; the verified stream must be the devnet's chain, complete, in order, proven."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from pathlib import Path

from pinkpipe.app.process import EXIT_FAILED
from pinkpipe.bus import Bus, msg_id, raw_stream, raw_subject, verified_stream, verified_subject
from pinkpipe.bus.checkpoints import status_key
from pinkpipe.bus.consumer import FETCH_BYTES
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.bus.records import BootstrapRecord, decode_raw, decode_status, decode_verified
from pinkpipe.bus.streams import CHECKPOINT_BUCKET
from pinkpipe.chain.messages import Message, MessageOrigin
from pinkpipe.chain.scale import encode_bytes, encode_u32
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from tests.pipeline_support import (
    PINKPIPE,
    make_relayer,
    make_settings,
    make_validator,
    read_stream,
    running_pipeline,
    wait_for,
)

BLOCKS = 2000
LIVE = 40
SET_PERIOD = 300
MESSAGE_EVERY = 97


def with_message(chain: DevChain, n: int) -> None:
    """Queue an extrinsic emitting one Phala message into the next block."""
    message = Message(MessageOrigin.pallet(b"PhalaTest"), b"phala/test", encode_u32(n))
    chain.include(encode_bytes(b"\x04\x26\x00" + encode_u32(n)), [message.encode()])


def build_chain() -> DevChain:
    chain = DevChain(
        DevnetConfig(chain_name="e2e", set_period=SET_PERIOD, justification_period=128)
    )
    for n in range(1, BLOCKS + 1):
        if n % MESSAGE_EVERY == 0:
            with_message(chain, n)
        chain.produce_block()
    return chain


async def test_devnet_blocks_reach_the_verified_stream_complete_and_proven(
    tmp_path: Path,
) -> None:
    chain = build_chain()
    genesis = chain.genesis_hash
    async with EmbeddedNats(tmp_path) as nats, DevnetServer(chain) as devnet:
        settings = make_settings(nats.url, devnet.url)
        bus = await Bus.connect(settings)
        total = BLOCKS + LIVE
        async with running_pipeline(settings, bus, devnet.url) as pipeline:
            await pipeline.wait_verified(BLOCKS, 90)
            for n in range(BLOCKS + 1, total + 1):  # follow mode: blocks arrive live
                if n % 7 == 0:
                    with_message(chain, n)
                await devnet.produce(1)
                await asyncio.sleep(0.005)
            await pipeline.wait_verified(total, 30)

        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        raw = await read_stream(bus, raw_stream(genesis), raw_subject(genesis))
        kv = await bus.bucket(CHECKPOINT_BUCKET)
        status_entry = await kv.get(status_key(genesis))
        await bus.close()

    assert [m.seq for m in verified] == list(range(1, total + 1))
    keys = settings.storage_key_bytes
    messages_seen = 0
    for m in verified:
        record = decode_verified(m.data, "verified", m.seq)
        n = record.number
        block_hash = chain.block_hash(n)
        assert block_hash is not None
        assert (n, record.hash) == (m.seq, block_hash)
        assert m.msg_id == msg_id(genesis, n, block_hash)
        assert record.header == chain.block(n).header.encode()
        assert record.parent_hash == chain.block_hash(n - 1)
        assert record.extrinsics == chain.body(block_hash)
        assert record.set_id == chain.authority_set(n)[0]
        for key in keys:
            assert record.value(key) == chain.storage(key, at=block_hash), (n, key.hex())
        messages_seen += record.value(keys[0]) is not None
    live_messages = sum(1 for n in range(BLOCKS + 1, total + 1) if n % 7 == 0)
    assert messages_seen == BLOCKS // MESSAGE_EVERY + live_messages
    assert decode_verified(verified[-1].data, "v", total).set_id == total // SET_PERIOD

    assert len(raw) == total + 1
    boot = decode_raw(raw[0].data, "raw", 1)
    assert isinstance(boot, BootstrapRecord) and boot.number == 0 and boot.hash == genesis
    assert [decode_raw(m.data, "raw", m.seq).number for m in raw] == list(range(total + 1))
    assert [m.msg_id for m in raw] == [
        msg_id(genesis, n, chain.block_hash(n) or b"") for n in range(total + 1)
    ]

    status = decode_status(status_entry.value or b"", "status", 0)
    assert status.state == "stopped"
    assert status.finalized_number == total and status.last_error is None
    assert status.set_id == chain.authority_set(total + 1)[0]


def test_pinkpipe_run_starts_everything_and_resumes(tmp_path: Path) -> None:
    """`pinkpipe run` (what `make run` calls) twice on the same data dir, stopped by SIGINT."""
    env = {**os.environ, "PINKPIPE_DEVNET_JUSTIFICATION_PERIOD": "8"}
    outputs = []
    for _ in range(2):
        proc = subprocess.Popen(
            [str(PINKPIPE), "run", "--data-dir", str(tmp_path), "--block-time", "0.05"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            text=True,
        )
        try:
            out_lines = []
            assert proc.stdout is not None
            for line in proc.stdout:
                out_lines.append(line)
                verified = re.search(r"verified #(\d+)", line)
                if verified and int(verified.group(1)) > 0:
                    break
            proc.send_signal(signal.SIGINT)
            rest, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        outputs.append("".join(out_lines) + rest)
        assert proc.returncode == 0, outputs[-1]
    first, second = outputs
    assert "embedded nats-server at nats://127.0.0.1:" in first
    assert "devnet at ws://127.0.0.1:" in first
    assert "regenerating blocks #1..#" in second
    assert "finality conflict" not in second


def test_pinkpipe_run_reports_a_devnet_error_in_one_line(tmp_path: Path) -> None:
    """A devnet that cannot start (its metadata file is missing) is an error message and a
    failure exit code, not a traceback; found before the embedded nats-server starts (its
    permissions name the devnet's genesis), so no server is left behind."""
    missing = tmp_path / "no-metadata.scale"
    result = subprocess.run(
        [str(PINKPIPE), "run", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        env={**os.environ, "PINKPIPE_DEVNET_METADATA": str(missing)},
        cwd=tmp_path,
        text=True,
        timeout=60,
    )
    assert result.returncode == EXIT_FAILED, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, result.stderr
    assert f"cannot read the devnet metadata {missing}: No such file" in errors[0]
    assert "embedded nats-server" not in result.stdout
    assert not (tmp_path / "data" / "nats-server.log").exists()


SYSTEM_CODE_BLOCKS = 300


async def test_records_proving_a_real_size_system_code_flow_through(tmp_path: Path) -> None:
    """PinkSystemCode (a ~200 KB contract) is proven in every block, so each record is ~270 KB:
    the validator, started once the raw stream holds ~80 MB, must pull it in pieces small
    enough for the server's 64 MiB max_pending (else the server drops the connection)."""
    code = bytes(range(256)) * 800
    chain = DevChain(DevnetConfig(chain_name="syscode", state_version=1, system_code=code))
    chain.produce(SYSTEM_CODE_BLOCKS)
    genesis = chain.genesis_hash
    async with EmbeddedNats(tmp_path) as nats, DevnetServer(chain) as devnet:
        settings = make_settings(nats.url, devnet.url, rpc_timeout_s=10.0)  # 6 MB answers
        bus = await Bus.connect(settings)
        stop = asyncio.Event()
        relayer = make_relayer(settings, bus, devnet.url, stop)
        relaying = asyncio.create_task(relayer.run())
        await wait_for(
            lambda: relaying.done() or relayer.progress.published >= SYSTEM_CODE_BLOCKS,
            60,
            "relayed",
        )
        validator = await make_validator(settings, bus, stop)
        validating = asyncio.create_task(validator.run())

        def finalized() -> int:
            for task in (relaying, validating):
                if task.done():
                    task.result()
            chains = list(validator.chains.values())
            return chains[0].progress.finalized if chains else -1

        await wait_for(lambda: finalized() >= SYSTEM_CODE_BLOCKS, 60, "all verified")
        stop.set()
        await asyncio.gather(relaying, validating)
        verified = await read_stream(bus, verified_stream(genesis), verified_subject(genesis))
        await bus.close()
        pulled = validator.chains[genesis].consumer.fetch_size() * max(
            len(m.data) for m in verified
        )
    assert pulled <= FETCH_BYTES < 64 * 1024 * 1024
    assert "Slow Consumer" not in nats.log_file.read_text()
    assert [m.seq for m in verified] == list(range(1, SYSTEM_CODE_BLOCKS + 1))
    system_code_key = settings.storage_key_bytes[2]
    for m in verified:
        record = decode_verified(m.data, "verified", m.seq)
        assert record.value(system_code_key) == chain.storage(system_code_key)
    assert len(verified[-1].data) > len(code)
