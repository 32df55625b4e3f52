"""Phala message-queue messages: the `Message` envelope and the payloads the executor replays.

Layouts follow phala-blockchain's `phala-mq` (`MessageOrigin`, `Message`) and `phala-types`
(`ClusterEvent`, `ClusterOperation`, `ContractOperation`, `InkCommand`) and phactory's secret
channel `Payload`. The devnet builds these to put them on chain; the executor decodes them back,
so both directions live here and are exact inverses. Decoding is strict: unknown variant tags,
wrong lengths, a nonce over 32 bytes, unsorted key maps and trailing bytes raise `CodecError`
naming the type and offset. (Phala's worker tolerates trailing payload bytes; callers that need
that leniency use the `read` functions, which stop where the value ends.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from pinkpipe.chain.errors import InvalidChainData
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.scale import (
    Reader,
    decode_all,
    encode_bytes,
    encode_option,
    encode_u64,
    encode_u128,
    encode_vec,
)

T = TypeVar("T")

CLUSTER_EVENT_TOPIC = b"phala/cluster/event"
CLUSTER_KEY_TOPIC = b"phala/cluster/key"
CONTRACT_OP_TOPIC = b"phala/contract/op"
_COMMAND_PREFIX = b"phala/contract/"
_COMMAND_SUFFIX = b"/command"

FORCE_PUSHED_PALLET = b"ForcePushed"
"""The pallet id `PhalaMq::force_push_pallet_message` stamps on the messages it pushes."""

MAX_NONCE_LEN = 32


class MessageError(InvalidChainData, ValueError):
    """A message value that cannot exist on chain (wrong id length, nonce too long, ...)."""


def _check_len(value: bytes, size: int, what: str) -> bytes:
    value = bytes(value)
    if len(value) != size:
        raise MessageError(f"{what} must be {size} bytes, got {len(value)}")
    return value


def _check_uint(value: int, bits: int, what: str) -> int:
    if not 0 <= value < 1 << bits:
        raise MessageError(f"{what} {value} does not fit in u{bits}")
    return value


def _tag(r: Reader, type_name: str, allowed: Callable[[int], T]) -> T:
    start = r.offset
    tag = r.u8(type_name)
    try:
        return allowed(tag)
    except ValueError:
        raise r.fail(type_name, f"invalid variant index {tag}", start) from None


def _expect_tag(r: Reader, type_name: str, expected: int) -> None:
    start = r.offset
    tag = r.u8(type_name)
    if tag != expected:
        raise r.fail(type_name, f"invalid variant index {tag}", start)


def _u128_option(r: Reader) -> int | None:
    return r.option(lambda x: x.u128(), "Option<u128>")


def _encode_u128_option(value: int | None) -> bytes:
    return encode_option(value, encode_u128)


# --- MessageOrigin and Message ---------------------------------------------------------------


class OriginKind(IntEnum):
    PALLET = 0
    CONTRACT = 1
    WORKER = 2
    ACCOUNT_ID = 3
    MULTI_LOCATION = 4
    GATEKEEPER = 5
    CLUSTER = 6
    RESERVED = 255


_VEC_ORIGINS = frozenset({OriginKind.PALLET, OriginKind.MULTI_LOCATION})
_UNIT_ORIGINS = frozenset({OriginKind.GATEKEEPER, OriginKind.RESERVED})


@dataclass(frozen=True, slots=True)
class MessageOrigin:
    """Who sent a message; `data` is the variant's payload (32 bytes for ids, empty for units)."""

    kind: OriginKind
    data: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", OriginKind(self.kind))
        object.__setattr__(self, "data", bytes(self.data))
        if self.kind in _UNIT_ORIGINS and self.data:
            raise MessageError(f"origin {self.kind.name} carries no data")
        if self.kind not in _VEC_ORIGINS | _UNIT_ORIGINS:
            _check_len(self.data, 32, f"origin {self.kind.name} id")

    @classmethod
    def pallet(cls, name: bytes) -> MessageOrigin:
        return cls(OriginKind.PALLET, name)

    @classmethod
    def account(cls, account_id: bytes) -> MessageOrigin:
        return cls(OriginKind.ACCOUNT_ID, account_id)

    @classmethod
    def contract(cls, contract_id: bytes) -> MessageOrigin:
        return cls(OriginKind.CONTRACT, contract_id)

    @classmethod
    def cluster(cls, cluster_id: bytes) -> MessageOrigin:
        return cls(OriginKind.CLUSTER, cluster_id)

    @classmethod
    def gatekeeper(cls) -> MessageOrigin:
        return cls(OriginKind.GATEKEEPER)

    @property
    def is_pallet(self) -> bool:
        return self.kind is OriginKind.PALLET

    @staticmethod
    def read(r: Reader) -> MessageOrigin:
        kind = _tag(r, "MessageOrigin", OriginKind)
        if kind in _VEC_ORIGINS:
            return MessageOrigin(kind, r.var_bytes(f"MessageOrigin::{kind.name}"))
        if kind in _UNIT_ORIGINS:
            return MessageOrigin(kind)
        return MessageOrigin(kind, r.hash32(f"MessageOrigin::{kind.name}"))

    @classmethod
    def decode(cls, data: bytes) -> MessageOrigin:
        return decode_all(data, cls.read, "MessageOrigin")

    def encode(self) -> bytes:
        if self.kind in _VEC_ORIGINS:
            return bytes([self.kind]) + encode_bytes(self.data)
        return bytes([self.kind]) + self.data


