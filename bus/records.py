"""Wire records of the bus: the one schema every stage encodes and decodes.

Records are versioned pydantic models serialized as JSON. Hashes and storage keys are `0x` hex
(readable in `nats stream view` and logs); blobs (headers, extrinsics, proofs, values) are
base64, so a real block of up to 5 MiB still fits the 8 MiB message limit. Decoding is strict:
unknown fields, wrong types, coerced strings and unknown versions are all errors that name the
stream sequence of the offending message, so an operator can fetch exactly that message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)

from pinkpipe.chain.errors import InvalidChainData

RECORD_VERSION = 1


class RecordError(InvalidChainData, ValueError):
    """A message that is not a valid record; names the stream and sequence it came from."""

    def __init__(self, stream: str, seq: int, reason: str) -> None:
        super().__init__(f"invalid record at {stream} sequence {seq}: {reason}")
        self.stream = stream
        self.seq = seq
        self.reason = reason


def _from_hex(value: Any) -> Any:
    """`0x…` strings (JSON) become bytes; bytes (Python callers) pass through."""
    if isinstance(value, str):
        if not value.startswith("0x"):
            raise ValueError("hex value must start with 0x")
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            raise ValueError("not valid hex") from None
    return value


def _to_hex(value: bytes) -> str:
    return "0x" + value.hex()


HexBytes = Annotated[
    bytes, BeforeValidator(_from_hex), PlainSerializer(_to_hex, return_type=str, when_used="json")
]
Hash32 = Annotated[HexBytes, Field(min_length=32, max_length=32)]
BlockNumber = Annotated[int, Field(ge=0, lt=2**32)]


class _Record(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    def to_bytes(self) -> bytes:
        return self.__pydantic_serializer__.to_json(self)


class BootstrapRecord(_Record):
    """Where a chain's light client starts: genesis (number 0) or a trusted checkpoint.

    `proof` is the read proof, at this block, of the GRANDPA authority set
    (`:grandpa_authorities` and `Grandpa::Authorities`) and `Grandpa::CurrentSetId`.
    """

    kind: Literal["bootstrap"] = "bootstrap"
    version: Literal[1] = RECORD_VERSION
    genesis_hash: Hash32
    number: BlockNumber
    hash: Hash32
    header: bytes
    proof: list[bytes]
    chain: str = ""
    spec_name: str = ""
    spec_version: int = 0


class RawBlockRecord(_Record):
    """One finalized block as the node served it; nothing in it is trusted yet."""

    kind: Literal["block"] = "block"
    version: Literal[1] = RECORD_VERSION
    number: Annotated[int, Field(ge=1, lt=2**32)]
    hash: Hash32
    header: bytes
    body: list[bytes]
    justification: bytes | None = None
    keys: list[HexBytes]
    proof: list[bytes]


RawRecord = Annotated[BootstrapRecord | RawBlockRecord, Field(discriminator="kind")]
_RAW = TypeAdapter(RawRecord)


class ParachainBootstrapRecord(_Record):
    """Where parachain mode starts: the relay chain's bootstrap (its genesis header and GRANDPA
    set proof) plus the para id and the parachain's genesis hash the first proven head must
    descend from. Nothing in it is trusted: the validator compares it with its configuration."""

    kind: Literal["para-bootstrap"] = "para-bootstrap"
    version: Literal[1] = RECORD_VERSION
    relay: BootstrapRecord
    para_id: Annotated[int, Field(ge=0, lt=2**32)]
    para_genesis_hash: Hash32


class RelayBlockRecord(_Record):
    """One finalized relay block in parachain mode. A batch end carries the relay block's
    GRANDPA justification and the read proof of `Paras::Heads(para_id)` at it (as pherry's
    `get_finalized_header_with_paraid`); the parachain blocks up to that head follow it."""

    kind: Literal["relay"] = "relay"
    version: Literal[1] = RECORD_VERSION
    number: Annotated[int, Field(ge=1, lt=2**32)]
    hash: Hash32
    header: bytes
    justification: bytes | None = None
    heads_proof: list[bytes] | None = None


ParaRawRecord = Annotated[
    ParachainBootstrapRecord | RelayBlockRecord | RawBlockRecord, Field(discriminator="kind")
]
_PARA_RAW = TypeAdapter(ParaRawRecord)


class StorageItem(_Record):
    key: HexBytes
    value: bytes | None


class VerifiedBlockRecord(_Record):
    """A block whose header is finalized by a checked justification, whose body matches its
    extrinsics root and whose storage values are proven against its state root."""

    kind: Literal["verified"] = "verified"
    version: Literal[1] = RECORD_VERSION
    number: Annotated[int, Field(ge=1, lt=2**32)]
    hash: Hash32
    parent_hash: Hash32
    header: bytes
    set_id: Annotated[int, Field(ge=0)]
    justified_by: Hash32
    storage: list[StorageItem]
    extrinsics: list[bytes]

    def value(self, key: bytes) -> bytes | None:
        """The proven value of `key` (None: proven absent); KeyError if it was not proven."""
        for item in self.storage:
            if item.key == key:
                return item.value
        raise KeyError(f"storage key 0x{key.hex()} is not in verified block #{self.number}")


class ValidatorCheckpoint(_Record):
    """The light client's durable state after the last verified batch (KV value, signed by
    the checkpoint store). `verified_seq` is the verified stream's sequence of the last block
    published for it: whatever the stream holds after it must be re-verified on restart."""

    kind: Literal["checkpoint"] = "checkpoint"
    version: Literal[2] = 2
    raw_seq: Annotated[int, Field(ge=0)]
    verified_seq: Annotated[int, Field(ge=0)]
    number: BlockNumber
    hash: Hash32
    state: bytes


class ParachainCheckpoint(_Record):
    """Parachain mode's validator state after the last verified unit (KV value, signed like
    `ValidatorCheckpoint`): the relay light client and the parachain finality state. `number`
    and `hash` are the last final parachain block."""

    kind: Literal["para-checkpoint"] = "para-checkpoint"
    version: Literal[1] = RECORD_VERSION
    raw_seq: Annotated[int, Field(ge=0)]
    verified_seq: Annotated[int, Field(ge=0)]
    number: BlockNumber
    hash: Hash32
    relay_state: bytes
    para_state: bytes


class SignedValue(_Record):
    """A KV value with its HMAC (see `pinkpipe.bus.checkpoints`)."""

    kind: Literal["signed"] = "signed"
    version: Literal[1] = RECORD_VERSION
    mac: Hash32
    payload: bytes


class ValidatorStatus(_Record):
    """What `pinkpipe validator status` shows (KV value, rewritten after every batch)."""

    kind: Literal["status"] = "status"
    version: Literal[1] = RECORD_VERSION
    state: Literal["running", "stopped", "failed"]
    finalized_number: BlockNumber
    finalized_hash: HexBytes
    set_id: Annotated[int, Field(ge=0)]
    raw_seq: Annotated[int, Field(ge=0)]
    verified_blocks: Annotated[int, Field(ge=0)]
    invalid_records: Annotated[int, Field(ge=0)] = 0
    last_error: str | None = None
    updated_at: float


def _decode(adapter: TypeAdapter[Any], data: bytes, stream: str, seq: int) -> Any:
    try:
        return adapter.validate_json(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise RecordError(stream, seq, f"{where}: {first['msg']}") from None


def decode_raw(data: bytes, stream: str, seq: int) -> BootstrapRecord | RawBlockRecord:
    result: BootstrapRecord | RawBlockRecord = _decode(_RAW, data, stream, seq)
    return result


def decode_para_raw(
    data: bytes, stream: str, seq: int
) -> ParachainBootstrapRecord | RelayBlockRecord | RawBlockRecord:
    result: ParachainBootstrapRecord | RelayBlockRecord | RawBlockRecord = _decode(
        _PARA_RAW, data, stream, seq
    )
    return result


_VERIFIED = TypeAdapter(VerifiedBlockRecord)
_PARA_CHECKPOINT = TypeAdapter(ParachainCheckpoint)
_CHECKPOINT = TypeAdapter(ValidatorCheckpoint)
_STATUS = TypeAdapter(ValidatorStatus)
_SIGNED = TypeAdapter(SignedValue)


def encode_signed(mac: bytes, payload: bytes) -> bytes:
    return SignedValue(mac=mac, payload=payload).to_bytes()


def decode_signed(data: bytes, where: str) -> tuple[bytes, bytes]:
    """(mac, payload) of a signed KV value."""
    signed: SignedValue = _decode(_SIGNED, data, where, 0)
    return signed.mac, signed.payload


def decode_verified(data: bytes, stream: str, seq: int) -> VerifiedBlockRecord:
    result: VerifiedBlockRecord = _decode(_VERIFIED, data, stream, seq)
    return result


def decode_checkpoint(data: bytes, where: str, revision: int) -> ValidatorCheckpoint:
    """A checkpoint from KV; `revision` (the KV entry's stream sequence) names it in errors."""
    result: ValidatorCheckpoint = _decode(_CHECKPOINT, data, where, revision)
    return result


def decode_status(data: bytes, where: str, revision: int) -> ValidatorStatus:
    result: ValidatorStatus = _decode(_STATUS, data, where, revision)
    return result


def decode_para_checkpoint(data: bytes, where: str, revision: int) -> ParachainCheckpoint:
    result: ParachainCheckpoint = _decode(_PARA_CHECKPOINT, data, where, revision)
    return result
