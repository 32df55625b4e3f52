"""GRANDPA encodings against real data: authority lists, consensus logs, justifications, proofs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinkpipe.chain.grandpa import (
    Authority,
    ConsensusLog,
    FinalityProof,
    ForcedChange,
    GenesisGrandpa,
    GenesisGrandpaError,
    Justification,
    OnDisabled,
    Pause,
    Resume,
    ScheduledChange,
    decode_authority_list,
    decode_consensus_log,
    decode_versioned_authorities,
    encode_authority_list,
    encode_consensus_log,
    encode_versioned_authorities,
    genesis_grandpa,
    grandpa_logs,
    precommit_payload,
    threshold,
)
from pinkpipe.chain.header import GRANDPA_ENGINE_ID, DigestKind, Header
from pinkpipe.chain.keys import GENESIS_KEYS
from pinkpipe.chain.scale import CodecError, encode_bytes, encode_compact, encode_u32, encode_u64
from tests.fuzzing import mutated
from tests.vectors import (
    GRANDPA_AUTHORITIES_KEY,
    ROCOCO_SET_IDS,
    rococo_batches,
    rococo_register_header,
    westend_block512_justification,
    westend_blocks,
    westend_genesis_storage,
)

# --- authority sets --------------------------------------------------------------------------


def test_westend_genesis_authorities() -> None:
    raw = westend_genesis_storage()[GRANDPA_AUTHORITIES_KEY]
    authorities = decode_versioned_authorities(raw)
    assert len(authorities) == 4
    assert {a.weight for a in authorities} == {1}
    assert len({a.id for a in authorities}) == 4
    assert authorities[0].id.hex().startswith("9fc415cc")
    assert encode_versioned_authorities(authorities) == raw
    assert decode_authority_list(raw[1:]) == authorities
    assert encode_authority_list(authorities) == raw[1:]


def test_genesis_grandpa_of_westend_and_both_keys() -> None:
    storage = westend_genesis_storage()
    westend = genesis_grandpa(storage)
    assert (len(westend.authorities), westend.source, westend.set_id) == (
        4,
        ":grandpa_authorities",
        0,
    )
    pallet = {
        GENESIS_KEYS.authorities: encode_authority_list(westend.authorities),
        GENESIS_KEYS.set_id: encode_u64(7),
    }
    assert genesis_grandpa(pallet) == GenesisGrandpa(westend.authorities, "Grandpa::Authorities", 7)
    assert genesis_grandpa({**storage, **pallet}).source == ":grandpa_authorities"
    assert genesis_grandpa({b"other": b"x"}) == GenesisGrandpa((), "none", 0)


@pytest.mark.parametrize(
    ("values", "message", "key"),
    [
        ({GENESIS_KEYS.well_known_authorities: b"\x02"}, "do not decode", "well_known_authorities"),
        ({GENESIS_KEYS.authorities: b"\x04"}, "do not decode", "authorities"),
        ({GENESIS_KEYS.set_id: b"\x01"}, "CurrentSetId does not decode", "set_id"),
        (
            {
                GENESIS_KEYS.well_known_authorities: encode_versioned_authorities(
                    [Authority(b"\x01" * 32, 1)]
                ),
                GENESIS_KEYS.authorities: encode_authority_list([Authority(b"\x02" * 32, 1)]),
            },
            "disagree",
            None,
        ),
    ],
)
def test_genesis_grandpa_errors_name_the_key(
    values: dict[bytes, bytes], message: str, key: str | None
) -> None:
    with pytest.raises(GenesisGrandpaError, match=message) as err:
        genesis_grandpa(values)
    assert err.value.key == (None if key is None else getattr(GENESIS_KEYS, key))


def test_versioned_authorities_rejects_other_versions() -> None:
    raw = westend_genesis_storage()[GRANDPA_AUTHORITIES_KEY]
    with pytest.raises(CodecError, match="VersionedAuthorityList at byte 0: unsupported version 2"):
        decode_versioned_authorities(b"\x02" + raw[1:])
    with pytest.raises(CodecError, match="trailing"):
        decode_versioned_authorities(raw + b"\x00")


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
def test_rococo_register_header_schedules_68_authorities(set_id: int) -> None:
    header = rococo_register_header(set_id)
    (item,) = header.items(DigestKind.CONSENSUS, GRANDPA_ENGINE_ID)
    (log,) = grandpa_logs(header)
    assert isinstance(log, ScheduledChange)
    assert log.delay == 0
    assert len(log.next_authorities) == 68
    assert len({a.id for a in log.next_authorities}) == 68
    assert {a.weight for a in log.next_authorities} == {1}
    assert decode_consensus_log(item.data) == log
    assert encode_consensus_log(log) == item.data


def test_headers_without_grandpa_logs() -> None:
    for block in westend_blocks()[:20]:
        assert grandpa_logs(Header.decode(block.header)) == []


AUTHS = (Authority(b"\x01" * 32, 1), Authority(b"\x02" * 32, 2**64 - 1))


@pytest.mark.parametrize(
    ("log", "encoded"),
    [
        (
            ScheduledChange(AUTHS, 7),
            "0108" + "01" * 32 + "0100000000000000" + "02" * 32 + "ff" * 8 + "07000000",
        ),
        (ForcedChange(10, ScheduledChange((), 3)), "020a0000000003000000"),
        (OnDisabled(2**64 - 1), "03" + "ff" * 8),
        (Pause(5), "0405000000"),
        (Resume(6), "0506000000"),
    ],
)
def test_consensus_log_variants(log: ConsensusLog, encoded: str) -> None:
    assert encode_consensus_log(log).hex() == encoded
    assert decode_consensus_log(bytes.fromhex(encoded)) == log


@pytest.mark.parametrize("tag", [0, 6, 9, 255])
def test_consensus_log_invalid_tags(tag: int) -> None:
    with pytest.raises(CodecError) as info:
        decode_consensus_log(bytes([tag]) + b"\x00" * 8)
    assert (info.value.type_name, info.value.offset) == ("ConsensusLog", 0)
    assert f"ConsensusLog at byte 0: invalid tag {tag}" in str(info.value)


def test_encode_consensus_log_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="not a GRANDPA consensus log"):
        encode_consensus_log(AUTHS[0])  # type: ignore[arg-type]


def test_authority_list_longer_than_input_fails_fast() -> None:
    data = b"\x01" + encode_compact(2**30) + b"\x00" * 40
    with pytest.raises(CodecError, match="AuthorityList at byte 1: length 1073741824 exceeds"):
        decode_consensus_log(data)


# --- justifications ------------------------------------------------------------------------


def test_westend_block512_justification() -> None:
    raw = westend_block512_justification()
    j = Justification.decode(raw)
    assert j.round == 713
    assert j.commit.target_number == 512
    assert len(j.commit.precommits) == 3
    assert j.votes_ancestries == ()
    assert {(p.target_hash, p.target_number) for p in j.commit.precommits} == {
        (j.commit.target_hash, 512)
    }
    assert j.encode() == raw


# Round, signers and target of each real Rococo justification, by set.
ROCOCO_JUSTIFICATIONS = {
    3164: [(297, 46, 1843123), (306, 48, 1843135)],
    3165: [(307, 50, 1843737), (317, 49, 1843750)],
}


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
def test_rococo_justifications_round_trip(set_id: int) -> None:
    authorities = {a.id for a in grandpa_logs(rococo_register_header(set_id))[0].next_authorities}
    summary = []
    for batch in rococo_batches(set_id):
        j = Justification.decode(batch.justification)
        assert j.encode() == batch.justification
        assert j.commit.target_hash == batch.justified_header.hash()
        assert j.commit.target_number == batch.justified_header.number
        assert j.votes_ancestries == ()
        assert {p.id for p in j.commit.precommits} <= authorities
        assert len({p.id for p in j.commit.precommits}) == len(j.commit.precommits)
        summary.append((j.round, len(j.commit.precommits), j.commit.target_number))
    assert summary == ROCOCO_JUSTIFICATIONS[set_id]


def test_justification_with_ancestries_round_trips() -> None:
    batch = rococo_batches(3165)[1]
    j = Justification.decode(batch.justification)
    with_ancestries = Justification(j.round, j.commit, tuple(batch.headers[-3:]))
    raw = with_ancestries.encode()
    assert raw == batch.justification[:-1] + encode_compact(3) + b"".join(
        h.encode() for h in batch.headers[-3:]
    )
    assert Justification.decode(raw) == with_ancestries


def test_justification_errors_name_the_field() -> None:
    raw = westend_block512_justification()
    with pytest.raises(CodecError, match=f"GrandpaJustification at byte {len(raw)}: 1 trailing"):
        Justification.decode(raw + b"\x00")
    # round (8) + target hash (32) + target number (4) = 44: the precommit count.
    damaged = raw[:44] + encode_compact(2**30 - 1) + raw[45:]
    with pytest.raises(CodecError, match=r"Commit\.precommits at byte 44: length 1073741823"):
        Justification.decode(damaged)
    with pytest.raises(CodecError, match=f"votes_ancestries at byte {len(raw) - 1}: needs 1 byte"):
        Justification.decode(raw[:-1])


def test_precommit_payload_and_threshold() -> None:
    payload = precommit_payload(b"\xaa" * 32, 512, 713, 3)
    assert payload == b"\x01" + b"\xaa" * 32 + encode_u32(512) + encode_u64(713) + encode_u64(3)
    assert len(payload) == 53
    assert [threshold(n) for n in (1, 2, 3, 4, 5, 6, 7, 68)] == [1, 2, 3, 3, 4, 5, 5, 46]


# --- finality proofs -------------------------------------------------------------------------


def real_finality_proofs() -> list[bytes]:
    """`grandpa_proveFinality`-shaped proofs assembled from each real Rococo batch."""
    out = []
    for set_id in ROCOCO_SET_IDS:
        for batch in rococo_batches(set_id):
            proof = FinalityProof(
                batch.justified_header.hash(), batch.justification, tuple(batch.headers[-4:])
            )
            out.append(proof.encode())
    return out


def test_finality_proofs_round_trip() -> None:
    batch = rococo_batches(3164)[0]
    proof = FinalityProof(batch.justified_header.hash(), batch.justification, tuple(batch.headers))
    raw = proof.encode()
    assert raw == (
        batch.justified_header.hash()
        + encode_bytes(batch.justification)
        + encode_compact(len(batch.headers))
        + b"".join(h.encode() for h in batch.headers)
    )
    decoded = FinalityProof.decode(raw)
    assert decoded == proof
    assert Justification.decode(decoded.justification).commit.target_hash == decoded.block
    for raw in real_finality_proofs():
        assert FinalityProof.decode(raw).encode() == raw


def test_finality_proof_with_no_headers() -> None:
    raw = b"\x05" * 32 + encode_bytes(b"\x01\x02") + b"\x00"
    assert FinalityProof.decode(raw) == FinalityProof(b"\x05" * 32, b"\x01\x02", ())
    with pytest.raises(CodecError, match=r"FinalityProof\.justification at byte 32"):
        FinalityProof.decode(b"\x05" * 32 + encode_compact(100) + b"\x00" * 10)


# --- fuzz ----------------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=500, suppress_health_check=[HealthCheck.too_slow])
JUSTIFICATIONS = [westend_block512_justification()] + [
    b.justification for s in ROCOCO_SET_IDS for b in rococo_batches(s)
]
PROOFS = real_finality_proofs()
LOGS = [rococo_register_header(3164).items(DigestKind.CONSENSUS, GRANDPA_ENGINE_ID)[0].data] + [
    encode_consensus_log(log)
    for log in (ForcedChange(1, ScheduledChange(AUTHS, 2)), OnDisabled(1), Pause(2), Resume(3))
]


def _only_codec_errors(decode: object, data: bytes) -> None:
    """Decoding succeeds and re-encodes byte-exactly, or raises CodecError; nothing else."""
    try:
        if decode is decode_consensus_log:
            assert encode_consensus_log(decode_consensus_log(data)) == data
        elif decode is Justification.decode:
            assert Justification.decode(data).encode() == data
        else:
            assert FinalityProof.decode(data).encode() == data
    except CodecError:
        return


DECODERS = [Justification.decode, FinalityProof.decode, decode_consensus_log]


@FUZZ
@given(st.sampled_from(DECODERS), st.binary(max_size=600))
def test_fuzz_random_bytes(decode: object, data: bytes) -> None:
    _only_codec_errors(decode, data)


@FUZZ
@given(mutated(JUSTIFICATIONS))
def test_fuzz_mutated_justifications(data: bytes) -> None:
    _only_codec_errors(Justification.decode, data)


@FUZZ
@given(mutated(PROOFS))
def test_fuzz_mutated_finality_proofs(data: bytes) -> None:
    _only_codec_errors(FinalityProof.decode, data)


@FUZZ
@given(mutated(LOGS))
def test_fuzz_mutated_consensus_logs(data: bytes) -> None:
    _only_codec_errors(decode_consensus_log, data)
