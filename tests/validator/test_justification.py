"""Justification verification: real Rococo/Westend commits, and built ones for the paths real
data does not reach (votes_ancestries, equivocations, weights, non-voters, GHOST rules)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pinkpipe.chain.grandpa import (
    Authority,
    Commit,
    Justification,
    SignedPrecommit,
    precommit_payload,
    threshold,
)
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.header import Header
from pinkpipe.validator import (
    BadSignature,
    BadVotesAncestry,
    BelowThreshold,
    BrokenAncestry,
    InvalidAuthoritySet,
    InvalidJustification,
    UnknownAuthority,
    VoterSet,
    validate_commit,
    verify_justification,
)
from pinkpipe.validator.light_client import genesis_authorities
from pinkpipe.validator.vote_graph import AncestryChain
from tests.grandpa_builder import (
    Voter,
    authorities,
    child,
    extend,
    justify,
    make_genesis,
    make_voters,
)
from tests.validator_vectors import rococo_set
from tests.vectors import (
    ROCOCO_SET_IDS,
    rococo_batches,
    westend_block512_justification,
    westend_genesis_storage,
)


def rococo_justifications(set_id: int) -> list[Justification]:
    return [Justification.decode(b.justification) for b in rococo_batches(set_id)]


def with_precommits(j: Justification, precommits: list[SignedPrecommit]) -> Justification:
    return dataclasses.replace(
        j, commit=dataclasses.replace(j.commit, precommits=tuple(precommits))
    )


def the_46_signer() -> Justification:
    (j,) = [j for j in rococo_justifications(3164) if len(j.commit.precommits) == 46]
    return j


# --- real chains -------------------------------------------------------------------------------


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
def test_rococo_justifications_verify_with_their_set(set_id: int) -> None:
    authorities_ = rococo_set(set_id)
    assert len(authorities_) == 68
    for j in rococo_justifications(set_id):
        assert verify_justification(j, authorities_, set_id) is j


@pytest.mark.parametrize("set_id", ROCOCO_SET_IDS)
@pytest.mark.parametrize("delta", [-1, 1])
def test_rococo_justifications_fail_with_neighbour_set_id(set_id: int, delta: int) -> None:
    for j in rococo_justifications(set_id):
        with pytest.raises(BadSignature) as info:
            verify_justification(j, rococo_set(set_id), set_id + delta)
        message = str(info.value)
        assert f"#{j.commit.target_number}" in message
        assert j.commit.target_hash.hex() in message
        assert f"set id {set_id + delta}" in message
        assert "precommit #0" in message and j.commit.precommits[0].id.hex() in message


def test_rococo_46_of_68_is_exactly_the_threshold() -> None:
    j = the_46_signer()
    assert threshold(68) == 46
    assert len({p.id for p in j.commit.precommits}) == 46
    verify_justification(j, rococo_set(3164), 3164)


@pytest.mark.parametrize("index", [0, 17, 45])
def test_rococo_46_signer_minus_one_is_below_threshold(index: int) -> None:
    j = the_46_signer()
    precommits = list(j.commit.precommits)
    del precommits[index]
    with pytest.raises(BelowThreshold) as info:
        verify_justification(with_precommits(j, precommits), rococo_set(3164), 3164)
    assert "weight 45" in str(info.value) and "threshold 46" in str(info.value)
    assert "set id 3164" in str(info.value) and j.commit.target_hash.hex() in str(info.value)


def test_rococo_46_signer_minus_one_plus_a_duplicate_is_still_below() -> None:
    j = the_46_signer()
    precommits = list(j.commit.precommits)
    removed = precommits.pop(3)
    precommits.append(precommits[10])
    assert removed not in precommits and len(precommits) == 46
    with pytest.raises(BelowThreshold, match=r"weight 45.*1 duplicate precommits count once"):
        verify_justification(with_precommits(j, precommits), rococo_set(3164), 3164)


def test_rococo_46_signer_minus_one_plus_an_outsider_names_the_outsider() -> None:
    j = the_46_signer()
    outsider = make_voters(1, "outsider")[0]
    target_hash, number = j.commit.target_hash, j.commit.target_number
    payload = precommit_payload(target_hash, number, j.round, 3164)
    vote = SignedPrecommit(target_hash, number, outsider.key.sign(payload).signature, outsider.id)
    precommits = [*j.commit.precommits[1:], vote]
    with pytest.raises(UnknownAuthority) as info:
        verify_justification(with_precommits(j, precommits), rococo_set(3164), 3164)
    assert "precommit #45" in str(info.value) and outsider.id.hex() in str(info.value)


@pytest.mark.parametrize(("index", "byte"), [(0, 0), (20, 63), (45, 31)])
def test_rococo_flipped_signature_byte_names_the_precommit(index: int, byte: int) -> None:
    j = the_46_signer()
    precommits = list(j.commit.precommits)
    sig = bytearray(precommits[index].signature)
    sig[byte] ^= 0x01
    precommits[index] = dataclasses.replace(precommits[index], signature=bytes(sig))
    with pytest.raises(BadSignature) as info:
        verify_justification(with_precommits(j, precommits), rococo_set(3164), 3164)
    assert f"precommit #{index}" in str(info.value)
    assert precommits[index].id.hex() in str(info.value)


def test_rococo_justification_of_the_other_set_fails() -> None:
    j = rococo_justifications(3165)[0]
    with pytest.raises(InvalidJustification):
        verify_justification(j, rococo_set(3164), 3164)


def test_rococo_expected_target_must_match() -> None:
    j = rococo_justifications(3165)[0]
    with pytest.raises(InvalidJustification, match="commit targets another block"):
        verify_justification(
            j, rococo_set(3165), 3165, target=(j.commit.target_hash, j.commit.target_number + 1)
        )


def test_westend_512_under_genesis_set() -> None:
    voters, set_id = genesis_authorities(westend_genesis_storage())
    assert set_id == 0 and len(voters) == 4
    raw = westend_block512_justification()
    j = verify_justification(raw, voters, 0)
    assert (j.round, j.commit.target_number, len(j.commit.precommits)) == (713, 512, 3)
    with pytest.raises(BadSignature, match="set id 1"):
        verify_justification(raw, voters, 1)


def test_undecodable_justification_is_an_invalid_justification() -> None:
    voters, _ = genesis_authorities(westend_genesis_storage())
    with pytest.raises(InvalidJustification, match="does not decode"):
        verify_justification(westend_block512_justification()[:-1], voters, 0)


# --- built commits: votes_ancestries --------------------------------------------------------

GENESIS = make_genesis("justification")
CHAIN = extend(GENESIS, 8)  # #1..#8
VOTERS = make_voters(4)  # threshold 3


def test_precommits_for_descendants_via_ancestries_are_accepted() -> None:
    b5, b6, b7 = CHAIN[4], CHAIN[5], CHAIN[6]
    j = justify(b5, VOTERS[:2], 0, precommits=[VOTERS[2].precommit(b7, 0)], ancestries=[b6, b7])
    verify_justification(j, authorities(VOTERS), 0)


def test_precommits_at_several_depths_share_routes() -> None:
    """Votes for #5..#8 on one chain: #6 has 3 of 4 (threshold 3), so #6 is the GHOST, and
    every ancestry header lies on some vote's route to the lowest target #5."""
    b5, b6, b7, b8 = CHAIN[4:8]
    votes = [
        VOTERS[0].precommit(b5, 0),
        VOTERS[1].precommit(b8, 0),
        VOTERS[2].precommit(b6, 0),
        VOTERS[3].precommit(b7, 0),
    ]
    j = justify(b6, [], 0, precommits=votes, ancestries=[b8, b6, b7])
    verify_justification(j, authorities(VOTERS), 0)
    with pytest.raises(BadVotesAncestry, match="not the base"):
        verify_justification(
            dataclasses.replace(j, votes_ancestries=(b8, b7)), authorities(VOTERS), 0
        )
    with pytest.raises(InvalidJustification, match="GHOST is #6"):
        verify_justification(
            justify(b5, [], 0, precommits=votes, ancestries=[b8, b6, b7]), authorities(VOTERS), 0
        )