@dataclass(frozen=True, slots=True)
class Message:
    """One message of `PhalaMq::OutboundMessages`: origin, topic and SCALE payload."""

    sender: MessageOrigin
    destination: bytes
    payload: bytes

    @staticmethod
    def read(r: Reader) -> Message:
        sender = MessageOrigin.read(r)
        destination = r.var_bytes("Message.destination")
        return Message(sender, destination, r.var_bytes("Message.payload"))

    @classmethod
    def decode(cls, data: bytes) -> Message:
        return decode_all(data, cls.read, "Message")

    def encode(self) -> bytes:
        return self.sender.encode() + encode_bytes(self.destination) + encode_bytes(self.payload)


def decode_messages(value: bytes | None) -> list[Message]:
    """The `PhalaMq::OutboundMessages` value (`Vec<Message>`); an absent value is no messages."""
    if value is None:
        return []
    return decode_all(value, lambda r: r.vec(Message.read, "Vec<Message>", 3), "Vec<Message>")


def encode_messages(messages: list[Message]) -> bytes:
    return encode_vec(messages, Message.encode)


# --- topics ----------------------------------------------------------------------------------

_RESERVED_TOPIC_BYTES = b"~!@#$%&*_+-=|<>?,./;:'"


def topic_is_offchain(topic: bytes) -> bool:
    """Whether PhalaMq pushes a message to this topic into `OutboundMessages`.

    phala-mq's `Topic::is_offchain`: non-empty, not starting with a reserved byte, and not
    starting with `^` (the marker of on-chain-only topics).
    """
    return bool(topic) and topic[0] not in _RESERVED_TOPIC_BYTES and topic[0] != ord("^")


def contract_command_topic(contract_id: bytes) -> bytes:
    """`phala/contract/<lower-case hex id>/command`, the topic of a contract's commands."""
    hex_id = _check_len(contract_id, 32, "contract id").hex().encode()
    return _COMMAND_PREFIX + hex_id + _COMMAND_SUFFIX


def command_topic_contract(topic: bytes) -> bytes | None:
    """The contract id of a command topic, or None if `topic` is not one."""
    if not (topic.startswith(_COMMAND_PREFIX) and topic.endswith(_COMMAND_SUFFIX)):
        return None
    middle = topic[len(_COMMAND_PREFIX) : -len(_COMMAND_SUFFIX)]
    if len(middle) != 64 or middle != middle.lower():
        return None
    try:
        return bytes.fromhex(middle.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


# --- phala/cluster/event ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    pubkey: bytes
    ecdh_pubkey: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "pubkey", _check_len(self.pubkey, 32, "worker pubkey"))
        object.__setattr__(self, "ecdh_pubkey", _check_len(self.ecdh_pubkey, 32, "ecdh pubkey"))

    @staticmethod
    def read(r: Reader) -> WorkerIdentity:
        return WorkerIdentity(r.hash32("WorkerIdentity.pubkey"), r.hash32("WorkerIdentity.ecdh"))

    def encode(self) -> bytes:
        return self.pubkey + self.ecdh_pubkey


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """The cluster parameters `DeployCluster` and `DispatchKeys` both carry, in this order."""

    owner: bytes
    deposit: int
    gas_price: int
    deposit_per_item: int
    deposit_per_byte: int
    treasury_account: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "owner", _check_len(self.owner, 32, "cluster owner"))
        object.__setattr__(
            self, "treasury_account", _check_len(self.treasury_account, 32, "treasury account")
        )
        for name in ("deposit", "gas_price", "deposit_per_item", "deposit_per_byte"):
            _check_uint(getattr(self, name), 128, name)


