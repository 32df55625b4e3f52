"""The relayer: a node's finalized blocks into the chain's raw stream, in order, exactly once.

Its position is never kept in memory across runs: it is the last record of the raw stream.
On start it reads that record (or publishes the bootstrap record into an empty stream), checks
the node agrees on that block's hash, catches up to the finalized head with many blocks in
flight, then follows `chain_subscribeFinalizedHeads`. Each block's parent must be the block
published before it, so a node that changes its mind about finality stops the relayer with
both hashes named instead of forking the stream.

Batch ends: nodes keep a justification every ~512 blocks and at each authority-set change
(`chain_getBlock` returns it); the block at the finalized head usually has none, so the relayer
asks `grandpa_proveFinality` for it, like pherry, and attaches the justification to the block
it targets. Every batch the validator sees therefore ends with a justification it can check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace

from pinkpipe.bus import (
    Bus,
    BusError,
    BusUnavailable,
    OrderedPublisher,
    RecordTooLarge,
    StoredMessage,
    msg_id,
    raw_spec,
    raw_stream,
    raw_subject,
)
from pinkpipe.bus.records import BootstrapRecord, RawBlockRecord, RecordError, decode_raw
from pinkpipe.chain.errors import OperationalError
from pinkpipe.chain.header import Header
from pinkpipe.chain.keys import GENESIS_KEYS
from pinkpipe.chain.scale import CodecError
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.relayer.node import (
    ChainInfo,
    FetchedBlock,
    FinalityTarget,
    Node,
    NodeError,
    header_from_json,
    storage_key_names,
)
from pinkpipe.relayer.rpc import RpcError, Subscription

log = logging.getLogger(__name__)

RECENT_HASHES = 4096
"""Published hashes remembered to check later finality notifications against."""
HEAD_POLL_S = 1.0


class RelayerError(OperationalError):
    """The relayer must stop: conflicting finality, a node that stays wrong, a record too big,
    a raw stream holding what this relayer did not write."""


@dataclass
class RelayerProgress:
    """Live numbers for progress output (read by the CLI and `pinkpipe run`)."""

    genesis: bytes = b""
    published: int = -1
    head: int = 0
    blocks: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def lag(self) -> int:
        return max(0, self.head - self.published)


@dataclass(frozen=True, slots=True)
class _Position:
    number: int
    hash: bytes
    seq: int


class Relayer:
    """Relays one node's chain; `run()` returns when `stop` is set (after pending acks)."""

    def __init__(
        self, settings: RelayerSettings, bus: Bus, node_url: str, stop: asyncio.Event
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.stop = stop
        self.node = Node(
            node_url,
            bus.settings.storage_key_bytes,
            timeout_s=settings.rpc_timeout_s,
            retries=settings.rpc_retries,
            batch=settings.rpc_batch,
        )
        self.progress = RelayerProgress()
        self.info: ChainInfo | None = None
        self._genesis = b""
        self._position = _Position(-1, b"", 0)
        self._publisher: OrderedPublisher | None = None
        self._recent: OrderedDict[int, bytes] = OrderedDict()
        self._targets: dict[int, FinalityTarget] = {}
        self._sub: Subscription | None = None
        self._names: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self._start()
            await self._loop()
        except NodeError as e:
            raise RelayerError(str(e)) from None
        finally:
            if self._publisher is not None:
                if self.bus.nc.is_connected:  # acks cannot come during an outage
                    with contextlib.suppress(BusError):
                        await self._publisher.flush()
                await self._publisher.close()
            await self.node.close()
            if self._names is not None:  # its thread holds a node connection: let it end
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._names, 10)

    async def _start(self) -> None:
        self.info = await self.node.chain_info()
        self._genesis = self.info.genesis_hash
        self.progress.genesis = self._genesis
        log.info(
            "node %s: chain %r, genesis 0x%s, runtime %s/%d",
            self.node.url,
            self.info.chain,
            self._genesis.hex(),
            self.info.spec_name,
            self.info.spec_version,
        )
        self._names = asyncio.create_task(self._describe_keys())
        await self.node.connect()
        spec = raw_spec(self.bus.settings, self._genesis, self.bus.max_payload)
        await self.bus.ensure_stream(spec, owner=True)

    async def _describe_keys(self) -> None:
        """Log what the proven keys are in this runtime (metadata decoding is slow, so it runs
        beside the relaying rather than before it)."""
        keys = self.node.storage_keys
        try:
            names = await asyncio.to_thread(storage_key_names, self.node.url, keys)
        except Exception as e:  # metadata is informative only: never stop relaying for it
            log.warning("cannot read the runtime metadata: %s", e)
            return
        for key in keys:
            log.info("proving 0x%s: %s", key.hex(), names[key] or "not in the runtime metadata")

    async def _resync(self, check_after: int | None = None) -> None:
        """Position := the stream's last record (bootstrapping an empty stream), checked
        against the node. After a failed publish (`check_after` = the last acknowledged
        sequence) the records behind it must first be proven to be this relayer's: with many
        publishes in flight, a second writer's message can make one publish fail and let the
        next one land, which would leave a block out."""
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None
        stream, subject = raw_stream(self._genesis), raw_subject(self._genesis)
        if check_after:
            await self._check_tail(check_after)
        last = await self.bus.last_message(stream, subject)
        if last is None:
            self._position = await self._bootstrap()
            return
        try:
            record = decode_raw(last.data, stream, last.seq)
        except RecordError as e:
            raise RelayerError(f"cannot resume: {e}") from None
        if self.settings.from_block != 1 and self._position.number < 0:
            log.warning("stream %s already holds records: --from is ignored", stream)
        self._position = _Position(record.number, record.hash, last.seq)
        await self._check_resume()
        await self._new_publisher()
        log.info(
            "resuming after #%d 0x%s (stream sequence %d)",
            record.number,
            record.hash.hex(),
            last.seq,
        )

    async def _check_tail(self, anchor_seq: int) -> None:
        """Every record after `anchor_seq` must continue the chain at `anchor_seq` (number +1,
        parent hash, message id); anything else stops the relayer naming it."""
        stream = raw_stream(self._genesis)
        anchor = await self.bus.message(stream, anchor_seq)
        if anchor is None:
            raise RelayerError(f"{stream} lost its acknowledged message {anchor_seq}")
        number, block_hash = self._record_position(anchor)
        for message in await self.bus.messages_after(stream, anchor_seq):
            found = self._record_position(message, parent=(number, block_hash))
            number, block_hash = found
        log.info("%s: records after sequence %d are contiguous", stream, anchor_seq)

    def _record_position(
        self, message: StoredMessage, parent: tuple[int, bytes] | None = None
    ) -> tuple[int, bytes]:
        """(number, hash) of one of this relayer's records; with `parent`, it must be the
        block right after it."""
        stream = raw_stream(self._genesis)
        try:
            record = decode_raw(message.data, stream, message.seq)
            if parent is not None:
                if not isinstance(record, RawBlockRecord):
                    raise RecordError(stream, message.seq, "a second bootstrap record")
                header = Header.decode(record.header)
                if record.number != parent[0] + 1 or header.parent_hash != parent[1]:
                    raise RecordError(
                        stream, message.seq, f"#{record.number} does not follow #{parent[0]}"
                    )
            if message.msg_id != msg_id(self._genesis, record.number, record.hash):
                raise RecordError(stream, message.seq, f"message id {message.msg_id!r}")
        except (RecordError, CodecError) as e:
            raise RelayerError(
                f"{stream} sequence {message.seq} (message id {message.msg_id!r}) was not "
                f"written by this relayer: {e}. Another writer is publishing to the raw stream; "
                f"stop it, then `pinkpipe bus truncate --genesis 0x{self._genesis.hex()} "
                f"--after-seq {message.seq - 1}` and restart"
            ) from None
        return record.number, record.hash

    async def _new_publisher(self) -> None:
        stream = raw_stream(self._genesis)
        self._publisher = OrderedPublisher(
            self.bus.nc,
            stream,
            raw_subject(self._genesis),
            self._position.seq,
            self.bus.max_payload,
            window=self.bus.settings.publish_window,
            stream_last_seq=await self.bus.last_seq(stream),
            check_alive=self.bus.check_outage,
        )
        self._remember(self._position.number, self._position.hash)
        self.progress.published = self._position.number

    async def _wait_finalized(self, number: int) -> bool:
        """Wait until the node has finalized `number` (a restarted devnet catching up);
        False when asked to stop first."""
        warned = False
        while not self.stop.is_set():
            head, _ = await self.node.finalized_head()
            self.progress.head = head
            if head >= number:
                return True
            if not warned:
                log.info("node finalized #%d, below #%d; waiting", head, number)
                warned = True
            await asyncio.sleep(HEAD_POLL_S)
        return False

    async def _check_resume(self) -> None:
        pos = self._position
        if not await self._wait_finalized(pos.number):
            return
        node_hash = await self.node.block_hash(pos.number)
        if node_hash != pos.hash:
            raise RelayerError(
                f"finality conflict at #{pos.number}: the stream holds 0x{pos.hash.hex()} but "
                f"the node reports {_hex(node_hash)}"
            )

    async def _bootstrap(self) -> _Position:
        assert self.info is not None
        number = self.settings.from_block - 1
        if not await self._wait_finalized(number):
            return self._position
        block_hash = await self.node.block_hash(number)
        if block_hash is None:
            raise RelayerError(f"node has no block #{number} to bootstrap from")
        if number == 0 and block_hash != self._genesis:
            raise RelayerError(f"node's block #0 is 0x{block_hash.hex()}, not its genesis")
        header = await self.node.header_at(number, block_hash)
        what = f"bootstrap block #{number} 0x{block_hash.hex()}"
        proof = await self.node.read_proof(GENESIS_KEYS, block_hash, what)
        record = BootstrapRecord(
            genesis_hash=self._genesis,
            number=number,
            hash=block_hash,
            header=header.encode(),
            proof=proof,
            chain=self.info.chain,
            spec_name=self.info.spec_name,
            spec_version=self.info.spec_version,
        )
        self._position = _Position(number, block_hash, 0)
        await self._new_publisher()
        assert self._publisher is not None
        await self._publisher.publish(
            msg_id(self._genesis, number, block_hash), record.to_bytes(), what
        )
        seq = await self._publisher.flush()
        log.info("published %s (%s)", what, "genesis" if number == 0 else "checkpoint")
        return _Position(number, block_hash, seq)

    # -- main loop -------------------------------------------------------------------------

    async def _loop(self) -> None:
        failures = 0
        check_after: int | None = None
        while not self.stop.is_set():
            try:
                self.bus.check_outage()
                if self._publisher is None:
                    await self._resync(check_after)
                    check_after = None
                    continue
                head, head_hash = await self.node.finalized_head()
                self.progress.head = head
                if head > self._position.number:
                    await self._relay(self._position.number + 1, head, head_hash)
                    failures = 0
                else:
                    await self._wait_head()
            except RecordTooLarge as e:
                raise RelayerError(str(e)) from None
            except BusUnavailable:
                raise
            except BusError as e:
                if self._publisher is not None:
                    check_after = check_after or self._publisher.acked_seq
                    await self._publisher.close()
                    self._publisher = None
                if not self.bus.nc.is_connected:
                    log.warning("publishing stopped (%s); waiting for NATS", e)
                    await self.bus.wait_connected(self.stop)
                    continue
                failures += 1
                if failures > self.settings.rpc_retries:
                    raise RelayerError(f"publishing failed {failures} times: {e}") from None
                log.warning("publish failed (%s); resuming from the stream", e)
                await asyncio.sleep(self.node.backoff(failures))

    async def _wait_head(self) -> None:
        """Wait for a finality notification (or the poll interval) and check it."""
        try:
            if self._sub is None:
                self._sub = await self.node.client.subscribe(
                    "chain_subscribeFinalizedHeads", [], "chain_unsubscribeFinalizedHeads"
                )
            value = await self._sub.next(HEAD_POLL_S)
        except TimeoutError:
            return
        except RpcError as e:
            log.info("finalized-head subscription lost (%s); polling and resubscribing", e)
            self._sub = None
            await asyncio.sleep(HEAD_POLL_S)
            return
        header = header_from_json(value, "finalized head notification")
        self.progress.head = max(self.progress.head, header.number)
        published = self._recent.get(header.number)
        if published is not None and published != header.hash():
            raise RelayerError(
                f"finality conflict at #{header.number}: published 0x{published.hex()}, "
                f"node now reports 0x{header.hash().hex()}"
            )

    async def _relay(self, first: int, last: int, last_hash: bytes) -> None:
        """Fetch `first..last` with a window of chunks in flight; publish in order."""
        size = self.node.batch
        chunks = deque((a, min(a + size - 1, last)) for a in range(first, last + 1, size))
        window = max(1, self.settings.rpc_window // size)
        in_flight: deque[asyncio.Task[list[FetchedBlock]]] = deque()
        try:
            while (chunks or in_flight) and not self.stop.is_set():
                while chunks and len(in_flight) < window:
                    a, b = chunks.popleft()
                    in_flight.append(asyncio.create_task(self.node.fetch_blocks(a, b)))
                for block in await in_flight.popleft():
                    if block.number == last:
                        block = await self._tip(block, last_hash)
                    await self._publish(block)
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
        assert self._publisher is not None
        await self._publisher.flush()

    async def _tip(self, block: FetchedBlock, head_hash: bytes) -> FetchedBlock:
        """The finalized head: check it is the node's head and get it a justification."""
        if block.hash != head_hash:
            raise RelayerError(
                f"finality conflict at #{block.number}: finalized head is 0x{head_hash.hex()} "
                f"but the node's block #{block.number} is 0x{block.hash.hex()}"
            )
        if block.justification is not None:
            return block
        target = await self.node.prove_finality(block.number)
        if target is None:
            return block
        if target.number == block.number and target.hash == block.hash:
            return replace(block, justification=target.justification)
        if target.number > block.number:
            self._targets[target.number] = target
        return block

    async def _publish(self, block: FetchedBlock) -> None:
        pos = self._position
        if block.number != pos.number + 1 or block.header.parent_hash != pos.hash:
            raise RelayerError(
                f"finality conflict at #{block.number}: its parent is "
                f"0x{block.header.parent_hash.hex()} but #{pos.number} was published as "
                f"0x{pos.hash.hex()}"
            )
        target = self._targets.pop(block.number, None)
        if block.justification is None and target is not None and target.hash == block.hash:
            block = replace(block, justification=target.justification)
        record = RawBlockRecord(
            number=block.number,
            hash=block.hash,
            header=block.header.encode(),
            body=block.body,
            justification=block.justification,
            keys=list(self.node.storage_keys),
            proof=block.proof,
        )
        assert self._publisher is not None
        await self._publisher.publish(
            msg_id(self._genesis, block.number, block.hash), record.to_bytes(), block.label
        )
        self._position = _Position(block.number, block.hash, self._publisher.sent_seq)
        self._remember(block.number, block.hash)
        self.progress.published = block.number
        self.progress.blocks += 1

    def _remember(self, number: int, block_hash: bytes) -> None:
        self._recent[number] = block_hash
        while len(self._recent) > RECENT_HASHES:
            self._recent.popitem(last=False)


def _hex(value: bytes | None) -> str:
    return "no block" if value is None else "0x" + value.hex()