def test_missing_ancestry_header_is_rejected() -> None:
    b5, b7 = CHAIN[4], CHAIN[6]
    j = justify(b5, VOTERS[:2], 0, precommits=[VOTERS[2].precommit(b7, 0)], ancestries=[b7])
    with pytest.raises(BadVotesAncestry, match="not the base") as info:
        verify_justification(j, authorities(VOTERS), 0)
    assert isinstance(info.value, BrokenAncestry) and "precommit #2" in str(info.value)


def test_unused_ancestry_header_is_rejected() -> None:
    b5, b6, b7 = CHAIN[4], CHAIN[5], CHAIN[6]
    stray = child(CHAIN[2], fork=9)
    j = justify(
        b5, VOTERS[:3], 0, precommits=[VOTERS[3].precommit(b7, 0)], ancestries=[b6, b7, stray]
    )
    with pytest.raises(BadVotesAncestry, match="1 votes_ancestries headers are unused") as info:
        verify_justification(j, authorities(VOTERS), 0)
    assert stray.hash().hex() in str(info.value)


def test_ancestry_headers_without_any_descendant_vote_are_unused() -> None:
    j = justify(CHAIN[4], VOTERS[:3], 0, ancestries=[CHAIN[5]])
    with pytest.raises(BadVotesAncestry, match="unused"):
        verify_justification(j, authorities(VOTERS), 0)


