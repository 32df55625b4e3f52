"""The embedded nats-server with per-stage users: the documented permissions are enough for
each stage, and the server refuses a stage writing outside them (docs/trust.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import stat
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import api
from nats.js.errors import KeyNotFoundError

from pinkpipe.bus import (
    Bus,
    raw_spec,
    raw_stream,
    raw_subject,
    verified_stream,
    verified_subject,
)
from pinkpipe.bus.checkpoints import checkpoint_key
from pinkpipe.bus.nats_auth import (
    ADMIN_USER,
    CREDENTIALS_FILE,
    RELAYER_USER,
    USERS,
    VALIDATOR_USER,
    NatsAuthError,
    NatsCredentials,
    stage_permissions,
)
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.bus.records import decode_verified
from pinkpipe.bus.streams import CHECKPOINT_BUCKET
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from tests.pipeline_support import (
    PROJECT_ROOT,
    Pipeline,
    ensure_chain,
    make_relayer,
    make_settings,
    make_validator,
    read_stream,
)

BLOCKS = 40
OTHER_CHAIN = bytes.fromhex("22" * 32)
"""A chain the stages were given no permissions for."""


def test_credentials_are_generated_owner_only_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / CREDENTIALS_FILE
    first = NatsCredentials.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(first.passwords) == set(USERS)
    assert len(set(first.passwords.values())) == len(USERS)
    assert NatsCredentials.load_or_create(path) == first


@pytest.mark.parametrize(
    "content", ["not json", json.dumps({"relayer": "x"}), json.dumps([1])], ids=repr
)
def test_a_damaged_credentials_file_is_an_error_naming_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / CREDENTIALS_FILE
    path.write_text(content)
    with pytest.raises(NatsAuthError, match=str(path)):
        NatsCredentials.load_or_create(path)


@pytest.fixture(scope="module")
def chain() -> DevChain:
    dev = DevChain(DevnetConfig(chain_name="auth", set_period=16, justification_period=8))
    dev.produce(BLOCKS)
    return dev


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, chain: DevChain) -> Iterator[EmbeddedNats]:
    """One authenticated server for the module, its stages' permissions naming `chain`."""
    data = tmp_path_factory.mktemp("auth")
    credentials = NatsCredentials.load_or_create(data / CREDENTIALS_FILE)
    embedded = EmbeddedNats(data, credentials=credentials, chains=(chain.genesis_hash,))
    asyncio.run(embedded.start())
    yield embedded
    asyncio.run(embedded.stop())


async def _connect(server: EmbeddedNats, user: str) -> NatsClient:
    errors: list[str] = []

    async def on_error(e: Exception) -> None:
        errors.append(str(e))

    nc = await nats.connect(
        server.url,
        allow_reconnect=False,
        error_cb=on_error,
        inbox_prefix=f"_INBOX.{user}",
        **server.connect_options(user),
    )
    nc.permission_errors = errors  # type: ignore[attr-defined]
    return nc


def test_the_server_configuration_is_owner_only(server: EmbeddedNats) -> None:
    conf = server.data_dir / "nats-run" / "nats-server.conf"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert server.credentials is not None
    assert server.credentials.passwords[ADMIN_USER] in conf.read_text()


async def test_a_client_without_credentials_is_refused(server: EmbeddedNats) -> None:
    with pytest.raises(nats.errors.Error, match=r"[Aa]uthorization"):
        await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)
    with pytest.raises(nats.errors.Error, match=r"[Aa]uthorization"):
        await nats.connect(server.url, allow_reconnect=False, user=RELAYER_USER, password="guessed")


async def test_stages_with_their_own_users_relay_and_verify(
    server: EmbeddedNats, chain: DevChain
) -> None:
    """Relayer and validator each connected as their user, exactly as `pinkpipe run` does."""
    genesis = chain.genesis_hash
    async with DevnetServer(chain) as devnet:
        settings = {
            user: make_settings(
                server.url, devnet.url, genesis=genesis.hex(), **_login(server, user)
            )
            for user in (RELAYER_USER, VALIDATOR_USER)
        }
        buses = {user: await Bus.connect(s, f"test-{user}") for user, s in settings.items()}
        stop = asyncio.Event()
        relayer = make_relayer(settings[RELAYER_USER], buses[RELAYER_USER], devnet.url, stop)
        validator = await make_validator(settings[VALIDATOR_USER], buses[VALIDATOR_USER], stop)
        tasks = [asyncio.create_task(relayer.run()), asyncio.create_task(validator.run())]
        try:
            await Pipeline(relayer, validator, stop, tasks).wait_verified(BLOCKS - 8, 60)
        finally:
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        admin = await Bus.connect(make_settings(server.url, **_login(server, ADMIN_USER)))
        records = await read_stream(admin, verified_stream(genesis), verified_subject(genesis))
        await admin.close()
        for bus in buses.values():
            await bus.close()
    numbers = [decode_verified(m.data, "v", m.seq).number for m in records]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= BLOCKS - 8


