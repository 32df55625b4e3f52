"""GRANDPA on the devnet: which authority set finalizes which block, and signed justifications.

With `set_period = P > 0`, block `k*P` (k >= 1) announces a `ScheduledChange` with delay 0: it is
the last block of set `k-1` and is justified by that outgoing set; blocks `k*P+1 .. (k+1)*P`
are finalized by set `k`. Set `s` is a sliding window over a fixed pool of development keys
(`Alice`, `Bob`, ... then `//Authority7`, ...): it drops one member and takes in the next at
each rotation, so after `authorities` rotations no member of the first set remains. The pool
is finite (twice the set size, at least the six dev names) so keys are derived once and reused.

ed25519 signatures are deterministic, so justifications are byte-identical across runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from substrateinterface import Keypair

from pinkpipe.chain.grandpa import (
    Authority,
    Commit,
    Justification,
    SignedPrecommit,
    precommit_payload,
)
from pinkpipe.devnet.config import DEV_ACCOUNTS
from pinkpipe.devnet.keys import dev_keypair


@cache
def grandpa_key(name: str) -> Keypair:
    """The ed25519 development key of an authority name (derivation is slow: cache it)."""
    return dev_keypair(name, "ed25519")


def authority_pool(size: int) -> tuple[str, ...]:
    """Development authority names: the keyring names, then `Authority7`, `Authority8`, ..."""
    names = list(DEV_ACCOUNTS[:size])
    names += [f"Authority{i}" for i in range(len(names) + 1, size + 1)]
    return tuple(names)


@dataclass(frozen=True)
class AuthoritySchedule:
    """Which authorities finalize which block, for a set size and a rotation period."""

    size: int
    set_period: int

    @property
    def pool(self) -> tuple[str, ...]:
        return authority_pool(max(2 * self.size, len(DEV_ACCOUNTS)))

    def set_id(self, number: int) -> int:
        """The id of the set that finalizes block `number` (a change block: the outgoing set)."""
        if self.set_period == 0 or number <= 0:
            return 0
        return (number - 1) // self.set_period

    def is_change(self, number: int) -> bool:
        """Whether block `number` announces a new set (it is then the old set's last block)."""
        return self.set_period > 0 and number > 0 and number % self.set_period == 0

    def set_start(self, set_id: int) -> int:
        """The block after which `set_id` starts finalizing (0 for the genesis set)."""
        return set_id * self.set_period

    def round(self, number: int) -> int:
        """The GRANDPA round that finalized `number`: counts from 1 within each set."""
        return number - self.set_start(self.set_id(number))

    def members(self, set_id: int) -> tuple[str, ...]:
        pool = self.pool
        return tuple(pool[(set_id + i) % len(pool)] for i in range(self.size))

    def authorities(self, set_id: int) -> tuple[Authority, ...]:
        return tuple(
            Authority(bytes(grandpa_key(name).public_key), 1) for name in self.members(set_id)
        )


def sign_justification(
    schedule: AuthoritySchedule,
    target_hash: bytes,
    target_number: int,
    signers: int,
    set_id: int | None = None,
) -> Justification:
    """A justification of `target` signed by the first `signers` members of its set.

    `set_id` overrides the id the precommits sign (a fault); the signers stay the members of
    the set that really finalizes the block.
    """
    real_set = schedule.set_id(target_number)
    signed_set = real_set if set_id is None else set_id
    round_ = schedule.round(target_number)
    payload = precommit_payload(target_hash, target_number, round_, signed_set)
    precommits = []
    for name in schedule.members(real_set)[:signers]:
        key = grandpa_key(name)
        precommits.append(
            SignedPrecommit(target_hash, target_number, key.sign(payload), bytes(key.public_key))
        )
    return Justification(round_, Commit(target_hash, target_number, tuple(precommits)), ())