@dataclass(frozen=True, slots=True)
class DeployCluster:
    """`ClusterEvent::DeployCluster` (index 0), topic `phala/cluster/event`."""

    cluster: bytes
    workers: tuple[WorkerIdentity, ...]
    settings: ClusterSettings

    TOPIC = CLUSTER_EVENT_TOPIC

    def __post_init__(self) -> None:
        object.__setattr__(self, "cluster", _check_len(self.cluster, 32, "cluster id"))
        object.__setattr__(self, "workers", tuple(self.workers))

    @staticmethod
    def read(r: Reader) -> DeployCluster:
        _expect_tag(r, "ClusterEvent", 0)
        owner = r.hash32("DeployCluster.owner")
        cluster = r.hash32("DeployCluster.cluster")
        workers = r.vec(WorkerIdentity.read, "DeployCluster.workers", 64)
        deposit, gas_price, per_item, per_byte = (r.u128() for _ in range(4))
        treasury = r.hash32("DeployCluster.treasury_account")
        settings = ClusterSettings(owner, deposit, gas_price, per_item, per_byte, treasury)
        return DeployCluster(cluster, tuple(workers), settings)

    @classmethod
    def decode(cls, data: bytes) -> DeployCluster:
        return decode_all(data, cls.read, "ClusterEvent")

    def encode(self) -> bytes:
        s = self.settings
        return (
            b"\x00"
            + s.owner
            + self.cluster
            + encode_vec(self.workers, WorkerIdentity.encode)
            + b"".join(
                encode_u128(v)
                for v in (s.deposit, s.gas_price, s.deposit_per_item, s.deposit_per_byte)
            )
            + s.treasury_account
        )


ClusterEvent = DeployCluster


# --- phala/cluster/key -----------------------------------------------------------------------


class ResourceType(IntEnum):
    INK_CODE = 0
    SIDEVM_CODE = 1
    INDETERMINISTIC_INK_CODE = 2


@dataclass(frozen=True, slots=True)
class EncryptedKey:
    ecdh_pubkey: bytes
    encrypted_key: bytes
    iv: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "ecdh_pubkey", _check_len(self.ecdh_pubkey, 32, "ecdh pubkey"))
        object.__setattr__(self, "iv", _check_len(self.iv, 12, "AEAD IV"))

    @staticmethod
    def read(r: Reader) -> EncryptedKey:
        ecdh = r.hash32("EncryptedKey.ecdh_pubkey")
        key = r.var_bytes("EncryptedKey.encrypted_key")
        return EncryptedKey(ecdh, key, r.fixed(12, "EncryptedKey.iv"))

    def encode(self) -> bytes:
        return self.ecdh_pubkey + encode_bytes(self.encrypted_key) + self.iv


def _read_key_map(r: Reader) -> tuple[tuple[bytes, EncryptedKey], ...]:
    """A `BTreeMap<WorkerPublicKey, EncryptedKey>`: keys strictly ascending, as Rust encodes."""
    start = r.offset
    items = r.vec(lambda x: (x.hash32("WorkerPublicKey"), EncryptedKey.read(x)), "secret_keys", 77)
    keys = [k for k, _ in items]
    if any(a >= b for a, b in itertools.pairwise(keys)):
        raise r.fail(
            "BTreeMap<WorkerPublicKey, EncryptedKey>", "keys not strictly ascending", start
        )
    return tuple(items)


