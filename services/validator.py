"""The validator service: raw records in, verified blocks out, one light client per chain.

For each chain it reads the raw stream in order through the bus's durable consumer, from its
checkpoint on: the bootstrap record starts the light client; block records are buffered until
one carries the justification that ends their batch; the batch is imported (links,
authority-set hand-offs, signatures), then every block's read proof (of every storage key the
configuration requires) and body are checked against its now-finalized header and one
verified record per block is published. Only after those publishes are acknowledged is the
batch acked and the light-client state checkpointed (authenticated) in KV.

Restart: the checkpoint gives the light client and the stream positions. Whatever the
verified stream holds after the checkpoint's position (published before a crash, or written by
someone else) is never assumed: as the blocks are verified again, each must equal the record
already there (then it is not published twice), and anything else stops the chain.

Failure isolation: invalid data stops that chain at the offending block (the record stays in
the raw stream unacknowledged; nothing from it on is published; the error goes to the log, the
chain's KV status and the exit code 3); any other failure of one chain stops that chain only.
An outage of NATS is waited out (and the chain resumed from its checkpoint) until the bus's
outage limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinkpipe.bus import (
    Bus,
    BusError,
    BusUnavailable,
    CheckpointStore,
    ConsumerSpec,
    Delivery,
    OrderedConsumer,
    OrderedPublisher,
    msg_id,
    raw_spec,
    raw_stream,
    verified_spec,
    verified_stream,
    verified_subject,
)
from pinkpipe.bus.client import describe
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
from pinkpipe.bus.streams import VALIDATOR_CONSUMER, StreamSpec
from pinkpipe.chain.errors import InvalidChainData, PinkpipeError
from pinkpipe.chain.header import Header
from pinkpipe.chain.keys import GENESIS_KEYS
from pinkpipe.chain.scale import CodecError
from pinkpipe.validator import (
    LightClient,
    LightClientError,
    genesis_authorities,
    verify_body,
    verify_storage_proof,
)

log = logging.getLogger(__name__)

MAX_RECENT = 128
"""Finalized blocks the light client remembers; proofs are checked against the batch's own
headers, so it only needs enough to recognise a replayed batch."""
MAX_ACK_PENDING = 20_000
"""Records a batch may buffer before its justification arrives (nodes justify every ~512)."""
BUFFER_WARNING = 2_048
SESSION_RETRIES = 5
"""Failures in a row (NATS up, no progress in between) before a chain is given up."""
STATUS_EVERY_S = 10.0
"""A running validator rewrites its status at least this often, so a stale one shows."""
_CHECKPOINT = re.compile(r"(\d+):(?:0x)?([0-9a-fA-F]{64})")


class ValidatorSettings(BaseModel):
    """The validator service's settings section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    genesis: str | None = Field(None, description="validate only this chain (genesis hash hex)")
    trusted_checkpoint: str | None = Field(
        None, description="validator: accept a checkpoint bootstrap at `NUMBER:0xHASH`"
    )
    validator_fetch: int = Field(512, ge=1, le=10000, description="raw records per pull")
    validator_ack_wait_s: float = Field(
        600.0, gt=0, description="consumer ack wait; records wait for their batch's justification"
    )
    validator_max_buffer_bytes: int = Field(
        512 * 1024 * 1024,
        ge=1024 * 1024,
        description="raw record bytes a batch may buffer before its justification; over it the "
        "chain stops as invalid (the relayer must end every batch with a justification)",
    )
    validator_secret_file: Path | None = Field(
        None,
        description="HMAC secret authenticating the validator's KV checkpoints "
        "(default: <data_dir>/validator.secret, created on first use)",
    )

    @field_validator("genesis")
    @classmethod
    def _genesis_hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        raw = value.removeprefix("0x")
        if not re.fullmatch(r"[0-9a-fA-F]{64}", raw):
            raise ValueError(f"genesis hash must be 32 bytes of hex, got {value!r}")
        return raw.lower()

    @field_validator("trusted_checkpoint")
    @classmethod
    def _checkpoint(cls, value: str | None) -> str | None:
        """`NUMBER:0xHASH`, normalized (lower case, `0x`) so that it compares exactly."""
        if value is None:
            return None
        match = _CHECKPOINT.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not NUMBER:0xHASH (a block number, 32-byte hash)")
        number = int(match.group(1))
        if number >= 2**32:
            raise ValueError(f"block number {number} is over the u32 range")
        return f"{number}:0x{match.group(2).lower()}"

    @property
    def genesis_bytes(self) -> bytes | None:
        return None if self.genesis is None else bytes.fromhex(self.genesis)


