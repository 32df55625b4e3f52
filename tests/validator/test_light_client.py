"""The light client state machine: real Rococo batches from a checkpoint, Westend genesis
bootstraps, authority-set hand-offs on built chains, overlap, state save/restore, and that a
rejected batch leaves the state exactly as it was."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pytest

from pinkpipe.chain.grandpa import (
    Authority,
    Justification,
    ScheduledChange,
    encode_authority_list,
    encode_versioned_authorities,
)
from pinkpipe.chain.header import DigestItem, DigestKind, Header
from pinkpipe.chain.keys import (
    GRANDPA_AUTHORITIES,
    GRANDPA_AUTHORITIES_WELL_KNOWN,
    GRANDPA_CURRENT_SET_ID,
)
from pinkpipe.chain.scale import encode_u64
from pinkpipe.chain.trie import TrieState
from pinkpipe.validator import (
    GENESIS_KEYS,
    AlreadyFinalized,
    BadBootstrap,
    BadProof,
    BadSignature,
    BadState,
    BelowThreshold,
    BrokenAncestry,
    InvalidJustification,
    LightClient,
    LightClientError,
    LightClientState,
    NotContiguous,
    PendingChange,
    SetChangeViolation,
    UnknownBlock,
)
from tests.grandpa_builder import (
    Voter,
    authorities,
    child,
    extend,
    forced_change,
    frnk,
    justify,
    make_genesis,
    make_voters,
    scheduled_change,
)
from tests.validator_vectors import headers_of, rococo_client
from tests.vectors import (
    ROCOCO_SET_IDS,
    WESTEND_GENESIS_HASH,
    rococo_batches,
    rococo_register_header,
    westend_genesis_storage,
)


def rejects(
    client: LightClient, error: type[LightClientError], action: Callable[[], object]
) -> LightClientError:
    """`action` raises `error` and the client's state is the very same value afterwards."""
    before_state, before_bytes = client.state, client.to_bytes()
    with pytest.raises(error) as info:
        action()
    assert client.state is before_state
    assert client.to_bytes() == before_bytes
    return info.value


# --- Rococo: real justifications from a checkpoint ------------------------------------------


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
def test_rococo_every_batch_in_order(set_id: int) -> None:
    client = rococo_client(set_id)
    start = client.finalized.number
    for batch in rococo_batches(set_id):
        result = client.import_batch(headers_of(batch), batch.justification)
        assert result.finalized[-1].hash == batch.justified_header.hash()
        assert result.set_id == set_id and result.enacted is None
        assert client.finalized.number == batch.justified_header.number
    assert client.finalized.number > start
    assert client.state.known(start + 1).hash == rococo_batches(set_id)[0].headers[0].hash()


def test_rococo_3164_overlap_is_checked_and_skipped() -> None:
    """`6-headers` restarts from the register header's child: the prefix it shares with
    `2-headers` must equal what was finalized, and only the rest is new."""
    first, second = rococo_batches(3164)
    client = rococo_client(3164)
    client.import_batch(headers_of(first), first.justification)
    result = client.import_batch(headers_of(second), second.justification)
    assert result.skipped == len(headers_of(first)) == 397
    assert [b.number for b in result.finalized] == list(range(1843124, 1843136))
    rejects(
        client,
        AlreadyFinalized,
        lambda: client.import_batch(headers_of(first), first.justification),
    )


def test_rococo_3164_each_file_from_a_fresh_bootstrap() -> None:
    for batch in rococo_batches(3164):
        client = rococo_client(3164)
        result = client.import_batch(headers_of(batch), batch.justification)
        assert result.skipped == 0 and len(result.finalized) == len(headers_of(batch))


def test_rococo_overlap_below_the_remembered_window_is_refused() -> None:
    first, second = rococo_batches(3164)
    client = rococo_client(3164, max_recent=10)
    client.import_batch(headers_of(first), first.justification)
    assert len(client.state.recent) == 10
    rejects(
        client, NotContiguous, lambda: client.import_batch(headers_of(second), second.justification)
    )


