"""Paras::Heads keys and HeadData decoding, on real relay-chain proofs and on built headers."""

from __future__ import annotations

import pytest

from pinkpipe.chain.hashing import blake2_256, twox_64
from pinkpipe.chain.parachain import (
    PARACHAIN_ID_KEY,
    PARAS_HEADS_PREFIX,
    BadHeadData,
    BadParaIdValue,
    InvalidParaId,
    decode_head_data,
    decode_para_id,
    encode_head_data,
    paras_heads_key,
)
from pinkpipe.chain.scale import encode_bytes, encode_compact
from pinkpipe.validator.storage import verify_storage_proof
from tests.grandpa_builder import extend, make_genesis
from tests.parachain_vectors import (
    ASSET_HUB_HEAD_HASH,
    ASSET_HUB_HEAD_NUMBER,
    ASSET_HUB_HEAD_STATE_ROOT,
    ASSET_HUB_HEADS_PROOF,
    ASSET_HUB_PARA_ID,
    GOSSAMER_HEAD_HASH,
    GOSSAMER_HEAD_NUMBER,
    GOSSAMER_HEADS_PROOF,
    GOSSAMER_PARA_ID,
    GOSSAMER_RELAY_STATE_ROOT,
    POLKADOT_STATE_ROOT,
    SPIRITNET_HEAD_HASH,
    SPIRITNET_HEAD_NUMBER,
    SPIRITNET_HEAD_PARENT,
    SPIRITNET_HEAD_STATE_ROOT,
    SPIRITNET_HEADS_PROOF,
    SPIRITNET_PARA_ID,
    WESTEND_STATE_ROOT,
)


def test_paras_heads_prefix_is_the_frame_prefix() -> None:
    assert PARAS_HEADS_PREFIX.hex() == (
        "cd710b30bd2eab0352ddcc26417aa1941b3c252fcb29d88eff4f3de5de4476c3"
    )


@pytest.mark.parametrize(
    ("para_id", "suffix"),
    [
        # Keys as recorded by real tools: KILT (2086, Polkadot) and Westend Asset Hub (1000).
        (2086, "2c0cfd6c23b92a7826080000"),
        (1000, "b6ff6f7d467b87a9e8030000"),
    ],
)
def test_paras_heads_key_matches_recorded_keys(para_id: int, suffix: str) -> None:
    assert paras_heads_key(para_id) == PARAS_HEADS_PREFIX + bytes.fromhex(suffix)


def test_paras_heads_key_of_phala_is_twox64_concat_of_u32le() -> None:
    para = (2035).to_bytes(4, "little")
    assert paras_heads_key(2035) == PARAS_HEADS_PREFIX + twox_64(para) + para


@pytest.mark.parametrize("para_id", [-1, 2**32, "2035", True, 1.0])
def test_paras_heads_key_refuses_ids_outside_u32(para_id: object) -> None:
    with pytest.raises(InvalidParaId, match="para id must be an integer"):
        paras_heads_key(para_id)  # type: ignore[arg-type]


def _real_head_value() -> bytes:
    key = paras_heads_key(SPIRITNET_PARA_ID)
    value = verify_storage_proof(POLKADOT_STATE_ROOT, SPIRITNET_HEADS_PROOF, [key])[key]
    assert value is not None
    return value


def test_real_head_data_decodes_to_the_spiritnet_header() -> None:
    value = _real_head_value()
    header = decode_head_data(value)
    assert header.number == SPIRITNET_HEAD_NUMBER
    assert header.parent_hash == SPIRITNET_HEAD_PARENT
    assert header.state_root == SPIRITNET_HEAD_STATE_ROOT
    assert header.hash() == SPIRITNET_HEAD_HASH
    assert encode_head_data(header) == value


def test_built_head_data_round_trips() -> None:
    header = extend(make_genesis("para"), 3)[-1]
    assert decode_head_data(encode_head_data(header)) == header


def test_head_data_with_bytes_after_it_is_refused_with_offset() -> None:
    value = _real_head_value() + b"\x00"
    with pytest.raises(BadHeadData, match=r"1 bytes after the 186-byte HeadData at byte 188"):
        decode_head_data(value)


def test_head_data_longer_than_its_value_is_refused() -> None:
    value = _real_head_value()[:-1]
    with pytest.raises(
        BadHeadData, match=r"HeadData at byte 0: length 186 exceeds the 185 bytes left"
    ) as e:
        decode_head_data(value)
    assert e.value.offset == 0


def test_header_shorter_than_its_head_data_is_refused_with_offset() -> None:
    header = make_genesis("para").encode()
    value = encode_compact(len(header) + 2) + header + b"\x00\x00"
    with pytest.raises(BadHeadData, match=r"the header ends at byte 100, 2 bytes before"):
        decode_head_data(value)


def test_head_data_holding_a_broken_header_names_the_offset() -> None:
    value = encode_bytes(bytes(40))
    with pytest.raises(BadHeadData, match=r"cannot decode Header.state_root at byte 34") as e:
        decode_head_data(value)
    assert e.value.offset == 34


def test_para_id_value() -> None:
    assert PARACHAIN_ID_KEY.hex().startswith("0d715f2646c8f85767b5d2764bb27826")
    assert decode_para_id((2035).to_bytes(4, "little")) == 2035
    with pytest.raises(BadParaIdValue, match="4-byte u32, got 3 bytes"):
        decode_para_id(b"\x00\x00\x00")


def test_second_real_proof_holds_an_asset_hub_header() -> None:
    key = paras_heads_key(GOSSAMER_PARA_ID)
    value = verify_storage_proof(GOSSAMER_RELAY_STATE_ROOT, GOSSAMER_HEADS_PROOF, [key])[key]
    assert value is not None
    header = decode_head_data(value)
    assert (header.number, header.hash()) == (GOSSAMER_HEAD_NUMBER, GOSSAMER_HEAD_HASH)
    assert [d.engine for d in header.digest] == [b"aura", b"aura"]


def test_westend_v1_proof_holds_the_head_as_a_hashed_value() -> None:
    key = paras_heads_key(ASSET_HUB_PARA_ID)
    value = verify_storage_proof(WESTEND_STATE_ROOT, ASSET_HUB_HEADS_PROOF, [key])[key]
    assert value is not None
    # The leaf holds blake2-256 of the HeadData (trie V1); the value node is the HeadData itself.
    assert blake2_256(value) in ASSET_HUB_HEADS_PROOF[0]
    assert value in ASSET_HUB_HEADS_PROOF
    header = decode_head_data(value)
    assert (header.number, header.hash()) == (ASSET_HUB_HEAD_NUMBER, ASSET_HUB_HEAD_HASH)
    assert header.state_root == ASSET_HUB_HEAD_STATE_ROOT