class InvalidData(InvalidChainData):
    """A raw record the validator refuses; the chain's validation stops here."""

    def __init__(self, genesis: bytes, seq: int, number: int | None, reason: str) -> None:
        where = f"block #{number}" if number is not None else "record"
        super().__init__(
            f"invalid {where} (raw stream sequence {seq}): {reason}. The record stays in the "
            f"stream for inspection; once the cause is fixed, `pinkpipe bus truncate --genesis "
            f"0x{genesis.hex()} --after-seq {max(0, seq - 1)}` deletes it and what follows, "
            f"and the relayer publishes again from there"
        )
        self.seq = seq
        self.number = number
        self.reason = reason


class ForeignRecord(BusError):
    """The verified stream holds a record this validator did not verify."""


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
    delivery: Delivery
    record: RawBlockRecord
    header: Header

    @property
    def seq(self) -> int:
        return self.delivery.seq


class _VerifiedTail:
    """The verified stream's records after the checkpoint's position, read one at a time:
    each must be equal to the next block the validator verifies."""

    def __init__(self, bus: Bus, genesis: bytes, after: int, last: int) -> None:
        self.bus = bus
        self.stream = verified_stream(genesis)
        self.next_seq = after + 1
        self.last = last
        self._head: tuple[int, VerifiedBlockRecord] | None = None

    async def peek(self) -> tuple[int, VerifiedBlockRecord] | None:
        while self._head is None and self.next_seq <= self.last:
            seq, self.next_seq = self.next_seq, self.next_seq + 1
            message = await self.bus.message(self.stream, seq)
            if message is None:
                continue
            try:
                self._head = (seq, decode_verified(message.data, self.stream, seq))
            except RecordError as e:
                raise ForeignRecord(f"{e}: not a record this validator wrote") from None
        return self._head

    def pop(self) -> None:
        self._head = None


