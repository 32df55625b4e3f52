"""The ordered publisher: one writer's records into one stream, in order, exactly once.

Every message carries `Nats-Msg-Id` (= `<g>:<number>:<hash>`, de-duplicated by the server
within its window) and `Nats-Expected-Last-Sequence` (the stream sequence the writer's previous
message got), so the server refuses a message that would not follow the writer's previous one.
A refusal is not enough on its own: with many publishes in flight, a second writer's message
makes the first in-flight publish fail while the next one's expectation happens to match. So
after any failure the publisher's owner must re-read the stream's tail and prove it contiguous
before going on (`pinkpipe.relayer` and the validator service do); the publisher itself only
promises that it never reports a message as stored at a sequence other than the one expected.

An operator can delete a bad tail (`pinkpipe bus truncate`); the stream's sequence counter
never goes back, so the writer continues after the last message left (`last_seq`) while
expecting the counter (`stream_last_seq`). (The per-subject expectation would read more
naturally here, but a replicated stream refuses it for pipelined publishes.)

Acks are collected on a private inbox rather than through nats-py's `publish_async`, whose
reply handler raises (instead of failing the future) when the server refuses a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from pinkpipe.bus.client import BusError, RecordTooLarge, describe, storage_text
from pinkpipe.bus.streams import (
    EXPECTED_LAST_SEQ,
    HEADER_ROOM,
    MSG_ID,
    WRONG_LAST_SEQUENCE,
)

ACK_CHECK_S = 1.0
"""How often a wait for an ack asks `check_alive` whether to go on waiting."""


class PublishRefused(BusError):
    """The server refused a message; `code` is JetStream's error code."""

    def __init__(self, text: str, code: object = None) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class PubAck:
    seq: int
    duplicate: bool


class OrderedPublisher:
    """Publishes to one stream in order with a window of unacknowledged messages."""

    def __init__(
        self,
        nc: NatsClient,
        stream: str,
        subject: str,
        last_seq: int,
        max_payload: int,
        window: int = 512,
        ack_timeout_s: float = 10.0,
        stream_last_seq: int | None = None,
        check_alive: Callable[[], None] | None = None,
    ) -> None:
        """`last_seq`: the subject's last message (0: none); `stream_last_seq`: the stream's
        sequence counter, higher when messages after the last one were deleted;
        `check_alive` raises a `BusError` to stop waiting for acks (`Bus.check_outage`)."""
        self.nc = nc
        self.stream = stream
        self.subject = subject
        self.sent_seq = last_seq
        """Stream sequence of the last message sent (acknowledged or not)."""
        self.acked_seq = last_seq
        """Stream sequence of the last message the server confirmed."""
        self._next_seq = max(last_seq, stream_last_seq or 0) + 1
        self.max_record = max_payload - HEADER_ROOM
        self.window = window
        self.ack_timeout_s = ack_timeout_s
        self.check_alive = check_alive
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
            code = error.get("err_code")
            text = storage_text(code, str(error.get("description") or error))
            future.set_exception(PublishRefused(text, code))
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
        try:
            await self._ensure_inbox()
            self._token += 1
            token = str(self._token)
            future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
            self._futures[token] = future
            headers = {MSG_ID: message_id, EXPECTED_LAST_SEQ: str(self._next_seq - 1)}
            await self.nc.publish(
                self.subject, data, reply=f"{self._inbox}.{token}", headers=headers
            )
        except nats.errors.Error as e:
            self._abandon()
            raise BusError(f"{self.stream}: cannot publish {message_id}: {describe(e)}") from None
        self.sent_seq = self._next_seq
        self._next_seq += 1
        self._pending.append((self.sent_seq, message_id, future))

    async def _await_oldest(self) -> None:
        seq, message_id, future = self._pending[0]
        try:
            ack = await self._ack(future)
        except TimeoutError:
            self._abandon()
            raise BusError(
                f"{self.stream}: no ack for {message_id} within {self.ack_timeout_s}s"
            ) from None
        except PublishRefused as e:
            self._abandon()
            if e.code == WRONG_LAST_SEQUENCE:
                raise PublishRefused(
                    f"{self.stream}: {message_id} refused, the stream's last message is not the "
                    f"one sent before it (another writer, or an earlier message was lost): {e}",
                    e.code,
                ) from None
            raise PublishRefused(
                f"{self.stream}: publish of {message_id} refused: {e}", e.code
            ) from None
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

    async def _ack(self, future: asyncio.Future[PubAck]) -> PubAck:
        """The ack within `ack_timeout_s`, waited for in slices so that an outage over the
        bus's limit ends the wait at once rather than after the whole timeout."""
        deadline = time.monotonic() + self.ack_timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                return await asyncio.wait_for(asyncio.shield(future), min(ACK_CHECK_S, left))
            except TimeoutError:
                if self.check_alive is not None:
                    self.check_alive()

    def _abandon(self) -> None:
        """Forget every unacknowledged message, retrieving the outcome of those already
        failed (no "exception was never retrieved" noise); the next publish continues from
        the last acknowledged one."""
        for _, _, future in self._pending:
            if future.done() and not future.cancelled():
                future.exception()
            future.cancel()
        self._pending.clear()
        self._futures.clear()
        self.sent_seq = self.acked_seq
        self._next_seq = self.acked_seq + 1

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
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
