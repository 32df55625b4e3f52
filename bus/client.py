"""The NATS connection every stage shares: connect, outages, streams, message look-ups.

nats-py reconnects by itself and buffers publishes meanwhile; what it does not do is tell a
service how long an outage has lasted, and it raises a handful of exception types from every
call. `Bus` turns both into pinkpipe terms: every failure is a `BusError` (an
`OperationalError`), and `wait_connected` is where a service waits out an outage, with a log
line every few seconds and a one-line stop once `nats_outage_limit_s` has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from pinkpipe.bus.config import BusSettings, mask_url
from pinkpipe.bus.nats_auth import inbox_prefix
from pinkpipe.bus.streams import (
    HEADER_ROOM,
    MSG_ID,
    RAW_STREAM_PREFIX,
    STORAGE_FULL,
    STORE_FAILED,
    StreamSpec,
    genesis_of_raw_stream,
)
from pinkpipe.chain.errors import OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")
OUTAGE_REPORT_S = 10.0
STREAM_EXISTS = 10058


class BusError(OperationalError):
    """The bus refused or lost something: unreachable, a publish not acknowledged, a conflict."""


class RecordTooLarge(BusError):
    """A record larger than the server accepts; raise the server's max_payload to fit it."""


class BusUnavailable(BusError):
    """NATS stayed unreachable for longer than the configured outage limit."""


def storage_text(code: object, text: str) -> str:
    """A JetStream error's `text`, saying first "disk full" or "stream full" when that is what
    its `code` (and, for a failed store, its text) means: the operator's fix differs."""
    failed_store = code == STORE_FAILED
    if code in STORAGE_FULL or (failed_store and "no space left" in text.lower()):
        return (
            f"disk full: the NATS server cannot store more (its disk, or JetStream's "
            f"max_file_store, is full; free space or raise the limit, then restart): {text}"
        )
    if failed_store and "maximum bytes" in text.lower():
        return (
            f"stream full: the stream's size limit is reached (raise raw_max_bytes / "
            f"verified_max_bytes, then restart): {text}"
        )
    return text


def describe(error: BaseException) -> str:
    """A one-line account of a nats-py failure, naming a full disk or stream as such."""
    text = str(error).strip() or type(error).__name__
    if not text.startswith(type(error).__name__):
        text = f"{type(error).__name__}: {text}"
    return storage_text(error.err_code, text) if isinstance(error, APIError) else text


