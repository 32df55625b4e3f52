"""The light client's state: an immutable value, serializable to versioned bytes.

Immutability is what makes a rejected batch harmless: an import builds a new state and the
caller swaps it in only on success, so a failure at any step leaves the old state untouched.

Saved form (version 1): `0x01 ‖ SCALE {genesis_hash: [u8;32], finalized: Header, set_id: u64,
authorities: Vec<(id, u64)>, pending: Vec<PendingChange>, max_recent: u32, recent_first: u32,
recent: Vec<(hash, state_root, extrinsics_root)>}` with `PendingChange = {next_authorities,
delay: u32, announced_number: u32, announced_hash, forced_median: Option<u32>}`. `recent` holds
the last finalized blocks in ascending, contiguous order, ending at the finalized header.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pinkpipe.chain.grandpa import encode_authority_list, read_authority_list
from pinkpipe.chain.header import Header
from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    encode_option,
    encode_u32,
    encode_u64,
    encode_vec,
)
from pinkpipe.validator.authority import AuthoritySet, PendingChange, check_authority_list
from pinkpipe.validator.errors import BadState, LightClientError, UnknownBlock

STATE_FORMAT_VERSION = 1
DEFAULT_MAX_RECENT = 4096
"""Finalized blocks remembered for proof and body checks (and for overlapping batches)."""


@dataclass(frozen=True, slots=True)
class FinalizedBlock:
    """A finalized block as far as later checks need it."""

    number: int
    hash: bytes
    state_root: bytes
    extrinsics_root: bytes

    @staticmethod
    def of(header: Header, header_hash: bytes) -> FinalizedBlock:
        return FinalizedBlock(header.number, header_hash, header.state_root, header.extrinsics_root)


@dataclass(frozen=True, slots=True)
class LightClientState:
    """Everything the light client knows; never mutated (see module docstring)."""

    genesis_hash: bytes
    finalized: Header
    authority_set: AuthoritySet
    pending: tuple[PendingChange, ...]
    recent: tuple[FinalizedBlock, ...]
    max_recent: int = DEFAULT_MAX_RECENT
    _by_hash: dict[bytes, FinalizedBlock] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.max_recent < 1:
            raise BadState(f"max_recent must be at least 1, not {self.max_recent}")
        head = self.recent[-1] if self.recent else None
        finalized_hash = self.finalized.hash()
        if head != FinalizedBlock.of(self.finalized, finalized_hash):
            raise BadState("remembered blocks must end at the finalized header")
        if self.recent[-1].number - self.recent[0].number + 1 != len(self.recent):
            raise BadState("remembered finalized blocks are not contiguous")
        if len(self.recent) > self.max_recent:
            raise BadState(f"{len(self.recent)} remembered blocks exceed max {self.max_recent}")
        effective = self.finalized.number
        for change in self.pending:
            if change.effective_number <= effective:
                raise BadState(f"{change.describe()} is not after #{effective}")
            effective = change.effective_number

    @property
    def finalized_hash(self) -> bytes:
        return self.recent[-1].hash

    @property
    def set_id(self) -> int:
        return self.authority_set.set_id

    def known(self, number: int) -> FinalizedBlock | None:
        """The remembered finalized block at `number`, if still remembered."""
        index = number - self.recent[0].number
        return self.recent[index] if 0 <= index < len(self.recent) else None

    def block(self, block: bytes | int) -> FinalizedBlock:
        """A remembered finalized block by hash or number, else UnknownBlock."""
        found = self.known(block) if isinstance(block, int) else self._hash_index().get(block)
        if found is None:
            first, last = self.recent[0].number, self.recent[-1].number
            label = {"number": block} if isinstance(block, int) else {"block_hash": block}
            raise UnknownBlock(
                f"not a remembered finalized block (remembered: #{first}..#{last})", **label
            )
        return found

    def _hash_index(self) -> dict[bytes, FinalizedBlock]:
        if self._by_hash is None:
            object.__setattr__(self, "_by_hash", {b.hash: b for b in self.recent})
        assert self._by_hash is not None
        return self._by_hash

    def advanced(
        self,
        finalized: Header,
        blocks: tuple[FinalizedBlock, ...],
        authority_set: AuthoritySet,
        pending: tuple[PendingChange, ...],
    ) -> LightClientState:
        """The state after finalizing `blocks` (contiguous after ours, ending at `finalized`)."""
        recent = (self.recent + blocks)[-self.max_recent :]
        return replace(
            self,
            finalized=finalized,
            authority_set=authority_set,
            pending=pending,
            recent=recent,
        )

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                bytes([STATE_FORMAT_VERSION]),
                self.genesis_hash,
                self.finalized.encode(),
                encode_u64(self.set_id),
                encode_authority_list(self.authority_set.authorities),
                encode_vec(self.pending, _encode_pending),
                encode_u32(self.max_recent),
                encode_u32(self.recent[0].number),
                encode_vec(self.recent, lambda b: b.hash + b.state_root + b.extrinsics_root),
            )
        )

    @staticmethod
    def from_bytes(data: bytes) -> LightClientState:
        """Restore a saved state; anything malformed or inconsistent is a BadState."""
        try:
            return _read_state(Reader(data))
        except CodecError as e:
            raise BadState(f"saved light-client state does not decode: {e}") from e
        except BadState:
            raise
        except LightClientError as e:
            raise BadState(f"saved light-client state is invalid: {e}") from e


def _encode_pending(change: PendingChange) -> bytes:
    return b"".join(
        (
            encode_authority_list(change.next_authorities),
            encode_u32(change.delay),
            encode_u32(change.announced_number),
            change.announced_hash,
            encode_option(change.forced_median, encode_u32),
        )
    )


def _read_pending(r: Reader) -> PendingChange:
    authorities = check_authority_list(read_authority_list(r))
    delay = r.u32()
    number = r.u32()
    announced_hash = r.hash32("PendingChange.announced_hash")
    median = r.option(lambda rr: rr.u32(), "PendingChange.forced_median")
    return PendingChange(authorities, delay, number, announced_hash, median)


def _read_state(r: Reader) -> LightClientState:
    version = r.u8("LightClientState.version")
    if version != STATE_FORMAT_VERSION:
        raise BadState(f"unsupported light-client state version {version}")
    genesis_hash = r.hash32("LightClientState.genesis_hash")
    finalized = Header.read(r)
    set_id = r.u64()
    authorities = read_authority_list(r)
    pending = tuple(r.vec(_read_pending, "Vec<PendingChange>", min_item_size=42))
    max_recent = r.u32()
    first = r.u32()
    triples = r.vec(lambda rr: rr.fixed(96, "FinalizedBlock"), "recent", min_item_size=96)
    r.finish("LightClientState")
    recent = tuple(
        FinalizedBlock(first + i, t[:32], t[32:64], t[64:]) for i, t in enumerate(triples)
    )
    if not recent:
        raise BadState("saved state remembers no finalized block")
    return LightClientState(
        genesis_hash,
        finalized,
        AuthoritySet(authorities, set_id),
        pending,
        recent,
        max_recent,
    )
