"""Signed extrinsics as `author_submitExtrinsic` receives them: decode, verify, include.

The envelope is `UncheckedExtrinsic` v4 of the devnet's metadata: `Compact<len> ‖ 0x84 ‖
MultiAddress ‖ MultiSignature ‖ extra ‖ call` (0x04 and no signature part for unsigned ones).
The signed extensions, their order and the shape of each one's `extra` and `additional_signed`
are read from the metadata (unknown extensions are allowed when both parts are empty, like
Phala's `CheckMqSequence`); the calls the devnet executes are found by name in the metadata.
A wallet signs `call ‖ extra ‖ additional_signed` (blake2-256 of it when longer than 256
bytes), additional_signed being `spec_version ‖ transaction_version ‖ genesis_hash ‖
era birth block hash` here.

Rejections carry the JSON-RPC error a Substrate node returns (polkadot-sdk
`client/rpc-api/src/author/error.rs`; strings of `sp_runtime::InvalidTransaction`). Checks run
in the order frame-executive's `validate_transaction` runs them: decode, address lookup, era
birth block, signature, mandatory dispatch, then the extensions' `validate` (nonce, fees).

Devnet policies, where a node could act otherwise:
- nonce: equal to the account's next nonce (queued extrinsics counted) is accepted; lower is
  1010 "Transaction is outdated"; higher is refused with 1021 (a pool that does not accept
  future transactions) instead of being parked.
- calls: `PhalaMq.push_message` (message origin AccountId(signer)) and
  `Sudo.sudo(PhalaMq.force_push_pallet_message)` (origin `Pallet(b"ForcePushed")`, as the
  pallet sets it) are executed. A sudo by a non-sudo account is included but emits nothing
  (its dispatch fails with `RequireSudo` on a node). `Timestamp.set` is refused like on a node
  (1010, mandatory dispatch). Any other decodable call is refused with 1010 "Transaction call
  is not expected": the devnet cannot execute it, so it will not pretend to.
- fees: the signer must have a free balance (else 1010 Payment); nothing is charged.
- ECDSA signatures are refused (1040): the devnet verifies sr25519 and ed25519 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sr25519
from scalecodec.base import RuntimeConfigurationObject, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset
from substrateinterface import Keypair, KeypairType

from pinkpipe.chain.crypto import ed25519_verify
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.messages import FORCE_PUSHED_PALLET, Message, MessageOrigin, topic_is_offchain
from pinkpipe.chain.scale import CodecError, Reader, encode_bytes, encode_compact, encode_u32
from pinkpipe.devnet.config import DevnetError
from pinkpipe.devnet.genesis import SUDO_KEY
from pinkpipe.devnet.jsonrpc import JsonRpcError
from pinkpipe.devnet.runtime import system_constant

if TYPE_CHECKING:
    from pinkpipe.devnet.chain import DevChain

# JSON-RPC error codes of the author API (BASE_ERROR 1000).
VERIFICATION_ERROR = 1002
POOL_INVALID_TX = 1010
POOL_UNKNOWN_VALIDITY = 1011
POOL_ALREADY_IMPORTED = 1013
POOL_FUTURE_TX = 1021
OTHER_ERROR = 1040

# `InvalidTransaction` reasons, as their `&'static str` conversion spells them.
CALL = "Transaction call is not expected"
STALE = "Transaction is outdated"
BAD_PROOF = "Transaction has a bad signature"
ANCIENT_BIRTH_BLOCK = "Transaction has an ancient birth block"
PAYMENT = "Inability to pay some fees (e.g. account balance too low)"
MANDATORY = "Transaction dispatch is mandatory; transactions may not have mandatory dispatches."

SIGNED_V4 = 0x84
UNSIGNED_V4 = 0x04
MAX_UNHASHED_PAYLOAD = 256


class ExtrinsicRejected(JsonRpcError):
    """An extrinsic a node would refuse, as the JSON-RPC error the node answers."""


def invalid(reason: str) -> ExtrinsicRejected:
    return ExtrinsicRejected(POOL_INVALID_TX, "Invalid Transaction", reason)


def undecodable(reason: str) -> ExtrinsicRejected:
    text = f"Runtime error: Bad input data provided to validate_transaction: {reason}"
    return ExtrinsicRejected(VERIFICATION_ERROR, f"Verification Error: {text}", text)


# --- era ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Era:
    """`sp_runtime::generic::Era`: immortal (period 0) or mortal for `period` blocks."""

    period: int = 0
    phase: int = 0

    @classmethod
    def mortal(cls, period: int, current: int) -> Era:
        """As `Era::mortal`: period rounded to a power of two in 4..65536, phase quantized."""
        period = min(max(1 << max(period - 1, 1).bit_length(), 4), 1 << 16)
        quantize = max(period >> 12, 1)
        return cls(period, current % period // quantize * quantize)

    @staticmethod
    def read(r: Reader) -> Era:
        start = r.offset
        first = r.u8("Era")
        if first == 0:
            return Era()
        encoded = first | r.u8("Era") << 8
        period = 2 << (encoded % (1 << 4))
        quantize = max(period >> 12, 1)
        phase = (encoded >> 4) * quantize
        if period < 4 or phase >= period:
            raise r.fail("Era", f"invalid mortal era 0x{encoded:04x}", start)
        return Era(period, phase)

    def encode(self) -> bytes:
        if self.period == 0:
            return b"\x00"
        quantize = max(self.period >> 12, 1)
        trailing = (self.period & -self.period).bit_length() - 1
        encoded = min(15, max(1, trailing - 1)) | (self.phase // quantize) << 4
        return encoded.to_bytes(2, "little")

    def birth(self, current: int) -> int:
        if self.period == 0:
            return 0
        return (max(current, self.phase) - self.phase) // self.period * self.period + self.phase


# --- metadata shapes ---------------------------------------------------------------------------


class _Types:
    """The metadata's type registry, reduced to the shapes the devnet's codecs rely on."""

    def __init__(self, v14: dict[str, Any]) -> None:
        self.types = {t["id"]: t["type"] for t in v14["types"]["types"]}

    def shape(self, type_id: int) -> str:
        """A short name of the encoding: `()`, `u32`, `Compact<u128>`, `Vec<u8>`, `Era`..."""
        ty = self.types[type_id]
        kind, body = next(iter(ty["def"].items()))
        if ty["path"] and ty["path"][-1] == "Era":
            return "Era"
        if kind == "composite":
            fields = body["fields"]
            if not fields:
                return "()"
            if len(fields) == 1:
                return self.shape(fields[0]["type"])
            return "{" + ", ".join(self.shape(f["type"]) for f in fields) + "}"
        if kind == "tuple":
            return "(" + ", ".join(self.shape(t) for t in body) + ")"
        if kind == "primitive":
            return body
        if kind == "compact":
            return f"Compact<{self.shape(body['type'])}>"
        if kind == "sequence":
            return f"Vec<{self.shape(body['type'])}>"
        if kind == "array":
            return f"[{self.shape(body['type'])}; {body['len']}]"
        return ty["path"][-1] if ty["path"] else kind


_KNOWN_EXTENSIONS: dict[str, tuple[str, str]] = {
    "CheckNonZeroSender": ("()", "()"),
    "CheckSpecVersion": ("()", "u32"),
    "CheckTxVersion": ("()", "u32"),
    "CheckGenesis": ("()", "[u8; 32]"),
    "CheckMortality": ("Era", "[u8; 32]"),
    "CheckEra": ("Era", "[u8; 32]"),
    "CheckNonce": ("Compact<u32>", "()"),
    "CheckWeight": ("()", "()"),
    "ChargeTransactionPayment": ("Compact<u128>", "()"),
}


@dataclass(frozen=True, slots=True)
class Extra:
    """The signed-extension values a signer chooses."""

    era: Era = Era()
    nonce: int = 0
    tip: int = 0


@dataclass(frozen=True, slots=True)
class Additional:
    """The values every signer must agree with the chain on (signed, not transmitted)."""

    spec_version: int
    transaction_version: int
    genesis_hash: bytes
    birth_hash: bytes


class SignedExtensions:
    """The metadata's signed extensions, in order, with codecs for their two parts."""

    def __init__(self, v14: dict[str, Any], types: _Types) -> None:
        self.identifiers: list[str] = []
        for ext in v14["extrinsic"]["signed_extensions"]:
            name = ext["identifier"]
            shapes = (types.shape(ext["ty"]), types.shape(ext["additional_signed"]))
            expected = _KNOWN_EXTENSIONS.get(name, ("()", "()"))
            if shapes != expected:
                raise DevnetError(
                    f"signed extension {name} has extra/additional {shapes}, expected {expected}"
                )
            self.identifiers.append(name)

    def read(self, r: Reader) -> Extra:
        era, nonce, tip = Era(), 0, 0
        for name in self.identifiers:
            if name in ("CheckMortality", "CheckEra"):
                era = Era.read(r)
            elif name == "CheckNonce":
                nonce = r.compact_u32("CheckNonce")
            elif name == "ChargeTransactionPayment":
                tip = r.compact("ChargeTransactionPayment")
                if tip >= 1 << 128:
                    raise r.fail("ChargeTransactionPayment", f"tip {tip} does not fit u128")
        return Extra(era, nonce, tip)

    def encode(self, extra: Extra) -> bytes:
        parts = {
            "CheckMortality": extra.era.encode(),
            "CheckEra": extra.era.encode(),
            "CheckNonce": encode_compact(extra.nonce),
            "ChargeTransactionPayment": encode_compact(extra.tip),
        }
        return b"".join(parts.get(name, b"") for name in self.identifiers)

    def additional(self, values: Additional) -> bytes:
        parts = {
            "CheckSpecVersion": encode_u32(values.spec_version),
            "CheckTxVersion": encode_u32(values.transaction_version),
            "CheckGenesis": values.genesis_hash,
            "CheckMortality": values.birth_hash,
            "CheckEra": values.birth_hash,
        }
        return b"".join(parts.get(name, b"") for name in self.identifiers)


