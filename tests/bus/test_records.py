"""Wire records: exact round trips, strict validation, errors that name the stream sequence."""

from __future__ import annotations

import json

import pytest

from pinkpipe.bus.records import (
    BootstrapRecord,
    ParachainBootstrapRecord,
    ParachainCheckpoint,
    RawBlockRecord,
    RecordError,
    RelayBlockRecord,
    StorageItem,
    ValidatorCheckpoint,
    VerifiedBlockRecord,
    decode_checkpoint,
    decode_para_checkpoint,
    decode_para_raw,
    decode_raw,
    decode_verified,
)

H1 = bytes(range(32))
H2 = bytes(range(1, 33))


def raw_block(**changes: object) -> RawBlockRecord:
    fields: dict[str, object] = {
        "number": 7,
        "hash": H1,
        "header": b"\x00header\xff",
        "body": [b"\x01\x02", b""],
        "justification": b"\x09" * 5,
        "keys": [b"\xaa" * 32, b"\xbb"],
        "proof": [b"node-1", b"node-2"],
    }
    fields.update(changes)
    return RawBlockRecord(**fields)  # type: ignore[arg-type]


def test_raw_block_round_trip_is_exact() -> None:
    record = raw_block()
    data = record.to_bytes()
    back = decode_raw(data, "RAW", 12)
    assert back == record
    assert isinstance(back, RawBlockRecord)
    doc = json.loads(data)
    assert doc["kind"] == "block" and doc["version"] == 1
    assert doc["hash"] == "0x" + H1.hex()  # hashes readable as hex
    assert doc["keys"][1] == "0xbb"


def test_bootstrap_and_verified_round_trip() -> None:
    boot = BootstrapRecord(
        genesis_hash=H1,
        number=0,
        hash=H1,
        header=b"h",
        proof=[b"p"],
        chain="dev",
        spec_name="phala-node",
        spec_version=1,
    )
    assert decode_raw(boot.to_bytes(), "RAW", 1) == boot
    verified = VerifiedBlockRecord(
        number=3,
        hash=H1,
        parent_hash=H2,
        header=b"h",
        set_id=2,
        justified_by=H2,
        storage=[StorageItem(key=b"\x01", value=b"v"), StorageItem(key=b"\x02", value=None)],
        extrinsics=[b"x"],
    )
    back = decode_verified(verified.to_bytes(), "VERIFIED", 3)
    assert back == verified
    assert back.value(b"\x01") == b"v" and back.value(b"\x02") is None
    with pytest.raises(KeyError, match="not in verified block #3"):
        back.value(b"\x03")


def test_justification_is_optional() -> None:
    record = raw_block(justification=None)
    assert decode_raw(record.to_bytes(), "RAW", 1) == record


def _mutated(**changes: object) -> bytes:
    doc = json.loads(raw_block().to_bytes())
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"not json at all", "record"),
        (b"[]", "record"),
        (_mutated(kind="mystery"), "kind"),
        (_mutated(version=2), "version"),
        (_mutated(extra_field=1), "extra_field"),
        (_mutated(number="7"), "number"),
        (_mutated(number=0), "number"),
        (_mutated(number=2**32), "number"),
        (_mutated(hash="0x1234"), "hash"),
        (_mutated(hash=H1.hex()), "hash"),
        (_mutated(hash="0x" + "zz" * 32), "hash"),
        (_mutated(header="%%%"), "header"),
        (_mutated(body="AAAA"), "body"),
        (_mutated(keys=["aa"]), "keys"),
        (_mutated(proof=None), "proof"),
    ],
)
def test_invalid_raw_record_names_its_sequence(data: bytes, fragment: str) -> None:
    with pytest.raises(RecordError) as info:
        decode_raw(data, "PINKPIPE_RAW_x", 4242)
    error = info.value
    assert error.seq == 4242 and error.stream == "PINKPIPE_RAW_x"
    assert "PINKPIPE_RAW_x sequence 4242" in str(error)
    assert fragment in str(error)


def test_raw_record_is_not_a_verified_record() -> None:
    with pytest.raises(RecordError, match="VERIFIED sequence 9"):
        decode_verified(raw_block().to_bytes(), "VERIFIED", 9)


def test_checkpoint_errors_name_the_kv_revision() -> None:
    cp = ValidatorCheckpoint(raw_seq=5, verified_seq=3, number=4, hash=H1, state=b"\x01state")
    assert decode_checkpoint(cp.to_bytes(), "KV x.checkpoint", 3) == cp
    with pytest.raises(RecordError, match=r"KV x\.checkpoint sequence 8"):
        decode_checkpoint(b'{"kind":"checkpoint"}', "KV x.checkpoint", 8)


def test_records_are_immutable() -> None:
    record = raw_block()
    with pytest.raises(ValueError, match="frozen"):
        record.number = 8  # type: ignore[misc]


def test_parachain_records_round_trip_and_stay_apart_from_the_standalone_kinds() -> None:
    boot = ParachainBootstrapRecord(
        relay=BootstrapRecord(genesis_hash=H1, number=0, hash=H1, header=b"h", proof=[b"p"]),
        para_id=2035,
        para_genesis_hash=H2,
    )
    relay = RelayBlockRecord(
        number=9, hash=H2, header=b"r", justification=b"j", heads_proof=[b"n1", b"n2"]
    )
    for record in (boot, relay, raw_block()):
        assert decode_para_raw(record.to_bytes(), "PARARAW", 3) == record
    assert json.loads(relay.to_bytes())["kind"] == "relay"
    with pytest.raises(RecordError, match="sequence 4"):
        decode_raw(relay.to_bytes(), "RAW", 4)  # not a standalone raw record
    cp = ParachainCheckpoint(
        raw_seq=5, verified_seq=2, number=1, hash=H1, relay_state=b"r", para_state=b"p"
    )
    assert decode_para_checkpoint(cp.to_bytes(), "KV", 1) == cp


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"para_id": 2**32}, "para_id"),
        ({"para_genesis_hash": "0x1234"}, "para_genesis_hash"),
        ({"relay": {"genesis_hash": "0x00"}}, "relay"),
    ],
)
def test_invalid_parachain_bootstrap_names_the_field(
    changes: dict[str, object], fragment: str
) -> None:
    doc = json.loads(
        ParachainBootstrapRecord(
            relay=BootstrapRecord(genesis_hash=H1, number=0, hash=H1, header=b"h", proof=[]),
            para_id=1,
            para_genesis_hash=H2,
        ).to_bytes()
    )
    doc.update(changes)
    with pytest.raises(RecordError, match=rf"PARARAW sequence 8: para-bootstrap\.{fragment}"):
        decode_para_raw(json.dumps(doc).encode(), "PARARAW", 8)
