"""The NATS JetStream bus: streams, subjects, limits, KV and ordered exactly-once publishing.

Everything about the bus's shape is declared here, once:

- per chain (genesis hash in hex, `<g>`) two streams, each with one subject:
  `PINKPIPE_RAW_<g>` on `pinkpipe.<g>.raw` (relayer → validator) and
  `PINKPIPE_VERIFIED_<g>` on `pinkpipe.<g>.verified` (validator → executor);
- both: file storage, limits retention (nothing is deleted by consumption, so raw blocks stay
  available for audits and for inspecting a block that failed validation), `discard: new` (a
  full stream refuses new blocks, which stops the producer, rather than silently dropping the
  oldest ones a lagging consumer still needs), `max_msg_size` = the server's max payload,
  replicas configurable (default 1), de-duplication window configurable (default 2 min);
- the KV bucket `pinkpipe-validator` holds each chain's light-client checkpoint
  (`<g>.checkpoint`) and status (`<g>.status`).

Exactly once, in order: every message carries `Nats-Msg-Id` = `<g>:<number>:<hash>` and
`Nats-Expected-Last-Sequence`, so the server itself refuses a gap, a reordering or a second
writer; producers resume from the last message of their stream, never from memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from pinkpipe.app.config import Settings

log = logging.getLogger(__name__)

SUBJECT_ROOT = "pinkpipe"
RAW_STREAM_PREFIX = "PINKPIPE_RAW_"
VERIFIED_STREAM_PREFIX = "PINKPIPE_VERIFIED_"
VALIDATOR_KV_BUCKET = "pinkpipe-validator"
VALIDATOR_CONSUMER = "validator"
HEADER_ROOM = 1024
"""Bytes kept free under max_payload for the message headers (msg id, expected sequence)."""

MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
WRONG_LAST_SEQUENCE = 10071


class BusError(RuntimeError):
    """The bus refused or lost something: a publish not acknowledged, a sequence conflict."""


class RecordTooLarge(BusError):
    """A record larger than the server accepts; raise the server's max_payload to fit it."""


def chain_id(genesis: bytes) -> str:
    return genesis.hex()


def raw_subject(genesis: bytes) -> str:
    return f"{SUBJECT_ROOT}.{chain_id(genesis)}.raw"


def verified_subject(genesis: bytes) -> str:
    return f"{SUBJECT_ROOT}.{chain_id(genesis)}.verified"


def raw_stream(genesis: bytes) -> str:
    return RAW_STREAM_PREFIX + chain_id(genesis)


def verified_stream(genesis: bytes) -> str:
    return VERIFIED_STREAM_PREFIX + chain_id(genesis)


def checkpoint_key(genesis: bytes) -> str:
    return f"{chain_id(genesis)}.checkpoint"


def status_key(genesis: bytes) -> str:
    return f"{chain_id(genesis)}.status"


def msg_id(genesis: bytes, number: int, block_hash: bytes) -> str:
    return f"{genesis.hex()}:{number}:{block_hash.hex()}"


@dataclass(frozen=True)
class StreamSpec:
    """One stream's declared shape; `config()` is what the server is asked to hold."""

    name: str
    subject: str
    max_bytes: int
    max_msg_size: int
    replicas: int
    duplicate_window_s: float

    def config(self) -> api.StreamConfig:
        return api.StreamConfig(
            name=self.name,
            subjects=[self.subject],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            discard=api.DiscardPolicy.NEW,
            max_msgs=-1,
            max_bytes=self.max_bytes,
            max_age=0,
            max_msg_size=self.max_msg_size,
            num_replicas=self.replicas,
            duplicate_window=self.duplicate_window_s,
            allow_direct=True,
        )

    def differs(self, current: api.StreamConfig) -> list[str]:
        """Names of the managed settings that the server's copy does not match."""
        want = {
            "subjects": [self.subject],
            "max_bytes": self.max_bytes,
            "max_msg_size": self.max_msg_size,
            "num_replicas": self.replicas,
            "discard": api.DiscardPolicy.NEW,
        }
        out = [k for k, v in want.items() if getattr(current, k) != v]
        if abs((current.duplicate_window or 0) - self.duplicate_window_s) > 1e-3:
            out.append("duplicate_window")
        return out


def chain_streams(settings: Settings, genesis: bytes, max_msg_size: int) -> tuple[StreamSpec, ...]:
    """The raw and verified streams of one chain."""
    common = {
        "max_msg_size": max_msg_size,
        "replicas": settings.stream_replicas,
        "duplicate_window_s": settings.duplicate_window_s,
    }
    return (
        StreamSpec(raw_stream(genesis), raw_subject(genesis), settings.raw_max_bytes, **common),
        StreamSpec(
            verified_stream(genesis),
            verified_subject(genesis),
            settings.verified_max_bytes,
            **common,
        ),
    )


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    data: bytes
    msg_id: str | None


