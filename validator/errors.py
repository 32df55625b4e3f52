"""The light client's one exception hierarchy.

Every failure is a `LightClientError`. Its message is the reason followed by where it happened:
block number and hash, set id, the precommit (index in the commit, authority id) or storage key,
so an operator reading a halted pipeline's log knows exactly what to inspect.
"""

from __future__ import annotations

from pinkpipe.chain.errors import InvalidChainData


class LightClientError(InvalidChainData):
    """Base of every light-client failure; attributes say where it happened (None = n/a)."""

    def __init__(
        self,
        reason: str,
        *,
        number: int | None = None,
        block_hash: bytes | None = None,
        set_id: int | None = None,
        precommit: int | None = None,
        authority: bytes | None = None,
        key: bytes | None = None,
    ) -> None:
        self.reason = reason
        self.number = number
        self.block_hash = block_hash
        self.set_id = set_id
        self.precommit = precommit
        self.authority = authority
        self.key = key
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.number is not None or self.block_hash is not None:
            block = "block"
            if self.number is not None:
                block += f" #{self.number}"
            if self.block_hash is not None:
                block += f" 0x{self.block_hash.hex()}"
            where.append(block)
        if self.set_id is not None:
            where.append(f"set id {self.set_id}")
        if self.precommit is not None:
            where.append(f"precommit #{self.precommit}")
        if self.authority is not None:
            where.append(f"authority 0x{self.authority.hex()}")
        if self.key is not None:
            where.append(f"key 0x{self.key.hex()}")
        return f"{self.reason} ({', '.join(where)})" if where else self.reason


class InvalidJustification(LightClientError):
    """The justification does not prove finality of its target (or of the expected block)."""


class BadSignature(InvalidJustification):
    """A precommit's ed25519 signature does not verify for this round and set id."""


class BelowThreshold(InvalidJustification):
    """The precommits' weight does not reach the supermajority for the commit target."""


class UnknownAuthority(BelowThreshold):
    """Below threshold, and some precommits came from ids outside the set (no weight)."""


class BrokenAncestry(LightClientError):
    """Headers do not link by parent hash (inside a batch or to the finalized block)."""


class BadVotesAncestry(InvalidJustification, BrokenAncestry):
    """A precommit target does not descend from the base via `votes_ancestries`, or an
    ancestry header is never used."""


class NotContiguous(LightClientError):
    """The batch does not continue from the last finalized block (gap, wrong numbers)."""


class AlreadyFinalized(NotContiguous):
    """Every header of the batch is already finalized (a replay); the state is unchanged."""


class SetChangeViolation(LightClientError):
    """An authority-set change would be skipped, misapplied or is itself invalid."""


class InvalidAuthoritySet(LightClientError):
    """An authority list GRANDPA cannot use: empty, zero weight, or total weight overflow."""


class BadBootstrap(LightClientError):
    """Genesis or checkpoint data that cannot start a light client."""


class BadState(LightClientError):
    """Saved light-client state bytes that do not decode or are inconsistent."""


class UnknownBlock(LightClientError):
    """The block is not among the remembered finalized blocks."""


class BadProof(LightClientError):
    """A storage read proof is malformed, incomplete or does not match the state root."""


class BadBody(LightClientError):
    """A block body does not match its header's extrinsics root."""
