"""The devnet's transaction checks: decode per metadata, verify signatures, nonces, rejections.

Built extrinsics are cross-checked with scalecodec's metadata-driven decoder (not ours), and
every rejection must be the JSON-RPC error a Substrate node answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scalecodec.base import RuntimeConfigurationObject, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset
from substrateinterface import Keypair

from pinkpipe.chain import keys
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.messages import (
    FORCE_PUSHED_PALLET,
    Message,
    MessageOrigin,
    decode_messages,
)
from pinkpipe.chain.scale import Reader, encode_bytes, encode_compact
from pinkpipe.devnet import DevChain, DevnetConfig
from pinkpipe.devnet.extrinsics import (
    ANCIENT_BIRTH_BLOCK,
    BAD_PROOF,
    CALL,
    MANDATORY,
    OTHER_ERROR,
    PAYMENT,
    POOL_ALREADY_IMPORTED,
    POOL_FUTURE_TX,
    POOL_INVALID_TX,
    POOL_UNKNOWN_VALIDITY,
    STALE,
    VERIFICATION_ERROR,
    Additional,
    Era,
    Extra,
    ExtrinsicBuilder,
    ExtrinsicPool,
    ExtrinsicRejected,
)
from pinkpipe.devnet.keys import dev_keypair

ALICE = dev_keypair("Alice", "sr25519")
BOB = dev_keypair("Bob", "sr25519")
DAVE_ED = dev_keypair("Dave", "ed25519")
UNFUNDED = dev_keypair("Nobody", "sr25519")


@pytest.fixture(scope="module")
def scale() -> Iterator[tuple[RuntimeConfigurationObject, object]]:
    chain = DevChain(DevnetConfig())
    rc = RuntimeConfigurationObject()
    rc.update_type_registry(load_type_registry_preset("core"))
    rc.add_portable_registry(chain.runtime.decoded)
    yield rc, chain.runtime.decoded


@pytest.fixture
def chain() -> DevChain:
    balances = {"Alice": 10**18, "Bob": 10**18, "0x" + DAVE_ED.public_key.hex(): 10**18}
    return DevChain(DevnetConfig(initial_balances=balances))


@pytest.fixture
def pool(chain: DevChain) -> ExtrinsicPool:
    return ExtrinsicPool(chain)


@pytest.fixture
def builder(pool: ExtrinsicPool) -> ExtrinsicBuilder:
    return ExtrinsicBuilder(pool)


def rejected(pool: ExtrinsicPool, data: bytes) -> dict:
    with pytest.raises(ExtrinsicRejected) as err:
        pool.submit(data)
    return err.value.error_object()


def outbound(chain: DevChain) -> list[Message]:
    return decode_messages(chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES))


def scale_call(scale: tuple, module: str, function: str, args: dict) -> bytes:
    rc, metadata = scale
    call = rc.create_scale_object("Call", metadata=metadata)
    return bytes(
        call.encode({"call_module": module, "call_function": function, "call_args": args}).data
    )


def signed_body(
    pool: ExtrinsicPool,
    call: bytes,
    keypair: Keypair,
    *,
    nonce: int = 0,
    era: Era | None = None,
    genesis: bytes | None = None,
) -> bytes:
    """A signed extrinsic built field by field (MultiAddress::Id, sr25519/ed25519)."""
    era = era or Era()
    extra = Extra(era, nonce, 0)
    codec = pool.codec
    version = pool.chain.runtime_version
    additional = Additional(
        version["specVersion"],
        version["transactionVersion"],
        genesis or pool.chain.genesis_hash,
        pool.chain.block_hash(era.birth(pool.chain.best_number + 1)) or b"\x00" * 32,
    )
    return codec.encode_signed(call, keypair, extra, additional)


# --- era ---------------------------------------------------------------------------------------


def test_era_codec_matches_substrate() -> None:
    era = Era.mortal(64, 42)
    assert (era.period, era.phase) == (64, 42)
    assert era.encode() == bytes([5 + 42 % 16 * 16, 42 // 16])  # sp_runtime's own test vector
    assert Era.read(Reader(era.encode())) == era
    assert Era.mortal(5, 1000).period == 8
    assert Era.mortal(1 << 20, 3).period == 1 << 16
    assert Era().encode() == b"\x00"
    assert (era.birth(50), era.birth(100), era.birth(110)) == (42, 42, 106)


# --- accepted extrinsics -----------------------------------------------------------------------


def test_push_message_lands_with_account_origin(
    chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder, scale: tuple
) -> None:
    data = builder.push_message(ALICE, b"phala/test", b"\x01\x02")
    decoded = scale[0].create_scale_object("Extrinsic", data=ScaleBytes(data), metadata=scale[1])
    value = decoded.decode()
    assert value["call"]["call_module"] == "PhalaMq"
    assert value["call"]["call_function"] == "push_message"
    assert value["nonce"] == 0 and value["address"] == "0x" + ALICE.public_key.hex()
    extrinsic_hash = pool.submit(data)
    assert extrinsic_hash == blake2_256(data)
    assert chain.pending() == [data]
    assert chain.account_nonce(bytes(ALICE.public_key)) == 1
    chain.produce_block()
    assert outbound(chain) == [
        Message(MessageOrigin.account(bytes(ALICE.public_key)), b"phala/test", b"\x01\x02")
    ]
    assert data in chain.body(chain.best_hash)


def test_sudo_force_push_has_pallet_origin(
    chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder
) -> None:
    pool.submit(builder.force_push(ALICE, b"phala/cluster/key", b"\x01" + bytes(32)))
    pool.submit(builder.push_message(ALICE, b"phala/second", b""))  # nonce 1, same block
    chain.produce_block()
    assert outbound(chain) == [
        Message(
            MessageOrigin.pallet(FORCE_PUSHED_PALLET), b"phala/cluster/key", b"\x01" + bytes(32)
        ),
        Message(MessageOrigin.account(bytes(ALICE.public_key)), b"phala/second", b""),
    ]


def test_sudo_by_another_account_is_included_but_emits_nothing(
    chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder
) -> None:
    data = builder.force_push(BOB, b"phala/cluster/key", b"\x01" + bytes(32))
    pool.submit(data)
    chain.produce_block()
    assert data in chain.body(chain.best_hash)
    assert outbound(chain) == []
    assert chain.account_nonce(bytes(BOB.public_key)) == 1


def test_onchain_only_topics_are_not_pushed(
    chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder
) -> None:
    pool.submit(builder.push_message(ALICE, b"^onchain", b"x"))
    chain.produce_block()
    assert outbound(chain) == []


def test_ed25519_signer_and_hashed_long_payload(
    chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder
) -> None:
    payload = bytes(range(256)) * 2  # the signing payload exceeds 256 bytes: blake2-256 signed
    pool.submit(builder.push_message(DAVE_ED, b"phala/long", payload))
    chain.produce_block()
    assert outbound(chain)[0].payload == payload


def test_mortal_era_is_accepted_and_checked(
    chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder
) -> None:
    chain.produce(10)
    call = builder.calls.encode("PhalaMq", "push_message", b"t", b"p")
    era = Era.mortal(64, chain.best_number)
    pool.submit(builder.sign(call, ALICE, era=era))
    # An era born at the block being built (not yet in BlockHash) cannot be signed.
    unborn = Era.mortal(4, chain.best_number + 1)
    data = signed_body(pool, call, ALICE, nonce=1, era=unborn)
    assert rejected(pool, data) == {
        "code": POOL_INVALID_TX,
        "message": "Invalid Transaction",
        "data": ANCIENT_BIRTH_BLOCK,
    }


def test_mortal_birth_window_is_frame_systems(
    chain: DevChain,
    pool: ExtrinsicPool,
    builder: ExtrinsicBuilder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While block `current` is validated, BlockHash holds #current-1-count..#current-1."""
    monkeypatch.setattr(pool.codec, "block_hash_count", 4)
    chain.produce(10)
    call = builder.calls.encode("PhalaMq", "push_message", b"t", b"p")
    oldest = Era(64, 6)  # born at #6: current #11 - 1 - 4
    assert oldest.birth(chain.best_number + 1) == 6
    pool.submit(signed_body(pool, call, ALICE, era=oldest))
    pruned = Era(64, 5)
    assert rejected(pool, signed_body(pool, call, ALICE, nonce=1, era=pruned))["data"] == (
        ANCIENT_BIRTH_BLOCK
    )