# --- calls -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """A call the devnet understands; `args` by position as the metadata lists them."""

    pallet: str
    name: str
    args: tuple[Any, ...]
    encoded: bytes


class _UnknownCall(Exception):
    """A call index the devnet does not execute (the whole call may still decode)."""


_CALL_SHAPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("PhalaMq", "push_message"): ("Vec<u8>", "Vec<u8>"),
    ("PhalaMq", "force_push_pallet_message"): ("Vec<u8>", "Vec<u8>"),
    ("Sudo", "sudo"): ("Call",),
    ("Timestamp", "set"): ("Compact<u64>",),
}


class Calls:
    """Codec of the calls in `_CALL_SHAPES`, with indices and argument types from metadata."""

    def __init__(self, v14: dict[str, Any], types: _Types) -> None:
        extrinsic_type = types.types[v14["extrinsic"]["ty"]]
        call_type = next(p["type"] for p in extrinsic_type["params"] if p["name"] == "Call")
        self.index: dict[tuple[str, str], bytes] = {}
        self.by_index: dict[bytes, tuple[str, str]] = {}
        for pallet in v14["pallets"]:
            if not pallet.get("calls"):
                continue
            for variant in types.types[pallet["calls"]["ty"]]["def"]["variant"]["variants"]:
                key = (pallet["name"], variant["name"])
                if key not in _CALL_SHAPES:
                    continue
                shapes = tuple(
                    "Call" if f["type"] == call_type else types.shape(f["type"])
                    for f in variant["fields"]
                )
                if shapes != _CALL_SHAPES[key]:
                    raise DevnetError(
                        f"call {key[0]}.{key[1]} has arguments {shapes}, "
                        f"expected {_CALL_SHAPES[key]}"
                    )
                index = bytes([pallet["index"], variant["index"]])
                self.index[key] = index
                self.by_index[index] = key
        missing = set(_CALL_SHAPES) - set(self.index)
        if missing:
            raise DevnetError(f"the metadata lacks the calls {sorted(missing)}")

    def read(self, r: Reader) -> Call:
        start = r.offset
        key = self.by_index.get(r.fixed(2, "Call index"))
        if key is None:
            raise _UnknownCall
        shape = _CALL_SHAPES[key]
        args: tuple[Any, ...]
        if shape == ("Vec<u8>", "Vec<u8>"):
            args = (r.var_bytes(f"{key[1]}.destination"), r.var_bytes(f"{key[1]}.payload"))
        elif shape == ("Call",):
            args = (self.read(r),)
        else:
            now = r.compact("Timestamp.set.now")
            if now >= 1 << 64:
                raise r.fail("Timestamp.set.now", f"{now} does not fit u64", start)
            args = (now,)
        return Call(key[0], key[1], args, r.data[start : r.offset])

    def encode(self, pallet: str, name: str, *args: Any) -> bytes:
        """Call bytes; `Vec<u8>` arguments as bytes, a nested call as its encoding."""
        shape = _CALL_SHAPES[(pallet, name)]
        out = self.index[(pallet, name)]
        for kind, arg in zip(shape, args, strict=True):
            if kind == "Vec<u8>":
                out += encode_bytes(arg)
            elif kind == "Call":
                out += arg
            else:
                out += encode_compact(arg)
        return out