@pytest.mark.parametrize("fork_first", [False, True])
def test_precommit_for_a_block_not_descending_from_the_target(fork_first: bool) -> None:
    b5 = CHAIN[4]
    sibling = child(CHAIN[3], fork=1)  # another #5
    fork_vote = VOTERS[3].precommit(sibling, 0)
    j = justify(b5, VOTERS[:3], 0, precommits=[fork_vote], ancestries=[sibling])
    if fork_first:
        j = with_precommits(j, [fork_vote, *j.commit.precommits[:3]])
    with pytest.raises(BadVotesAncestry, match="not the base"):
        verify_justification(j, authorities(VOTERS), 0)


def test_non_voter_precommit_with_bad_signature_is_rejected() -> None:
    outsider = make_voters(1, "outsider")[0]
    vote = outsider.precommit(CHAIN[4], 0)
    bad = dataclasses.replace(vote, signature=bytes(64))
    j = justify(CHAIN[4], VOTERS[:3], 0, precommits=[bad])
    with pytest.raises(BadSignature, match="precommit #3"):
        verify_justification(j, authorities(VOTERS), 0)
    # A node accepts a validly signed precommit from outside the set; it just has no weight.
    verify_justification(
        justify(CHAIN[4], VOTERS[:3], 0, precommits=[vote]), authorities(VOTERS), 0
    )


def test_commit_for_an_ancestor_of_every_vote_is_not_the_ghost() -> None:
    b5, b6, b7 = CHAIN[4], CHAIN[5], CHAIN[6]
    votes = [v.precommit(b7, 0) for v in VOTERS[:3]]
    j = Justification(1, Commit(b5.hash(), b5.number, tuple(votes)), (b6, b7))
    with pytest.raises(InvalidJustification, match=f"GHOST is #7 0x{b7.hash().hex()}"):
        verify_justification(j, authorities(VOTERS), 0)


def test_empty_commit_is_below_threshold() -> None:
    j = justify(CHAIN[0], [], 0)
    with pytest.raises(BelowThreshold, match="no precommits"):
        verify_justification(j, authorities(VOTERS), 0)


def test_precommit_round_matters() -> None:
    j = justify(CHAIN[2], VOTERS[:3], 0, round_=5)
    verify_justification(j, authorities(VOTERS), 0)
    with pytest.raises(BadSignature, match="round 6"):
        verify_justification(dataclasses.replace(j, round=6), authorities(VOTERS), 0)


# --- built commits: equivocations, duplicates, weights --------------------------------------


def test_minority_fork_reaching_threshold_only_by_counting_an_equivocator_twice() -> None:
    """7 voters, threshold 5. B=#4 forks into X (#5, #6 below it) and Y (#5).

    V0 votes B; equivocator V1 votes X' and X''; V2..V4 vote X'; V5, V6 vote Y. Counting V1's
    two votes separately gives X' 5 (threshold); counted once (as an equivocator, everywhere),
    X' has 4 and only B has 7: the GHOST is B.
    """
    voters = make_voters(7, "minority")
    b = CHAIN[3]
    x1 = child(b, fork=1)
    x2 = child(x1, fork=1)
    x3 = child(x2, fork=1)
    y = child(b, fork=2)
    votes = [
        voters[0].precommit(b, 0),
        voters[1].precommit(x2, 0),
        voters[1].precommit(x3, 0),
        *(v.precommit(x2, 0) for v in voters[2:5]),
        *(v.precommit(y, 0) for v in voters[5:7]),
    ]
    ancestries = (x1, x2, x3, y)
    set_ = authorities(voters)
    to_x2 = Justification(1, Commit(x2.hash(), x2.number, tuple(votes)), ancestries)
    with pytest.raises(InvalidJustification, match=f"GHOST is #4 0x{b.hash().hex()}"):
        verify_justification(to_x2, set_, 0)
    result = validate_commit(to_x2.commit, VoterSet(set_), AncestryChain(ancestries))
    assert (result.num_equivocations, result.weight, result.ghost) == (1, 7, (b.hash(), 4))
    to_b = dataclasses.replace(
        to_x2, commit=dataclasses.replace(to_x2.commit, target_hash=b.hash(), target_number=4)
    )
    verify_justification(to_b, set_, 0)