@dataclass(frozen=True, slots=True)
class DispatchKeys:
    """`ClusterOperation::DispatchKeys(BatchDispatchClusterKeyEvent)` (index 0)."""

    secret_keys: tuple[tuple[bytes, EncryptedKey], ...]
    cluster: bytes
    settings: ClusterSettings

    INDEX = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cluster", _check_len(self.cluster, 32, "cluster id"))
        keys = tuple(
            sorted(
                ((_check_len(k, 32, "worker pubkey"), v) for k, v in self.secret_keys),
                key=lambda kv: kv[0],
            )
        )
        if len({k for k, _ in keys}) != len(keys):
            raise MessageError("DispatchKeys has the same worker twice")
        object.__setattr__(self, "secret_keys", keys)

    @staticmethod
    def read_body(r: Reader) -> DispatchKeys:
        keys = _read_key_map(r)
        cluster = r.hash32("DispatchKeys.cluster")
        owner = r.hash32("DispatchKeys.owner")
        deposit, gas_price, per_item, per_byte = (r.u128() for _ in range(4))
        treasury = r.hash32("DispatchKeys.treasury_account")
        settings = ClusterSettings(owner, deposit, gas_price, per_item, per_byte, treasury)
        return DispatchKeys(keys, cluster, settings)

    def encode(self) -> bytes:
        s = self.settings
        return (
            bytes([self.INDEX])
            + encode_vec(self.secret_keys, lambda kv: kv[0] + kv[1].encode())
            + self.cluster
            + s.owner
            + b"".join(
                encode_u128(v)
                for v in (s.deposit, s.gas_price, s.deposit_per_item, s.deposit_per_byte)
            )
            + s.treasury_account
        )


@dataclass(frozen=True, slots=True)
class DestroyCluster:
    """`ClusterOperation::DestroyCluster(ContractClusterId)` (index 1)."""

    cluster_id: bytes

    INDEX = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "cluster_id", _check_len(self.cluster_id, 32, "cluster id"))

    @staticmethod
    def read_body(r: Reader) -> DestroyCluster:
        return DestroyCluster(r.hash32("DestroyCluster.cluster_id"))

    def encode(self) -> bytes:
        return bytes([self.INDEX]) + self.cluster_id


@dataclass(frozen=True, slots=True)
class UploadResource:
    """`ClusterOperation::UploadResource` (index 2): code uploaded on behalf of `origin`."""

    origin: bytes
    cluster_id: bytes
    resource_type: ResourceType
    resource_data: bytes

    INDEX = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", _check_len(self.origin, 32, "origin account"))
        object.__setattr__(self, "cluster_id", _check_len(self.cluster_id, 32, "cluster id"))
        object.__setattr__(self, "resource_type", ResourceType(self.resource_type))
        object.__setattr__(self, "resource_data", bytes(self.resource_data))

    @staticmethod
    def read_body(r: Reader) -> UploadResource:
        origin = r.hash32("UploadResource.origin")
        cluster_id = r.hash32("UploadResource.cluster_id")
        resource_type = _tag(r, "ResourceType", ResourceType)
        return UploadResource(
            origin, cluster_id, resource_type, r.var_bytes("UploadResource.resource_data")
        )

    def encode(self) -> bytes:
        return (
            bytes([self.INDEX])
            + self.origin
            + self.cluster_id
            + bytes([self.resource_type])
            + encode_bytes(self.resource_data)
        )


@dataclass(frozen=True, slots=True)
class Deposit:
    """`ClusterOperation::Deposit` (index 3): moves `amount` into `account`'s cluster balance."""

    cluster_id: bytes
    account: bytes
    amount: int

    INDEX = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "cluster_id", _check_len(self.cluster_id, 32, "cluster id"))
        object.__setattr__(self, "account", _check_len(self.account, 32, "account"))
        _check_uint(self.amount, 128, "amount")

    @staticmethod
    def read_body(r: Reader) -> Deposit:
        cluster_id = r.hash32("Deposit.cluster_id")
        return Deposit(cluster_id, r.hash32("Deposit.account"), r.u128())

    def encode(self) -> bytes:
        return bytes([self.INDEX]) + self.cluster_id + self.account + encode_u128(self.amount)


