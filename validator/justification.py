"""GRANDPA commit and justification verification, accepting exactly what a Substrate node does.

Sources replicated (read, not copied):

- finality-grandpa `src/voter_set.rs` `VoterSet::new`: zero weights are dropped, repeated ids
  add up, an empty set or a total above u64 is invalid; voters are ordered by id.
- finality-grandpa `src/lib.rs` `validate_commit`: precommits from ids outside the set are
  counted as invalid voters and ignored; the base is the first lowest-numbered remaining
  precommit; every remaining precommit must be the base or descend from it; they are imported
  into a round and the commit is valid iff the precommit-GHOST is exactly the commit target.
- finality-grandpa `src/round.rs` `VoteTracker::add_vote`: a voter's weight counts once (on its
  first vote); a repeat of the same (vote, signature) is a duplicate and ignored; a second
  different vote makes the voter an equivocator, whose weight then counts towards every block
  (`round/context.rs`); further votes are ignored. (`validate_commit` also returns early on a
  voter's second equivocation, but the tracker never reports one, so that never happens.)
  The GHOST needs the first-vote weight to reach the threshold before it is searched.
- polkadot-sdk `substrate/client/consensus/grandpa/src/justification.rs`
  `GrandpaJustification::verify_with_voter_set`: after `validate_commit` says valid, every
  precommit's signature must verify over `(Message::Precommit, round, set_id)` whoever signed
  it; with the base = the first lowest-numbered precommit of *all* precommits, every target
  other than the base must reach it through `votes_ancestries`, and the visited hashes must be
  exactly the ancestry headers (none unused). Its only check on `validate_commit` is
  `is_valid()`: duplicated precommits and precommits by non-voters do not by themselves make a
  node reject a justification (they carry no extra weight). Some bridge verifiers reject them
  outright; a node does not, so neither does this module.
- `decode_and_verify_finalizes`: the commit target must be the block being finalized.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pinkpipe.chain.crypto import ed25519_verify
from pinkpipe.chain.grandpa import Authority, Commit, Justification, threshold
from pinkpipe.chain.scale import CodecError, encode_u32, encode_u64
from pinkpipe.validator.errors import (
    BadSignature,
    BadVotesAncestry,
    BelowThreshold,
    InvalidAuthoritySet,
    InvalidJustification,
    UnknownAuthority,
)
from pinkpipe.validator.vote_graph import AncestryChain, VoteGraph

MAX_TOTAL_WEIGHT = 2**64 - 1


class VoterSet:
    """Voters of one round: id -> (position, weight), ordered by id (finality-grandpa)."""

    __slots__ = ("_uniform", "positions", "threshold", "total_weight", "weights")

    def __init__(self, authorities: Sequence[Authority]) -> None:
        merged: dict[bytes, int] = {}
        total = 0
        for a in authorities:
            if a.weight:
                merged[a.id] = merged.get(a.id, 0) + a.weight
                total += a.weight
        if not merged:
            raise InvalidAuthoritySet("authority set has no voter with non-zero weight")
        if total > MAX_TOTAL_WEIGHT:
            raise InvalidAuthoritySet(f"total authority weight {total} exceeds u64")
        ids = sorted(merged)
        self.positions = {id_: i for i, id_ in enumerate(ids)}
        self.weights = tuple(merged[id_] for id_ in ids)
        self.total_weight = total
        self.threshold = threshold(total)
        self._uniform = self.weights[0] if len(set(self.weights)) == 1 else 0

    def __len__(self) -> int:
        return len(self.weights)

    def __contains__(self, id_: object) -> bool:
        return id_ in self.positions

    def weight_of(self, bits: int) -> int:
        """Total weight of the voters whose position bits are set."""
        if self._uniform:
            return bits.bit_count() * self._uniform
        total = 0
        while bits:
            low = bits & -bits
            total += self.weights[low.bit_length() - 1]
            bits ^= low
        return total


@dataclass(frozen=True, slots=True)
class CommitValidation:
    """What `validate_commit` found; `valid` is the verdict, the rest explains it."""

    valid: bool
    weight: int = 0
    ghost: tuple[bytes, int] | None = None
    base: tuple[bytes, int] | None = None
    num_duplicated: int = 0
    num_equivocations: int = 0
    num_invalid_voters: int = 0
    first_invalid_voter: int | None = None
    not_descendant: int | None = None


def validate_commit(commit: Commit, voters: VoterSet, chain: AncestryChain) -> CommitValidation:
    """finality-grandpa's `validate_commit`: is the precommit-GHOST exactly the target?

    Signatures are not checked here (the caller does, as Substrate does afterwards).
    """
    valid = [(i, p) for i, p in enumerate(commit.precommits) if p.id in voters.positions]
    invalid_voters = len(commit.precommits) - len(valid)
    first_invalid = next(
        (i for i, p in enumerate(commit.precommits) if p.id not in voters.positions), None
    )
    if not valid:
        return CommitValidation(
            False, num_invalid_voters=invalid_voters, first_invalid_voter=first_invalid
        )
    lowest = min(valid, key=lambda ip: ip[1].target_number)[1]
    base = (lowest.target_hash, lowest.target_number)
    for i, p in valid:
        if not chain.is_equal_or_descendant_of(base[0], p.target_hash):
            return CommitValidation(
                False,
                base=base,
                num_invalid_voters=invalid_voters,
                first_invalid_voter=first_invalid,
                not_descendant=i,
            )

    graph = VoteGraph(*base)
    votes: dict[bytes, list[tuple[tuple[bytes, int], bytes]]] = {}
    first_vote_bits = equivocators = 0
    duplicated = equivocations = 0
    for _, p in valid:
        vote = (p.target_hash, p.target_number)
        bit = 1 << voters.positions[p.id]
        seen = votes.get(p.id)
        if seen is None:
            votes[p.id] = [(vote, p.signature)]
            first_vote_bits |= bit
            # Cannot raise NotDescendant: every target was checked to descend from the base.
            graph.insert(p.target_hash, p.target_number, bit, chain)
        elif (vote, p.signature) in seen:
            duplicated += 1
        elif len(seen) == 1:
            seen.append((vote, p.signature))
            equivocators |= bit
            equivocations += 1

    weight = voters.weight_of(first_vote_bits)
    ghost = None
    if weight >= voters.threshold:
        ghost = graph.find_ghost(
            lambda bits: voters.weight_of(bits | equivocators) >= voters.threshold
        )
    return CommitValidation(
        ghost == (commit.target_hash, commit.target_number),
        weight=weight,
        ghost=ghost,
        base=base,
        num_duplicated=duplicated,
        num_equivocations=equivocations,
        num_invalid_voters=invalid_voters,
        first_invalid_voter=first_invalid,
    )


def decode_justification(data: bytes | Justification) -> Justification:
    """A `Justification` from its SCALE bytes; malformed bytes are an InvalidJustification."""
    if isinstance(data, Justification):
        return data
    try:
        return Justification.decode(data)
    except CodecError as e:
        raise InvalidJustification(f"justification does not decode: {e}") from e


def voter_set(authorities: Sequence[Authority] | VoterSet) -> VoterSet:
    return authorities if isinstance(authorities, VoterSet) else VoterSet(authorities)


def verify_justification(
    justification: bytes | Justification,
    authorities: Sequence[Authority] | VoterSet,
    set_id: int,
    *,
    target: tuple[bytes, int] | None = None,
) -> Justification:
    """Check that `justification` finalizes its commit target under this set; return it.

    `target` = (hash, number) of the block it must finalize, when the caller has one. Works
    without any header chain (the Westend #512 vector is verified this way). Raises a subclass
    of `InvalidJustification` naming the target block, the set id and the failing precommit.
    """
    j = decode_justification(justification)
    commit = j.commit
    where = {"number": commit.target_number, "block_hash": commit.target_hash, "set_id": set_id}
    if target is not None and (commit.target_hash, commit.target_number) != target:
        raise InvalidJustification(
            f"commit targets another block than #{target[1]} 0x{target[0].hex()}", **where
        )
    voters = voter_set(authorities)
    _check_signatures(j, set_id, where)
    chain = AncestryChain(j.votes_ancestries)
    result = validate_commit(commit, voters, chain)
    if not result.valid:
        raise _invalid_commit(result, commit, voters, where)
    _check_ancestry_use(j, chain, where)
    return j


def _invalid_commit(
    result: CommitValidation, commit: Commit, voters: VoterSet, where: dict
) -> InvalidJustification:
    """The most specific error for a commit `validate_commit` rejected."""
    if result.not_descendant is not None and result.base is not None:
        p = commit.precommits[result.not_descendant]
        return BadVotesAncestry(
            f"precommit for #{p.target_number} 0x{p.target_hash.hex()} is not the base "
            f"#{result.base[1]} 0x{result.base[0].hex()} or its descendant via votes_ancestries",
            precommit=result.not_descendant,
            authority=p.id,
            **where,
        )
    if result.weight < voters.threshold:
        reason = (
            f"precommits carry weight {result.weight}, below the threshold {voters.threshold} "
            f"of {voters.total_weight} ({len(voters)} voters)"
        )
        if result.num_duplicated:
            reason += f" ({result.num_duplicated} duplicate precommits count once)"
        if result.first_invalid_voter is not None:
            p = commit.precommits[result.first_invalid_voter]
            return UnknownAuthority(
                f"{reason}; {result.num_invalid_voters} precommits are by ids outside the set",
                precommit=result.first_invalid_voter,
                authority=p.id,
                **where,
            )
        if not commit.precommits:
            reason = "commit has no precommits"
        return BelowThreshold(reason, **where)
    # Enough weight means the base itself passes, so a GHOST exists; it is another block.
    ghost = f"#{result.ghost[1]} 0x{result.ghost[0].hex()}" if result.ghost else "none"
    return InvalidJustification(f"precommit GHOST is {ghost}, not the commit target", **where)


def _check_signatures(j: Justification, set_id: int, where: dict) -> None:
    """Every precommit's signature, whoever signed it (`verify_with_voter_set`).

    Substrate checks signatures after `validate_commit`, interleaved with the ancestry walks;
    acceptance needs all checks to pass, so the order only decides which error is reported.
    Signatures come first here: they cost a fixed ~35 µs each, whereas an untrusted relayer
    could make the ancestry walks quadratic with junk-signed precommits.
    """
    suffix = encode_u64(j.round) + encode_u64(set_id)
    for i, p in enumerate(j.commit.precommits):
        payload = b"\x01" + p.target_hash + encode_u32(p.target_number) + suffix
        if not ed25519_verify(p.signature, payload, p.id):
            raise BadSignature(
                f"precommit signature invalid for round {j.round}",
                precommit=i,
                authority=p.id,
                **where,
            )


def _check_ancestry_use(j: Justification, chain: AncestryChain, where: dict) -> None:
    """Every precommit target reaches the lowest target through `votes_ancestries`, and
    every ancestry header lies on such a route (`verify_with_voter_set`'s visited set).

    A walk stops at a header an earlier walk already proved to reach the base, which yields
    the same visited set as walking every route in full, in linear time.
    """
    precommits = j.commit.precommits
    base_hash = min(precommits, key=lambda p: p.target_number).target_hash
    visited: set[bytes] = set()
    for i, p in enumerate(precommits):
        route: list[bytes] = []
        current = p.target_hash
        while current != base_hash and current not in visited:
            header = chain.headers.get(current)
            if header is None or len(route) > len(chain.headers):
                raise BadVotesAncestry(
                    f"precommit for #{p.target_number} 0x{p.target_hash.hex()} has no ancestry "
                    f"route to the lowest precommit target 0x{base_hash.hex()}",
                    precommit=i,
                    authority=p.id,
                    **where,
                )
            route.append(current)
            current = header.parent_hash
        visited.update(route)
    unused = [h for h in j.votes_ancestries if h.hash() not in visited]
    if unused:
        h = unused[0]
        raise BadVotesAncestry(
            f"{len(unused)} votes_ancestries headers are unused, first #{h.number} "
            f"0x{h.hash().hex()}",
            **where,
        )
