"""Parachain mode's validator: the relay chain's light client finalizes the parachain.

It reads the parachain raw stream (`PINKPIPE_PARARAW_<parachain genesis>`, see
`pinkpipe.relayer.parachain`): the bootstrap starts the relay light client (from the relay
genesis) and anchors parachain finality at the parachain's genesis; relay records are buffered
until a batch end, whose justification the light client checks and whose `Paras::Heads`
proof, checked against that now finalized relay block, gives the proven head; the parachain
records after it must link from the last final parachain block to that head
(`pinkpipe.validator.parachain.import_para_batch`). Each newly final parachain block's body
and storage proofs are checked against its own roots and published as today's
`VerifiedBlockRecord` on the parachain's verified stream (`justified_by` = the relay block
that proved it, `set_id` = the relay set that signed it), so the executor sees no difference.

Everything else is the standalone validator's (`ChainValidator`): the consumer, the verified
tail check on restart, the publisher, outages and status. The checkpoint
(`ParachainCheckpoint`: relay light client + parachain state, HMAC-signed) is written at unit
boundaries only: after a batch end whose head did not move, or after the parachain run up to
the proven head, so a restart resumes at a relay record, never inside a unit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinkpipe.bus import Bus, CheckpointStore, Delivery
from pinkpipe.bus.client import BusError
from pinkpipe.bus.records import (
    BootstrapRecord,
    ParachainBootstrapRecord,
    ParachainCheckpoint,
    RawBlockRecord,
    RecordError,
    RelayBlockRecord,
    decode_para_checkpoint,
    decode_para_raw,
)
from pinkpipe.bus.streams import (
    StreamSpec,
    genesis_of_para_raw_stream,
    para_raw_spec,
    para_raw_stream,
)
from pinkpipe.chain.errors import InvalidChainData
from pinkpipe.chain.header import Header
from pinkpipe.chain.hextext import HexError, parse_hex
from pinkpipe.chain.scale import CodecError
from pinkpipe.services.validator import (
    MAX_ACK_PENDING,
    MAX_RECENT,
    ChainValidator,
    InvalidData,
    ValidatorService,
    ValidatorSettings,
    _Pending,
)
from pinkpipe.validator import LightClient, LightClientError
from pinkpipe.validator.parachain import (
    ParachainError,
    ParachainState,
    RelayBlock,
    anchored_at_genesis,
    import_para_batch,
    proven_head,
)

log = logging.getLogger(__name__)


class ParachainValidatorSettings(BaseModel):
    """What parachain mode's validator trusts besides the parachain's genesis (the stream)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    relay_genesis: str | None = Field(
        None,
        description="parachain mode: trusted relay chain genesis hash (hex); unset: taken from "
        "the bootstrap record, with a warning",
    )

    @field_validator("relay_genesis")
    @classmethod
    def _genesis_hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_hex(value, size=32, prefix_optional=True).hex()
        except HexError as e:
            raise ValueError(f"relay genesis hash: {e}") from None


class InvalidParachainData(InvalidData):
    """A record of the parachain raw stream the validator refuses; validation stops there."""

    def __init__(self, genesis: bytes, seq: int, what: str, reason: str) -> None:
        InvalidChainData.__init__(
            self,
            f"invalid {what} ({para_raw_stream(genesis)} sequence {seq}): {reason}. The record "
            f"stays in the stream for inspection; nothing from it on is published",
        )
        self.seq = seq
        self.number = None
        self.reason = reason


@dataclass(frozen=True)
class Trust:
    """The validator's own anchors: the relay genesis and the para id (None: not configured)."""

    relay_genesis: bytes | None = None
    para_id: int | None = None


@dataclass
class _Unit:
    """A finalized relay batch end whose proven head is ahead: the parachain records up to
    it are collected, then finalized together."""

    relay: RelayBlock
    proof: list[bytes]
    head: int
    set_id: int
    delivery: Delivery
    blocks: list[_Pending] = field(default_factory=list)


