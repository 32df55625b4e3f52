"""The GRANDPA light client: bootstrap, import finalized batches, check proofs and bodies.

Pure and I/O-free. Functions take a `LightClientState` and return a new one; `LightClient` is
a small mutable handle that swaps its state only when an operation succeeded, so a rejected
batch leaves it exactly as before.

A batch is a run of consecutive headers whose last one the justification finalizes. Checks, in
order (cheap structure first, signatures last):

1. numbers are consecutive and every parent hash links, the first header to the finalized chain;
2. overlap: headers at or below the finalized number must be the finalized blocks we remember
   (so a relayer may resend a range that starts earlier, e.g. Rococo set 3164's `6-headers`
   repeats `2-headers`' range, and an idempotent redelivery is recognised); a batch holding
   nothing new raises `AlreadyFinalized`;
3. authority-set changes announced by the new headers are queued (`validator.authority`); a
   header that enacts one (number == announced + delay) must be the batch's last header,
   because the block enacting a change is justified by the outgoing set and everything after
   it by the new one;
4. the justification's target is the last header and it verifies under the current set
   (`validator.justification`); then a change due at that block is enacted (set id + 1).

Several announced changes may be pending at once (Substrate's fork tree, on one branch, allows
it); each must take effect after the previous one, enactments happen one per batch in order,
and at most one pending change may be forced (Substrate's
`MultiplePendingForcedAuthoritySetChanges`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pinkpipe.chain.grandpa import (
    Authority,
    GenesisGrandpaError,
    Justification,
    genesis_grandpa,
)
from pinkpipe.chain.header import Header, genesis_header
from pinkpipe.chain.keys import GENESIS_KEYS
from pinkpipe.chain.scale import CodecError
from pinkpipe.chain.trie import TrieError, TrieState
from pinkpipe.validator.authority import (
    AuthoritySet,
    PendingChange,
    change_signal,
    check_authority_list,
)
from pinkpipe.validator.errors import (
    AlreadyFinalized,
    BadBootstrap,
    BrokenAncestry,
    InvalidAuthoritySet,
    LightClientError,
    NotContiguous,
    SetChangeViolation,
)
from pinkpipe.validator.justification import verify_justification
from pinkpipe.validator.state import DEFAULT_MAX_RECENT, FinalizedBlock, LightClientState
from pinkpipe.validator.storage import verify_body, verify_storage_proof


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an accepted batch did."""

    finalized: tuple[FinalizedBlock, ...]
    """Newly finalized blocks, ascending; the last one is the justified block."""
    skipped: int
    """Leading headers that were already finalized (overlap with an earlier batch)."""
    enacted: PendingChange | None
    """The authority-set change enacted at the justified block, if any."""
    set_id: int
    """The set id that signs the next justification."""
    justification: Justification


# --- bootstrap -------------------------------------------------------------------------------


def genesis_authorities(values: Mapping[bytes, bytes | None]) -> tuple[tuple[Authority, ...], int]:
    """Genesis set and set id from the values of `GENESIS_KEYS` (missing = None); read by
    `chain.grandpa.genesis_grandpa`, refused here when there is no set to start from."""
    try:
        genesis = genesis_grandpa(values)
    except GenesisGrandpaError as e:
        raise BadBootstrap(str(e), key=e.key) from e
    if not genesis.authorities:
        raise BadBootstrap("genesis storage holds no GRANDPA authorities")
    return genesis.authorities, genesis.set_id


