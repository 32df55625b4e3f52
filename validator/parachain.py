"""Parachain finality: a parachain block is final when a finalized relay block proves it.

The relay chain's light client finalizes relay blocks; this pure state machine takes, per
finalized relay block, the read proof of `Paras::Heads(para_id)` against that block's state
root and the parachain headers from the last final parachain block up to the proven head. The
head and every header linked to it by parent hashes are then final. This is what Phala's own
relayer does in parachain mode (phala-blockchain `standalone/pherry/src/lib.rs`:
`get_finalized_header_with_paraid` reads the head at the finalized relay block,
`sync_parachain_header` sends the parachain headers up to it).

Refused, state unchanged (each is a `ParachainError`, hence a `LightClientError` and
"invalid chain data"; a bad proof is also a `BadProof`): a bad relay proof, no head for the
para id, a head that does not decode, a head lower than the last final block (went backwards)
or different at the same height (fork), headers that do not link from the last final block to
the proven head, and a relay block that is not after the one used last.

Trust: the caller's finalized relay blocks (from the relay light client) and the para id. The
parachain is anchored either at a known block (its genesis hash, or a checkpoint), in which
case the first proven head must descend from it, or not at all, in which case the first proven
head is taken as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pinkpipe.chain.header import Header
from pinkpipe.chain.parachain import BadHeadData, check_para_id, decode_head_data, paras_heads_key
from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    decode_all,
    encode_option,
    encode_u32,
)
from pinkpipe.validator.errors import BadProof, LightClientError
from pinkpipe.validator.state import FinalizedBlock
from pinkpipe.validator.storage import verify_storage_proof

STATE_FORMAT_VERSION = 1


class ParachainError(LightClientError):
    """Base of every parachain-finality failure; `chain` says whose block is named, the
    parachain's or (for failures of the relay chain's data) the relay chain's."""

    def __init__(self, reason: str, *, chain: str = "parachain", **where: object) -> None:
        self.chain = chain
        super().__init__(reason, **where)  # type: ignore[arg-type]

    def _render(self) -> str:
        return super()._render().replace(" (block #", f" ({self.chain} block #", 1)


class BadRelayProof(ParachainError, BadProof):
    """The `Paras::Heads` read proof does not verify against the relay block's state root."""


class HeadNotProven(ParachainError):
    """The relay block holds no decodable head for the para id."""


class HeadWentBack(ParachainError):
    """The proven head is lower than the last final parachain block."""


class HeadForked(ParachainError):
    """The proven head, or a supplied header at its height, differs from what is final."""


class UnlinkedParaHeader(ParachainError):
    """A parachain header is not linked by parent hash to the last final block or the head."""


class RelayNotAfter(ParachainError):
    """The relay block is not after the relay block used last."""


class BadParachainState(ParachainError):
    """Saved parachain-finality state bytes that do not decode."""