async def connect_nats(settings: Settings, name: str) -> NatsClient:
    """A client that keeps reconnecting once connected (nats-py buffers publishes meanwhile),
    but gives up on a server it cannot reach at all within `nats_connect_timeout_s`: nats-py
    would otherwise retry the first connection forever, silently."""
    url = settings.effective_nats_url
    nc = NatsClient()

    async def on_error(e: Exception) -> None:
        log.warning("NATS %s: %s", url, e or type(e).__name__)

    async def on_disconnected() -> None:
        if nc.is_reconnecting:  # not on a deliberate close
            log.warning("NATS %s: disconnected; reconnecting", url)

    async def on_reconnected() -> None:
        log.info("NATS %s: reconnected", url)

    options: dict[str, object] = {
        "servers": [u.strip() for u in url.split(",")],
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "connect_timeout": 5,
        "error_cb": on_error,
        "disconnected_cb": on_disconnected,
        "reconnected_cb": on_reconnected,
    }
    if settings.nats_user is not None:
        options["user"] = settings.nats_user
    if settings.nats_password is not None:
        options["password"] = settings.nats_password.get_secret_value()
    if settings.nats_token is not None:
        options["token"] = settings.nats_token.get_secret_value()
    if settings.nats_creds is not None:
        options["user_credentials"] = str(settings.nats_creds)
    try:
        await asyncio.wait_for(nc.connect(**options), settings.nats_connect_timeout_s)  # type: ignore[arg-type]
    except TimeoutError:
        await nc.close()
        raise BusError(
            f"cannot connect to NATS at {url}: no server answered within "
            f"{settings.nats_connect_timeout_s}s"
        ) from None
    except (nats.errors.Error, OSError) as e:
        await nc.close()
        raise BusError(f"cannot connect to NATS at {url}: {e}") from None
    return nc


class Bus:
    """A NATS connection with the chain streams, the validator KV and message look-ups."""

    def __init__(self, nc: NatsClient, settings: Settings) -> None:
        self.nc = nc
        self.settings = settings
        self.js: JetStreamContext = nc.jetstream(timeout=10)

    @classmethod
    async def connect(cls, settings: Settings, name: str = "pinkpipe") -> Bus:
        return cls(await connect_nats(settings, name), settings)

    async def close(self) -> None:
        if not self.nc.is_closed:
            await self.nc.drain()

    @property
    def max_payload(self) -> int:
        return int(self.nc.max_payload)

    async def ensure_stream(self, spec: StreamSpec) -> None:
        """Create the stream, or bring its managed limits up to date; safe to repeat."""
        try:
            info = await self.js.stream_info(spec.name)
        except NotFoundError:
            try:
                await self.js.add_stream(spec.config())
                log.info("created stream %s (%s)", spec.name, spec.subject)
                return
            except APIError as e:
                if e.err_code != 10058:  # created meanwhile by another process
                    raise BusError(f"cannot create stream {spec.name}: {e}") from None
                info = await self.js.stream_info(spec.name)
        changed = spec.differs(info.config)
        if changed:
            try:
                await self.js.update_stream(spec.config())
            except APIError as e:
                raise BusError(f"cannot update stream {spec.name} ({changed}): {e}") from None
            log.info("updated stream %s: %s", spec.name, ", ".join(changed))

    async def ensure_chain(self, genesis: bytes) -> None:
        for spec in chain_streams(self.settings, genesis, self.max_payload):
            await self.ensure_stream(spec)

    async def chains(self) -> list[bytes]:
        """Genesis hashes of every chain that has a raw stream."""
        out: list[bytes] = []
        for info in await self.js.streams_info():
            name = info.config.name or ""
            if name.startswith(RAW_STREAM_PREFIX):
                try:
                    out.append(bytes.fromhex(name.removeprefix(RAW_STREAM_PREFIX)))
                except ValueError:
                    continue
        return sorted(out)

    async def last_seq(self, stream: str) -> int:
        info = await self.js.stream_info(stream)
        return int(info.state.last_seq)

    async def message(self, stream: str, seq: int) -> StoredMessage:
        msg = await self.js.get_msg(stream, seq=seq)
        return _stored(msg)

    async def last_message(self, stream: str, subject: str) -> StoredMessage | None:
        try:
            msg = await self.js.get_last_msg(stream, subject)
        except NotFoundError:
            return None
        return _stored(msg)

    async def kv(self) -> KeyValue:
        """The validator bucket, created on first use (one value per key kept)."""
        try:
            return await self.js.key_value(VALIDATOR_KV_BUCKET)
        except BucketNotFoundError:
            cfg = api.KeyValueConfig(
                bucket=VALIDATOR_KV_BUCKET,
                history=1,
                storage=api.StorageType.FILE,
                replicas=self.settings.stream_replicas,
                max_value_size=self.max_payload - HEADER_ROOM,
            )
            return await self.js.create_key_value(cfg)


def _stored(msg: api.RawStreamMsg) -> StoredMessage:
    headers = msg.headers or {}
    return StoredMessage(int(msg.seq or 0), bytes(msg.data or b""), headers.get(MSG_ID))


@dataclass(frozen=True)
class PubAck:
    seq: int
    duplicate: bool


