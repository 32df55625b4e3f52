"""GRANDPA's wire formats: authority lists, consensus logs, justifications, finality proofs.

Only the encodings live here; deciding whether a justification finalizes a block is the light
client's job (`validator/`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pinkpipe.chain.errors import InvalidChainData
from pinkpipe.chain.header import GRANDPA_ENGINE_ID, DigestKind, Header, read_headers
from pinkpipe.chain.keys import GENESIS_KEYS
from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    decode_all,
    encode_bytes,
    encode_u32,
    encode_u64,
    encode_vec,
)

AUTHORITIES_VERSION = 1
"""Version byte in front of the `:grandpa_authorities` well-known value."""


@dataclass(frozen=True, slots=True)
class Authority:
    id: bytes
    weight: int

    @staticmethod
    def read(r: Reader) -> Authority:
        return Authority(r.fixed(32, "AuthorityId"), r.u64())

    def encode(self) -> bytes:
        return self.id + encode_u64(self.weight)


def read_authority_list(r: Reader) -> tuple[Authority, ...]:
    return tuple(r.vec(Authority.read, "AuthorityList", min_item_size=40))


def encode_authority_list(authorities: tuple[Authority, ...] | list[Authority]) -> bytes:
    return encode_vec(authorities, Authority.encode)


def decode_authority_list(data: bytes) -> tuple[Authority, ...]:
    """`Grandpa::Authorities` storage value: a bare `Vec<(AuthorityId, u64)>`."""
    return decode_all(data, read_authority_list, "AuthorityList")


def decode_versioned_authorities(data: bytes) -> tuple[Authority, ...]:
    """The `:grandpa_authorities` well-known value: version byte 1, then the list."""

    def read(r: Reader) -> tuple[Authority, ...]:
        version = r.u8("VersionedAuthorityList")
        if version != AUTHORITIES_VERSION:
            raise r.fail("VersionedAuthorityList", f"unsupported version {version}", 0)
        return read_authority_list(r)

    return decode_all(data, read, "VersionedAuthorityList")


def encode_versioned_authorities(authorities: tuple[Authority, ...] | list[Authority]) -> bytes:
    return bytes([AUTHORITIES_VERSION]) + encode_authority_list(authorities)


class GenesisGrandpaError(InvalidChainData):
    """Genesis storage whose GRANDPA set cannot be read; `key` is the storage key at fault."""

    def __init__(self, reason: str, key: bytes | None = None) -> None:
        super().__init__(reason)
        self.key = key


@dataclass(frozen=True, slots=True)
class GenesisGrandpa:
    """The first GRANDPA set and its id, as genesis storage holds them."""

    authorities: tuple[Authority, ...]
    """Empty when the storage holds no GRANDPA set (a chain without GRANDPA)."""
    source: str
    """Where the set was read: `:grandpa_authorities`, `Grandpa::Authorities` or `none`."""
    set_id: int


def genesis_grandpa(values: Mapping[bytes, bytes | None]) -> GenesisGrandpa:
    """The GRANDPA set from the values of `GENESIS_KEYS` (missing = absent or None).

    Runtimes keep the set in `:grandpa_authorities` (versioned, older runtimes) or
    `Grandpa::Authorities` (pallet-grandpa since 2022); when both exist they must agree. The
    set id is `Grandpa::CurrentSetId`, 0 when absent.
    """
    found: list[tuple[str, tuple[Authority, ...]]] = []
    for key, source, decode in (
        (GENESIS_KEYS.well_known_authorities, ":grandpa_authorities", decode_versioned_authorities),
        (GENESIS_KEYS.authorities, "Grandpa::Authorities", decode_authority_list),
    ):
        raw = values.get(key)
        if raw is not None:
            try:
                found.append((source, decode(raw)))
            except CodecError as e:
                reason = f"genesis GRANDPA authorities do not decode: {e}"
                raise GenesisGrandpaError(reason, key) from e
    if len(found) == 2 and found[0][1] != found[1][1]:
        raise GenesisGrandpaError("`:grandpa_authorities` and `Grandpa::Authorities` disagree")
    source, authorities = found[0] if found else ("none", ())
    raw_set_id = values.get(GENESIS_KEYS.set_id)
    set_id = 0
    if raw_set_id is not None:
        try:
            set_id = decode_all(raw_set_id, lambda r: r.u64(), "SetId")
        except CodecError as e:
            raise GenesisGrandpaError(
                f"Grandpa::CurrentSetId does not decode: {e}", GENESIS_KEYS.set_id
            ) from e
    return GenesisGrandpa(authorities, source, set_id)


@dataclass(frozen=True, slots=True)
class ScheduledChange:
    """A new authority set that takes effect `delay` blocks after the announcing block."""

    next_authorities: tuple[Authority, ...]
    delay: int

    @staticmethod
    def read(r: Reader) -> ScheduledChange:
        return ScheduledChange(read_authority_list(r), r.u32())

    def encode(self) -> bytes:
        return encode_authority_list(self.next_authorities) + encode_u32(self.delay)


@dataclass(frozen=True, slots=True)
class ForcedChange:
    """A change applied without finality, `delay` blocks after the announcing block is imported."""

    median_last_finalized: int
    change: ScheduledChange


@dataclass(frozen=True, slots=True)
class OnDisabled:
    authority_index: int


@dataclass(frozen=True, slots=True)
class Pause:
    delay: int


@dataclass(frozen=True, slots=True)
class Resume:
    delay: int


ConsensusLog = ScheduledChange | ForcedChange | OnDisabled | Pause | Resume


def read_consensus_log(r: Reader) -> ConsensusLog:
    start = r.offset
    tag = r.u8("ConsensusLog")
    if tag == 1:
        return ScheduledChange.read(r)
    if tag == 2:
        median = r.u32()
        return ForcedChange(median, ScheduledChange.read(r))
    if tag == 3:
        return OnDisabled(r.u64())
    if tag == 4:
        return Pause(r.u32())
    if tag == 5:
        return Resume(r.u32())
    raise r.fail("ConsensusLog", f"invalid tag {tag}", start)


def decode_consensus_log(data: bytes) -> ConsensusLog:
    return decode_all(data, read_consensus_log, "ConsensusLog")


def encode_consensus_log(log: ConsensusLog) -> bytes:
    match log:
        case ScheduledChange():
            return b"\x01" + log.encode()
        case ForcedChange(median, change):
            return b"\x02" + encode_u32(median) + change.encode()
        case OnDisabled(index):
            return b"\x03" + encode_u64(index)
        case Pause(delay):
            return b"\x04" + encode_u32(delay)
        case Resume(delay):
            return b"\x05" + encode_u32(delay)
    raise TypeError(f"not a GRANDPA consensus log: {log!r}")


def grandpa_logs(header: Header) -> list[ConsensusLog]:
    """The GRANDPA consensus logs in a header's digest, in digest order."""
    return [
        decode_consensus_log(item.data)
        for item in header.items(DigestKind.CONSENSUS, GRANDPA_ENGINE_ID)
    ]