def state_from_checkpoint(
    header: Header,
    authorities: Sequence[Authority],
    set_id: int,
    *,
    genesis_hash: bytes,
    pending: Iterable[PendingChange] = (),
    max_recent: int = DEFAULT_MAX_RECENT,
) -> LightClientState:
    """Trust `header` as finalized, with `authorities`/`set_id` signing what comes after it.

    This is a light client's sync-state checkpoint or pherry's start header. A change the
    header itself announces is a fact of the trusted header: with delay 0 it has already
    handed over, so pass the set it hands over to (e.g. Rococo's register headers; anything
    else is refused); with a delay it is queued as pending unless `pending` already holds it.
    """
    header_hash = header.hash()
    where = {"number": header.number, "block_hash": header_hash, "set_id": set_id}
    try:
        authority_set = AuthoritySet(tuple(authorities), set_id)
        pending = _with_own_change(header, header_hash, authority_set, tuple(pending))
        for change in pending:
            check_authority_list(change.next_authorities)
    except InvalidAuthoritySet as e:
        raise BadBootstrap(f"checkpoint or pending set is unusable: {e.reason}", **where) from e
    try:
        return LightClientState(
            genesis_hash,
            header,
            authority_set,
            pending,
            (FinalizedBlock.of(header, header_hash),),
            max_recent,
        )
    except LightClientError as e:
        raise BadBootstrap(
            f"invalid checkpoint: {e.reason}", number=header.number, block_hash=header_hash
        ) from e


def _voters(authorities: Sequence[Authority]) -> list[tuple[bytes, int]]:
    return sorted((a.id, a.weight) for a in authorities)


def _with_own_change(
    header: Header,
    header_hash: bytes,
    authority_set: AuthoritySet,
    pending: tuple[PendingChange, ...],
) -> tuple[PendingChange, ...]:
    """`pending` completed with the change a checkpoint header announces (see
    `state_from_checkpoint`); a checkpoint that contradicts it is a BadBootstrap."""
    change = change_signal(header, header_hash)
    if change is None:
        return pending
    where = {"number": header.number, "block_hash": header_hash, "set_id": authority_set.set_id}
    if change.delay == 0:
        if _voters(change.next_authorities) != _voters(authority_set.authorities):
            raise BadBootstrap(
                f"checkpoint header enacts its {change.describe()}: the checkpoint set must be "
                "the one it hands over to",
                **where,
            )
        return pending
    own = [p for p in pending if p.announced_hash == header_hash]
    if not own:
        return (*pending, change)
    if own != [change]:
        raise BadBootstrap(
            f"pending changes announced at the checkpoint differ from its {change.describe()}",
            **where,
        )
    return pending


def _genesis_state(
    header: Header,
    values: Mapping[bytes, bytes | None],
    expected_hash: bytes | None,
    max_recent: int,
) -> LightClientState:
    header_hash = header.hash()
    if expected_hash is not None and header_hash != expected_hash:
        raise BadBootstrap(
            f"genesis hash is not the expected 0x{expected_hash.hex()}",
            number=header.number,
            block_hash=header_hash,
        )
    authorities, set_id = genesis_authorities(values)
    return state_from_checkpoint(
        header, authorities, set_id, genesis_hash=header_hash, max_recent=max_recent
    )


def state_from_genesis_storage(
    storage: Mapping[bytes, bytes],
    *,
    children: Mapping[bytes, Mapping[bytes, bytes]] | None = None,
    trie_version: int = 0,
    genesis_hash: bytes | None = None,
    max_recent: int = DEFAULT_MAX_RECENT,
) -> LightClientState:
    """Start at genesis from a chain spec's raw storage (`genesis.raw.top`, child tries).

    The genesis header is rebuilt from the storage's trie root; `genesis_hash`, when given,
    must match it (that is the one thing the client trusts).
    """
    try:
        root = TrieState.from_pairs(storage, trie_version, children).root()
    except TrieError as e:
        raise BadBootstrap(f"genesis storage does not form a trie: {e}") from e
    return _genesis_state(genesis_header(root), storage, genesis_hash, max_recent)


def state_from_genesis_proof(
    header: Header | bytes,
    proof: bytes | Iterable[bytes],
    *,
    genesis_hash: bytes | None = None,
    max_recent: int = DEFAULT_MAX_RECENT,
) -> LightClientState:
    """Start at genesis from its header and a read proof of `GENESIS_KEYS` at it.

    Each key must be proven present or absent; an incomplete proof is a `BadProof`.
    """
    if isinstance(header, bytes | bytearray):
        try:
            header = Header.decode(bytes(header))
        except CodecError as e:
            raise BadBootstrap(f"genesis header does not decode: {e}") from e
    if header.number != 0:
        raise BadBootstrap("a genesis header has number 0", number=header.number)
    values = verify_storage_proof(
        header.state_root, proof, GENESIS_KEYS, number=0, block_hash=header.hash()
    )
    return _genesis_state(header, values, genesis_hash, max_recent)