def test_equivocator_weight_counts_on_every_fork() -> None:
    """4 voters, threshold 3: V0 equivocates between forks X and Y; V1 votes X, V2 and V3 Y.
    Y gets V2 + V3 + V0 = 3 and is final; X gets V1 + V0 = 2."""
    b = CHAIN[3]
    x, y = child(b, fork=1), child(b, fork=2)
    votes = [
        VOTERS[0].precommit(b, 0),
        VOTERS[0].precommit(x, 0),
        VOTERS[0].precommit(y, 0),  # a third vote: ignored by the vote tracker
        VOTERS[1].precommit(x, 0),
        VOTERS[2].precommit(y, 0),
        VOTERS[3].precommit(y, 0),
    ]
    set_ = authorities(VOTERS)
    verify_justification(Justification(1, Commit(y.hash(), 5, tuple(votes)), (x, y)), set_, 0)
    with pytest.raises(InvalidJustification, match="GHOST"):
        verify_justification(Justification(1, Commit(x.hash(), 5, tuple(votes)), (x, y)), set_, 0)


def test_same_vote_with_a_different_signature_is_an_equivocation() -> None:
    """The vote tracker compares (vote, signature): a re-signed identical vote equivocates."""
    target = CHAIN[4]
    vote = VOTERS[0].precommit(target, 0)
    resigned = dataclasses.replace(vote, signature=blake2_256(b"x") * 2)
    commit = Commit(target.hash(), 5, (vote, resigned, VOTERS[1].precommit(target, 0)))
    result = validate_commit(commit, VoterSet(authorities(VOTERS)), AncestryChain(()))
    assert (result.num_equivocations, result.num_duplicated, result.weight) == (1, 0, 2)
    assert not result.valid


def test_duplicates_count_once() -> None:
    target = CHAIN[4]
    votes = [VOTERS[0].precommit(target, 0)] * 3 + [VOTERS[1].precommit(target, 0)]
    j = Justification(1, Commit(target.hash(), 5, tuple(votes)), ())
    with pytest.raises(BelowThreshold, match=r"weight 2.*2 duplicate"):
        verify_justification(j, authorities(VOTERS), 0)
    verify_justification(justify(target, VOTERS[2:3], 0, precommits=votes), authorities(VOTERS), 0)


def test_weighted_voters() -> None:
    voters = make_voters(4, "weighted", weights=[5, 1, 1, 1])  # total 8, threshold 6
    set_ = authorities(voters)
    target = CHAIN[4]
    verify_justification(justify(target, voters[:2], 0), set_, 0)
    with pytest.raises(BelowThreshold, match="weight 5, below the threshold 6 of 8"):
        verify_justification(justify(target, voters[:1], 0), set_, 0)
    with pytest.raises(BelowThreshold, match="weight 3"):
        verify_justification(justify(target, voters[1:], 0), set_, 0)


def test_repeated_authority_ids_add_their_weights() -> None:
    a, b, c = make_voters(3, "repeated")
    set_ = (a.authority, a.authority, b.authority, c.authority)  # a weighs 2; threshold 3 of 4
    verify_justification(justify(CHAIN[4], [a, b], 0), set_, 0)
    with pytest.raises(BelowThreshold):
        verify_justification(justify(CHAIN[4], [b, c], 0), set_, 0)