@dataclass(frozen=True, slots=True)
class SignedPrecommit:
    target_hash: bytes
    target_number: int
    signature: bytes
    id: bytes

    @staticmethod
    def read(r: Reader) -> SignedPrecommit:
        return SignedPrecommit(
            r.hash32("Precommit.target_hash"),
            r.u32(),
            r.fixed(64, "Signature"),
            r.fixed(32, "AuthorityId"),
        )

    def encode(self) -> bytes:
        return self.target_hash + encode_u32(self.target_number) + self.signature + self.id


@dataclass(frozen=True, slots=True)
class Commit:
    target_hash: bytes
    target_number: int
    precommits: tuple[SignedPrecommit, ...]

    @staticmethod
    def read(r: Reader) -> Commit:
        target_hash = r.hash32("Commit.target_hash")
        target_number = r.u32()
        precommits = tuple(r.vec(SignedPrecommit.read, "Commit.precommits", min_item_size=132))
        return Commit(target_hash, target_number, precommits)

    def encode(self) -> bytes:
        return (
            self.target_hash
            + encode_u32(self.target_number)
            + encode_vec(self.precommits, SignedPrecommit.encode)
        )


@dataclass(frozen=True, slots=True)
class Justification:
    """A GRANDPA justification: the commit of a round plus the headers its votes need."""

    round: int
    commit: Commit
    votes_ancestries: tuple[Header, ...]

    @staticmethod
    def read(r: Reader) -> Justification:
        round_ = r.u64()
        commit = Commit.read(r)
        return Justification(round_, commit, tuple(read_headers(r, "votes_ancestries")))

    @staticmethod
    def decode(data: bytes) -> Justification:
        return decode_all(data, Justification.read, "GrandpaJustification")

    def encode(self) -> bytes:
        return (
            encode_u64(self.round)
            + self.commit.encode()
            + encode_vec(self.votes_ancestries, Header.encode)
        )


def precommit_payload(target_hash: bytes, target_number: int, round_: int, set_id: int) -> bytes:
    """The 53 bytes a precommit signs: `Message::Precommit` (tag 1), round, set id."""
    return (
        b"\x01" + target_hash + encode_u32(target_number) + encode_u64(round_) + encode_u64(set_id)
    )


def threshold(total_weight: int) -> int:
    """Supermajority: more than two thirds of the weight (finality-grandpa's `threshold`)."""
    return total_weight - (total_weight - 1) // 3


@dataclass(frozen=True, slots=True)
class FinalityProof:
    """`grandpa_proveFinality`'s answer: a justification for `block` plus headers up to it."""

    block: bytes
    justification: bytes
    unknown_headers: tuple[Header, ...]

    @staticmethod
    def read(r: Reader) -> FinalityProof:
        block = r.hash32("FinalityProof.block")
        justification = r.var_bytes("FinalityProof.justification")
        return FinalityProof(block, justification, tuple(read_headers(r, "unknown_headers")))

    @staticmethod
    def decode(data: bytes) -> FinalityProof:
        return decode_all(data, FinalityProof.read, "FinalityProof")

    def encode(self) -> bytes:
        return (
            self.block
            + encode_bytes(self.justification)
            + encode_vec(self.unknown_headers, Header.encode)
        )