@dataclass(frozen=True, slots=True)
class RelayBlock:
    """A relay block finalized by the relay light client: what a head proof is checked at."""

    number: int
    hash: bytes
    state_root: bytes

    @staticmethod
    def finalized(block: FinalizedBlock) -> RelayBlock:
        """The relay block the relay light client finalized (the only trusted source)."""
        return RelayBlock(block.number, block.hash, block.state_root)


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block by number and hash: the last final parachain block, or the relay block used last."""

    number: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class ParachainState:
    """What parachain finality knows; never mutated, so a refused batch changes nothing.

    `finalized` is the last final parachain block (None: not anchored yet, the first proven
    head is trusted as it is); `relay` is the relay block whose proof was used last.
    """

    para_id: int
    finalized: BlockRef | None = None
    relay: BlockRef | None = None

    def __post_init__(self) -> None:
        check_para_id(self.para_id)

    @property
    def heads_key(self) -> bytes:
        return paras_heads_key(self.para_id)

    def to_bytes(self) -> bytes:
        """`0x01 ‖ SCALE {para_id: u32, finalized: Option<(u32, H256)>, relay: same}`."""
        return (
            bytes([STATE_FORMAT_VERSION])
            + encode_u32(self.para_id)
            + encode_option(self.finalized, _encode_block)
            + encode_option(self.relay, _encode_block)
        )

    @staticmethod
    def from_bytes(data: bytes) -> ParachainState:
        if not data or data[0] != STATE_FORMAT_VERSION:
            found = f"version byte {data[0]}" if data else "no bytes"
            raise BadParachainState(
                f"parachain state must start with version {STATE_FORMAT_VERSION}, got {found}"
            )
        try:
            return decode_all(data, _read_state, "ParachainState")
        except CodecError as e:
            raise BadParachainState(str(e)) from e


def _encode_block(block: BlockRef) -> bytes:
    return encode_u32(block.number) + block.hash


def _read_block(r: Reader) -> BlockRef:
    return BlockRef(r.u32(), r.hash32("block hash"))


def _read_state(r: Reader) -> ParachainState:
    r.u8("version")
    para_id = r.u32()
    finalized = r.option(_read_block, "Option<finalized>")
    relay = r.option(_read_block, "Option<relay>")
    return ParachainState(para_id, finalized, relay)


def anchored_at_genesis(para_id: int, genesis_hash: bytes) -> ParachainState:
    """Parachain finality that trusts the parachain's genesis hash: every proven head must
    descend from it, so a wrong genesis is refused at the first head."""
    return ParachainState(para_id, BlockRef(0, bytes(genesis_hash)))


@dataclass(frozen=True, slots=True)
class ParaImportResult:
    """The new state, the proven head, and the newly final parachain headers with their
    hashes, ascending (empty when the head did not move)."""

    state: ParachainState
    head: Header
    finalized: tuple[tuple[Header, bytes], ...]


def proven_head(state: ParachainState, relay: RelayBlock, proof: bytes | Iterable[bytes]) -> Header:
    """The parachain head `Paras::Heads(para_id)` holds at `relay`, proven by `proof`."""
    key = state.heads_key
    try:
        value = verify_storage_proof(relay.state_root, proof, [key])[key]
    except BadProof as e:
        raise BadRelayProof(
            f"Paras::Heads({state.para_id}) {e.reason}",
            chain="relay",
            number=relay.number,
            block_hash=relay.hash,
            key=key,
        ) from e
    if value is None:
        raise HeadNotProven(
            f"Paras::Heads({state.para_id}) is absent at this relay block: para "
            f"{state.para_id} has no head there (wrong para id?)",
            chain="relay",
            number=relay.number,
            block_hash=relay.hash,
            key=key,
        )
    try:
        return decode_head_data(value)
    except BadHeadData as e:
        raise HeadNotProven(
            str(e),
            chain="relay",
            number=relay.number,
            block_hash=relay.hash,
            key=key,
        ) from e


def _check_relay_order(state: ParachainState, relay: RelayBlock) -> None:
    last = state.relay
    if last is not None and relay.number <= last.number:
        raise RelayNotAfter(
            f"relay block is not after relay block #{last.number} 0x{last.hash.hex()} "
            "already used for parachain finality",
            chain="relay",
            number=relay.number,
            block_hash=relay.hash,
        )


@dataclass(frozen=True, slots=True)
class _Proven:
    """The head proven at a relay block, as the checks below need it."""

    relay: RelayBlock
    head: Header
    hash: bytes

    @property
    def where(self) -> str:
        return (
            f"the head #{self.head.number} proven at relay block #{self.relay.number} "
            f"0x{self.relay.hash.hex()}"
        )


def _check_head_progress(final: BlockRef, proven: _Proven) -> None:
    head = proven.head
    if head.number < final.number:
        raise HeadWentBack(
            f"{proven.where} went back below the final parachain block #{final.number} "
            f"0x{final.hash.hex()}",
            number=head.number,
            block_hash=proven.hash,
        )
    if head.number == final.number and proven.hash != final.hash:
        raise HeadForked(
            f"{proven.where} forks from the final parachain block 0x{final.hash.hex()} "
            "at the same height",
            number=head.number,
            block_hash=proven.hash,
        )


def _link(
    final: BlockRef | None, headers: Sequence[Header], proven: _Proven
) -> list[tuple[Header, bytes]]:
    """`headers` with their hashes, checked to run from `final` (exclusive) to the head."""
    linked: list[tuple[Header, bytes]] = []
    parent = final
    for header in headers:
        header_hash = header.hash()
        if parent is not None and (
            header.parent_hash != parent.hash or header.number != parent.number + 1
        ):
            raise UnlinkedParaHeader(
                f"header does not extend #{parent.number} 0x{parent.hash.hex()} "
                f"(its parent is 0x{header.parent_hash.hex()})",
                number=header.number,
                block_hash=header_hash,
            )
        if header.number >= proven.head.number and header_hash != proven.hash:
            raise _off_head(header, header_hash, proven)
        linked.append((header, header_hash))
        parent = BlockRef(header.number, header_hash)
    if parent is None:
        return [(proven.head, proven.hash)]
    if parent.hash != proven.hash:
        raise UnlinkedParaHeader(
            f"headers end at #{parent.number} 0x{parent.hash.hex()}, short of {proven.where}",
            number=proven.head.number,
            block_hash=proven.hash,
        )
    return linked


def _off_head(header: Header, header_hash: bytes, proven: _Proven) -> ParachainError:
    if header.number == proven.head.number:
        return HeadForked(
            f"the parachain node's header 0x{header_hash.hex()} differs from {proven.where}",
            number=header.number,
            block_hash=proven.hash,
        )
    return UnlinkedParaHeader(
        f"header is beyond {proven.where}: not final",
        number=header.number,
        block_hash=header_hash,
    )


def import_para_batch(
    state: ParachainState,
    relay: RelayBlock,
    proof: bytes | Iterable[bytes],
    headers: Sequence[Header],
) -> ParaImportResult:
    """Finalize the parachain up to the head proven at the finalized relay block `relay`.

    `headers` are the parachain headers after the last final block up to and including the
    proven head, ascending (empty when the head has not moved; before anchoring, any linked
    run ending at the head, or none). Raises a `ParachainError` on any
    violation; `state` itself never changes.
    """
    _check_relay_order(state, relay)
    head = proven_head(state, relay, proof)
    proven = _Proven(relay, head, head.hash())
    final = state.finalized
    if final is not None:
        _check_head_progress(final, proven)
        if head.number == final.number:
            if headers:
                raise _off_head(headers[0], headers[0].hash(), proven)
            return ParaImportResult(_advance(state, final, relay), head, ())
    linked = _link(final, headers, proven)
    return ParaImportResult(
        _advance(state, BlockRef(head.number, proven.hash), relay), head, tuple(linked)
    )


def _advance(state: ParachainState, final: BlockRef, relay: RelayBlock) -> ParachainState:
    return ParachainState(state.para_id, final, BlockRef(relay.number, relay.hash))
