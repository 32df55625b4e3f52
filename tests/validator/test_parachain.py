"""Parachain finality on real `Paras::Heads` proofs (Polkadot, Westend) and built relay states."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinkpipe.chain.header import Header
from pinkpipe.chain.parachain import (
    BadHeadData,
    decode_head_data,
    encode_head_data,
    paras_heads_key,
)
from pinkpipe.chain.scale import encode_bytes
from pinkpipe.chain.trie import TrieState
from pinkpipe.validator.errors import BadProof, LightClientError
from pinkpipe.validator.parachain import (
    BadParachainState,
    BadRelayProof,
    BlockRef,
    HeadForked,
    HeadNotProven,
    HeadWentBack,
    ParachainError,
    ParachainState,
    RelayBlock,
    RelayNotAfter,
    UnlinkedParaHeader,
    anchored_at_genesis,
    import_para_batch,
)
from tests.fuzzing import mutated
from tests.grandpa_builder import extend, make_genesis
from tests.parachain_vectors import (
    ASSET_HUB_HEAD_HASH,
    ASSET_HUB_HEADS_PROOF,
    ASSET_HUB_PARA_ID,
    GOSSAMER_HEAD_HASH,
    GOSSAMER_HEADS_PROOF,
    GOSSAMER_PARA_ID,
    GOSSAMER_RELAY_STATE_ROOT,
    POLKADOT_RELAY_HASH,
    POLKADOT_RELAY_NUMBER,
    POLKADOT_STATE_ROOT,
    SPIRITNET_HEAD_HASH,
    SPIRITNET_HEAD_NUMBER,
    SPIRITNET_HEAD_PARENT,
    SPIRITNET_HEADS_PROOF,
    SPIRITNET_PARA_ID,
    WESTEND_RELAY_HASH,
    WESTEND_RELAY_NUMBER,
    WESTEND_STATE_ROOT,
)

PARA_ID = 2035
POLKADOT = RelayBlock(POLKADOT_RELAY_NUMBER, POLKADOT_RELAY_HASH, POLKADOT_STATE_ROOT)


# --- real data: Polkadot #16,363,919 proving KILT Spiritnet's head ------------------------


def _real_head() -> Header:
    state = ParachainState(SPIRITNET_PARA_ID)
    return import_para_batch(state, POLKADOT, SPIRITNET_HEADS_PROOF, []).head


def test_real_proof_finalizes_the_proven_head() -> None:
    result = import_para_batch(
        ParachainState(SPIRITNET_PARA_ID), POLKADOT, SPIRITNET_HEADS_PROOF, []
    )
    assert result.head.number == SPIRITNET_HEAD_NUMBER
    assert [h for _, h in result.finalized] == [SPIRITNET_HEAD_HASH]
    assert result.state.finalized == BlockRef(SPIRITNET_HEAD_NUMBER, SPIRITNET_HEAD_HASH)
    assert result.state.relay == BlockRef(POLKADOT_RELAY_NUMBER, POLKADOT_RELAY_HASH)


def test_real_head_links_to_its_parent_checkpoint() -> None:
    state = ParachainState(
        SPIRITNET_PARA_ID, BlockRef(SPIRITNET_HEAD_NUMBER - 1, SPIRITNET_HEAD_PARENT)
    )
    head = _real_head()
    result = import_para_batch(state, POLKADOT, SPIRITNET_HEADS_PROOF, [head])
    assert result.finalized == ((head, SPIRITNET_HEAD_HASH),)


def test_real_head_refused_from_a_wrong_checkpoint() -> None:
    wrong = bytes(32)
    state = ParachainState(SPIRITNET_PARA_ID, BlockRef(SPIRITNET_HEAD_NUMBER - 1, wrong))
    with pytest.raises(UnlinkedParaHeader, match=r"does not extend #4183227 0x0000") as e:
        import_para_batch(state, POLKADOT, SPIRITNET_HEADS_PROOF, [_real_head()])
    assert e.value.number == SPIRITNET_HEAD_NUMBER


def test_real_head_below_the_final_block_went_back() -> None:
    state = ParachainState(SPIRITNET_PARA_ID, BlockRef(SPIRITNET_HEAD_NUMBER + 1, bytes(32)))
    with pytest.raises(HeadWentBack, match=r"went back below the final parachain block #4183229"):
        import_para_batch(state, POLKADOT, SPIRITNET_HEADS_PROOF, [])


WESTEND = RelayBlock(WESTEND_RELAY_NUMBER, WESTEND_RELAY_HASH, WESTEND_STATE_ROOT)
REAL_SETS = {
    "polkadot": (SPIRITNET_PARA_ID, POLKADOT, SPIRITNET_HEADS_PROOF),
    "westend": (ASSET_HUB_PARA_ID, WESTEND, ASSET_HUB_HEADS_PROOF),
    "gossamer": (
        GOSSAMER_PARA_ID,
        RelayBlock(1, bytes(32), GOSSAMER_RELAY_STATE_ROOT),
        GOSSAMER_HEADS_PROOF,
    ),
}
"""The second set's relay number and hash are unknown (the source gives only the state root);
they only label errors here."""


@pytest.mark.parametrize(
    ("real_set", "head_hash"), [("westend", ASSET_HUB_HEAD_HASH), ("gossamer", GOSSAMER_HEAD_HASH)]
)
def test_other_real_proofs_finalize_their_head(real_set: str, head_hash: bytes) -> None:
    para_id, relay, proof = REAL_SETS[real_set]
    result = import_para_batch(ParachainState(para_id), relay, proof, [])
    assert [h for _, h in result.finalized] == [head_hash]
    assert result.state.relay == BlockRef(relay.number, relay.hash)


@pytest.mark.parametrize(
    ("real_set", "node"),
    [(name, n) for name, (_, _, proof) in REAL_SETS.items() for n in range(len(proof))],
)
def test_real_proof_with_a_flipped_byte_is_refused(real_set: str, node: int) -> None:
    para_id, relay, nodes = REAL_SETS[real_set]
    proof = list(nodes)
    middle = len(proof[node]) // 2
    proof[node] = (
        proof[node][:middle] + bytes([proof[node][middle] ^ 1]) + proof[node][middle + 1 :]
    )
    with pytest.raises(BadRelayProof) as e:
        import_para_batch(ParachainState(para_id), relay, proof, [])
    assert isinstance(e.value, BadProof)
    assert f"(relay block #{relay.number} 0x{relay.hash.hex()}" in str(e.value)


def test_real_proof_against_a_wrong_state_root_is_refused() -> None:
    relay = replace(
        POLKADOT, state_root=bytes([POLKADOT_STATE_ROOT[0] ^ 1]) + POLKADOT_STATE_ROOT[1:]
    )
    with pytest.raises(BadRelayProof, match="read proof rejected against state root"):
        import_para_batch(ParachainState(SPIRITNET_PARA_ID), relay, SPIRITNET_HEADS_PROOF, [])


def test_real_proof_does_not_prove_another_para_id() -> None:
    with pytest.raises(BadRelayProof, match=r"Paras::Heads\(2035\) proof incomplete") as e:
        import_para_batch(ParachainState(2035), POLKADOT, SPIRITNET_HEADS_PROOF, [])
    assert e.value.key == paras_heads_key(2035)


# --- built data: a relay state per relay block holding the parachain's head ----------------


def relay_block(
    number: int, heads: dict[int, bytes], extra: dict[bytes, bytes] | None = None
) -> tuple[RelayBlock, list[bytes]]:
    """A relay block whose state holds `Paras::Heads` values, and the proof for PARA_ID."""
    pairs = {paras_heads_key(p): v for p, v in heads.items()} | (extra or {})
    state = TrieState.from_pairs(pairs, 0)
    relay_hash = number.to_bytes(4, "little") * 8
    return RelayBlock(number, relay_hash, state.root()), state.read_proof(
        [paras_heads_key(PARA_ID)]
    )


def relay_with_head(number: int, head: Header) -> tuple[RelayBlock, list[bytes]]:
    return relay_block(number, {PARA_ID: encode_head_data(head), 1000: b"\x04\x00"})


GENESIS = make_genesis("para")
CHAIN = extend(GENESIS, 12)


def test_headers_from_genesis_up_to_each_proven_head_become_final() -> None:
    state = anchored_at_genesis(PARA_ID, GENESIS.hash())
    done: list[bytes] = []
    for relay_number, head_number in ((10, 2), (11, 2), (12, 5), (14, 12)):
        relay, proof = relay_with_head(relay_number, CHAIN[head_number - 1])
        previous = state.finalized.number
        result = import_para_batch(state, relay, proof, CHAIN[previous:head_number])
        state = result.state
        done.extend(h for _, h in result.finalized)
    assert done == [h.hash() for h in CHAIN]
    assert state.finalized == BlockRef(12, CHAIN[-1].hash())
    assert state.relay.number == 14


def test_a_head_that_did_not_move_finalizes_nothing() -> None:
    state = import_para_batch(
        anchored_at_genesis(PARA_ID, GENESIS.hash()), *relay_with_head(1, CHAIN[2]), CHAIN[:3]
    ).state
    result = import_para_batch(state, *relay_with_head(2, CHAIN[2]), [])
    assert result.finalized == ()
    assert result.state.finalized == state.finalized
    with pytest.raises(UnlinkedParaHeader, match="beyond the head #3 proven at relay block #3 "):
        import_para_batch(state, *relay_with_head(3, CHAIN[2]), CHAIN[3:4])


def test_a_wrong_genesis_is_refused_at_the_first_header() -> None:
    state = anchored_at_genesis(PARA_ID, make_genesis("other").hash())
    with pytest.raises(UnlinkedParaHeader, match="does not extend #0") as e:
        import_para_batch(state, *relay_with_head(1, CHAIN[2]), CHAIN[:3])
    assert e.value.number == 1


def test_a_genesis_head_is_checked_against_the_given_genesis_hash() -> None:
    relay, proof = relay_with_head(1, GENESIS)
    result = import_para_batch(anchored_at_genesis(PARA_ID, GENESIS.hash()), relay, proof, [])
    assert result.finalized == () and result.state.finalized == BlockRef(0, GENESIS.hash())
    other = anchored_at_genesis(PARA_ID, make_genesis("other").hash())
    with pytest.raises(HeadForked, match="forks from the final parachain block") as e:
        import_para_batch(other, relay, proof, [])
    assert (e.value.number, e.value.block_hash) == (0, GENESIS.hash())


def _final_at(number: int) -> ParachainState:
    return ParachainState(
        PARA_ID, BlockRef(number, CHAIN[number - 1].hash()), BlockRef(5, bytes(32))
    )


def test_a_head_that_skips_back_is_refused() -> None:
    with pytest.raises(HeadWentBack) as e:
        import_para_batch(_final_at(6), *relay_with_head(6, CHAIN[3]), [])
    assert (e.value.number, e.value.block_hash) == (4, CHAIN[3].hash())


def test_a_head_forking_at_the_final_height_is_refused() -> None:
    fork = extend(CHAIN[4], 1, fork=1)[0]
    with pytest.raises(HeadForked, match="at the same height"):
        import_para_batch(_final_at(6), *relay_with_head(6, fork), [])


def test_a_head_on_a_fork_is_refused_against_the_nodes_headers() -> None:
    fork = extend(CHAIN[6], 2, fork=1)
    with pytest.raises(HeadForked, match="differs from the head #9 proven at relay block #6 ") as e:
        import_para_batch(_final_at(7), *relay_with_head(6, fork[-1]), CHAIN[7:9])
    assert (e.value.number, e.value.block_hash) == (9, fork[-1].hash())


def test_a_withheld_header_leaves_the_rest_unlinked() -> None:
    headers = CHAIN[6:9] + CHAIN[10:12]
    with pytest.raises(UnlinkedParaHeader, match="does not extend #9") as e:
        import_para_batch(_final_at(6), *relay_with_head(6, CHAIN[11]), headers)
    assert e.value.number == 11


def test_headers_short_of_the_head_are_refused() -> None:
    with pytest.raises(
        UnlinkedParaHeader,
        match=r"headers end at #9 .*short of the head #12 proven at relay block #6 .* \(parachain",
    ):
        import_para_batch(_final_at(6), *relay_with_head(6, CHAIN[11]), CHAIN[6:9])


def test_a_wrong_para_id_finds_no_head() -> None:
    relay, proof = relay_block(6, {2004: encode_head_data(CHAIN[8])})
    with pytest.raises(HeadNotProven, match=r"Paras::Heads\(2035\) is absent .*wrong para id") as e:
        import_para_batch(_final_at(6), relay, proof, [])
    assert e.value.number == 6


def test_an_undecodable_head_names_the_offset() -> None:
    relay, proof = relay_block(6, {PARA_ID: encode_bytes(bytes(40))})
    with pytest.raises(HeadNotProven, match=r"Header.state_root at byte 34: .*\(relay block #6 "):
        import_para_batch(_final_at(6), relay, proof, [])


def test_a_relay_block_must_come_after_the_last_used() -> None:
    with pytest.raises(RelayNotAfter, match="not after relay block #5"):
        import_para_batch(_final_at(6), *relay_with_head(5, CHAIN[8]), CHAIN[6:9])


def test_refusals_are_invalid_chain_data_and_leave_the_state_unchanged() -> None:
    state = _final_at(6)
    before = state.to_bytes()
    with pytest.raises(LightClientError):
        import_para_batch(state, *relay_with_head(6, CHAIN[3]), [])
    assert state.to_bytes() == before


def test_state_round_trips_through_bytes() -> None:
    for state in (
        ParachainState(PARA_ID),
        _final_at(6),
        anchored_at_genesis(PARA_ID, GENESIS.hash()),
    ):
        assert ParachainState.from_bytes(state.to_bytes()) == state


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "got no bytes"),
        (b"\x02" + bytes(6), "got version byte 2"),
        (ParachainState(PARA_ID).to_bytes() + b"\x00", "1 trailing bytes"),
        (ParachainState(PARA_ID).to_bytes()[:-1] + b"\x02", "invalid Option tag 2"),
    ],
)
def test_bad_state_bytes_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(BadParachainState, match=reason):
        ParachainState.from_bytes(data)


# --- fuzzing with damaged real data: only clear refusals, never a changed head --------------

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REAL_HEADS = {
    name: import_para_batch(ParachainState(p), r, proof, []).head
    for name, (p, r, proof) in REAL_SETS.items()
}
REAL_HEAD_VALUES = [encode_head_data(head) for head in REAL_HEADS.values()]


@FUZZ
@given(mutated(REAL_HEAD_VALUES))
def test_damaged_head_data_decodes_or_is_refused_with_offset(value: bytes) -> None:
    try:
        header = decode_head_data(value)
    except BadHeadData as e:
        assert 0 <= e.offset <= len(value)
        return
    assert encode_head_data(header) == value


@FUZZ
@given(st.sampled_from(sorted(REAL_SETS)), st.data())
def test_damaged_real_proofs_never_prove_another_head(real_set: str, data: st.DataObject) -> None:
    para_id, relay, nodes = REAL_SETS[real_set]
    index = data.draw(st.integers(0, len(nodes) - 1))
    proof = list(nodes)
    proof[index] = data.draw(mutated([nodes[index]]))
    try:
        result = import_para_batch(ParachainState(para_id), relay, proof, [])
    except ParachainError:
        return
    assert result.head.hash() == REAL_HEADS[real_set].hash()


@FUZZ
@given(mutated([_final_at(6).to_bytes(), ParachainState(PARA_ID).to_bytes()]))
def test_damaged_state_bytes_decode_or_are_refused(data: bytes) -> None:
    try:
        state = ParachainState.from_bytes(data)
    except BadParachainState:
        return
    assert state.to_bytes() == data