@dataclass
class OutageClock:
    """When the connection went down (None while it is up), set by the client's callbacks:
    the outage limit counts from the disconnection, not from when a service noticed it, and
    the client's reconnect failures are logged once per OUTAGE_REPORT_S instead of each."""

    down_since: float | None = None
    reported_at: float = 0.0

    def down(self) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()

    def up(self) -> None:
        self.down_since = None
        self.reported_at = 0.0

    def lasted(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def report_due(self) -> bool:
        """True at most once per OUTAGE_REPORT_S while the connection is down."""
        now = time.monotonic()
        if self.down_since is not None and now - self.reported_at < OUTAGE_REPORT_S:
            return False
        self.reported_at = now
        return True


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    data: bytes
    msg_id: str | None


async def connect_nats(settings: BusSettings, name: str, clock: OutageClock) -> NatsClient:
    """A client that keeps reconnecting once connected, but gives up on a server it cannot
    reach at all within `nats_connect_timeout_s` (nats-py would retry the first connection
    forever, silently). Credentials never appear in a log line or an error."""
    url = settings.effective_nats_url
    shown = mask_url(url)
    nc = NatsClient()

    async def on_error(e: Exception) -> None:
        if not nc.is_connected and not clock.report_due():  # not every failed reconnect
            return
        log.warning("NATS %s: %s", shown, mask_url(describe(e)))

    async def on_disconnected() -> None:
        if nc.is_reconnecting:  # not on a deliberate close
            clock.down()
            log.warning("NATS %s: disconnected; reconnecting", shown)

    async def on_reconnected() -> None:
        log.info("NATS %s: reconnected after %.1fs", shown, clock.lasted())
        clock.up()

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
        options["inbox_prefix"] = inbox_prefix(settings.nats_user)
    if settings.nats_password is not None:
        options["password"] = settings.nats_password.get_secret_value()
    if settings.nats_token is not None:
        options["token"] = settings.nats_token.get_secret_value()
    if settings.nats_creds is not None:
        options["user_credentials"] = settings.nats_creds
    try:
        await asyncio.wait_for(nc.connect(**options), settings.nats_connect_timeout_s)  # type: ignore[arg-type]
    except TimeoutError:
        await _close_quietly(nc)
        raise BusError(
            f"cannot connect to NATS at {shown}: no server answered within "
            f"{settings.nats_connect_timeout_s}s"
        ) from None
    except (nats.errors.Error, OSError, ValueError) as e:
        await _close_quietly(nc)
        raise BusError(f"cannot connect to NATS at {shown}: {mask_url(describe(e))}") from None
    except asyncio.CancelledError:
        await _close_quietly(nc)
        raise
    return nc


async def _close_quietly(nc: NatsClient) -> None:
    with contextlib.suppress(Exception):
        await nc.close()


class Bus:
    """A NATS connection with the chain streams, KV buckets and message look-ups."""

    def __init__(
        self, nc: NatsClient, settings: BusSettings, clock: OutageClock | None = None
    ) -> None:
        self.nc = nc
        self.settings = settings
        self.clock = clock or OutageClock()
        self.js: JetStreamContext = nc.jetstream(timeout=10)
        self.url = mask_url(settings.effective_nats_url)

    @classmethod
    async def connect(cls, settings: BusSettings, name: str = "pinkpipe") -> Bus:
        clock = OutageClock()
        return cls(await connect_nats(settings, name, clock), settings, clock)

    async def close(self) -> None:
        """Drain when connected (pending publishes go out); otherwise just close."""
        if self.nc.is_closed:
            return
        if self.nc.is_connected:
            with contextlib.suppress(Exception):
                await self.nc.drain()
                return
        await _close_quietly(self.nc)

    @property
    def max_payload(self) -> int:
        return int(self.nc.max_payload)

    @property
    def max_record(self) -> int:
        return self.max_payload - HEADER_ROOM

    async def call(self, what: str, action: Callable[[], Awaitable[T]]) -> T:
        """`action()` with every nats-py failure turned into a `BusError` naming `what`."""
        try:
            return await action()
        except (nats.errors.Error, TimeoutError, OSError) as e:
            raise BusError(f"{what}: {mask_url(describe(e))}") from None

    def check_outage(self) -> None:
        """Raise `BusUnavailable` once the connection has been down for longer than
        `nats_outage_limit_s` (0: never); a service calls it wherever it may sit idle."""
        limit = self.settings.nats_outage_limit_s
        if self.nc.is_closed:
            raise BusUnavailable(f"NATS at {self.url}: the connection is closed")
        if self.nc.is_connected:
            return
        self.clock.down()  # a disconnection the callback has not reported yet
        lasted = self.clock.lasted()
        if limit and lasted >= limit:
            raise BusUnavailable(
                f"NATS at {self.url} unreachable for {lasted:.0f}s "
                f"(nats_outage_limit_s = {limit:g}); stopping"
            )

    async def wait_connected(self, stop: asyncio.Event | None = None) -> None:
        """Return once the connection is up (at once, usually). During an outage, log every
        OUTAGE_REPORT_S and raise `BusUnavailable` once it has lasted `nats_outage_limit_s`."""
        if self.nc.is_connected:
            return
        limit = self.settings.nats_outage_limit_s
        reported = time.monotonic()
        while not self.nc.is_connected:
            self.check_outage()
            if stop is not None and stop.is_set():
                return
            if time.monotonic() - reported >= OUTAGE_REPORT_S:
                reported = time.monotonic()
                log.warning(
                    "NATS at %s unreachable for %.0fs; waiting%s",
                    self.url,
                    self.clock.lasted(),
                    f" (gives up after {limit:g}s)" if limit else "",
                )
            await asyncio.sleep(0.2)
        log.info("NATS at %s reachable again", self.url)

    async def ensure_stream(self, spec: StreamSpec, *, owner: bool) -> None:
        """The owner creates the stream or brings its limits up to date; anyone else only
        checks that it exists (creating it only if absent, with the owner's declared shape)
        and reports differing limits without touching them."""
        try:
            info = await self.js.stream_info(spec.name)
        except NotFoundError:
            try:
                await self.js.add_stream(spec.config())
                log.info("created stream %s (%s)", spec.name, spec.subject)
                return
            except APIError as e:
                if e.err_code != STREAM_EXISTS:  # created meanwhile by another process
                    raise BusError(f"cannot create stream {spec.name}: {describe(e)}") from None
                info = await self.call(spec.name, lambda: self.js.stream_info(spec.name))
        except (nats.errors.Error, TimeoutError) as e:
            raise BusError(f"cannot read stream {spec.name}: {describe(e)}") from None
        changed = spec.differs(info.config)
        if not changed:
            return
        if not owner:
            log.warning(
                "stream %s has other limits than this process's configuration (%s); its owner, "
                "the %s, sets them: left unchanged",
                spec.name,
                ", ".join(changed),
                spec.owner,
            )
            return
        try:
            await self.js.update_stream(spec.config())
        except (nats.errors.Error, TimeoutError) as e:
            raise BusError(f"cannot update stream {spec.name} ({changed}): {describe(e)}") from None
        log.info("updated stream %s: %s", spec.name, ", ".join(changed))

    async def chains(self) -> list[bytes]:
        """Genesis hashes of every chain that has a raw stream (other names are ignored)."""
        infos = await self.call("listing streams", self.js.streams_info)
        out: list[bytes] = []
        for info in infos:
            name = info.config.name or ""
            genesis = genesis_of_raw_stream(name)
            if genesis is not None:
                out.append(genesis)
            elif name.startswith(RAW_STREAM_PREFIX):
                log.debug("ignoring stream %s: not a raw stream name", name)
        return sorted(out)

    async def last_seq(self, stream: str) -> int:
        info = await self.call(f"stream {stream}", lambda: self.js.stream_info(stream))
        return int(info.state.last_seq)

    async def message(self, stream: str, seq: int) -> StoredMessage | None:
        """The message at `seq`; None when the stream has none there (deleted or purged)."""
        try:
            msg = await self.js.get_msg(stream, seq=seq)
        except NotFoundError:
            return None
        except (nats.errors.Error, TimeoutError) as e:
            raise BusError(f"{stream} sequence {seq}: {describe(e)}") from None
        return _stored(msg)

    async def last_message(self, stream: str, subject: str) -> StoredMessage | None:
        try:
            msg = await self.js.get_last_msg(stream, subject)
        except NotFoundError:
            return None
        except (nats.errors.Error, TimeoutError) as e:
            raise BusError(f"{stream}: cannot read its last message: {describe(e)}") from None
        return _stored(msg)

    async def messages_after(self, stream: str, seq: int) -> list[StoredMessage]:
        """Every message stored after `seq`, in order (for checking a stream's tail)."""
        last = await self.last_seq(stream)
        out = []
        for n in range(seq + 1, last + 1):
            message = await self.message(stream, n)
            if message is not None:
                out.append(message)
        return out

    async def delete_message(self, stream: str, seq: int) -> None:
        await self.call(
            f"deleting {stream} sequence {seq}", lambda: self.js.delete_msg(stream, seq)
        )

    async def bucket(self, name: str) -> KeyValue:
        """A KV bucket, created on first use (one value per key kept)."""
        try:
            return await self.js.key_value(name)
        except BucketNotFoundError:
            pass
        except (nats.errors.Error, TimeoutError) as e:
            raise BusError(f"KV bucket {name}: {describe(e)}") from None
        cfg = api.KeyValueConfig(
            bucket=name,
            history=1,
            storage=api.StorageType.FILE,
            replicas=self.settings.stream_replicas,
            max_value_size=self.max_record,
        )
        return await self.call(f"creating KV bucket {name}", lambda: self.js.create_key_value(cfg))


def _stored(msg: api.RawStreamMsg) -> StoredMessage:
    headers = msg.headers or {}
    return StoredMessage(int(msg.seq or 0), bytes(msg.data or b""), headers.get(MSG_ID))