@dataclass(frozen=True, slots=True)
class RemoveWorker:
    """`ClusterOperation::RemoveWorker` (index 4)."""

    cluster_id: bytes
    worker: bytes

    INDEX = 4

    def __post_init__(self) -> None:
        object.__setattr__(self, "cluster_id", _check_len(self.cluster_id, 32, "cluster id"))
        object.__setattr__(self, "worker", _check_len(self.worker, 32, "worker pubkey"))

    @staticmethod
    def read_body(r: Reader) -> RemoveWorker:
        cluster_id = r.hash32("RemoveWorker.cluster_id")
        return RemoveWorker(cluster_id, r.hash32("RemoveWorker.worker"))

    def encode(self) -> bytes:
        return bytes([self.INDEX]) + self.cluster_id + self.worker


ClusterOperation = DispatchKeys | DestroyCluster | UploadResource | Deposit | RemoveWorker

_CLUSTER_OPERATIONS: dict[int, Callable[[Reader], ClusterOperation]] = {
    0: DispatchKeys.read_body,
    1: DestroyCluster.read_body,
    2: UploadResource.read_body,
    3: Deposit.read_body,
    4: RemoveWorker.read_body,
}


def _variant(table: dict[int, Callable[[Reader], T]]) -> Callable[[int], Callable[[Reader], T]]:
    """Looks a variant tag up in `table`; ValueError (turned into CodecError) if unknown."""

    def pick(tag: int) -> Callable[[Reader], T]:
        if tag not in table:
            raise ValueError(tag)
        return table[tag]

    return pick


def read_cluster_operation(r: Reader) -> ClusterOperation:
    return _tag(r, "ClusterOperation", _variant(_CLUSTER_OPERATIONS))(r)


def decode_cluster_operation(data: bytes) -> ClusterOperation:
    """A `phala/cluster/key` payload."""
    return decode_all(data, read_cluster_operation, "ClusterOperation")


# --- phala/contract/op -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractInfo:
    """`ContractInfo{deployer, code_index: WasmCode(code_hash), salt, cluster_id, data}`."""

    deployer: bytes
    code_hash: bytes
    salt: bytes
    cluster_id: bytes
    instantiate_data: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "deployer", _check_len(self.deployer, 32, "deployer"))
        object.__setattr__(self, "code_hash", _check_len(self.code_hash, 32, "code hash"))
        object.__setattr__(self, "cluster_id", _check_len(self.cluster_id, 32, "cluster id"))
        object.__setattr__(self, "salt", bytes(self.salt))
        object.__setattr__(self, "instantiate_data", bytes(self.instantiate_data))

    @staticmethod
    def read(r: Reader) -> ContractInfo:
        deployer = r.hash32("ContractInfo.deployer")
        _expect_tag(r, "CodeIndex", 0)
        code_hash = r.hash32("CodeIndex::WasmCode")
        salt = r.var_bytes("ContractInfo.salt")
        cluster_id = r.hash32("ContractInfo.cluster_id")
        return ContractInfo(
            deployer, code_hash, salt, cluster_id, r.var_bytes("ContractInfo.instantiate_data")
        )

    def encode(self) -> bytes:
        return (
            self.deployer
            + b"\x00"
            + self.code_hash
            + encode_bytes(self.salt)
            + self.cluster_id
            + encode_bytes(self.instantiate_data)
        )

    def contract_id(self) -> bytes:
        """blake2b-256(deployer ‖ code_hash ‖ cluster_id ‖ salt), the instantiated address."""
        return blake2_256(self.deployer + self.code_hash + self.cluster_id + self.salt)


@dataclass(frozen=True, slots=True)
class InstantiateCode:
    """`ContractOperation::InstantiateCode` (index 0), topic `phala/contract/op`."""

    contract_info: ContractInfo
    transfer: int
    gas_limit: int
    storage_deposit_limit: int | None

    TOPIC = CONTRACT_OP_TOPIC

    def __post_init__(self) -> None:
        _check_uint(self.transfer, 128, "transfer")
        _check_uint(self.gas_limit, 64, "gas_limit")
        if self.storage_deposit_limit is not None:
            _check_uint(self.storage_deposit_limit, 128, "storage_deposit_limit")

    @staticmethod
    def read(r: Reader) -> InstantiateCode:
        _expect_tag(r, "ContractOperation", 0)
        info = ContractInfo.read(r)
        transfer = r.u128()
        return InstantiateCode(info, transfer, r.u64(), _u128_option(r))

    @classmethod
    def decode(cls, data: bytes) -> InstantiateCode:
        return decode_all(data, cls.read, "ContractOperation")

    def encode(self) -> bytes:
        return (
            b"\x00"
            + self.contract_info.encode()
            + encode_u128(self.transfer)
            + encode_u64(self.gas_limit)
            + _encode_u128_option(self.storage_deposit_limit)
        )