def test_rococo_overlap_that_conflicts_with_finality_is_refused() -> None:
    first, second = rococo_batches(3164)
    client = rococo_client(3164)
    client.import_batch(headers_of(first), first.justification)
    headers = headers_of(second)
    headers[0] = dataclasses.replace(headers[0], state_root=bytes(32))
    error = rejects(
        client, BrokenAncestry, lambda: client.import_batch(headers, second.justification)
    )
    assert "conflicts with finalized block" in str(error)


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
@pytest.mark.parametrize("delta", [-1, 1])
def test_rococo_wrong_set_id_is_rejected(set_id: int, delta: int) -> None:
    client = rococo_client(set_id, set_id + delta)
    batch = rococo_batches(set_id)[0]
    error = rejects(
        client, BadSignature, lambda: client.import_batch(headers_of(batch), batch.justification)
    )
    target = batch.justified_header
    assert error.number == target.number and error.block_hash == target.hash()
    assert f"#{target.number} 0x{target.hash().hex()}" in str(error)
    assert f"set id {set_id + delta}" in str(error)


def _46_signer() -> tuple[LightClient, list[Header], Justification]:
    batch = rococo_batches(3164)[0]
    j = Justification.decode(batch.justification)
    assert len(j.commit.precommits) == 46
    return rococo_client(3164), headers_of(batch), j


def _replace_precommits(j: Justification, precommits: Sequence) -> Justification:
    return dataclasses.replace(
        j, commit=dataclasses.replace(j.commit, precommits=tuple(precommits))
    )


def test_rococo_46_signer_accepted_and_each_mutation_rejected() -> None:
    client, headers, j = _46_signer()
    fewer = _replace_precommits(j, j.commit.precommits[1:])
    error = rejects(client, BelowThreshold, lambda: client.import_batch(headers, fewer))
    assert "set id 3164" in str(error) and "#1843123" in str(error)

    duplicated = _replace_precommits(j, [*j.commit.precommits[1:], j.commit.precommits[7]])
    rejects(client, BelowThreshold, lambda: client.import_batch(headers, duplicated))

    flipped = list(j.commit.precommits)
    sig = bytearray(flipped[30].signature)
    sig[5] ^= 0x80
    flipped[30] = dataclasses.replace(flipped[30], signature=bytes(sig))
    error = rejects(
        client, BadSignature, lambda: client.import_batch(headers, _replace_precommits(j, flipped))
    )
    assert "precommit #30" in str(error) and flipped[30].id.hex() in str(error)

    client.import_batch(headers, j)
    assert client.finalized.number == 1843123


def test_rococo_header_swapped_from_the_other_set_breaks_ancestry() -> None:
    client, headers, j = _46_signer()
    foreign = rococo_batches(3165)[0].headers[100]
    for index in (1, 200, len(headers) - 1):
        swapped = list(headers)
        swapped[index] = foreign
        error = rejects(client, BrokenAncestry, lambda s=swapped: client.import_batch(s, j))
        assert error.block_hash == foreign.hash() and "set id 3164" in str(error)
        link = f"is not #{headers[index].number - 1} 0x{headers[index - 1].hash().hex()}"
        assert link in str(error)
    # As the first header it does not even continue from the finalized block.
    error = rejects(client, NotContiguous, lambda: client.import_batch([foreign, *headers[1:]], j))
    assert error.block_hash == foreign.hash()


def test_rococo_justification_for_another_batch_is_rejected() -> None:
    client, headers, _ = _46_signer()
    other = rococo_batches(3164)[1].justification
    error = rejects(client, InvalidJustification, lambda: client.import_batch(headers, other))
    assert "commit targets another block than #1843123" in str(error)


def test_rococo_batch_must_continue_from_finalized() -> None:
    client, headers, j = _46_signer()
    rejects(client, NotContiguous, lambda: client.import_batch(headers[1:], j))
    rejects(client, NotContiguous, lambda: client.import_batch([], j))
    reordered = [headers[0], headers[2], headers[1], *headers[3:]]
    rejects(client, BrokenAncestry, lambda: client.import_batch(reordered, j))


