"""The validator service: raw records in, verified blocks out, one light client per chain.

For each chain it holds a durable pull consumer on the raw stream and processes records
strictly in stream order: the bootstrap record starts the light client; block records are
buffered until one carries the justification that ends their batch; the batch is imported
(links, authority-set hand-offs, signatures), then every block's read proof and body are
checked against its now-finalized header and one verified record per block is published.
Only after those publishes are acknowledged is the batch acked and the light-client state
checkpointed in KV.

Crash safety: a restart restores the checkpoint and re-creates the consumer at the record
after it, so records are replayed from the last checkpoint; blocks the verified stream
already holds (published before the crash, checkpoint not yet written) are re-verified but not
re-published (their msg ids would be de-duplicated anyway, but only within the window).

Invalid data stops that chain: the offending record is not acked (it stays in the stream for
inspection), nothing from it or after it is published, the error goes to the log, to the
chain's status in KV and to the exit code (3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, KeyNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from pinkpipe.app.config import Settings
from pinkpipe.bus.client import (
    VALIDATOR_CONSUMER,
    Bus,
    BusError,
    OrderedPublisher,
    checkpoint_key,
    msg_id,
    raw_stream,
    raw_subject,
    status_key,
    verified_stream,
    verified_subject,
)
from pinkpipe.bus.records import (
    BootstrapRecord,
    RawBlockRecord,
    RecordError,
    StorageItem,
    ValidatorCheckpoint,
    ValidatorStatus,
    VerifiedBlockRecord,
    decode_checkpoint,
    decode_raw,
    decode_verified,
)
from pinkpipe.chain.header import Header
from pinkpipe.chain.scale import CodecError
from pinkpipe.validator.errors import LightClientError
from pinkpipe.validator.light_client import GENESIS_KEYS, LightClient, genesis_authorities
from pinkpipe.validator.storage import verify_body, verify_storage_proof

log = logging.getLogger(__name__)

MAX_RECENT = 128
"""Finalized blocks the light client remembers; proofs are checked against the batch's own
headers, so it only needs enough to recognise a replayed batch."""
MAX_ACK_PENDING = 20_000
"""Records a batch may buffer before its justification arrives (nodes justify every ~512)."""
BUFFER_WARNING = 2_048
FETCH_BYTES = 16 * 1024 * 1024
"""Raw record bytes one pull may ask for (well under a server's 64 MiB max_pending)."""


class InvalidData(Exception):
    """A raw record the validator refuses; the chain's validation stops here."""

    def __init__(self, seq: int, number: int | None, reason: str) -> None:
        where = f"block #{number}" if number is not None else "record"
        super().__init__(f"invalid {where} (raw stream sequence {seq}): {reason}")
        self.seq = seq
        self.number = number


@dataclass
class ValidatorProgress:
    """Live numbers for progress output (read by the CLI and `pinkpipe run`)."""

    genesis: bytes = b""
    finalized: int = -1
    set_id: int = 0
    received: int = -1
    verified_blocks: int = 0
    invalid_records: int = 0
    lag: int = 0
    """Raw records not verified yet: buffered for a justification, or not yet delivered."""
    last_error: str | None = None
    started: float = field(default_factory=time.monotonic)


@dataclass
class _Pending:
    seq: int
    msg: Msg
    record: RawBlockRecord
    header: Header


class ChainValidator:
    """Validates one chain until `stop` is set or its data turns out invalid."""

    def __init__(self, settings: Settings, bus: Bus, genesis: bytes, stop: asyncio.Event) -> None:
        self.settings = settings
        self.bus = bus
        self.genesis = genesis
        self.stop = stop
        self.raw_stream = raw_stream(genesis)
        self.progress = ValidatorProgress(genesis=genesis)
        self.client: LightClient | None = None
        self._raw_seq = 0
        self._verified_last: tuple[int, bytes] = (0, b"")
        self._batch: list[_Pending] = []
        self._kv: KeyValue | None = None
        self._publisher: OrderedPublisher | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._record_size = 1
        """Largest raw record of the last pull: sizes the next one."""

    # -- startup ---------------------------------------------------------------------------

    async def _restore(self) -> None:
        """Light client and raw position from KV; publisher position from the verified stream."""
        assert self._kv is not None
        key = checkpoint_key(self.genesis)
        try:
            entry = await self._kv.get(key)
        except (KeyNotFoundError, NotFoundError):
            entry = None
        if entry is not None and entry.value:
            cp = decode_checkpoint(entry.value, f"KV {key}", entry.revision or 0)
            try:
                self.client = LightClient.from_bytes(cp.state)
            except LightClientError as e:
                raise BusError(f"checkpoint {key} holds unusable state: {e}") from None
            if self.client.state.genesis_hash != self.genesis:
                raise BusError(f"checkpoint {key} belongs to another chain")
            self._raw_seq = cp.raw_seq
            self._note_finalized()
            log.info(
                "chain %s: restored checkpoint at #%d (raw sequence %d)",
                self.genesis.hex()[:16],
                cp.number,
                cp.raw_seq,
            )
        stream, subject = verified_stream(self.genesis), verified_subject(self.genesis)
        last = await self.bus.last_message(stream, subject)
        last_seq = 0
        if last is not None:
            record = decode_verified(last.data, stream, last.seq)
            self._verified_last = (record.number, record.hash)
            last_seq = last.seq
            finalized = self.client.finalized.number if self.client is not None else 0
            if record.number < finalized:
                raise BusError(
                    f"{stream} ends at #{record.number}, below the checkpoint #{finalized}"
                )
        self._publisher = OrderedPublisher(
            self.bus.nc,
            stream,
            subject,
            last_seq,
            self.bus.max_payload,
            window=self.settings.publish_window,
        )

    async def _subscribe(self, start: int) -> JetStreamContext.PullSubscription:
        """The durable consumer, re-created to deliver from raw sequence `start` on."""
        with contextlib.suppress(NotFoundError):
            await self.bus.js.delete_consumer(self.raw_stream, VALIDATOR_CONSUMER)
        config = api.ConsumerConfig(
            durable_name=VALIDATOR_CONSUMER,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=api.AckPolicy.ALL,
            ack_wait=self.settings.validator_ack_wait_s,
            max_ack_pending=MAX_ACK_PENDING,
            filter_subject=raw_subject(self.genesis),
            num_replicas=self.settings.stream_replicas,
        )
        await self.bus.js.add_consumer(self.raw_stream, config)
        return await self.bus.js.pull_subscribe_bind(VALIDATOR_CONSUMER, self.raw_stream)

    def fetch_size(self) -> int:
        """Records per pull, so that one pull stays within FETCH_BYTES: a server disconnects a
        client whose pending deliveries exceed its max_pending (64 MiB by default), and a
        block proving a ~200 KB PinkSystemCode makes every record ~270 KB."""
        return max(1, min(self.settings.validator_fetch, FETCH_BYTES // self._record_size))

    # -- main loop -------------------------------------------------------------------------

    async def run(self) -> None:
        await self.bus.ensure_chain(self.genesis)
        self._kv = await self.bus.kv()
        await self._restore()
        self._record_size = self.bus.max_payload
        last_seen = self._raw_seq
        self._sub = await self._subscribe(last_seen + 1)
        await self._write_status("running")
        try:
            while not self.stop.is_set():
                assert self._sub is not None
                try:
                    msgs = await self._sub.fetch(self.fetch_size(), timeout=1.0)
                except TimeoutError:
                    continue
                self._record_size = max([1, *(len(m.data) for m in msgs)])
                for msg in msgs:
                    seq = msg.metadata.sequence.stream
                    if seq <= last_seen:
                        continue
                    if seq != last_seen + 1:
                        await self._redeliver_from(last_seen + 1, seq)
                        break
                    last_seen = seq
                    self.progress.received = seq
                    self.progress.lag = msg.metadata.num_pending + len(self._batch) + 1
                    await self._handle(seq, msg)
            await self._write_status("stopped")
        except InvalidData as e:
            self.progress.invalid_records += 1
            self.progress.last_error = str(e)
            log.error("chain %s: validation stopped: %s", self.genesis.hex()[:16], e)
            await self._write_status("failed", str(e))
            raise
        finally:
            if self._publisher is not None:
                await self._publisher.close()
            await self._unsubscribe()

    async def _redeliver_from(self, missing: int, delivered: int) -> None:
        """Sequence `delivered` arrived while `missing` is next: deliveries were lost (a
        reconnect, a slow-consumer disconnect) and would only come back after the ack wait.
        Re-create the consumer at `missing` unless the stream really lacks it (purged): that
        gap is invalid data, since the light client cannot skip a block."""
        try:
            await self.bus.message(self.raw_stream, missing)
        except NotFoundError:
            raise InvalidData(
                missing, None, f"the raw stream has no message {missing} (next is {delivered})"
            ) from None
        log.warning(
            "chain %s: raw sequence %d delivered while %d was expected (lost deliveries); "
            "re-reading from %d",
            self.genesis.hex()[:16],
            delivered,
            missing,
            missing,
        )
        await self._unsubscribe()
        self._sub = await self._subscribe(missing)

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _handle(self, seq: int, msg: Msg) -> None:
        try:
            record = decode_raw(msg.data, self.raw_stream, seq)
        except RecordError as e:
            raise InvalidData(seq, None, e.reason) from None
        if isinstance(record, BootstrapRecord):
            await self._bootstrap(seq, msg, record)
            return
        if self.client is None:
            raise InvalidData(seq, record.number, "block record before the bootstrap record")
        try:
            header = Header.decode(record.header)
        except CodecError as e:
            raise InvalidData(seq, record.number, f"header does not decode: {e}") from None
        if header.number != record.number or header.hash() != record.hash:
            raise InvalidData(
                seq,
                record.number,
                f"header is #{header.number} 0x{header.hash().hex()}, the record says "
                f"#{record.number} 0x{record.hash.hex()}",
            )
        self._batch.append(_Pending(seq, msg, record, header))
        if len(self._batch) % BUFFER_WARNING == 0:
            log.warning("%d blocks buffered waiting for a justification", len(self._batch))
        if record.justification is not None:
            await self._import_batch(record.justification)

    async def _bootstrap(self, seq: int, msg: Msg, record: BootstrapRecord) -> None:
        if self.client is not None:
            raise InvalidData(seq, record.number, "second bootstrap record for this chain")
        if record.genesis_hash != self.genesis:
            raise InvalidData(seq, record.number, "bootstrap record of another chain")
        try:
            if record.number == 0:
                self.client = LightClient.from_genesis_proof(
                    record.header, record.proof, genesis_hash=self.genesis, max_recent=MAX_RECENT
                )
            else:
                self.client = self._checkpoint_client(seq, record)
        except LightClientError as e:
            raise InvalidData(seq, record.number, f"bootstrap refused: {e}") from None
        log.info(
            "chain %s: light client started at #%d, set id %d",
            self.genesis.hex()[:16],
            record.number,
            self.client.authority_set.set_id,
        )
        await msg.ack()
        await self._checkpoint(seq)

    def _checkpoint_client(self, seq: int, record: BootstrapRecord) -> LightClient:
        """A checkpoint is trusted only if configured: it replaces trust in genesis."""
        expected = f"{record.number}:0x{record.hash.hex()}"
        if self.settings.trusted_checkpoint != expected:
            raise InvalidData(
                seq,
                record.number,
                f"checkpoint {expected} is not trusted (set trusted_checkpoint to accept it)",
            )
        try:
            header = Header.decode(record.header)
        except CodecError as e:
            raise InvalidData(seq, record.number, f"header does not decode: {e}") from None
        if header.hash() != record.hash or header.number != record.number:
            raise InvalidData(seq, record.number, "checkpoint header is not the trusted block")
        values = verify_storage_proof(
            header.state_root,
            record.proof,
            GENESIS_KEYS,
            number=header.number,
            block_hash=record.hash,
        )
        authorities, set_id = genesis_authorities(values)
        return LightClient.from_checkpoint(
            header, authorities, set_id, genesis_hash=self.genesis, max_recent=MAX_RECENT
        )

    async def _import_batch(self, justification: bytes) -> None:
        assert self.client is not None and self._publisher is not None
        batch, self._batch = self._batch, []
        set_id = self.client.authority_set.set_id
        before = self.client.state
        last = batch[-1]
        try:
            self.client.import_batch([p.header for p in batch], justification)
        except LightClientError as e:
            number = e.number if e.number is not None else last.record.number
            seq = next((p.seq for p in batch if p.record.number == number), last.seq)
            raise InvalidData(seq, number, str(e)) from None
        replayed = [p.record.number for p in batch if p.record.number <= self._verified_last[0]]
        if replayed:
            log.info(
                "chain %s: #%d..#%d are already in the verified stream (published before a "
                "restart): re-verified, not re-published",
                self.genesis.hex()[:16],
                replayed[0],
                replayed[-1],
            )
        try:
            for p in batch:
                await self._publish(p, set_id, last.record.hash)
        except InvalidData:
            self.client.state = before  # the batch is not verified as a whole
            await self._publisher.flush()  # the good blocks before the bad one stay published
            raise
        await self._publisher.flush()
        await last.msg.ack()
        await self._checkpoint(last.seq)
        self.progress.lag = max(0, self.progress.lag - len(batch))
        await self._write_status("running")

    async def _publish(self, p: _Pending, set_id: int, justified_by: bytes) -> None:
        """Check one finalized block's proof and body; publish it unless already published."""
        assert self._publisher is not None
        record, header = p.record, p.header
        try:
            values = verify_storage_proof(
                header.state_root,
                record.proof,
                record.keys,
                number=record.number,
                block_hash=record.hash,
            )
            verify_body(
                header.extrinsics_root, record.body, number=record.number, block_hash=record.hash
            )
        except LightClientError as e:
            raise InvalidData(p.seq, record.number, str(e)) from None
        published_number, published_hash = self._verified_last
        if record.number < published_number:
            return
        if record.number == published_number:
            if record.hash != published_hash:
                raise BusError(
                    f"verified stream holds #{published_number} 0x{published_hash.hex()}, "
                    f"re-verification gives 0x{record.hash.hex()}"
                )
            return
        verified = VerifiedBlockRecord(
            number=record.number,
            hash=record.hash,
            parent_hash=header.parent_hash,
            header=record.header,
            set_id=set_id,
            justified_by=justified_by,
            storage=[StorageItem(key=k, value=values[k]) for k in record.keys],
            extrinsics=record.body,
        )
        await self._publisher.publish(
            msg_id(self.genesis, record.number, record.hash),
            verified.to_bytes(),
            f"verified block #{record.number}",
        )
        self._verified_last = (record.number, record.hash)
        self.progress.verified_blocks += 1

    # -- durable state ---------------------------------------------------------------------

    def _note_finalized(self) -> None:
        assert self.client is not None
        self.progress.finalized = self.client.finalized.number
        self.progress.set_id = self.client.authority_set.set_id

    async def _checkpoint(self, seq: int) -> None:
        assert self.client is not None and self._kv is not None
        finalized = self.client.finalized
        cp = ValidatorCheckpoint(
            raw_seq=seq, number=finalized.number, hash=finalized.hash, state=self.client.to_bytes()
        )
        await self._kv.put(checkpoint_key(self.genesis), cp.to_bytes())
        self._raw_seq = seq
        self._note_finalized()

    async def _write_status(self, state: str, error: str | None = None) -> None:
        if self._kv is None:
            return
        finalized = self.client.finalized if self.client is not None else None
        status = ValidatorStatus(
            state=state,  # type: ignore[arg-type]
            finalized_number=finalized.number if finalized is not None else 0,
            finalized_hash=finalized.hash if finalized is not None else b"",
            set_id=self.progress.set_id,
            raw_seq=self._raw_seq,
            verified_blocks=self.progress.verified_blocks,
            invalid_records=self.progress.invalid_records,
            last_error=error if error is not None else self.progress.last_error,
            updated_at=time.time(),
        )
        try:
            await self._kv.put(status_key(self.genesis), status.to_bytes())
        except (APIError, TimeoutError) as e:
            log.warning("cannot write validator status: %s", e)


class ValidatorService:
    """Validates every chain found on the bus (or only the configured one)."""

    def __init__(self, settings: Settings, bus: Bus, stop: asyncio.Event) -> None:
        self.settings = settings
        self.bus = bus
        self.stop = stop
        self.chains: dict[bytes, ChainValidator] = {}
        self.failed: list[InvalidData] = []

    async def run(self) -> None:
        """Until `stop`; a chain with invalid data stops alone, the others go on. Raises the
        first `InvalidData` once every chain has stopped, so the process exits with code 3."""
        tasks: dict[bytes, asyncio.Task[None]] = {}
        try:
            while not self.stop.is_set():
                for genesis in await self._wanted():
                    if genesis not in tasks:
                        validator = ChainValidator(self.settings, self.bus, genesis, self.stop)
                        self.chains[genesis] = validator
                        tasks[genesis] = asyncio.create_task(validator.run())
                        log.info("validating chain %s", genesis.hex())
                done = [g for g, t in tasks.items() if t.done()]
                for genesis in done:
                    error = tasks[genesis].exception()
                    if isinstance(error, InvalidData):
                        self.failed.append(error)
                    elif error is not None:
                        raise error
                if self.failed and all(t.done() for t in tasks.values()):
                    raise self.failed[0]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 1.0)
        finally:
            self.stop.set()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    async def _wanted(self) -> list[bytes]:
        configured = self.settings.genesis_bytes
        if configured is not None:
            return [configured]
        return await self.bus.chains()
