"""Build GRANDPA test chains: headers (with FRNK change digests), precommits, justifications.

Keys are generated deterministically from a label, so tests are reproducible and need no
devnet; signatures are real ed25519 (PyNaCl), verified by the same code as real chains'.

    voters = make_voters(4)
    blocks = extend(genesis, 10, logs={5: [scheduled_change(new_voters, delay=0)]})
    just = justify(blocks[-1], voters[:3], set_id=0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nacl.signing import SigningKey

from pinkpipe.chain.grandpa import (
    Authority,
    Commit,
    ConsensusLog,
    ForcedChange,
    Justification,
    ScheduledChange,
    SignedPrecommit,
    encode_consensus_log,
    precommit_payload,
)
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.header import (
    EMPTY_TRIE_ROOT,
    GRANDPA_ENGINE_ID,
    DigestItem,
    DigestKind,
    Header,
    genesis_header,
)


@dataclass(frozen=True)
class Voter:
    """A GRANDPA authority whose secret key we hold."""

    key: SigningKey
    weight: int = 1

    @property
    def id(self) -> bytes:
        return bytes(self.key.verify_key)

    @property
    def authority(self) -> Authority:
        return Authority(self.id, self.weight)

    def precommit(
        self, target: Header, set_id: int, round_: int = 1, *, number: int | None = None
    ) -> SignedPrecommit:
        """A signed precommit for `target` (claiming `number` instead of its own, if given)."""
        n = target.number if number is None else number
        h = target.hash()
        signature = self.key.sign(precommit_payload(h, n, round_, set_id)).signature
        return SignedPrecommit(h, n, signature, self.id)


def make_voters(
    count: int, label: str = "voter", weights: Sequence[int] | None = None
) -> list[Voter]:
    """`count` voters with keys derived from `label` (different labels, different keys)."""
    return [
        Voter(
            SigningKey(blake2_256(f"{label}/{i}".encode())),
            weights[i] if weights is not None else 1,
        )
        for i in range(count)
    ]


def authorities(voters: Iterable[Voter]) -> tuple[Authority, ...]:
    return tuple(v.authority for v in voters)


def scheduled_change(voters: Iterable[Voter], delay: int = 0) -> ScheduledChange:
    return ScheduledChange(authorities(voters), delay)


def forced_change(voters: Iterable[Voter], delay: int = 0, median: int = 0) -> ForcedChange:
    return ForcedChange(median, scheduled_change(voters, delay))


def frnk(log: ConsensusLog) -> DigestItem:
    return DigestItem(DigestKind.CONSENSUS, encode_consensus_log(log), GRANDPA_ENGINE_ID)


def make_genesis(label: str = "test") -> Header:
    """A genesis header with a root derived from `label` (distinct chains, distinct hashes)."""
    return genesis_header(blake2_256(f"genesis/{label}".encode()))


def child(parent: Header, logs: Iterable[ConsensusLog] = (), fork: int = 0) -> Header:
    """The next header after `parent`; `fork` makes siblings with different hashes."""
    number = parent.number + 1
    return Header(
        parent.hash(),
        number,
        blake2_256(parent.hash() + number.to_bytes(4, "little") + fork.to_bytes(4, "little")),
        EMPTY_TRIE_ROOT,
        tuple(frnk(log) for log in logs),
    )


def extend(
    parent: Header,
    count: int,
    logs: Mapping[int, Iterable[ConsensusLog]] | None = None,
    fork: int = 0,
) -> list[Header]:
    """`count` headers after `parent`; `logs` maps block numbers to their GRANDPA logs."""
    out: list[Header] = []
    for _ in range(count):
        number = (out[-1] if out else parent).number + 1
        out.append(child(out[-1] if out else parent, (logs or {}).get(number, ()), fork))
    return out


def justify(
    target: Header,
    signers: Iterable[Voter],
    set_id: int,
    round_: int = 1,
    *,
    precommits: Iterable[SignedPrecommit] = (),
    ancestries: Iterable[Header] = (),
) -> Justification:
    """A justification for `target`: one precommit for it per signer, then `precommits`."""
    votes = [v.precommit(target, set_id, round_) for v in signers]
    votes.extend(precommits)
    return Justification(
        round_, Commit(target.hash(), target.number, tuple(votes)), tuple(ancestries)
    )