def test_unusable_voter_sets() -> None:
    a = make_voters(1)[0]
    with pytest.raises(InvalidAuthoritySet):
        VoterSet([])
    with pytest.raises(InvalidAuthoritySet):
        VoterSet([Authority(a.id, 0)])
    with pytest.raises(InvalidAuthoritySet, match="exceeds u64"):
        VoterSet([Authority(a.id, 2**63), Authority(bytes(32), 2**63)])
    assert len(VoterSet([Authority(a.id, 0), Authority(bytes(32), 1)])) == 1


def test_precommit_numbers_are_taken_as_claimed() -> None:
    """finality-grandpa trusts the numbers voters claim: a vote for #5's hash claiming #4 is
    the lowest precommit, so it becomes the base and the GHOST carries its number."""
    target = CHAIN[4]
    votes = [v.precommit(target, 0) for v in VOTERS[:2]] + [
        VOTERS[2].precommit(target, 0, number=4)
    ]
    commit = Commit(target.hash(), 5, tuple(votes))
    result = validate_commit(commit, VoterSet(authorities(VOTERS)), AncestryChain(()))
    assert result.ghost == (target.hash(), 4) and not result.valid


# --- the GHOST against a brute-force reference ---------------------------------------------


@st.composite
def vote_scenarios(draw: st.DrawFn) -> tuple[list[Header], list[int], list[tuple[int, int]]]:
    """A block tree (parents before children), voter weights, and (voter, block) votes."""
    size = draw(st.integers(2, 12))
    parents = [draw(st.integers(0, i - 1)) for i in range(1, size)]
    root = make_genesis("ghost")
    blocks = [root]
    for i, p in enumerate(parents, start=1):
        blocks.append(child(blocks[p], fork=i))
    weights = draw(st.lists(st.integers(1, 3), min_size=1, max_size=8))
    votes = draw(
        st.lists(st.tuples(st.integers(0, len(weights) - 1), st.integers(0, size - 1)), max_size=20)
    )
    return blocks, weights, votes


def reference_ghost(
    blocks: list[Header], weights: list[int], votes: list[tuple[int, int]]
) -> tuple[bytes, int] | None:
    """Highest block whose first-vote weight (plus every equivocator) reaches the threshold."""
    by_hash = {b.hash(): b for b in blocks}

    def ancestors(block: Header) -> list[bytes]:
        out = [block.hash()]
        while block.parent_hash in by_hash:
            block = by_hash[block.parent_hash]
            out.append(block.hash())
        return out

    first: dict[int, int] = {}
    equivocators: set[int] = set()
    for voter, block in votes:
        if voter not in first:
            first[voter] = block
        elif first[voter] != block:
            equivocators.add(voter)
    total = sum(weights)
    # With this much equivocation two forks can both pass; GHOST then depends on graph order.
    assume(sum(weights[v] for v in equivocators) < 2 * threshold(total) - total)
    support: dict[bytes, set[int]] = {}
    for voter, block in first.items():
        for h in ancestors(blocks[block]):
            support.setdefault(h, set()).add(voter)
    passing = [
        by_hash[h]
        for h, voters in support.items()
        if sum(weights[v] for v in voters | equivocators) >= threshold(total)
    ]
    if sum(weights[v] for v in first) < threshold(total) or not passing:
        return None
    best = max(b.number for b in passing)
    top = [b for b in passing if b.number == best]
    assert len(top) == 1
    return top[0].hash(), best


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vote_scenarios())
@pytest.mark.slow
def test_ghost_matches_reference(
    scenario: tuple[list[Header], list[int], list[tuple[int, int]]],
) -> None:
    blocks, weights, votes = scenario
    assume(votes)
    voters = [
        Voter(v.key, w) for v, w in zip(make_voters(len(weights), "ghost"), weights, strict=True)
    ]
    precommits = tuple(
        SignedPrecommit(
            blocks[b].hash(), blocks[b].number, blake2_256(bytes([v, b])) * 2, voters[v].id
        )
        for v, b in votes
    )
    chain = AncestryChain(blocks)
    lowest = min(precommits, key=lambda p: p.target_number)
    assume(
        all(chain.is_equal_or_descendant_of(lowest.target_hash, p.target_hash) for p in precommits)
    )
    expected = reference_ghost(blocks, weights, votes)
    target = expected or (lowest.target_hash, lowest.target_number)
    commit = Commit(target[0], target[1], precommits)
    result = validate_commit(commit, VoterSet(authorities(voters)), chain)
    assert result.ghost == expected
    assert result.valid == (expected is not None)