# --- rejections --------------------------------------------------------------------------------


def test_bad_signature_is_rejected(pool: ExtrinsicPool, builder: ExtrinsicBuilder) -> None:
    data = bytearray(builder.push_message(ALICE, b"t", b"p"))
    data[-20] ^= 0x01  # inside the call: the signature no longer matches
    assert rejected(pool, bytes(data)) == {
        "code": POOL_INVALID_TX,
        "message": "Invalid Transaction",
        "data": BAD_PROOF,
    }
    call = builder.calls.encode("PhalaMq", "push_message", b"t", b"p")
    wrong_genesis = signed_body(pool, call, ALICE, genesis=b"\x11" * 32)
    assert rejected(pool, wrong_genesis)["data"] == BAD_PROOF


def test_nonce_policy(chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder) -> None:
    first = builder.push_message(ALICE, b"t", b"1", nonce=0)
    pool.submit(first)
    assert rejected(pool, first) == {
        "code": POOL_ALREADY_IMPORTED,
        "message": "Transaction Already Imported",
        "data": "0x" + blake2_256(first).hex(),
    }
    future = builder.push_message(ALICE, b"t", b"2", nonce=5)
    assert rejected(pool, future) == {
        "code": POOL_FUTURE_TX,
        "message": "The pool is not accepting future transactions",
    }
    chain.produce_block()
    assert rejected(pool, first) == {
        "code": POOL_INVALID_TX,
        "message": "Invalid Transaction",
        "data": STALE,
    }
    stale = builder.push_message(ALICE, b"t", b"3", nonce=0)
    assert rejected(pool, stale)["data"] == STALE