# --- batch import ----------------------------------------------------------------------------


def _new_headers(state: LightClientState, headers: Sequence[Header]) -> list[tuple[Header, bytes]]:
    """Check numbering and links; return the not-yet-finalized headers with their hashes."""
    set_id = state.set_id
    finalized_number = state.finalized.number
    first = headers[0]
    if first.number > finalized_number + 1:
        raise NotContiguous(
            f"batch starts at #{first.number}, after a gap from finalized #{finalized_number}",
            number=first.number,
            block_hash=first.hash(),
            set_id=set_id,
        )
    parent = state.known(first.number - 1)
    prev_number = first.number - 1
    prev_hash = parent.hash if parent is not None else first.parent_hash
    new: list[tuple[Header, bytes]] = []
    for header in headers:
        header_hash = header.hash()
        if header.parent_hash != prev_hash:
            raise BrokenAncestry(
                f"parent hash 0x{header.parent_hash.hex()} is not #{prev_number} "
                f"0x{prev_hash.hex()}",
                number=header.number,
                block_hash=header_hash,
                set_id=set_id,
            )
        if header.number != prev_number + 1:
            raise NotContiguous(
                f"header follows #{prev_number} in the batch",
                number=header.number,
                block_hash=header_hash,
                set_id=set_id,
            )
        if header.number > finalized_number:
            new.append((header, header_hash))
        else:
            _check_known(state, header, header_hash)
        prev_number, prev_hash = header.number, header_hash
    if not new:
        raise AlreadyFinalized(
            f"batch ends at #{headers[-1].number}, already finalized up to #{finalized_number}",
            number=headers[-1].number,
            block_hash=headers[-1].hash(),
            set_id=set_id,
        )
    return new


def _check_known(state: LightClientState, header: Header, header_hash: bytes) -> None:
    """An overlapping header must be the finalized block we remember at its number."""
    known = state.known(header.number)
    if known is None:
        raise NotContiguous(
            f"header is below the remembered finalized blocks (from #{state.recent[0].number}); "
            "cannot check it against finality",
            number=header.number,
            block_hash=header_hash,
            set_id=state.set_id,
        )
    if known.hash != header_hash:
        raise BrokenAncestry(
            f"header conflicts with finalized block 0x{known.hash.hex()}",
            number=header.number,
            block_hash=header_hash,
            set_id=state.set_id,
        )


def _queue_change(pending: list[PendingChange], change: PendingChange, set_id: int) -> None:
    where = {"number": change.announced_number, "block_hash": change.announced_hash}
    try:
        check_authority_list(change.next_authorities)
    except InvalidAuthoritySet as e:
        raise SetChangeViolation(
            f"{change.describe()} names an unusable set: {e.reason}", set_id=set_id, **where
        ) from e
    if change.forced and any(p.forced for p in pending):
        raise SetChangeViolation(
            f"{change.describe()} while another forced change is pending", set_id=set_id, **where
        )
    if pending and change.effective_number <= pending[-1].effective_number:
        raise SetChangeViolation(
            f"{change.describe()} would take effect at #{change.effective_number}, not after "
            f"the pending {pending[-1].describe()}",
            set_id=set_id,
            **where,
        )
    pending.append(change)


def import_batch(
    state: LightClientState, headers: Sequence[Header], justification: bytes | Justification
) -> tuple[LightClientState, ImportResult]:
    """Verify a finalized batch against `state`; return the new state and what it did.

    Raises a `LightClientError` subclass on any violation; `state` itself never changes.
    """
    if not headers:
        raise NotContiguous("empty batch", number=state.finalized.number + 1, set_id=state.set_id)
    new = _new_headers(state, headers)
    authority_set = state.authority_set
    pending = list(state.pending)
    last_header, last_hash = new[-1]
    for header, header_hash in new:
        signal = change_signal(header, header_hash)
        if signal is not None:
            _queue_change(pending, signal, authority_set.set_id)
        if pending and pending[0].effective_number == header.number and header is not last_header:
            raise SetChangeViolation(
                f"block enacts the {pending[0].describe()}, so the batch must end there, "
                f"not at #{last_header.number}",
                number=header.number,
                block_hash=header_hash,
                set_id=authority_set.set_id,
            )
    j = verify_justification(
        justification,
        authority_set.voters,
        authority_set.set_id,
        target=(last_hash, last_header.number),
    )
    enacted = None
    if pending and pending[0].effective_number == last_header.number:
        enacted = pending.pop(0)
        authority_set = AuthoritySet(enacted.next_authorities, authority_set.set_id + 1)
    blocks = tuple(FinalizedBlock(h.number, hh, h.state_root, h.extrinsics_root) for h, hh in new)
    new_state = state.advanced(last_header, blocks, authority_set, tuple(pending))
    return new_state, ImportResult(
        blocks, len(headers) - len(new), enacted, authority_set.set_id, j
    )


