"""Authority sets and the changes headers announce.

Which change a header announces follows Substrate's GRANDPA block import
(`client/consensus/grandpa/src/import.rs`, `check_new_change`): the first `ForcedChange` of the
header's FRNK consensus items if there is one, else the first `ScheduledChange`; items that do
not decode are skipped (Substrate's `DigestItem::try_to` yields None for them, and decodes a
prefix, so trailing bytes are ignored). `OnDisabled`, `Pause` and `Resume` never change the set.

An authority list is usable when it is non-empty and has no zero weight (Substrate
`AuthoritySet::invalid_authority_list`, which makes a node refuse the announcing block) and its
total weight fits in u64 (finality-grandpa `VoterSet::new`).

ForcedChange, the light-client choice. A Substrate node applies a forced change when the block
`announced + delay` is *imported* on its best chain, without finality; its own docs say such
changes "do not lead to justifications which light clients can follow", and its warp-sync proof
stops at them ("the chain of trust in authority handoffs was broken"). smoldot's light client
ignores ForcedChange when following blocks (`chain/blocks_tree/verify.rs`), and its warp sync
accepts one only inside a header already justified by the current set, where it hands over to
the announced authorities (`sync/warp_sync.rs`), dropping `median_last_finalized`. We follow
smoldot's warp sync: a ForcedChange counts only once its header is finalized by the current set,
and is then enacted like a scheduled change (at `announced + delay`, that block justified by the
outgoing set, set id + 1). A forced change used for its real purpose (the old set has stalled)
therefore halts this client with a clear error; recovery is a re-bootstrap from a trusted
checkpoint, as for smoldot and Substrate's warp sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pinkpipe.chain.grandpa import (
    Authority,
    ForcedChange,
    ScheduledChange,
    read_consensus_log,
)
from pinkpipe.chain.header import GRANDPA_ENGINE_ID, DigestKind, Header
from pinkpipe.chain.scale import CodecError, Reader
from pinkpipe.validator.errors import InvalidAuthoritySet
from pinkpipe.validator.justification import VoterSet


def check_authority_list(authorities: Sequence[Authority]) -> tuple[Authority, ...]:
    """The list as a tuple, or InvalidAuthoritySet when GRANDPA could not use it."""
    authorities = tuple(authorities)
    if not authorities:
        raise InvalidAuthoritySet("authority list is empty")
    for i, a in enumerate(authorities):
        if len(a.id) != 32:
            raise InvalidAuthoritySet(f"authority #{i} id is {len(a.id)} bytes, not 32")
        if a.weight <= 0:
            raise InvalidAuthoritySet(f"authority #{i} has weight {a.weight}", authority=a.id)
    VoterSet(authorities)
    return authorities


@dataclass(frozen=True, slots=True)
class AuthoritySet:
    """The set that signs justifications now: its authorities (in chain order) and set id."""

    authorities: tuple[Authority, ...]
    set_id: int
    voters: VoterSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        authorities = check_authority_list(self.authorities)
        if not 0 <= self.set_id < 2**64:
            raise InvalidAuthoritySet(f"set id {self.set_id} is not a u64")
        object.__setattr__(self, "authorities", authorities)
        object.__setattr__(self, "voters", VoterSet(authorities))


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A change announced in a finalized header, enacted when `effective_number` is finalized.

    `forced_median` is the ForcedChange's `median_last_finalized` (None for a scheduled change);
    kept for the record, it does not affect enactment (see the module docstring).
    """

    next_authorities: tuple[Authority, ...]
    delay: int
    announced_number: int
    announced_hash: bytes
    forced_median: int | None = None

    @property
    def effective_number(self) -> int:
        return self.announced_number + self.delay

    @property
    def forced(self) -> bool:
        return self.forced_median is not None

    def describe(self) -> str:
        kind = "forced change" if self.forced else "scheduled change"
        return (
            f"{kind} to {len(self.next_authorities)} authorities announced at "
            f"#{self.announced_number} 0x{self.announced_hash.hex()} with delay {self.delay}"
        )


def _lenient_log(data: bytes) -> ScheduledChange | ForcedChange | None:
    """Decode a FRNK consensus item as Substrate's `try_to` does: a prefix, None on failure."""
    try:
        log = read_consensus_log(Reader(data))
    except CodecError:
        return None
    return log if isinstance(log, ScheduledChange | ForcedChange) else None


def change_signal(header: Header, header_hash: bytes) -> PendingChange | None:
    """The authority-set change `header` announces, if any (`check_new_change`)."""
    scheduled: ScheduledChange | None = None
    for item in header.digest:
        if item.engine != GRANDPA_ENGINE_ID or item.kind is not DigestKind.CONSENSUS:
            continue
        log = _lenient_log(item.data)
        if isinstance(log, ForcedChange):
            change = log.change
            return PendingChange(
                change.next_authorities,
                change.delay,
                header.number,
                header_hash,
                log.median_last_finalized,
            )
        if scheduled is None and isinstance(log, ScheduledChange):
            scheduled = log
    if scheduled is None:
        return None
    return PendingChange(scheduled.next_authorities, scheduled.delay, header.number, header_hash)