# --- the extrinsic -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signature:
    """The signed part: who (an address variant and its bytes), how and what was signed."""

    address_kind: int
    address: bytes
    scheme: int
    signature: bytes
    extra: Extra
    extra_bytes: bytes


@dataclass(frozen=True, slots=True)
class Extrinsic:
    """A decoded extrinsic: `call` is None when the call is valid but not one the devnet runs."""

    data: bytes
    signature: Signature | None
    call: Call | None
    call_bytes: bytes

    @property
    def hash(self) -> bytes:
        return blake2_256(self.data)


@dataclass(frozen=True, slots=True)
class Accepted:
    hash: bytes
    signer: bytes
    nonce: int
    call: Call
    messages: tuple[Message, ...]


_ADDRESS_SIZES = {0: 32, 3: 32, 4: 20}  # MultiAddress Id, Address32, Address20
_SIGNATURE_SIZES = {0: 64, 1: 64, 2: 65}  # MultiSignature Ed25519, Sr25519, Ecdsa


def _read_address(r: Reader) -> tuple[int, bytes]:
    start = r.offset
    kind = r.u8("MultiAddress")
    if kind in _ADDRESS_SIZES:
        return kind, r.fixed(_ADDRESS_SIZES[kind], "MultiAddress")
    if kind == 1:
        return kind, encode_compact(r.compact_u32("MultiAddress::Index"))
    if kind == 2:
        return kind, r.var_bytes("MultiAddress::Raw")
    raise r.fail("MultiAddress", f"invalid variant index {kind}", start)