class OrderedPublisher:
    """Publishes to one stream in order with a window of unacknowledged messages.

    Each message is expected at exactly the next stream sequence; the server rejects it
    otherwise (another writer, or an earlier message lost), and the ack's sequence is checked,
    so a gap can never be acknowledged. Any failure leaves the stream a clean prefix of what
    was sent: the caller re-reads the last message and resumes from there.

    Acks are collected on a private inbox rather than through nats-py's `publish_async`,
    whose reply handler raises (instead of failing the future) when the server refuses a
    message, which would leave the refusal unseen until a timeout.
    """

    def __init__(
        self,
        nc: NatsClient,
        stream: str,
        subject: str,
        last_seq: int,
        max_payload: int,
        window: int = 512,
        ack_timeout_s: float = 10.0,
    ) -> None:
        self.nc = nc
        self.stream = stream
        self.subject = subject
        self.sent_seq = last_seq
        self.acked_seq = last_seq
        self.max_record = max_payload - HEADER_ROOM
        self.window = window
        self.ack_timeout_s = ack_timeout_s
        self._pending: deque[tuple[int, str, asyncio.Future[PubAck]]] = deque()
        self._futures: dict[str, asyncio.Future[PubAck]] = {}
        self._inbox = ""
        self._sub: Subscription | None = None
        self._token = 0

    async def _ensure_inbox(self) -> None:
        if self._sub is None:
            self._inbox = self.nc.new_inbox()
            self._sub = await self.nc.subscribe(self._inbox + ".*", cb=self._on_reply)

    async def _on_reply(self, msg: Msg) -> None:
        future = self._futures.pop(msg.subject.rsplit(".", 1)[-1], None)
        if future is None or future.done():
            return
        status = (msg.headers or {}).get("Status")
        if status == "503":
            future.set_exception(BusError(f"{self.stream}: no stream answers on {self.subject}"))
            return
        try:
            reply = json.loads(msg.data)
        except ValueError:
            future.set_exception(BusError(f"{self.stream}: unreadable publish ack {msg.data!r}"))
            return
        error = reply.get("error")
        if error is not None:
            future.set_exception(_PublishRefused(error.get("err_code"), str(error)))
        else:
            future.set_result(PubAck(int(reply.get("seq", 0)), bool(reply.get("duplicate"))))

    async def publish(self, message_id: str, data: bytes, what: str) -> None:
        """Queue one message; waits for older acks when the window is full."""
        if len(data) > self.max_record:
            raise RecordTooLarge(
                f"{what} record is {len(data)} bytes, over the {self.max_record}-byte limit "
                f"(server max_payload minus {HEADER_ROOM} for headers); raise max_payload"
            )
        while len(self._pending) >= self.window:
            await self._await_oldest()
        await self._ensure_inbox()
        self._token += 1
        token = str(self._token)
        future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        self._futures[token] = future
        headers = {MSG_ID: message_id, EXPECTED_LAST_SEQ: str(self.sent_seq)}
        await self.nc.publish(self.subject, data, reply=f"{self._inbox}.{token}", headers=headers)
        self.sent_seq += 1
        self._pending.append((self.sent_seq, message_id, future))

    async def _await_oldest(self) -> None:
        seq, message_id, future = self._pending[0]
        try:
            ack = await asyncio.wait_for(asyncio.shield(future), self.ack_timeout_s)
        except TimeoutError:
            self._abandon()
            raise BusError(
                f"{self.stream}: no ack for {message_id} within {self.ack_timeout_s}s"
            ) from None
        except _PublishRefused as e:
            self._abandon()
            if e.code == WRONG_LAST_SEQUENCE:
                raise BusError(
                    f"{self.stream}: {message_id} refused, the stream is not at sequence "
                    f"{seq - 1} (another writer, or an earlier message was lost): {e}"
                ) from None
            raise BusError(f"{self.stream}: publish of {message_id} refused: {e}") from None
        except BusError:
            self._abandon()
            raise
        self._pending.popleft()
        if ack.seq != seq:
            self._abandon()
            raise BusError(
                f"{self.stream}: {message_id} stored at sequence {ack.seq}, expected {seq}"
                + (" (a duplicate of an earlier message)" if ack.duplicate else "")
            )
        self.acked_seq = seq

    def _abandon(self) -> None:
        for _, _, future in self._pending:
            if future.done() and not future.cancelled():
                future.exception()  # refusals behind the first one: seen, not "never retrieved"
            future.cancel()
        self._pending.clear()
        self._futures.clear()
        self.sent_seq = self.acked_seq

    async def flush(self) -> int:
        """Wait for every pending ack; returns the last acknowledged stream sequence."""
        while self._pending:
            await self._await_oldest()
        return self.acked_seq

    async def close(self) -> None:
        """Forget unacknowledged messages and drop the ack inbox (on shutdown or error)."""
        self._abandon()
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()


class _PublishRefused(Exception):
    def __init__(self, code: object, text: str) -> None:
        super().__init__(text)
        self.code = code
