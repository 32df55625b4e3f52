"""Parachain mode's relayer: a relay node and a parachain node into one raw stream.

The parachain has no GRANDPA; its blocks are final once a finalized relay block holds their
head in `Paras::Heads(para_id)`. So the relayer follows the relay chain's finalized blocks as
the standalone relayer does (headers, a justification at each batch end, the tip's from
`grandpa_proveFinality`), proves `Paras::Heads(para_id)` at every batch end, and then relays
the parachain's blocks (headers, bodies, read proofs of the Phala keys against the
parachain's own state roots) up to the head proven there. This is Phala's pherry in
`--parachain` mode (phala-blockchain `standalone/pherry/src/lib.rs`:
`get_finalized_header_with_paraid`, `sync_parachain_header`).

One stream (`PINKPIPE_PARARAW_<parachain genesis>`) holds both chains' records interleaved in
the order the validator needs them: the bootstrap, then per relay batch its relay records
(the last one with the justification and the heads proof), then the parachain records up to
the proven head. Its position is never kept across runs: it is read back from the stream's
tail (the last relay record, the last parachain record, and whether the parachain run the
last batch end asks for is complete).

The head a relay block proves is decoded here only to know how far to fetch (untrusted: the
validator proves it again); a parachain node whose block at that height differs is reported,
and its blocks are relayed anyway so that the validator refuses them naming the block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from pinkpipe.bus import (
    Bus,
    OrderedPublisher,
    StoredMessage,
    msg_id,
)
from pinkpipe.bus.records import (
    BootstrapRecord,
    ParachainBootstrapRecord,
    RawBlockRecord,
    RecordError,
    RelayBlockRecord,
    decode_para_raw,
)
from pinkpipe.bus.streams import para_raw_spec, para_raw_stream, para_raw_subject
from pinkpipe.chain.errors import InvalidChainData
from pinkpipe.chain.header import Header
from pinkpipe.chain.keys import GENESIS_KEYS
from pinkpipe.chain.parachain import PARACHAIN_ID_KEY, decode_para_id, paras_heads_key
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.relayer.node import FetchedBlock, Node, NodeError, hex_bytes
from pinkpipe.relayer.relayer import HEAD_POLL_S, Relayer, RelayerError, RelayerProgress
from pinkpipe.relayer.rpc import RpcCallError
from pinkpipe.validator.parachain import ParachainError, ParachainState, RelayBlock, proven_head

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tip:
    """A chain's last relayed block in the stream."""

    number: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the stream's tail stands: the last relay and parachain blocks, the parachain
    head the last batch end proved while the blocks up to it are not all relayed yet
    (`target`), and the stream sequence of the last record."""

    relay: Tip
    para: Tip
    target: Tip | None
    seq: int


@dataclass
class ParachainRelayerProgress(RelayerProgress):
    """`head` is the relay chain's finalized head, `relay` the last relay block relayed;
    `published` the last parachain block relayed, `para_head` the highest head proven."""

    relay: int = -1
    para_head: int = 0

    @property
    def lag(self) -> int:
        return max(0, self.para_head - self.published)


def untrusted_head(para_id: int, relay: RelayBlockRecord) -> Tip | None:
    """The parachain head a batch-end relay record proves, to know how far to fetch (None:
    none provable; the validator will refuse that relay block, naming why)."""
    if relay.heads_proof is None:
        return None
    try:
        header = Header.decode(relay.header)
        block = RelayBlock(relay.number, relay.hash, header.state_root)
        head = proven_head(ParachainState(para_id), block, relay.heads_proof)
    except (InvalidChainData, ParachainError):
        return None
    return Tip(head.number, head.hash())


class ParachainRelayer(Relayer):
    """Relays one parachain with its relay chain; `run()` returns when `stop` is set.

    The standalone relayer's loop, finality-head checks and tip justification
    (`grandpa_proveFinality`) run on the relay node (`self.node`); the stream position, the
    bootstrap and what a relay block entails are this class's.
    """

    def __init__(
        self,
        settings: RelayerSettings,
        bus: Bus,
        relay_url: str,
        para_url: str,
        stop: asyncio.Event,
    ) -> None:
        super().__init__(settings, bus, relay_url, stop)
        self.node = Node(
            relay_url,
            (),
            timeout_s=settings.rpc_timeout_s,
            retries=settings.rpc_retries,
            batch=settings.rpc_batch,
        )
        self.para = Node(
            para_url,
            bus.settings.storage_key_bytes,
            timeout_s=settings.rpc_timeout_s,
            retries=settings.rpc_retries,
            batch=settings.rpc_batch,
        )
        self.progress = ParachainRelayerProgress()
        self.para_id = settings.para_id
        self.relay_genesis = b""
        self.para_genesis = b""
        self.cursor = Cursor(Tip(-1, b""), Tip(-1, b""), None, 0)

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            await self.para.close()

    @property
    def stream(self) -> str:
        return para_raw_stream(self.para_genesis)

    async def _start(self) -> None:
        relay_info, para_info = await asyncio.gather(self.node.chain_info(), self.para.chain_info())
        self.relay_genesis, self.para_genesis = relay_info.genesis_hash, para_info.genesis_hash
        self._genesis = self.para_genesis
        self.progress.genesis = self.para_genesis
        await asyncio.gather(self.node.connect(), self.para.connect())
        if self.para_id is None:
            self.para_id = await read_para_id(self.para)
        log.info(
            "relay %s (genesis 0x%s), parachain %s (genesis 0x%s), para id %d",
            self.node.url,
            self.relay_genesis.hex(),
            self.para.url,
            self.para_genesis.hex(),
            self.para_id,
        )
        spec = para_raw_spec(self.bus.settings, self.para_genesis, self.bus.max_payload)
        await self.bus.ensure_stream(spec, owner=True)

    def _move(self, cursor: Cursor) -> None:
        """The cursor, mirrored into the standalone loop's relay position."""
        self.cursor = cursor
        self._position = replace(
            self._position, number=cursor.relay.number, hash=cursor.relay.hash, seq=cursor.seq
        )

    async def _resync(self, check_after: int | None = None) -> None:
        """Cursor := the stream's tail (bootstrapping an empty stream), after a failed
        publish first proving every record after `check_after` continues the stream; then
        the parachain run a batch end asks for is finished."""
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None
        last_seq = await self.bus.last_seq(self.stream)
        if check_after:
            cursor = await self._cursor_at(check_after)
            for message in await self.bus.messages_after(self.stream, check_after):
                cursor = self._follow(cursor, message)
            log.info("%s: records after sequence %d are contiguous", self.stream, check_after)
        cursor = await self._cursor_at(last_seq) if last_seq else None
        if cursor is None:
            await self._start_stream()
            return
        node_hash = await self.node.block_hash(cursor.relay.number)
        if node_hash != cursor.relay.hash:
            raise RelayerError(
                f"relay finality conflict at #{cursor.relay.number}: the stream holds "
                f"0x{cursor.relay.hash.hex()} but the relay node reports {_hex(node_hash)}"
            )
        self._move(cursor)
        await self._open_publisher()
        log.info(
            "resuming after relay #%d, parachain #%d (stream sequence %d)",
            cursor.relay.number,
            cursor.para.number,
            self.cursor.seq,
        )
        if self.cursor.target is not None:
            await self._relay_para(self.cursor.target)

    async def _cursor_at(self, seq: int) -> Cursor | None:
        """The cursor right after sequence `seq`, read backwards from it: the last relay
        record, the last parachain record (or the bootstrap's genesis), and the head the last
        batch end proves when the parachain blocks after it stop short of it."""
        relay: RelayBlockRecord | None = None
        para: Tip | None = None
        while seq > 0 and (relay is None or para is None):
            message = await self.bus.message(self.stream, seq)
            seq -= 1
            if message is None:
                continue
            record = self._decode(message)
            if isinstance(record, RawBlockRecord):
                para = para or Tip(record.number, record.hash)
            elif isinstance(record, RelayBlockRecord):
                relay = relay or record
            else:
                relay_tip = Tip(record.relay.number, record.relay.hash)
                para = para or Tip(0, record.para_genesis_hash)
                return Cursor(relay_tip if relay is None else _tip(relay), para, None, 0)
        if relay is None or para is None:
            return None
        assert self.para_id is not None
        head = untrusted_head(self.para_id, relay)
        target = head if head is not None and head.number > para.number else None
        return Cursor(_tip(relay), para, target, 0)

    def _decode(
        self, message: StoredMessage
    ) -> ParachainBootstrapRecord | RelayBlockRecord | RawBlockRecord:
        try:
            return decode_para_raw(message.data, self.stream, message.seq)
        except RecordError as e:
            raise RelayerError(f"cannot resume: {e}") from None

    def _follow(self, cursor: Cursor, message: StoredMessage) -> Cursor:
        """`cursor` after `message`, which must be the next record of one of the chains."""
        try:
            record = decode_para_raw(message.data, self.stream, message.seq)
            if isinstance(record, ParachainBootstrapRecord):
                raise RecordError(self.stream, message.seq, "a second bootstrap record")
            header = Header.decode(record.header)
            genesis, tip = (
                (self.relay_genesis, cursor.relay)
                if isinstance(record, RelayBlockRecord)
                else (self.para_genesis, cursor.para)
            )
            if record.number != tip.number + 1 or header.parent_hash != tip.hash:
                raise RecordError(
                    self.stream, message.seq, f"#{record.number} does not follow #{tip.number}"
                )
            if message.msg_id != msg_id(genesis, record.number, record.hash):
                raise RecordError(self.stream, message.seq, f"message id {message.msg_id!r}")
        except (RecordError, InvalidChainData) as e:
            raise RelayerError(
                f"{self.stream} sequence {message.seq} (message id {message.msg_id!r}) was not "
                f"written by this relayer: {e}. Stop the other writer, then delete it and what "
                f"follows (`nats stream rmm`), and restart"
            ) from None
        moved = Tip(record.number, record.hash)
        if isinstance(record, RelayBlockRecord):
            return replace(cursor, relay=moved, seq=message.seq)
        return replace(cursor, para=moved, seq=message.seq)

    async def _open_publisher(self) -> None:
        self._publisher = OrderedPublisher(
            self.bus.nc,
            self.stream,
            para_raw_subject(self.para_genesis),
            await self.bus.last_seq(self.stream),
            self.bus.max_payload,
            window=self.bus.settings.publish_window,
        )
        self._move(replace(self.cursor, seq=self._publisher.sent_seq))
        self._remember(self.cursor.relay.number, self.cursor.relay.hash)
        self.progress.published = self.cursor.para.number
        self.progress.relay = self.cursor.relay.number

    async def _start_stream(self) -> None:
        """The bootstrap record into an empty stream: the relay genesis (header and GRANDPA
        set proof), the para id and the parachain's genesis hash."""
        assert self.para_id is not None
        block_hash = await self.node.block_hash(0)
        if block_hash != self.relay_genesis:
            raise RelayerError(f"relay node's block #0 is {_hex(block_hash)}, not its genesis")
        header = await self.node.header_at(0, block_hash)
        proof = await self.node.read_proof(GENESIS_KEYS, block_hash, "relay genesis")
        record = ParachainBootstrapRecord(
            relay=BootstrapRecord(
                genesis_hash=block_hash,
                number=0,
                hash=block_hash,
                header=header.encode(),
                proof=proof,
            ),
            para_id=self.para_id,
            para_genesis_hash=self.para_genesis,
        )
        self._move(Cursor(Tip(0, block_hash), Tip(0, self.para_genesis), None, 0))
        await self._open_publisher()
        await self._send(msg_id(self.para_genesis, 0, self.para_genesis), record, "bootstrap")
        assert self._publisher is not None
        await self._publisher.flush()
        log.info("published the parachain bootstrap (relay genesis, para id %d)", self.para_id)

    # -- relaying --------------------------------------------------------------------------

    async def _relay(self, first: int, last: int, last_hash: bytes) -> None:
        """Relay blocks `first..last`, each batch end followed by the parachain's blocks up
        to the head it proves."""
        blocks = fetch_range(self.node, first, last, self.settings.rpc_window)
        async with contextlib.aclosing(blocks):
            async for block in blocks:
                if self.stop.is_set():
                    break
                if block.number == last:
                    block = await self._tip(block, last_hash)
                await self._relay_block(block)
                if self.cursor.target is not None:
                    await self._relay_para(self.cursor.target)
        assert self._publisher is not None
        await self._publisher.flush()

    async def _relay_block(self, block: FetchedBlock) -> None:
        relay = self.cursor.relay
        if block.number != relay.number + 1 or block.header.parent_hash != relay.hash:
            raise RelayerError(
                f"relay finality conflict at #{block.number}: its parent is "
                f"0x{block.header.parent_hash.hex()} but #{relay.number} was published as "
                f"0x{relay.hash.hex()}"
            )
        target = self._targets.pop(block.number, None)
        justification = block.justification
        if justification is None and target is not None and target.hash == block.hash:
            justification = target.justification
        heads_proof = None
        if justification is not None:
            assert self.para_id is not None
            heads_proof = await self.node.read_proof(
                [paras_heads_key(self.para_id)], block.hash, f"Paras::Heads at relay {block.label}"
            )
        record = RelayBlockRecord(
            number=block.number,
            hash=block.hash,
            header=block.header.encode(),
            justification=justification,
            heads_proof=heads_proof,
        )
        await self._send(msg_id(self.relay_genesis, block.number, block.hash), record, block.label)
        head = untrusted_head(self.para_id or 0, record)
        ahead = head if head is not None and head.number > self.cursor.para.number else None
        self._move(replace(self.cursor, relay=Tip(block.number, block.hash), target=ahead))
        self._remember(block.number, block.hash)
        self.progress.relay = block.number
        if head is not None:
            self.progress.para_head = max(self.progress.para_head, head.number)

    async def _relay_para(self, target: Tip) -> None:
        """The parachain's blocks after the last one relayed, up to the proven head."""
        await self._wait_para(target.number)
        first = self.cursor.para.number + 1
        blocks = fetch_range(self.para, first, target.number, self.settings.rpc_window)
        async with contextlib.aclosing(blocks):
            async for block in blocks:
                await self._relay_para_block(block, target)
        self._move(replace(self.cursor, target=None))

    async def _relay_para_block(self, block: FetchedBlock, target: Tip) -> None:
        para = self.cursor.para
        if block.number != para.number + 1 or block.header.parent_hash != para.hash:
            raise RelayerError(
                f"parachain block {block.label} does not extend #{para.number} "
                f"0x{para.hash.hex()} relayed before it: the parachain node switched forks"
            )
        if block.number == target.number and block.hash != target.hash:
            log.error(
                "the parachain node's block %s differs from the head 0x%s the relay chain "
                "proves; relaying the node's blocks, which the validator will refuse",
                block.label,
                target.hash.hex(),
            )
        record = RawBlockRecord(
            number=block.number,
            hash=block.hash,
            header=block.header.encode(),
            body=block.body,
            keys=list(self.para.storage_keys),
            proof=block.proof,
        )
        await self._send(msg_id(self.para_genesis, block.number, block.hash), record, block.label)
        self._move(replace(self.cursor, para=Tip(block.number, block.hash)))
        self.progress.published = block.number
        self.progress.blocks += 1

    async def _wait_para(self, number: int) -> None:
        """A parachain node behind the relay chain's inclusion is waited for, not an error."""
        warned = False
        while not self.stop.is_set() and await self.para.block_hash(number) is None:
            if not warned:
                log.info("parachain node has no block #%d yet; waiting", number)
                warned = True
            await asyncio.sleep(HEAD_POLL_S)

    async def _send(
        self,
        message_id: str,
        record: ParachainBootstrapRecord | RelayBlockRecord | RawBlockRecord,
        what: str,
    ) -> None:
        assert self._publisher is not None
        await self._publisher.publish(message_id, record.to_bytes(), what)
        self._move(replace(self.cursor, seq=self._publisher.sent_seq))