def _read_signature(r: Reader) -> tuple[int, bytes]:
    start = r.offset
    scheme = r.u8("MultiSignature")
    if scheme not in _SIGNATURE_SIZES:
        raise r.fail("MultiSignature", f"invalid variant index {scheme}", start)
    return scheme, r.fixed(_SIGNATURE_SIZES[scheme], "MultiSignature")


def verify_signature(scheme: int, signature: bytes, message: bytes, signer: bytes) -> bool:
    """`MultiSignature::verify` for ed25519 (0) and sr25519 (1) against an AccountId32."""
    if scheme == 0:
        return ed25519_verify(signature, message, signer)
    try:
        return bool(sr25519.verify(signature, message, signer))
    except (ValueError, TypeError):
        return False


def signing_payload(call: bytes, extra: bytes, additional: bytes) -> bytes:
    payload = call + extra + additional
    return blake2_256(payload) if len(payload) > MAX_UNHASHED_PAYLOAD else payload


class ExtrinsicCodec:
    """Everything metadata-derived: extensions, calls and a scalecodec fallback for the rest."""

    def __init__(self, decoded_metadata: Any) -> None:
        v14 = decoded_metadata.value[1]["V14"]
        types = _Types(v14)
        self.extensions = SignedExtensions(v14, types)
        self.calls = Calls(v14, types)
        self.block_hash_count = _block_hash_count(decoded_metadata)
        self._metadata = decoded_metadata
        self._scale = RuntimeConfigurationObject()
        self._scale.update_type_registry(load_type_registry_preset("core"))
        self._scale.add_portable_registry(decoded_metadata)

    def decode(self, data: bytes) -> Extrinsic:
        """Decode an opaque extrinsic (length-prefixed) or raise the node's rejection."""
        outer = Reader(data)
        try:
            body = outer.fixed(outer.length("Vec<u8>"), "extrinsic")
            outer.finish("extrinsic")
        except CodecError as e:
            raise ExtrinsicRejected(OTHER_ERROR, f"Client error: {e}") from None
        r = Reader(body)
        try:
            signature = self._read_signed_part(r)
            call_start = r.offset
            try:
                call: Call | None = self.calls.read(r)
                r.finish("UncheckedExtrinsic")
            except _UnknownCall:
                call = None
                self._check_other_call(body[call_start:])
        except CodecError as e:
            raise undecodable(str(e)) from None
        return Extrinsic(bytes(data), signature, call, body[call_start:])

    def _read_signed_part(self, r: Reader) -> Signature | None:
        start = r.offset
        version = r.u8("extrinsic version")
        if version == UNSIGNED_V4:
            return None
        if version != SIGNED_V4:
            raise r.fail("UncheckedExtrinsic", f"unsupported version byte 0x{version:02x}", start)
        address_kind, address = _read_address(r)
        scheme, signature = _read_signature(r)
        extra_start = r.offset
        extra = self.extensions.read(r)
        return Signature(
            address_kind, address, scheme, signature, extra, r.data[extra_start : r.offset]
        )

    def _check_other_call(self, call_bytes: bytes) -> None:
        """A call the devnet does not run must still decode exactly, per the metadata."""
        obj = self._scale.create_scale_object(
            "Call", data=ScaleBytes(call_bytes), metadata=self._metadata
        )
        try:
            obj.decode(check_remaining=True)
        except Exception as e:  # scalecodec raises many unrelated types for bad input
            raise CodecError("Call", 0, str(e) or type(e).__name__) from None

    def encode_signed(
        self, call: bytes, keypair: Keypair, extra: Extra, additional: Additional
    ) -> bytes:
        """A signed v4 extrinsic, as a wallet builds it (MultiAddress::Id, MultiSignature)."""
        scheme = {KeypairType.ED25519: 0, KeypairType.SR25519: 1}.get(keypair.crypto_type)
        if scheme is None:
            raise DevnetError("the devnet signs with ed25519 or sr25519 keys only")
        extra_bytes = self.extensions.encode(extra)
        payload = signing_payload(call, extra_bytes, self.extensions.additional(additional))
        signature = bytes(keypair.sign(payload))
        body = (
            bytes([SIGNED_V4, 0])
            + bytes(keypair.public_key)
            + bytes([scheme])
            + signature
            + extra_bytes
            + call
        )
        return encode_bytes(body)