class ParachainChainValidator(ChainValidator):
    """Validates one parachain through its relay chain (see the module docstring)."""

    def __init__(
        self,
        settings: ValidatorSettings,
        bus: Bus,
        store: CheckpointStore,
        genesis: bytes,
        stop: asyncio.Event,
        trust: Trust,
    ) -> None:
        super().__init__(settings, bus, store, genesis, stop)
        self.trust = trust
        self.para: ParachainState | None = None
        self._relay_batch: list[tuple[RelayBlockRecord, Header]] = []
        self._unit: _Unit | None = None

    def _input_spec(self) -> StreamSpec:
        return para_raw_spec(self.bus.settings, self.genesis, self.bus.max_payload)

    def _invalid(self, seq: int, number: int | None, reason: str) -> InvalidData:
        where = "record" if number is None else f"parachain block #{number}"
        return InvalidParachainData(self.genesis, seq, where, reason)

    def _invalid_relay(self, seq: int, number: int, reason: str) -> InvalidData:
        return InvalidParachainData(self.genesis, seq, f"relay block #{number}", reason)

    # -- durable state ---------------------------------------------------------------------

    async def _restore(self) -> None:
        await self._close()
        self.client, self.para, self._unit = None, None, None
        self._raw_seq, self._verified_seq, self._published_upto = 0, 0, 0
        self._relay_batch = []
        payload = await self.store.load(self.genesis)
        if payload is not None:
            cp = decode_para_checkpoint(payload, f"checkpoint of {self.label}", 0)
            try:
                self.client = LightClient.from_bytes(cp.relay_state)
                self.para = ParachainState.from_bytes(cp.para_state)
            except LightClientError as e:
                raise BusError(f"checkpoint of {self.label} holds unusable state: {e}") from None
            self._raw_seq, self._verified_seq = cp.raw_seq, cp.verified_seq
            self._published_upto = cp.number
            self._note_finalized()
            log.info(
                "parachain %s: restored checkpoint at parachain #%d (raw sequence %d)",
                self.label,
                cp.number,
                cp.raw_seq,
            )
        await self._open_verified()

    async def _checkpoint(self, seq: int) -> None:
        assert self.client is not None and self.para is not None
        final = self.para.finalized
        assert final is not None
        cp = ParachainCheckpoint(
            raw_seq=seq,
            verified_seq=self._verified_seq,
            number=final.number,
            hash=final.hash,
            relay_state=self.client.to_bytes(),
            para_state=self.para.to_bytes(),
        )
        await self.store.save(self.genesis, cp.to_bytes())
        self._raw_seq = seq
        self._note_finalized()

    def _note_finalized(self) -> None:
        assert self.client is not None
        final = None if self.para is None else self.para.finalized
        self.progress.finalized = -1 if final is None else final.number
        self.progress.set_id = self.client.authority_set.set_id

    # -- records ---------------------------------------------------------------------------

    async def _handle(self, delivery: Delivery) -> None:
        seq = delivery.seq
        try:
            record = decode_para_raw(delivery.data, para_raw_stream(self.genesis), seq)
        except RecordError as e:
            raise self._invalid(seq, None, e.reason) from None
        if isinstance(record, ParachainBootstrapRecord):
            await self._para_bootstrap(delivery, record)
        elif self.client is None:
            raise self._invalid(seq, None, "a block record before the bootstrap record")
        elif isinstance(record, RelayBlockRecord):
            await self._relay_record(delivery, record)
        else:
            await self._para_record(delivery, record)

    def _header(self, seq: int, record: RelayBlockRecord | RawBlockRecord) -> Header:
        """The record's header, which must be the block the record names."""
        invalid = self._invalid_relay if isinstance(record, RelayBlockRecord) else self._invalid
        try:
            header = Header.decode(record.header)
        except CodecError as e:
            raise invalid(seq, record.number, f"header does not decode: {e}") from None
        if header.number != record.number or header.hash() != record.hash:
            raise invalid(
                seq,
                record.number,
                f"header is #{header.number} 0x{header.hash().hex()}, the record says "
                f"#{record.number} 0x{record.hash.hex()}",
            )
        return header

    async def _para_bootstrap(self, delivery: Delivery, record: ParachainBootstrapRecord) -> None:
        seq, relay = delivery.seq, record.relay
        if self.client is not None:
            raise self._invalid(seq, None, "a second bootstrap record")
        self._check_trust(seq, record)
        try:
            self.client = LightClient.from_genesis_proof(
                relay.header, relay.proof, genesis_hash=relay.genesis_hash, max_recent=MAX_RECENT
            )
        except LightClientError as e:
            raise self._invalid_relay(seq, 0, f"relay bootstrap refused: {e}") from None
        self.para = anchored_at_genesis(record.para_id, self.genesis)
        log.info(
            "parachain %s (para id %d): relay light client started at genesis 0x%s, set id %d",
            self.label,
            record.para_id,
            relay.genesis_hash.hex(),
            self.client.authority_set.set_id,
        )
        await delivery.ack()
        await self._checkpoint(seq)

    def _check_trust(self, seq: int, record: ParachainBootstrapRecord) -> None:
        relay: BootstrapRecord = record.relay
        refusals = []
        if record.para_genesis_hash != self.genesis:
            refusals.append(
                f"parachain genesis 0x{record.para_genesis_hash.hex()} is not the stream's"
            )
        if relay.number != 0 or relay.hash != relay.genesis_hash:
            refusals.append("the relay bootstrap is not the relay genesis")
        trusted = self.trust.relay_genesis
        if trusted is not None and relay.genesis_hash != trusted:
            refusals.append(
                f"relay genesis 0x{relay.genesis_hash.hex()} is not the trusted 0x{trusted.hex()}"
            )
        if self.trust.para_id is not None and record.para_id != self.trust.para_id:
            refusals.append(f"para id {record.para_id} is not the configured {self.trust.para_id}")
        if refusals:
            raise self._invalid(seq, None, "bootstrap refused: " + "; ".join(refusals))
        if trusted is None:
            log.warning(
                "parachain %s: trusting the relay genesis 0x%s the bootstrap names "
                "(set relay_genesis to pin it)",
                self.label,
                relay.genesis_hash.hex(),
            )

    async def _relay_record(self, delivery: Delivery, record: RelayBlockRecord) -> None:
        seq = delivery.seq
        if self._unit is not None:
            unit = self._unit
            have = unit.blocks[-1].record.number if unit.blocks else "none"
            raise self._invalid(
                seq,
                None,
                f"relay block #{record.number} arrived before the parachain blocks up to the "
                f"head #{unit.head} proven at relay block #{unit.relay.number} (last parachain "
                f"block received: {have})",
            )
        header = self._header(seq, record)
        if (record.justification is None) != (record.heads_proof is None):
            raise self._invalid_relay(
                seq,
                record.number,
                "a batch end must carry both its justification and the Paras::Heads proof",
            )
        self._relay_batch.append((record, header))
        if len(self._relay_batch) >= MAX_ACK_PENDING:
            raise self._invalid_relay(
                seq, record.number, f"{MAX_ACK_PENDING} relay blocks without a justification"
            )
        if record.justification is not None:
            await self._import_relay(delivery, record, record.justification)

    async def _import_relay(
        self, delivery: Delivery, record: RelayBlockRecord, justification: bytes
    ) -> None:
        assert self.client is not None and self.para is not None
        assert record.heads_proof is not None
        batch, self._relay_batch = self._relay_batch, []
        set_id = self.client.authority_set.set_id
        try:
            self.client.import_batch([h for _, h in batch], justification)
        except LightClientError as e:
            number = e.number if e.number is not None else record.number
            raise self._invalid_relay(delivery.seq, number, str(e)) from None
        relay = RelayBlock.finalized(self.client.finalized)
        try:
            head = proven_head(self.para, relay, record.heads_proof)
        except ParachainError as e:
            raise self._invalid_relay(delivery.seq, record.number, str(e)) from None
        final = self.para.finalized
        self._unit = _Unit(relay, record.heads_proof, head.number, set_id, delivery)
        if final is not None and head.number <= final.number:
            await self._finish_unit()

    async def _para_record(self, delivery: Delivery, record: RawBlockRecord) -> None:
        seq = delivery.seq
        unit = self._unit
        if unit is None:
            raise self._invalid(
                seq, record.number, "no finalized relay block before it proves its head"
            )
        missing = [k for k in self.required_keys if k not in set(record.keys)]
        if missing:
            raise self._invalid(
                seq,
                record.number,
                "the record does not prove the required storage key(s) "
                + ", ".join(f"0x{k.hex()}" for k in missing),
            )
        unit.blocks.append(_Pending(delivery, record, self._header(seq, record)))
        if record.number >= unit.head:
            await self._finish_unit()

    async def _finish_unit(self) -> None:
        """Finalize the parachain up to the unit's proven head, publish what became final,
        then ack and checkpoint."""
        assert self._unit is not None and self.para is not None and self._publisher is not None
        unit, self._unit = self._unit, None
        try:
            result = import_para_batch(
                self.para, unit.relay, unit.proof, [p.header for p in unit.blocks]
            )
        except ParachainError as e:
            raise self._refusal(unit, e) from None
        by_hash = {p.record.hash: p for p in unit.blocks}
        try:
            for _, block_hash in result.finalized:
                await self._publish(by_hash[block_hash], unit.set_id, unit.relay.hash)
        finally:
            await self._publisher.flush()
        self.para = result.state
        last = unit.blocks[-1].delivery if unit.blocks else unit.delivery
        await last.ack()
        await self._checkpoint(last.seq)
        self.progress.lag = max(0, self.progress.lag - len(unit.blocks))
        await self._write_status("running")

    def _refusal(self, unit: _Unit, error: ParachainError) -> InvalidData:
        """The refusal named at the parachain block (or the relay block) it is about."""
        if error.chain == "relay":
            return self._invalid_relay(unit.delivery.seq, unit.relay.number, str(error))
        number = error.number if error.number is not None else unit.head
        seq = next(
            (p.seq for p in unit.blocks if p.record.number == number),
            unit.blocks[-1].seq if unit.blocks else unit.delivery.seq,
        )
        return self._invalid(seq, number, str(error))


class ParachainValidatorService(ValidatorService):
    """Validates every parachain-mode raw stream on the bus (or only the configured one)."""

    def __init__(
        self,
        settings: ValidatorSettings,
        bus: Bus,
        store: CheckpointStore,
        stop: asyncio.Event,
        trust: Trust,
    ) -> None:
        super().__init__(settings, bus, store, stop)
        self.trust = trust

    def _chain_validator(self, genesis: bytes) -> ChainValidator:
        return ParachainChainValidator(
            self.settings, self.bus, self.store, genesis, self.stop, self.trust
        )

    async def _wanted(self) -> list[bytes]:
        configured = self.settings.genesis_bytes
        if configured is not None:
            return [configured]
        try:
            infos = await self.bus.call("listing streams", self.bus.js.streams_info)
        except BusError as e:
            log.warning("cannot list the streams on the bus: %s", e)
            await self.bus.wait_connected(self.stop)
            return []
        found = (genesis_of_para_raw_stream(info.config.name or "") for info in infos)
        return sorted(g for g in found if g is not None)