def test_rococo_state_survives_save_and_restore() -> None:
    first, second = rococo_batches(3165)
    client = rococo_client(3165)
    client.import_batch(headers_of(first), first.justification)
    restored = LightClient.from_bytes(client.to_bytes())
    assert restored.state == client.state
    restored.import_batch(headers_of(second), second.justification)
    assert restored.finalized.number == second.justified_header.number


# --- Westend genesis ------------------------------------------------------------------------


def test_westend_from_genesis_storage() -> None:
    client = LightClient.from_genesis_storage(
        westend_genesis_storage(), genesis_hash=WESTEND_GENESIS_HASH
    )
    assert client.finalized.number == 0 and client.finalized.hash == WESTEND_GENESIS_HASH
    assert client.state.genesis_hash == WESTEND_GENESIS_HASH
    assert client.authority_set.set_id == 0 and len(client.authority_set.authorities) == 4
    with pytest.raises(BadBootstrap, match="genesis hash is not the expected"):
        LightClient.from_genesis_storage(westend_genesis_storage(), genesis_hash=bytes(32))


def test_westend_from_genesis_header_and_read_proof() -> None:
    storage = westend_genesis_storage()
    trie = TrieState.from_pairs(storage)
    from_storage = LightClient.from_genesis_storage(storage)
    nodes = trie.read_proof(GENESIS_KEYS)
    client = LightClient.from_genesis_proof(
        from_storage.state.finalized.encode(), nodes, genesis_hash=WESTEND_GENESIS_HASH
    )
    assert client.state == from_storage.state
    for missing in range(len(nodes)):
        partial = nodes[:missing] + nodes[missing + 1 :]
        with pytest.raises(BadProof):
            LightClient.from_genesis_proof(from_storage.state.finalized, partial)
    not_genesis = rococo_register_header(3164)
    with pytest.raises(BadBootstrap, match="number 0"):
        LightClient.from_genesis_proof(not_genesis, nodes)


def test_genesis_authority_sources() -> None:
    voters = authorities(make_voters(3, "genesis"))
    other = authorities(make_voters(3, "other"))

    def start(storage: dict[bytes, bytes]) -> LightClient:
        return LightClient.from_genesis_storage(storage)

    assert (
        start({GRANDPA_AUTHORITIES: encode_authority_list(voters)}).authority_set.authorities
        == voters
    )
    both = {
        GRANDPA_AUTHORITIES: encode_authority_list(voters),
        GRANDPA_AUTHORITIES_WELL_KNOWN: encode_versioned_authorities(voters),
        GRANDPA_CURRENT_SET_ID: encode_u64(7),
    }
    assert start(both).authority_set.set_id == 7
    with pytest.raises(BadBootstrap, match="disagree"):
        start({**both, GRANDPA_AUTHORITIES: encode_authority_list(other)})
    with pytest.raises(BadBootstrap, match="no GRANDPA authorities"):
        start({b"other": b"value"})
    with pytest.raises(BadBootstrap, match="do not decode"):
        start({GRANDPA_AUTHORITIES_WELL_KNOWN: b"\x02"})
    with pytest.raises(BadBootstrap, match="CurrentSetId"):
        start({**both, GRANDPA_CURRENT_SET_ID: b"\x01"})
    with pytest.raises(BadBootstrap, match="unusable"):
        start({GRANDPA_AUTHORITIES: encode_authority_list([Authority(voters[0].id, 0)])})


# --- built chains: hand-offs ----------------------------------------------------------------

SET0 = make_voters(4, "set0")
SET1 = make_voters(5, "set1")
SET2 = make_voters(3, "set2")


def genesis_client(label: str, **options: int) -> tuple[LightClient, Header]:
    genesis = make_genesis(label)
    client = LightClient.from_checkpoint(
        genesis, authorities(SET0), 0, genesis_hash=genesis.hash(), **options
    )
    return client, genesis