def _block_hash_count(decoded_metadata: Any) -> int:
    """`System::BlockHashCount` (u32): how far back a mortal era's birth block may lie."""
    return int.from_bytes(system_constant(decoded_metadata, "BlockHashCount"), "little")


# --- the pool ------------------------------------------------------------------------------------


class ExtrinsicPool:
    """What `author_submitExtrinsic` does on the devnet: check, then queue on the chain."""

    def __init__(self, chain: DevChain) -> None:
        self.chain = chain
        self.codec = ExtrinsicCodec(chain.runtime.decoded)

    def additional(self, era: Era) -> Additional:
        """additional_signed as the chain computes it now; rejects an unknown birth block.

        Like frame_system's `BlockHash` while block `current` is validated: genesis, the parent
        and the `BlockHashCount` blocks before it (block `b` prunes `b - count - 1`).
        """
        version = self.chain.runtime_version
        current = self.chain.best_number + 1
        birth = era.birth(current)
        too_old = birth != 0 and current - birth > self.codec.block_hash_count + 1
        birth_hash = None if too_old else self.chain.block_hash(birth)
        if birth_hash is None or birth >= current:
            raise invalid(ANCIENT_BIRTH_BLOCK)
        return Additional(
            version["specVersion"],
            version["transactionVersion"],
            self.chain.genesis_hash,
            birth_hash,
        )

    def check(self, data: bytes) -> Accepted:
        """Validate without side effects; raises `ExtrinsicRejected` as a node would."""
        xt = self.codec.decode(data)
        if xt.hash in {blake2_256(x) for x in self.chain.pending()}:
            raise ExtrinsicRejected(
                POOL_ALREADY_IMPORTED, "Transaction Already Imported", "0x" + xt.hash.hex()
            )
        if xt.signature is None:
            if xt.call is not None and (xt.call.pallet, xt.call.name) == ("Timestamp", "set"):
                raise invalid(MANDATORY)
            raise ExtrinsicRejected(
                POOL_UNKNOWN_VALIDITY, "Unknown Transaction Validity", "NoUnsignedValidator"
            )
        sig = xt.signature
        if sig.address_kind != 0:  # the Indices lookup resolves Id; no index is assigned
            raise ExtrinsicRejected(
                POOL_UNKNOWN_VALIDITY, "Unknown Transaction Validity", "CannotLookup"
            )
        signer = sig.address
        additional = self.codec.extensions.additional(self.additional(sig.extra.era))
        if sig.scheme == 2:
            raise ExtrinsicRejected(
                OTHER_ERROR,
                "ECDSA signatures are not supported by the devnet (use sr25519 or ed25519)",
            )
        payload = signing_payload(xt.call_bytes, sig.extra_bytes, additional)
        if not verify_signature(sig.scheme, sig.signature, payload, signer):
            raise invalid(BAD_PROOF)
        if xt.call is not None and (xt.call.pallet, xt.call.name) == ("Timestamp", "set"):
            raise invalid(MANDATORY)
        self._check_nonce(signer, sig.extra.nonce)
        if self.chain.account_info(signer).free == 0:
            raise invalid(PAYMENT)
        if xt.call is None:
            raise invalid(CALL)
        return Accepted(
            xt.hash, signer, sig.extra.nonce, xt.call, tuple(self._messages(xt.call, signer))
        )

    def _check_nonce(self, signer: bytes, nonce: int) -> None:
        expected = self.chain.account_nonce(signer)
        if nonce < expected:
            raise invalid(STALE)
        if nonce > expected:
            raise ExtrinsicRejected(POOL_FUTURE_TX, "The pool is not accepting future transactions")

    def _messages(self, call: Call, signer: bytes) -> list[Message]:
        """The PhalaMq messages the call emits (what the runtime would append)."""
        if (call.pallet, call.name) == ("PhalaMq", "push_message"):
            destination, payload = call.args
            message = Message(MessageOrigin.account(signer), destination, payload)
        elif (call.pallet, call.name) == ("Sudo", "sudo"):
            inner: Call = call.args[0]
            if (inner.pallet, inner.name) != ("PhalaMq", "force_push_pallet_message"):
                raise invalid(CALL)
            if self.chain.storage(SUDO_KEY) != signer:
                return []
            destination, payload = inner.args
            message = Message(MessageOrigin.pallet(FORCE_PUSHED_PALLET), destination, payload)
        else:
            raise invalid(CALL)
        return [message] if topic_is_offchain(message.destination) else []

    def submit(self, data: bytes) -> bytes:
        """Check and queue for the next block; returns the extrinsic hash."""
        accepted = self.check(data)
        self.chain.include(bytes(data), [m.encode() for m in accepted.messages], accepted.signer)
        return accepted.hash


