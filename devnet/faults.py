"""Data faults: the devnet lies on purpose at one block so tests can prove the pipeline refuses.

Each fault names a block number B and touches only what is served for B. All but
`wrong_state_root_at` act when data is served, so they can be switched at runtime (assign the
field, or `set`/`clear`); a wrong state root is baked into header B when B is produced, as a
lying node would do, so switching it on affects only blocks produced afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from pinkpipe.chain.errors import ConfigError
from pinkpipe.chain.grandpa import Justification, SignedPrecommit
from pinkpipe.chain.hashing import blake2_256


class FaultError(ConfigError):
    """A fault specification that names an unknown fault or a bad block number."""


@dataclass
class Faults:
    """Block numbers at which each data fault fires (None = never)."""

    bad_justification_signature_at: int | None = None
    """The justification of B carries one precommit whose signature does not verify."""
    wrong_set_id_at: int | None = None
    """The justification of B is validly signed but for set id + 1 (forced at B)."""
    wrong_state_root_at: int | None = None
    """Header B's state_root is not the root of B's state (read proofs at B then fail)."""
    truncated_proof_at: int | None = None
    """Read proofs at B lose their last node."""
    bad_body_at: int | None = None
    """The body served for B does not match B's extrinsics root."""

    @classmethod
    def names(cls) -> list[str]:
        """Fault names as used by `set` (field names without `_at`); the one parser of fault
        specs is `pinkpipe devnet --fault` (devnet.cli.parse_faults)."""
        return [f.name.removesuffix("_at") for f in fields(cls)]

    def set(self, name: str, block: int | None) -> None:
        """Switch a fault on at `block` (None switches it off)."""
        attr = f"{name.removesuffix('_at')}_at"
        if attr not in {f.name for f in fields(self)}:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(self.names())}")
        if block is not None and (not isinstance(block, int) or block < 1):
            raise FaultError(f"fault {name!r} needs a block number >= 1, got {block!r}")
        setattr(self, attr, block)

    def clear(self) -> None:
        for f in fields(self):
            setattr(self, f.name, None)

    def active(self) -> dict[str, int]:
        """Faults switched on, by name."""
        out = {}
        for f in fields(self):
            block = getattr(self, f.name)
            if block is not None:
                out[f.name.removesuffix("_at")] = block
        return out


def corrupt_signature(justification: Justification) -> Justification:
    """The same justification with its first precommit's signature altered (one bit)."""
    first, *rest = justification.commit.precommits
    signature = bytes([first.signature[0] ^ 0x01]) + first.signature[1:]
    bad = SignedPrecommit(first.target_hash, first.target_number, signature, first.id)
    commit = type(justification.commit)(
        justification.commit.target_hash,
        justification.commit.target_number,
        (bad, *rest),
    )
    return Justification(justification.round, commit, justification.votes_ancestries)


def lying_state_root(true_root: bytes) -> bytes:
    """A state root that is deterministic but is not the root of any state we hold."""
    return blake2_256(b"pinkpipe devnet: wrong state root" + true_root)


def truncate_proof(nodes: list[bytes]) -> list[bytes]:
    """A read proof without its last node."""
    return nodes[:-1]


def tamper_body(body: list[bytes]) -> list[bytes]:
    """The body with its first extrinsic repeated at the end: every extrinsic still decodes,
    but the list no longer matches the header's extrinsics root."""
    return [*body, body[0]]