def test_unfunded_signer_cannot_pay(pool: ExtrinsicPool, builder: ExtrinsicBuilder) -> None:
    assert rejected(pool, builder.push_message(UNFUNDED, b"t", b"p"))["data"] == PAYMENT


def test_calls_the_devnet_does_not_run(
    pool: ExtrinsicPool, builder: ExtrinsicBuilder, scale: tuple
) -> None:
    transfer = scale_call(
        scale, "Balances", "transfer", {"dest": {"Id": "0x" + BOB.public_key.hex()}, "value": 5}
    )
    assert rejected(pool, builder.sign(transfer, ALICE))["data"] == CALL
    sudo_transfer = builder.calls.encode("Sudo", "sudo", transfer)
    assert rejected(pool, builder.sign(sudo_transfer, ALICE))["data"] == CALL
    timestamp = builder.calls.encode("Timestamp", "set", 1)
    assert rejected(pool, builder.sign(timestamp, ALICE))["data"] == MANDATORY


def test_unsigned_extrinsics(pool: ExtrinsicPool, builder: ExtrinsicBuilder) -> None:
    inherent = encode_bytes(b"\x04" + builder.calls.encode("Timestamp", "set", 1))
    assert rejected(pool, inherent) == {
        "code": POOL_INVALID_TX,
        "message": "Invalid Transaction",
        "data": MANDATORY,
    }
    unsigned = encode_bytes(b"\x04" + builder.calls.encode("PhalaMq", "push_message", b"t", b""))
    assert rejected(pool, unsigned) == {
        "code": POOL_UNKNOWN_VALIDITY,
        "message": "Unknown Transaction Validity",
        "data": "NoUnsignedValidator",
    }


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d + b"\x00", OTHER_ERROR),  # trailing bytes after the opaque Vec<u8>
        (lambda d: encode_compact(len(d) + 10) + d[2:], OTHER_ERROR),  # length beyond input
        (lambda d: d[:2] + b"\x85" + d[3:], VERIFICATION_ERROR),  # unknown version byte
        (lambda d: encode_compact(len(d) - 3) + d[2:-1], VERIFICATION_ERROR),  # truncated call
        (lambda d: d[:-1] + b"\xff", VERIFICATION_ERROR),  # not a call of this runtime
    ],
)
def test_malformed_extrinsics(
    pool: ExtrinsicPool, builder: ExtrinsicBuilder, mutate: object, code: int
) -> None:
    data = builder.push_message(ALICE, b"t", b"")
    assert data[:2] == encode_compact(len(data) - 2)  # two-byte length prefix, assumed above
    error = rejected(pool, mutate(data))  # type: ignore[operator]
    assert error["code"] == code


def test_unknown_pallet_index_is_a_verification_error(
    pool: ExtrinsicPool, builder: ExtrinsicBuilder
) -> None:
    data = builder.sign(b"\xee\x00", ALICE)
    error = rejected(pool, data)
    assert error["code"] == VERIFICATION_ERROR
    assert error["message"].startswith("Verification Error: ")


def test_address_and_signature_kinds(pool: ExtrinsicPool, builder: ExtrinsicBuilder) -> None:
    good = builder.push_message(ALICE, b"t", b"")
    body = good[2:]
    by_index = b"\x84\x01" + encode_compact(7) + body[34:]
    assert rejected(pool, encode_bytes(by_index)) == {
        "code": POOL_UNKNOWN_VALIDITY,
        "message": "Unknown Transaction Validity",
        "data": "CannotLookup",
    }
    extra_and_call = body[34 + 65 :]
    ecdsa = b"\x84\x00" + bytes(ALICE.public_key) + b"\x02" + bytes(65) + extra_and_call
    assert rejected(pool, encode_bytes(ecdsa))["code"] == OTHER_ERROR


def test_rejection_leaves_no_trace(
    chain: DevChain, pool: ExtrinsicPool, builder: ExtrinsicBuilder
) -> None:
    bad = bytearray(builder.push_message(ALICE, b"t", b"p"))
    bad[-1] ^= 1
    rejected(pool, bytes(bad))
    assert chain.pending() == []
    assert chain.account_nonce(bytes(ALICE.public_key)) == 0