def _login(server: EmbeddedNats, user: str) -> dict[str, str]:
    options = server.connect_options(user)
    return {"nats_user": options["user"], "nats_password": options["password"]}


async def _refused(nc: NatsClient, subject: str, attempt: Awaitable[object]) -> None:
    """`attempt` fails and the server reports a permissions violation on `subject`."""
    with contextlib.suppress(nats.errors.Error, TimeoutError):
        await asyncio.wait_for(attempt, 3)
    errors: list[str] = nc.permission_errors  # type: ignore[attr-defined]
    for _ in range(50):
        if any(
            "permissions violation" in e.lower() and subject.lower() in e.lower() for e in errors
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server did not refuse a write to {subject}: {errors}")


async def _snapshot(admin: Bus, genesis: bytes) -> list[object]:
    """What a refused write must leave unchanged: both streams' contents and limits, and the
    values of the checkpoint keys."""
    out: list[object] = []
    for stream in (raw_stream(genesis), verified_stream(genesis)):
        info = await admin.js.stream_info(stream)
        out += [info.state.messages, info.state.last_seq, info.config.max_msgs]
    kv = await admin.bucket(CHECKPOINT_BUCKET)
    for key in (checkpoint_key(genesis), checkpoint_key(OTHER_CHAIN)):
        with contextlib.suppress(KeyNotFoundError):
            out.append((key, (await kv.get(key)).value))
    return out


@pytest.mark.parametrize(
    ("user", "action"),
    [
        (RELAYER_USER, "publish-verified"),
        (RELAYER_USER, "write-kv"),
        (RELAYER_USER, "delete-raw-message"),
        (RELAYER_USER, "update-verified-stream"),
        (RELAYER_USER, "publish-other-chain"),
        (VALIDATOR_USER, "publish-raw"),
        (VALIDATOR_USER, "update-raw-stream"),
        (VALIDATOR_USER, "write-kv-of-other-chain"),
    ],
)
async def test_a_stage_writing_outside_its_permissions_is_refused(
    server: EmbeddedNats, chain: DevChain, user: str, action: str
) -> None:
    genesis = chain.genesis_hash
    admin = await Bus.connect(make_settings(server.url, **_login(server, ADMIN_USER)))
    await ensure_chain(admin, genesis)
    await admin.js.publish(raw_subject(genesis), b"kept")
    before = await _snapshot(admin, genesis)
    nc = await _connect(server, user)
    js = nc.jetstream(timeout=2)
    kv_subject = f"$KV.{CHECKPOINT_BUCKET}."
    shrunk = api.StreamConfig(
        name=verified_stream(genesis), subjects=[verified_subject(genesis)], max_msgs=1
    )
    raw_config = raw_spec(admin.settings, genesis, admin.max_payload).config()
    raw_config.max_msgs = 1
    attempts: dict[str, tuple[str, Callable[[], Awaitable[object]]]] = {
        "publish-verified": (
            verified_subject(genesis),
            lambda: js.publish(verified_subject(genesis), b"forged"),
        ),
        "write-kv": (
            kv_subject + checkpoint_key(genesis),
            lambda: js.publish(kv_subject + checkpoint_key(genesis), b"forged"),
        ),
        "delete-raw-message": (
            f"STREAM.MSG.DELETE.{raw_stream(genesis)}",
            lambda: js.delete_msg(raw_stream(genesis), 1),
        ),
        "update-verified-stream": (
            f"STREAM.UPDATE.{verified_stream(genesis)}",
            lambda: js.update_stream(shrunk),
        ),
        "publish-other-chain": (
            raw_subject(OTHER_CHAIN),
            lambda: js.publish(raw_subject(OTHER_CHAIN), b"forged"),
        ),
        "publish-raw": (raw_subject(genesis), lambda: js.publish(raw_subject(genesis), b"forged")),
        "update-raw-stream": (
            f"STREAM.UPDATE.{raw_stream(genesis)}",
            lambda: js.update_stream(raw_config),
        ),
        "write-kv-of-other-chain": (
            kv_subject + checkpoint_key(OTHER_CHAIN),
            lambda: js.publish(kv_subject + checkpoint_key(OTHER_CHAIN), b"forged"),
        ),
    }
    subject, attempt = attempts[action]
    try:
        await _refused(nc, subject, attempt())
    finally:
        await nc.close()
    assert await _snapshot(admin, genesis) == before
    await admin.close()


def test_docs_trust_lists_every_subject_granted() -> None:
    """docs/trust.md's configuration example is what the code grants (one chain `<g>`)."""
    doc = (PROJECT_ROOT / "docs" / "trust.md").read_text()
    genesis = bytes.fromhex("ab" * 32)
    for user, permissions in stage_permissions([genesis]).items():
        for subject in (*permissions.publish, *permissions.subscribe):
            shown = subject.replace(genesis.hex(), "<g>")
            assert f'"{shown}"' in doc, (user, shown)