# --- the handle a service holds --------------------------------------------------------------


class LightClient:
    """A mutable handle on an immutable `LightClientState`, for services.

    Every method either succeeds and (for imports) moves to the new state, or raises a
    `LightClientError` and leaves `state` exactly as it was.
    """

    __slots__ = ("state",)

    def __init__(self, state: LightClientState) -> None:
        self.state = state

    @classmethod
    def from_genesis_storage(
        cls,
        storage: Mapping[bytes, bytes],
        *,
        children: Mapping[bytes, Mapping[bytes, bytes]] | None = None,
        trie_version: int = 0,
        genesis_hash: bytes | None = None,
        max_recent: int = DEFAULT_MAX_RECENT,
    ) -> LightClient:
        """See `state_from_genesis_storage`."""
        return cls(
            state_from_genesis_storage(
                storage,
                children=children,
                trie_version=trie_version,
                genesis_hash=genesis_hash,
                max_recent=max_recent,
            )
        )

    @classmethod
    def from_genesis_proof(
        cls,
        header: Header | bytes,
        proof: bytes | Iterable[bytes],
        *,
        genesis_hash: bytes | None = None,
        max_recent: int = DEFAULT_MAX_RECENT,
    ) -> LightClient:
        """See `state_from_genesis_proof`."""
        return cls(
            state_from_genesis_proof(
                header, proof, genesis_hash=genesis_hash, max_recent=max_recent
            )
        )

    @classmethod
    def from_checkpoint(
        cls,
        header: Header,
        authorities: Sequence[Authority],
        set_id: int,
        *,
        genesis_hash: bytes,
        pending: Iterable[PendingChange] = (),
        max_recent: int = DEFAULT_MAX_RECENT,
    ) -> LightClient:
        """See `state_from_checkpoint`."""
        return cls(
            state_from_checkpoint(
                header,
                authorities,
                set_id,
                genesis_hash=genesis_hash,
                pending=pending,
                max_recent=max_recent,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> LightClient:
        return cls(LightClientState.from_bytes(data))

    def to_bytes(self) -> bytes:
        return self.state.to_bytes()

    @property
    def finalized(self) -> FinalizedBlock:
        return self.state.recent[-1]

    @property
    def authority_set(self) -> AuthoritySet:
        return self.state.authority_set

    def import_batch(
        self, headers: Sequence[Header], justification: bytes | Justification
    ) -> ImportResult:
        """Finalize `headers` (consecutive, the last one justified by `justification`)."""
        self.state, result = import_batch(self.state, headers, justification)
        return result

    def read_storage(
        self, block: bytes | int, proof: bytes | Iterable[bytes], keys: Iterable[bytes]
    ) -> dict[bytes, bytes | None]:
        """Values (None = proven absent) of `keys` at a remembered finalized block."""
        b = self.state.block(block)
        return verify_storage_proof(b.state_root, proof, keys, number=b.number, block_hash=b.hash)

    def check_body(
        self, block: bytes | int, extrinsics: Sequence[bytes], *, trie_version: int | None = None
    ) -> FinalizedBlock:
        """Check a remembered finalized block's body against its extrinsics root."""
        b = self.state.block(block)
        verify_body(
            b.extrinsics_root,
            extrinsics,
            trie_version=trie_version,
            number=b.number,
            block_hash=b.hash,
        )
        return b