# --- building (wallet side) ----------------------------------------------------------------------


class ExtrinsicBuilder:
    """Builds and signs the extrinsics the devnet understands, for scenarios and tests."""

    def __init__(self, pool: ExtrinsicPool) -> None:
        self.pool = pool
        self.calls = pool.codec.calls

    def sign(
        self,
        call: bytes,
        keypair: Keypair,
        nonce: int | None = None,
        era: Era | None = None,
        tip: int = 0,
    ) -> bytes:
        chain = self.pool.chain
        if nonce is None:
            nonce = chain.account_nonce(bytes(keypair.public_key))
        era = era or Era()
        extra = Extra(era, nonce, tip)
        return self.pool.codec.encode_signed(call, keypair, extra, self.pool.additional(era))

    def push_message(
        self, keypair: Keypair, destination: bytes, payload: bytes, nonce: int | None = None
    ) -> bytes:
        call = self.calls.encode("PhalaMq", "push_message", destination, payload)
        return self.sign(call, keypair, nonce)

    def force_push(
        self, sudo: Keypair, destination: bytes, payload: bytes, nonce: int | None = None
    ) -> bytes:
        inner = self.calls.encode("PhalaMq", "force_push_pallet_message", destination, payload)
        return self.sign(self.calls.encode("Sudo", "sudo", inner), sudo, nonce)
