"""The durable ordered consumer: one stream's stored messages, in sequence order, from a
checkpoint on, surviving lost deliveries, deleted messages and NATS outages.

A stage acknowledges only what it has made durable downstream, so after a crash JetStream
delivers again from the stage's checkpoint (`start(after_seq)` re-creates the consumer there:
the checkpoint, not the server's delivery state, decides). Deliveries can be lost (a reconnect,
a slow-consumer disconnect) and would otherwise only come back after the ack wait; a sequence
arriving early therefore makes the consumer look at the stream: if the missing sequences are
stored it re-reads from the first of them, if they were deleted (an operator truncated a bad
tail) it goes on. Skipping a deleted sequence never skips data silently: every stage checks
its records' own links (block numbers and parent hashes), so a deleted block is a broken link
and stops that stage at the block.

Each pull asks for at most `fetch_bytes` of messages: a server disconnects a client whose
pending deliveries exceed its max_pending (64 MiB by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from pinkpipe.bus.client import Bus, describe

log = logging.getLogger(__name__)

FETCH_BYTES = 16 * 1024 * 1024
"""Record bytes one pull may ask for (well under a server's 64 MiB max_pending)."""


@dataclass(frozen=True)
class Delivery:
    """One stored message, as delivered; `ack()` acknowledges it and everything before."""

    seq: int
    data: bytes
    pending: int
    """Messages the server still holds for this consumer after this one."""
    msg: Msg

    async def ack(self) -> None:
        await self.msg.ack()


@dataclass(frozen=True)
class ConsumerSpec:
    stream: str
    subject: str
    durable: str
    ack_wait_s: float
    max_ack_pending: int
    max_fetch: int
    replicas: int = 1


class OrderedConsumer:
    """Delivers a stream's messages in order from `start(after_seq)`; see the module doc."""

    def __init__(self, bus: Bus, spec: ConsumerSpec, stop: asyncio.Event) -> None:
        self.bus = bus
        self.spec = spec
        self.stop = stop
        self.last_seq = 0
        """The last sequence delivered to the caller."""
        self._sub: JetStreamContext.PullSubscription | None = None
        self._record_size = bus.max_payload
        """Largest message of the last pull: sizes the next one."""

    async def start(self, after_seq: int) -> None:
        """(Re-)create the durable consumer to deliver from `after_seq + 1`."""
        await self.close()
        spec = self.spec
        with contextlib.suppress(NotFoundError):
            await self.bus.js.delete_consumer(spec.stream, spec.durable)
        config = api.ConsumerConfig(
            durable_name=spec.durable,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=after_seq + 1,
            ack_policy=api.AckPolicy.ALL,
            ack_wait=spec.ack_wait_s,
            max_ack_pending=spec.max_ack_pending,
            filter_subject=spec.subject,
            num_replicas=spec.replicas,
        )
        await self.bus.call(
            f"consumer {spec.durable} on {spec.stream}",
            lambda: self.bus.js.add_consumer(spec.stream, config),
        )
        self._sub = await self.bus.call(
            f"consumer {spec.durable} on {spec.stream}",
            lambda: self.bus.js.pull_subscribe_bind(spec.durable, spec.stream),
        )
        self.last_seq = after_seq

    def fetch_size(self) -> int:
        return max(1, min(self.spec.max_fetch, FETCH_BYTES // self._record_size))

    async def next_batch(self, timeout_s: float = 1.0) -> list[Delivery]:
        """The next messages in order (empty when none arrived within `timeout_s`). An outage
        is waited out here (see `Bus.wait_connected`) and the consumer re-created after it."""
        self.bus.check_outage()
        if self._sub is None:
            await self.start(self.last_seq)
        assert self._sub is not None
        try:
            msgs = await self._sub.fetch(self.fetch_size(), timeout=timeout_s)
        except TimeoutError:
            return []
        except nats.errors.Error as e:
            log.warning("%s: pull failed (%s); waiting for NATS", self.spec.stream, describe(e))
            await self.bus.wait_connected(self.stop)
            await self.start(self.last_seq)
            return []
        self._record_size = max([1, *(len(m.data) for m in msgs)])
        out: list[Delivery] = []
        for msg in msgs:
            seq = msg.metadata.sequence.stream
            if seq <= self.last_seq:
                continue
            if seq != self.last_seq + 1 and await self._stored_between(self.last_seq, seq):
                log.warning(
                    "%s: sequence %d delivered while %d was expected (lost deliveries); "
                    "re-reading from %d",
                    self.spec.stream,
                    seq,
                    self.last_seq + 1,
                    self.last_seq + 1,
                )
                await self.start(self.last_seq)
                break
            self.last_seq = seq
            out.append(Delivery(seq, bytes(msg.data), msg.metadata.num_pending, msg))
        return out

    async def _stored_between(self, after: int, before: int) -> bool:
        """Whether the stream still stores any sequence strictly between the two."""
        for seq in range(after + 1, before):
            if await self.bus.message(self.spec.stream, seq) is not None:
                return True
        log.warning(
            "%s: sequences %d..%d are not in the stream (deleted); continuing at %d",
            self.spec.stream,
            after + 1,
            before - 1,
            before,
        )
        return False

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