ContractOperation = InstantiateCode


# --- phala/contract/<id>/command -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InkMessage:
    """`InkCommand::InkMessage` (index 0): a transaction-mode call of an ink! message."""

    nonce: bytes
    message: bytes
    transfer: int
    gas_limit: int
    storage_deposit_limit: int | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "nonce", bytes(self.nonce))
        if len(self.nonce) > MAX_NONCE_LEN:
            raise MessageError(f"nonce is {len(self.nonce)} bytes, at most {MAX_NONCE_LEN}")
        object.__setattr__(self, "message", bytes(self.message))
        _check_uint(self.transfer, 128, "transfer")
        _check_uint(self.gas_limit, 64, "gas_limit")
        if self.storage_deposit_limit is not None:
            _check_uint(self.storage_deposit_limit, 128, "storage_deposit_limit")

    @staticmethod
    def read(r: Reader) -> InkMessage:
        _expect_tag(r, "InkCommand", 0)
        start = r.offset
        nonce = r.var_bytes("InkMessage.nonce")
        if len(nonce) > MAX_NONCE_LEN:
            raise r.fail("InkMessage.nonce", f"{len(nonce)} bytes, at most {MAX_NONCE_LEN}", start)
        message = r.var_bytes("InkMessage.message")
        transfer = r.u128()
        return InkMessage(nonce, message, transfer, r.u64(), _u128_option(r))

    def encode(self) -> bytes:
        return (
            b"\x00"
            + encode_bytes(self.nonce)
            + encode_bytes(self.message)
            + encode_u128(self.transfer)
            + encode_u64(self.gas_limit)
            + _encode_u128_option(self.storage_deposit_limit)
        )


InkCommand = InkMessage


@dataclass(frozen=True, slots=True)
class EncryptedPayload:
    """`Payload::Encrypted(EncryptedData{iv, pubkey, data})` (index 1): AES-GCM sealed command."""

    iv: bytes
    pubkey: bytes
    data: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "iv", _check_len(self.iv, 12, "AEAD IV"))
        object.__setattr__(self, "pubkey", _check_len(self.pubkey, 32, "ECDH pubkey"))
        object.__setattr__(self, "data", bytes(self.data))

    @staticmethod
    def read_body(r: Reader) -> EncryptedPayload:
        iv = r.fixed(12, "EncryptedData.iv")
        pubkey = r.hash32("EncryptedData.pubkey")
        return EncryptedPayload(iv, pubkey, r.var_bytes("EncryptedData.data"))

    def encode(self) -> bytes:
        return b"\x01" + self.iv + self.pubkey + encode_bytes(self.data)


@dataclass(frozen=True, slots=True)
class PlainPayload:
    """`Payload::Plain(InkCommand)` (index 0)."""

    command: InkMessage

    def encode(self) -> bytes:
        return b"\x00" + self.command.encode()


Payload = PlainPayload | EncryptedPayload


def read_payload(r: Reader) -> Payload:
    start = r.offset
    tag = r.u8("Payload")
    if tag == 0:
        return PlainPayload(InkMessage.read(r))
    if tag == 1:
        return EncryptedPayload.read_body(r)
    raise r.fail("Payload", f"invalid variant index {tag}", start)


def decode_payload(data: bytes) -> Payload:
    """A `phala/contract/<id>/command` payload."""
    return decode_all(data, read_payload, "Payload")


# --- by topic --------------------------------------------------------------------------------

TopicPayload = DeployCluster | ClusterOperation | InstantiateCode | Payload


def decode_topic_payload(message: Message) -> TopicPayload | None:
    """The payload of `message` decoded by its topic; None for topics this module does not know."""
    if message.destination == CLUSTER_EVENT_TOPIC:
        return DeployCluster.decode(message.payload)
    if message.destination == CLUSTER_KEY_TOPIC:
        return decode_cluster_operation(message.payload)
    if message.destination == CONTRACT_OP_TOPIC:
        return InstantiateCode.decode(message.payload)
    if command_topic_contract(message.destination) is not None:
        return decode_payload(message.payload)
    return None