async def fetch_range(
    node: Node, first: int, last: int, window_blocks: int
) -> AsyncIterator[FetchedBlock]:
    """Blocks `first..last` of `node`, in order, with a window of batches in flight."""
    size = node.batch
    chunks = deque((a, min(a + size - 1, last)) for a in range(first, last + 1, size))
    window = max(1, window_blocks // size)
    in_flight: deque[asyncio.Task[list[FetchedBlock]]] = deque()
    try:
        while chunks or in_flight:
            while chunks and len(in_flight) < window:
                a, b = chunks.popleft()
                in_flight.append(asyncio.create_task(node.fetch_blocks(a, b)))
            for block in await in_flight.popleft():
                yield block
    finally:
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)


async def read_para_id(node: Node) -> int:
    """`ParachainInfo::ParachainId` at the parachain node's best block."""

    async def attempt() -> int:
        try:
            value = await node.client.call("state_getStorage", ["0x" + PARACHAIN_ID_KEY.hex()])
        except RpcCallError as e:
            raise NodeError(f"reading ParachainInfo::ParachainId: {e}") from None
        if value is None:
            raise NodeError(
                "the parachain node stores no ParachainInfo::ParachainId: give the para id "
                "(--para-id)"
            )
        return decode_para_id(hex_bytes(value, "ParachainInfo::ParachainId"))

    return await node.retrying("reading the para id", attempt)


def _tip(record: RelayBlockRecord) -> Tip:
    return Tip(record.number, record.hash)


def _hex(value: bytes | None) -> str:
    return "no block" if value is None else "0x" + value.hex()