def signers(voters: list[Voter]) -> list[Voter]:
    """Just enough voters of a set of equal weights to reach the threshold."""
    return voters[: len(voters) - (len(voters) - 1) // 3]


def test_scheduled_change_delay_zero() -> None:
    client, genesis = genesis_client("delay0")
    blocks = extend(genesis, 10, logs={5: [scheduled_change(SET1)]})
    # The enacting block is justified by the outgoing set...
    result = client.import_batch(blocks[:5], justify(blocks[4], signers(SET0), 0))
    assert result.enacted is not None and result.enacted.announced_number == 5
    assert result.set_id == 1 and client.authority_set.authorities == authorities(SET1)
    # ...and everything after it by the new one.
    rejects(
        client,
        BadSignature,
        lambda: client.import_batch(blocks[5:], justify(blocks[-1], signers(SET0), 0)),
    )
    rejects(
        client,
        BadSignature,
        lambda: client.import_batch(blocks[5:], justify(blocks[-1], signers(SET1), 0)),
    )
    client.import_batch(blocks[5:], justify(blocks[-1], signers(SET1), 1))
    assert client.finalized.number == 10


def test_scheduled_change_with_delay() -> None:
    client, genesis = genesis_client("delay3")
    blocks = extend(genesis, 12, logs={5: [scheduled_change(SET1, delay=3)]})  # effective #8
    result = client.import_batch(blocks[:6], justify(blocks[5], signers(SET0), 0))
    assert result.enacted is None and client.state.pending[0].effective_number == 8
    error = rejects(
        client,
        SetChangeViolation,
        lambda: client.import_batch(blocks[6:10], justify(blocks[9], signers(SET0), 0)),
    )
    assert (
        "#8" in str(error)
        and blocks[7].hash().hex() in str(error)
        and "must end there" in str(error)
    )
    rejects(
        client,
        BadSignature,
        lambda: client.import_batch(blocks[6:8], justify(blocks[7], signers(SET1), 1)),
    )
    assert client.import_batch(blocks[6:8], justify(blocks[7], signers(SET0), 0)).set_id == 1
    client.import_batch(blocks[8:], justify(blocks[-1], signers(SET1), 1))
    assert client.state.pending == () and client.finalized.number == 12


def test_batch_crossing_an_enactment_in_one_go_is_refused() -> None:
    client, genesis = genesis_client("crossing")
    blocks = extend(genesis, 10, logs={5: [scheduled_change(SET1)]})
    for signer_set, set_id in ((SET0, 0), (SET1, 1)):
        error = rejects(
            client,
            SetChangeViolation,
            lambda s=signer_set, i=set_id: client.import_batch(
                blocks, justify(blocks[-1], signers(s), i)
            ),
        )
        assert error.number == 5 and error.set_id == 0


def test_two_pending_changes_enact_in_order() -> None:
    client, genesis = genesis_client("queued")
    logs = {3: [scheduled_change(SET1, delay=5)], 6: [scheduled_change(SET2, delay=4)]}
    blocks = extend(genesis, 12, logs=logs)  # effective #8 then #10
    client.import_batch(blocks[:7], justify(blocks[6], signers(SET0), 0))
    assert [p.effective_number for p in client.state.pending] == [8, 10]
    restored = LightClient.from_bytes(client.to_bytes())
    assert restored.state == client.state
    assert client.import_batch(blocks[7:8], justify(blocks[7], signers(SET0), 0)).set_id == 1
    assert client.import_batch(blocks[8:10], justify(blocks[9], signers(SET1), 1)).set_id == 2
    client.import_batch(blocks[10:], justify(blocks[-1], signers(SET2), 2))
    assert client.authority_set.authorities == authorities(SET2)


def test_change_that_would_overtake_a_pending_one_is_refused() -> None:
    client, genesis = genesis_client("overtake")
    blocks = extend(
        genesis, 8, logs={3: [scheduled_change(SET1, delay=5)], 4: [scheduled_change(SET2)]}
    )
    error = rejects(
        client,
        SetChangeViolation,
        lambda: client.import_batch(blocks[:4], justify(blocks[3], signers(SET0), 0)),
    )
    assert "not after the pending scheduled change" in str(error) and error.number == 4


def test_forced_change_in_a_finalized_header_hands_over_like_a_scheduled_one() -> None:
    client, genesis = genesis_client("forced")
    blocks = extend(genesis, 9, logs={4: [forced_change(SET1, delay=2, median=1)]})  # effective #6
    client.import_batch(blocks[:4], justify(blocks[3], signers(SET0), 0))
    (pending,) = client.state.pending
    assert pending.forced and pending.forced_median == 1 and pending.effective_number == 6
    rejects(
        client,
        SetChangeViolation,
        lambda: client.import_batch(blocks[4:], justify(blocks[-1], signers(SET1), 1)),
    )
    result = client.import_batch(blocks[4:6], justify(blocks[5], signers(SET0), 0))
    assert result.enacted == pending and result.set_id == 1
    client.import_batch(blocks[6:], justify(blocks[-1], signers(SET1), 1))


def test_forced_change_takes_precedence_over_scheduled_in_one_header() -> None:
    client, genesis = genesis_client("precedence")
    blocks = extend(genesis, 3, logs={2: [scheduled_change(SET2), forced_change(SET1)]})
    result = client.import_batch(blocks[:2], justify(blocks[1], signers(SET0), 0))
    assert result.enacted is not None and result.enacted.forced
    assert client.authority_set.authorities == authorities(SET1)


def test_second_pending_forced_change_is_refused() -> None:
    client, genesis = genesis_client("forced2")
    logs = {2: [forced_change(SET1, delay=5)], 3: [forced_change(SET2, delay=6)]}
    blocks = extend(genesis, 3, logs=logs)
    rejects(
        client,
        SetChangeViolation,
        lambda: client.import_batch(blocks, justify(blocks[-1], signers(SET0), 0)),
    )


def test_change_to_an_unusable_set_is_refused() -> None:
    client, genesis = genesis_client("unusable")
    empty = ScheduledChange((), 0)
    zero = ScheduledChange((Authority(SET1[0].id, 0),), 0)
    for change in (empty, zero):
        blocks = extend(genesis, 2, logs={2: [change]})
        error = rejects(
            client,
            SetChangeViolation,
            lambda b=blocks: client.import_batch(b, justify(b[-1], signers(SET0), 0)),
        )
        assert "unusable set" in str(error)


def test_malformed_or_other_grandpa_logs_change_nothing() -> None:
    """Substrate skips FRNK items that do not decode as a change; so does the client."""
    client, genesis = genesis_client("malformed")
    first = child(genesis)
    items = (
        DigestItem(DigestKind.CONSENSUS, b"\x01\xff", b"FRNK"),
        DigestItem(DigestKind.CONSENSUS, b"\x03" + bytes(8), b"FRNK"),  # OnDisabled
        DigestItem(DigestKind.PRE_RUNTIME, b"\x01" + bytes(41), b"FRNK"),
    )
    weird = dataclasses.replace(first, digest=items)
    result = client.import_batch([weird], justify(weird, signers(SET0), 0))
    assert result.enacted is None and client.state.pending == ()


def test_change_with_trailing_bytes_still_counts() -> None:
    """`DigestItem::try_to` decodes a prefix: trailing bytes after the log are ignored."""
    client, genesis = genesis_client("trailing")
    item = frnk(scheduled_change(SET1))
    padded = dataclasses.replace(
        child(genesis), digest=(DigestItem(item.kind, item.data + b"\x00", item.engine),)
    )
    assert client.import_batch([padded], justify(padded, signers(SET0), 0)).set_id == 1


def test_remembered_blocks_are_bounded() -> None:
    client, genesis = genesis_client("bounded", max_recent=5)
    blocks = extend(genesis, 12)
    client.import_batch(blocks, justify(blocks[-1], signers(SET0), 0))
    assert [b.number for b in client.state.recent] == [8, 9, 10, 11, 12]
    with pytest.raises(UnknownBlock, match=r"#8\.\.#12"):
        client.state.block(7)
    assert client.state.block(blocks[9].hash()).number == 10


def test_checkpoint_with_pending_change() -> None:
    genesis = make_genesis("checkpoint")
    blocks = extend(genesis, 4)
    change = PendingChange(authorities(SET1), 2, 1, blocks[0].hash())
    client = LightClient.from_checkpoint(
        blocks[1], authorities(SET0), 0, genesis_hash=genesis.hash(), pending=[change]
    )
    assert client.import_batch(blocks[2:3], justify(blocks[2], signers(SET0), 0)).set_id == 1
    with pytest.raises(BadBootstrap, match="not after"):
        LightClient.from_checkpoint(
            blocks[3], authorities(SET0), 0, genesis_hash=genesis.hash(), pending=[change]
        )
    with pytest.raises(BadBootstrap, match="unusable"):
        LightClient.from_checkpoint(blocks[3], (), 0, genesis_hash=genesis.hash())


def test_checkpoint_header_enacting_its_own_change_needs_the_new_set() -> None:
    """A checkpoint header announcing a delay-0 change has handed over: the outgoing set, as a
    caller reading the set that justified the header might pass, is refused (it would keep
    accepting the old set's signatures after the hand-off)."""
    genesis = make_genesis("own-change")
    blocks = extend(genesis, 4, logs={2: [scheduled_change(SET1)]})
    with pytest.raises(BadBootstrap, match="the checkpoint set must be the one it hands") as info:
        LightClient.from_checkpoint(blocks[1], authorities(SET0), 0, genesis_hash=genesis.hash())
    assert info.value.number == 2 and info.value.block_hash == blocks[1].hash()
    client = LightClient.from_checkpoint(
        blocks[1], tuple(reversed(authorities(SET1))), 1, genesis_hash=genesis.hash()
    )
    assert client.state.pending == ()
    client.import_batch(blocks[2:], justify(blocks[-1], signers(SET1), 1))


def test_checkpoint_header_announcing_a_delayed_change_queues_it() -> None:
    genesis = make_genesis("own-delayed")
    blocks = extend(genesis, 8, logs={2: [scheduled_change(SET1, delay=3)]})  # effective #5
    client = LightClient.from_checkpoint(
        blocks[1], authorities(SET0), 0, genesis_hash=genesis.hash()
    )
    (pending,) = client.state.pending
    assert (pending.announced_hash, pending.effective_number) == (blocks[1].hash(), 5)
    rejects(
        client,
        SetChangeViolation,
        lambda: client.import_batch(blocks[2:], justify(blocks[-1], signers(SET0), 0)),
    )
    assert client.import_batch(blocks[2:5], justify(blocks[4], signers(SET0), 0)).set_id == 1
    client.import_batch(blocks[5:], justify(blocks[-1], signers(SET1), 1))
    assert client.authority_set.authorities == authorities(SET1)

    given = LightClient.from_checkpoint(
        blocks[1], authorities(SET0), 0, genesis_hash=genesis.hash(), pending=[pending]
    )
    assert given.state.pending == (pending,)
    other = dataclasses.replace(pending, next_authorities=authorities(SET2))
    with pytest.raises(BadBootstrap, match="differ from its scheduled change"):
        LightClient.from_checkpoint(
            blocks[1], authorities(SET0), 0, genesis_hash=genesis.hash(), pending=[other]
        )
    empty = dataclasses.replace(pending, next_authorities=())
    with pytest.raises(BadBootstrap, match="unusable"):
        LightClient.from_checkpoint(
            blocks[0], authorities(SET0), 0, genesis_hash=genesis.hash(), pending=[empty]
        )


# --- saved state ----------------------------------------------------------------------------


def test_saved_state_is_versioned_and_checked() -> None:
    client, genesis = genesis_client("saved")
    blocks = extend(genesis, 3, logs={3: [scheduled_change(SET1, delay=9)]})
    client.import_batch(blocks, justify(blocks[-1], signers(SET0), 0))
    data = client.to_bytes()
    assert data[0] == 1
    assert LightClientState.from_bytes(data) == client.state
    with pytest.raises(BadState, match="version 2"):
        LightClientState.from_bytes(b"\x02" + data[1:])
    with pytest.raises(BadState, match="does not decode"):
        LightClientState.from_bytes(data[:-1])
    with pytest.raises(BadState, match="trailing"):
        LightClientState.from_bytes(data + b"\x00")
    tampered = bytearray(data)
    tampered[-1] ^= 1  # the finalized block's extrinsics root no longer matches its header
    with pytest.raises(BadState, match="end at the finalized header"):
        LightClientState.from_bytes(bytes(tampered))
