"""Phala message codecs: exact bytes, round trips, strict rejection of malformed input.

The `Message`/`MessageOrigin` layout is cross-checked against scalecodec driven by the real
standalone Phala metadata (its `PhalaMq::OutboundMessages` type), an encoder this project did
not write. Payload layouts are checked against hand-assembled bytes following the Rust type
definitions field by field.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scalecodec.base import RuntimeConfigurationObject, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.messages import (
    CLUSTER_EVENT_TOPIC,
    CLUSTER_KEY_TOPIC,
    CONTRACT_OP_TOPIC,
    ClusterSettings,
    ContractInfo,
    DeployCluster,
    Deposit,
    DestroyCluster,
    DispatchKeys,
    EncryptedKey,
    EncryptedPayload,
    InkMessage,
    InstantiateCode,
    Message,
    MessageError,
    MessageOrigin,
    OriginKind,
    PlainPayload,
    RemoveWorker,
    ResourceType,
    UploadResource,
    WorkerIdentity,
    command_topic_contract,
    contract_command_topic,
    decode_cluster_operation,
    decode_messages,
    decode_payload,
    decode_topic_payload,
    encode_messages,
    topic_is_offchain,
)
from pinkpipe.chain.scale import CodecError, encode_compact
from tests.vectors import VECTORS

OUTBOUND_MESSAGES_TYPE = "scale_info::536"  # Vec<phala_mq::types::Message> in this metadata

A = bytes(range(32))
B = bytes([0xBB]) * 32
C = bytes([0xCC]) * 32


def u128(v: int) -> bytes:
    return v.to_bytes(16, "little")


@pytest.fixture(scope="module")
def runtime() -> RuntimeConfigurationObject:
    rc = RuntimeConfigurationObject()
    rc.update_type_registry(load_type_registry_preset("core"))
    raw = (VECTORS / "phala" / "phala_standalone_metadata.scale").read_bytes()
    metadata = rc.create_scale_object("MetadataVersioned", data=ScaleBytes(raw))
    metadata.decode()
    rc.add_portable_registry(metadata)
    return rc


# --- Message envelope, against the runtime's own type registry ------------------------------


def test_messages_encode_like_the_runtime_type(runtime: RuntimeConfigurationObject) -> None:
    messages = [
        Message(MessageOrigin.pallet(b"ForcePushed"), CLUSTER_KEY_TOPIC, b"\x01\x02"),
        Message(MessageOrigin.account(A), b"topic", b""),
        Message(MessageOrigin.contract(B), b"t", b"\xff"),
        Message(MessageOrigin(OriginKind.WORKER, C), b"t", b""),
        Message(MessageOrigin(OriginKind.MULTI_LOCATION, b"\x00\x01"), b"t", b""),
        Message(MessageOrigin.gatekeeper(), b"t", b""),
        Message(MessageOrigin.cluster(A), b"t", b""),
    ]
    reference = runtime.create_scale_object(OUTBOUND_MESSAGES_TYPE)
    expected = reference.encode(
        [
            {
                "sender": {"Pallet": "0x" + b"ForcePushed".hex()},
                "destination": "0x" + CLUSTER_KEY_TOPIC.hex(),
                "payload": "0x0102",
            },
            {
                "sender": {"AccountId": "0x" + A.hex()},
                "destination": "0x" + b"topic".hex(),
                "payload": "0x",
            },
            {"sender": {"Contract": "0x" + B.hex()}, "destination": "0x74", "payload": "0xff"},
            {"sender": {"Worker": "0x" + C.hex()}, "destination": "0x74", "payload": "0x"},
            {"sender": {"MultiLocation": "0x0001"}, "destination": "0x74", "payload": "0x"},
            {"sender": "Gatekeeper", "destination": "0x74", "payload": "0x"},
            {"sender": {"Cluster": "0x" + A.hex()}, "destination": "0x74", "payload": "0x"},
        ]
    )
    assert encode_messages(messages) == bytes(expected.data)
    assert decode_messages(bytes(expected.data)) == messages
    decoded = runtime.create_scale_object(
        OUTBOUND_MESSAGES_TYPE, data=ScaleBytes(encode_messages(messages))
    ).decode()
    assert decoded[1]["sender"] == {"AccountId": "0x" + A.hex()}


def test_reserved_origin_is_index_255() -> None:
    origin = MessageOrigin(OriginKind.RESERVED)
    assert origin.encode() == b"\xff"
    assert MessageOrigin.decode(b"\xff") == origin


def test_absent_outbound_messages_are_none() -> None:
    assert decode_messages(None) == []
    assert decode_messages(b"\x00") == []


@pytest.mark.parametrize(
    ("data", "type_name", "offset"),
    [
        (b"\x07", "MessageOrigin", 0),  # unknown variant
        (b"\x03" + A[:31], "MessageOrigin::ACCOUNT_ID", 1),  # truncated id
        (b"\x05\x00", "MessageOrigin", 1),  # trailing byte
        (b"\x00\x10ab", "MessageOrigin::PALLET", 1),  # length beyond input
    ],
)
def test_bad_origins_name_type_and_offset(data: bytes, type_name: str, offset: int) -> None:
    with pytest.raises(CodecError) as err:
        MessageOrigin.decode(data)
    assert err.value.type_name == type_name
    assert err.value.offset == offset


def test_bad_message_vector_is_rejected() -> None:
    good = encode_messages([Message(MessageOrigin.gatekeeper(), b"t", b"p")])
    with pytest.raises(CodecError, match="trailing"):
        decode_messages(good + b"\x00")
    with pytest.raises(CodecError):
        decode_messages(good[:-1])
    with pytest.raises(CodecError, match="exceeds"):
        decode_messages(encode_compact(1000) + good[1:])


def test_origin_construction_checks_lengths() -> None:
    with pytest.raises(MessageError, match="32 bytes"):
        MessageOrigin.account(b"\x01" * 31)
    with pytest.raises(MessageError, match="no data"):
        MessageOrigin(OriginKind.GATEKEEPER, b"x")


# --- topics ----------------------------------------------------------------------------------


def test_command_topic_is_lower_hex_of_the_id() -> None:
    topic = contract_command_topic(A)
    assert topic == b"phala/contract/" + A.hex().encode() + b"/command"
    assert command_topic_contract(topic) == A
    assert command_topic_contract(topic.upper()) is None
    assert command_topic_contract(b"phala/contract/op") is None
    assert command_topic_contract(b"phala/contract/" + b"zz" * 32 + b"/command") is None


# --- phala/cluster/event ---------------------------------------------------------------------

SETTINGS = ClusterSettings(
    owner=A,
    deposit=10**15,
    gas_price=1,
    deposit_per_item=7,
    deposit_per_byte=3,
    treasury_account=B,
)


def test_deploy_cluster_bytes() -> None:
    event = DeployCluster(C, (WorkerIdentity(A, B),), SETTINGS)
    expected = b"\x00" + A + C + b"\x04" + A + B + u128(10**15) + u128(1) + u128(7) + u128(3) + B
    assert event.encode() == expected
    assert DeployCluster.decode(expected) == event
    assert event.TOPIC == CLUSTER_EVENT_TOPIC


def test_deploy_cluster_rejects_other_variants_and_trailing_bytes() -> None:
    data = DeployCluster(C, (), SETTINGS).encode()
    with pytest.raises(CodecError) as err:
        DeployCluster.decode(b"\x01" + data[1:])
    assert (err.value.type_name, err.value.offset) == ("ClusterEvent", 0)
    with pytest.raises(CodecError, match="1 trailing bytes"):
        DeployCluster.decode(data + b"\x00")


# --- phala/cluster/key -----------------------------------------------------------------------


def test_cluster_operation_bytes() -> None:
    cases = [
        (DestroyCluster(A), b"\x01" + A),
        (
            UploadResource(B, A, ResourceType.SIDEVM_CODE, b"\x00asm"),
            b"\x02" + B + A + b"\x01" + b"\x10\x00asm",
        ),
        (Deposit(A, B, 5), b"\x03" + A + B + u128(5)),
        (RemoveWorker(A, C), b"\x04" + A + C),
    ]
    for op, expected in cases:
        assert op.encode() == expected
        assert decode_cluster_operation(expected) == op


def test_dispatch_keys_bytes_and_canonical_key_order() -> None:
    key_b = EncryptedKey(C, b"\x01\x02", bytes(12))
    key_a = EncryptedKey(C, b"", bytes(range(12)))
    op = DispatchKeys(((B, key_b), (A, key_a)), C, SETTINGS)  # given unsorted: sorted by key
    expected = (
        b"\x00"
        + b"\x08"
        + A
        + C
        + b"\x00"
        + bytes(range(12))
        + B
        + C
        + b"\x08\x01\x02"
        + bytes(12)
        + C
        + A
        + u128(10**15)
        + u128(1)
        + u128(7)
        + u128(3)
        + B
    )
    assert op.encode() == expected
    assert decode_cluster_operation(expected) == op
    swapped = (
        b"\x00\x08"
        + B
        + C
        + b"\x08\x01\x02"
        + bytes(12)
        + A
        + C
        + b"\x00"
        + bytes(range(12))
        + expected[2 + 2 * 32 + 2 * 32 + 1 + 3 + 24 :]
    )
    with pytest.raises(CodecError, match="strictly ascending"):
        decode_cluster_operation(swapped)
    with pytest.raises(MessageError, match="twice"):
        DispatchKeys(((A, key_a), (A, key_b)), C, SETTINGS)


def test_bad_cluster_operations() -> None:
    with pytest.raises(CodecError) as err:
        decode_cluster_operation(b"\x05" + A)
    assert (err.value.type_name, err.value.offset) == ("ClusterOperation", 0)
    with pytest.raises(CodecError) as err:
        decode_cluster_operation(b"\x02" + B + A + b"\x03\x00")
    assert (err.value.type_name, err.value.offset) == ("ResourceType", 65)
    with pytest.raises(CodecError, match="needs 16 bytes"):
        decode_cluster_operation(b"\x03" + A + B + b"\x00")


# --- phala/contract/op -----------------------------------------------------------------------


def test_instantiate_code_bytes_and_contract_id() -> None:
    info = ContractInfo(
        deployer=A, code_hash=B, salt=b"salt", cluster_id=C, instantiate_data=b"\x9b\xae\x9d\x5e"
    )
    op = InstantiateCode(info, transfer=1, gas_limit=2**40, storage_deposit_limit=None)
    expected = (
        b"\x00"
        + A
        + b"\x00"
        + B
        + b"\x10salt"
        + C
        + b"\x10\x9b\xae\x9d\x5e"
        + u128(1)
        + (2**40).to_bytes(8, "little")
        + b"\x00"
    )
    assert op.encode() == expected
    assert InstantiateCode.decode(expected) == op
    limited = InstantiateCode(info, 0, 0, 99)
    assert limited.encode().endswith(b"\x01" + u128(99))
    assert InstantiateCode.decode(limited.encode()) == limited
    assert info.contract_id() == blake2_256(A + B + C + b"salt")
    assert op.TOPIC == CONTRACT_OP_TOPIC


def test_instantiate_code_rejects_unknown_code_index_and_bad_option() -> None:
    data = InstantiateCode(ContractInfo(A, B, b"", C, b""), 0, 0, None).encode()
    with pytest.raises(CodecError) as err:
        InstantiateCode.decode(data[:33] + b"\x01" + data[34:])
    assert (err.value.type_name, err.value.offset) == ("CodeIndex", 33)
    with pytest.raises(CodecError, match="invalid Option tag 2"):
        InstantiateCode.decode(data[:-1] + b"\x02")


# --- phala/contract/<id>/command -------------------------------------------------------------


def test_plain_ink_message_bytes() -> None:
    payload = PlainPayload(InkMessage(b"n" * 32, b"\x01\x02\x03\x04", 5, 6, 7))
    expected = (
        b"\x00\x00"
        + b"\x80"
        + b"n" * 32
        + b"\x10\x01\x02\x03\x04"
        + u128(5)
        + (6).to_bytes(8, "little")
        + b"\x01"
        + u128(7)
    )
    assert payload.encode() == expected
    assert decode_payload(expected) == payload


def test_encrypted_payload_bytes() -> None:
    payload = EncryptedPayload(bytes(range(12)), A, b"sealed")
    expected = b"\x01" + bytes(range(12)) + A + b"\x18sealed"
    assert payload.encode() == expected
    assert decode_payload(expected) == payload


def test_nonce_longer_than_32_bytes_is_rejected() -> None:
    with pytest.raises(MessageError, match="at most 32"):
        InkMessage(b"n" * 33, b"", 0, 0, None)
    data = b"\x00\x00\x84" + b"n" * 33 + b"\x00" + u128(0) + bytes(8) + b"\x00"
    with pytest.raises(CodecError) as err:
        decode_payload(data)
    assert (err.value.type_name, err.value.offset) == ("InkMessage.nonce", 2)


def test_bad_payload_tags() -> None:
    with pytest.raises(CodecError) as err:
        decode_payload(b"\x02")
    assert err.value.type_name == "Payload"
    with pytest.raises(CodecError) as err:
        decode_payload(b"\x00\x01")
    assert (err.value.type_name, err.value.offset) == ("InkCommand", 1)


def test_decode_by_topic() -> None:
    deploy = DeployCluster(C, (), SETTINGS)
    command = PlainPayload(InkMessage(b"", b"\x01", 0, 1, None))
    assert (
        decode_topic_payload(
            Message(MessageOrigin.pallet(b"x"), CLUSTER_EVENT_TOPIC, deploy.encode())
        )
        == deploy
    )
    assert (
        decode_topic_payload(
            Message(MessageOrigin.account(A), contract_command_topic(B), command.encode())
        )
        == command
    )
    assert decode_topic_payload(
        Message(MessageOrigin.pallet(b"x"), CLUSTER_KEY_TOPIC, Deposit(A, B, 1).encode())
    ) == Deposit(A, B, 1)
    assert decode_topic_payload(Message(MessageOrigin.gatekeeper(), b"other", b"\x00")) is None


# --- properties ------------------------------------------------------------------------------

ids = st.binary(min_size=32, max_size=32)
u128s = st.integers(0, 2**128 - 1)
origins = st.one_of(
    st.builds(MessageOrigin.pallet, st.binary(max_size=40)),
    st.builds(MessageOrigin.account, ids),
    st.builds(MessageOrigin.contract, ids),
    st.builds(MessageOrigin.cluster, ids),
    st.builds(lambda b: MessageOrigin(OriginKind.WORKER, b), ids),
    st.builds(lambda b: MessageOrigin(OriginKind.MULTI_LOCATION, b), st.binary(max_size=40)),
    st.just(MessageOrigin.gatekeeper()),
    st.just(MessageOrigin(OriginKind.RESERVED)),
)
ink_messages = st.builds(
    InkMessage,
    st.binary(max_size=32),
    st.binary(max_size=64),
    u128s,
    st.integers(0, 2**64 - 1),
    st.none() | u128s,
)


@given(
    st.lists(
        st.builds(Message, origins, st.binary(max_size=80), st.binary(max_size=80)), max_size=5
    )
)
def test_message_vectors_round_trip(messages: list[Message]) -> None:
    assert decode_messages(encode_messages(messages)) == messages


@given(ink_messages)
def test_ink_messages_round_trip(message: InkMessage) -> None:
    assert decode_payload(PlainPayload(message).encode()) == PlainPayload(message)


@given(
    st.builds(UploadResource, ids, ids, st.sampled_from(ResourceType), st.binary()),
    st.builds(Deposit, ids, ids, u128s),
)
def test_cluster_operations_round_trip(upload: UploadResource, deposit: Deposit) -> None:
    assert decode_cluster_operation(upload.encode()) == upload
    assert decode_cluster_operation(deposit.encode()) == deposit


@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_codec_error(data: bytes) -> None:
    for decode in (
        decode_messages,
        decode_payload,
        decode_cluster_operation,
        InstantiateCode.decode,
        DeployCluster.decode,
    ):
        try:
            value = decode(data)
        except CodecError:
            continue
        encoded = encode_messages(value) if isinstance(value, list) else value.encode()
        assert encoded == data


def test_offchain_topics() -> None:
    assert topic_is_offchain(CLUSTER_KEY_TOPIC)
    assert not topic_is_offchain(b"")
    assert not topic_is_offchain(b"^onchain")
    assert not topic_is_offchain(b"/reserved")