class ChainValidator:
    """Validates one chain until `stop` is set or its data turns out invalid."""

    def __init__(
        self,
        settings: ValidatorSettings,
        bus: Bus,
        store: CheckpointStore,
        genesis: bytes,
        stop: asyncio.Event,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = store
        self.genesis = genesis
        self.stop = stop
        self.required_keys = bus.settings.storage_key_bytes
        self.progress = ValidatorProgress(genesis=genesis)
        self.client: LightClient | None = None
        self._raw_seq = 0
        self._verified_seq = 0
        self._published_upto = 0
        """Every block up to this number is in the verified stream."""
        self._batch: list[_Pending] = []
        self._batch_bytes = 0
        source = self._input_spec()
        self.consumer = OrderedConsumer(
            bus,
            ConsumerSpec(
                stream=source.name,
                subject=source.subject,
                durable=VALIDATOR_CONSUMER,
                ack_wait_s=settings.validator_ack_wait_s,
                max_ack_pending=MAX_ACK_PENDING,
                max_fetch=settings.validator_fetch,
                replicas=bus.settings.stream_replicas,
            ),
            stop,
        )
        self._publisher: OrderedPublisher | None = None
        self._tail: _VerifiedTail | None = None
        self._status_at = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Validate until `stop`; waits out NATS outages (resuming from the checkpoint) and
        writes the status on every way out."""
        state, error = "stopped", None
        failures = 0
        try:
            while not self.stop.is_set():
                batches = self.progress.verified_blocks
                try:
                    await self._session()
                except BusError as e:
                    if isinstance(e, BusUnavailable | ForeignRecord) or self.bus.nc.is_closed:
                        raise
                    connected = self.bus.nc.is_connected
                    failures = 0 if self.progress.verified_blocks > batches else failures + 1
                    if connected and failures > SESSION_RETRIES:
                        raise
                    log.warning(
                        "chain %s: %s; resuming from the checkpoint%s",
                        self.label,
                        e,
                        " once NATS answers" if not connected else f" (retry {failures})",
                    )
                    await self.bus.wait_connected(self.stop)
                    await asyncio.sleep(min(2**failures, 30) if connected else 0)
        except InvalidData as e:
            self.progress.invalid_records += 1
            state, error = "failed", str(e)
            raise
        except BaseException as e:
            state, error = "failed", _one_line(e)
            raise
        finally:
            self.progress.last_error = error
            await self._close()
            await self._write_status(state, error)

    @property
    def label(self) -> str:
        return self.genesis.hex()[:16]

    async def _session(self) -> None:
        """From the checkpoint to `stop` (or the first failure)."""
        await self.bus.ensure_stream(self._input_spec(), owner=False)
        await self.bus.ensure_stream(
            verified_spec(self.bus.settings, self.genesis, self.bus.max_payload), owner=True
        )
        await self._restore()
        await self.consumer.start(self._raw_seq)
        await self._write_status("running")
        while not self.stop.is_set():
            deliveries = await self.consumer.next_batch()
            for delivery in deliveries:
                self.progress.received = delivery.seq
                self.progress.lag = delivery.pending + len(self._batch) + 1
                await self._handle(delivery)
            if time.monotonic() - self._status_at >= STATUS_EVERY_S:
                await self._write_status("running")

    def _input_spec(self) -> StreamSpec:
        """The stream this validator reads (the chain's raw stream)."""
        return raw_spec(self.bus.settings, self.genesis, self.bus.max_payload)

    async def _close(self) -> None:
        if self._publisher is not None:
            await self._publisher.close()
        await self.consumer.close()

    async def _restore(self) -> None:
        """Light client and positions from the checkpoint; the verified stream's tail after
        it is kept for comparison."""
        await self._close()
        self.client, self._raw_seq, self._verified_seq, self._published_upto = None, 0, 0, 0
        self._batch, self._batch_bytes = [], 0
        payload = await self.store.load(self.genesis)
        if payload is not None:
            cp = decode_checkpoint(payload, f"checkpoint of {self.label}", 0)
            try:
                self.client = LightClient.from_bytes(cp.state)
            except LightClientError as e:
                raise BusError(f"checkpoint of {self.label} holds unusable state: {e}") from None
            if self.client.state.genesis_hash != self.genesis:
                raise BusError(f"checkpoint of {self.label} belongs to another chain")
            self._raw_seq, self._verified_seq = cp.raw_seq, cp.verified_seq
            self._published_upto = cp.number
            self._note_finalized()
            log.info(
                "chain %s: restored checkpoint at #%d (raw sequence %d)",
                self.label,
                cp.number,
                cp.raw_seq,
            )
        await self._open_verified()

    async def _open_verified(self) -> None:
        """The verified stream's tail after `_verified_seq` (kept for comparison) and the
        publisher continuing it."""
        stream, subject = verified_stream(self.genesis), verified_subject(self.genesis)
        last = await self.bus.last_message(stream, subject)
        last_seq = 0 if last is None else last.seq
        self._tail = _VerifiedTail(self.bus, self.genesis, self._verified_seq, last_seq)
        self._publisher = OrderedPublisher(
            self.bus.nc,
            stream,
            subject,
            last_seq,
            self.bus.max_payload,
            window=self.bus.settings.publish_window,
            stream_last_seq=await self.bus.last_seq(stream),
            check_alive=self.bus.check_outage,
        )

    # -- records ---------------------------------------------------------------------------

    def _invalid(self, seq: int, number: int | None, reason: str) -> InvalidData:
        return InvalidData(self.genesis, seq, number, reason)

    async def _handle(self, delivery: Delivery) -> None:
        seq = delivery.seq
        try:
            record = decode_raw(delivery.data, raw_stream(self.genesis), seq)
        except RecordError as e:
            raise self._invalid(seq, None, e.reason) from None
        if isinstance(record, BootstrapRecord):
            await self._bootstrap(delivery, record)
            return
        if self.client is None:
            raise self._invalid(seq, record.number, "block record before the bootstrap record")
        missing = [k for k in self.required_keys if k not in set(record.keys)]
        if missing:
            raise self._invalid(
                seq,
                record.number,
                "the record does not prove the required storage key(s) "
                + ", ".join(f"0x{k.hex()}" for k in missing),
            )
        try:
            header = Header.decode(record.header)
        except CodecError as e:
            raise self._invalid(seq, record.number, f"header does not decode: {e}") from None
        if header.number != record.number or header.hash() != record.hash:
            raise self._invalid(
                seq,
                record.number,
                f"header is #{header.number} 0x{header.hash().hex()}, the record says "
                f"#{record.number} 0x{record.hash.hex()}",
            )
        self._buffer(_Pending(delivery, record, header))
        if record.justification is not None:
            await self._import_batch(record.justification)

    def _buffer(self, pending: _Pending) -> None:
        """Hold a record until its batch's justification; bounded in count and bytes, since
        a relayer that never sends a justification could otherwise fill memory."""
        self._batch.append(pending)
        self._batch_bytes += len(pending.delivery.data)
        limit = self.settings.validator_max_buffer_bytes
        if self._batch_bytes > limit or len(self._batch) >= MAX_ACK_PENDING:
            raise self._invalid(
                pending.seq,
                pending.record.number,
                f"{len(self._batch)} blocks ({self._batch_bytes} bytes) buffered without a "
                f"justification, over the limit ({MAX_ACK_PENDING} blocks or "
                f"validator_max_buffer_bytes = {limit}); a batch must end with a justification",
            )
        if len(self._batch) % BUFFER_WARNING == 0:
            log.warning("%d blocks buffered waiting for a justification", len(self._batch))

    async def _bootstrap(self, delivery: Delivery, record: BootstrapRecord) -> None:
        seq = delivery.seq
        if self.client is not None:
            raise self._invalid(seq, record.number, "second bootstrap record for this chain")
        if record.genesis_hash != self.genesis:
            raise self._invalid(seq, record.number, "bootstrap record of another chain")
        try:
            if record.number == 0:
                self.client = LightClient.from_genesis_proof(
                    record.header, record.proof, genesis_hash=self.genesis, max_recent=MAX_RECENT
                )
            else:
                self.client = self._checkpoint_client(seq, record)
        except LightClientError as e:
            raise self._invalid(seq, record.number, f"bootstrap refused: {e}") from None
        log.info(
            "chain %s: light client started at #%d, set id %d",
            self.label,
            record.number,
            self.client.authority_set.set_id,
        )
        await delivery.ack()
        await self._checkpoint(seq)

    def _checkpoint_client(self, seq: int, record: BootstrapRecord) -> LightClient:
        """A checkpoint is trusted only if configured: it replaces trust in genesis."""
        expected = f"{record.number}:0x{record.hash.hex()}"
        if self.settings.trusted_checkpoint != expected:
            raise self._invalid(
                seq,
                record.number,
                f"checkpoint {expected} is not trusted (set trusted_checkpoint to accept it)",
            )
        try:
            header = Header.decode(record.header)
        except CodecError as e:
            raise self._invalid(seq, record.number, f"header does not decode: {e}") from None
        if header.hash() != record.hash or header.number != record.number:
            raise self._invalid(seq, record.number, "checkpoint header is not the trusted block")
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
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        set_id = self.client.authority_set.set_id
        before = self.client.state
        last = batch[-1]
        try:
            self.client.import_batch([p.header for p in batch], justification)
        except LightClientError as e:
            number = e.number if e.number is not None else last.record.number
            seq = next((p.seq for p in batch if p.record.number == number), last.seq)
            raise self._invalid(seq, number, str(e)) from None
        try:
            for p in batch:
                await self._publish(p, set_id, last.record.hash)
        except InvalidData:
            self.client.state = before  # the batch is not verified as a whole
            await self._publisher.flush()  # the good blocks before the bad one stay published
            raise
        await self._publisher.flush()
        await last.delivery.ack()
        await self._checkpoint(last.seq)
        self.progress.lag = max(0, self.progress.lag - len(batch))
        await self._write_status("running")

    async def _publish(self, p: _Pending, set_id: int, justified_by: bytes) -> None:
        """Check one finalized block's proof and body; publish it unless the verified
        stream's tail already holds exactly this block."""
        assert self._publisher is not None and self._tail is not None
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
            raise self._invalid(p.seq, record.number, str(e)) from None
        if await self._already_published(record):
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
        self._verified_seq = self._publisher.sent_seq
        self._published_upto = record.number
        self.progress.verified_blocks += 1

    async def _already_published(self, record: RawBlockRecord) -> bool:
        """True when the verified stream's next unmatched record is this block; a different
        record there was not written by this validator from this chain."""
        assert self._tail is not None
        if record.number <= self._published_upto:
            return True
        ahead = await self._tail.peek()
        if ahead is None:
            return False
        seq, held = ahead
        if held.number == record.number and held.hash == record.hash:
            self._tail.pop()
            self._verified_seq, self._published_upto = seq, record.number
            return True
        raise ForeignRecord(
            f"{verified_stream(self.genesis)} sequence {seq} holds #{held.number} "
            f"0x{held.hash.hex()} where the validator verified #{record.number} "
            f"0x{record.hash.hex()}: a record this validator did not write. Delete it and "
            f"what follows with `pinkpipe bus truncate --genesis 0x{self.genesis.hex()} "
            f"--stream verified --after-seq {seq - 1}`, then restart"
        )

    # -- durable state ---------------------------------------------------------------------

    def _note_finalized(self) -> None:
        assert self.client is not None
        self.progress.finalized = self.client.finalized.number
        self.progress.set_id = self.client.authority_set.set_id

    async def _checkpoint(self, seq: int) -> None:
        assert self.client is not None
        finalized = self.client.finalized
        cp = ValidatorCheckpoint(
            raw_seq=seq,
            verified_seq=self._verified_seq,
            number=finalized.number,
            hash=finalized.hash,
            state=self.client.to_bytes(),
        )
        await self.store.save(self.genesis, cp.to_bytes())
        self._raw_seq = seq
        self._note_finalized()

    async def _write_status(self, state: str, error: str | None = None) -> None:
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
        self._status_at = time.monotonic()
        if not self.bus.nc.is_connected:
            log.warning("chain %s: cannot write the validator status: NATS unreachable", self.label)
            return
        try:
            await asyncio.wait_for(self.store.save_status(self.genesis, status.to_bytes()), 5)
        except (BusError, TimeoutError) as e:
            log.warning("chain %s: cannot write the validator status: %s", self.label, describe(e))


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, PinkpipeError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class ValidatorService:
    """Validates every chain found on the bus (or only the configured one)."""

    def __init__(
        self,
        settings: ValidatorSettings,
        bus: Bus,
        store: CheckpointStore,
        stop: asyncio.Event,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = store
        self.stop = stop
        self.chains: dict[bytes, ChainValidator] = {}
        self.failed: dict[bytes, BaseException] = {}

    async def run(self) -> None:
        """Until `stop`; a chain that fails stops alone, the others go on. Once every chain
        has stopped and one failed, raises that failure (invalid data first), so the process
        exit code says what happened."""
        tasks: dict[bytes, asyncio.Task[None]] = {}
        try:
            while not self.stop.is_set():
                self.bus.check_outage()
                for genesis in await self._wanted():
                    if genesis not in tasks:
                        validator = self._chain_validator(genesis)
                        self.chains[genesis] = validator
                        tasks[genesis] = asyncio.create_task(validator.run())
                        log.info("validating chain %s", genesis.hex())
                for genesis, task in tasks.items():
                    if task.done() and genesis not in self.failed and task.exception():
                        error = task.exception()
                        assert error is not None
                        self.failed[genesis] = error
                        if not isinstance(error, InvalidData):
                            log.error("chain %s stopped: %s", genesis.hex()[:16], _one_line(error))
                if self.failed and all(t.done() for t in tasks.values()):
                    raise self.first_failure()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 1.0)
        finally:
            self.stop.set()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    def _chain_validator(self, genesis: bytes) -> ChainValidator:
        return ChainValidator(self.settings, self.bus, self.store, genesis, self.stop)

    def first_failure(self) -> BaseException:
        errors = list(self.failed.values())
        return next((e for e in errors if isinstance(e, InvalidData)), errors[0])

    async def _wanted(self) -> list[bytes]:
        configured = self.settings.genesis_bytes
        if configured is not None:
            return [configured]
        if not self.bus.nc.is_connected:  # listed again once NATS answers
            return []
        try:
            return await self.bus.chains()
        except BusError as e:
            log.warning("cannot list the chains on the bus: %s", e)
            await self.bus.wait_connected(self.stop)
            return []
