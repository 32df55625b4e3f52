"""What the relay chain stores about a parachain: `Paras::Heads(para_id)` and its `HeadData`.

A parachain has no finality of its own: a block is final once a finalized relay block holds
its header in `Paras::Heads`. The key is `twox128("Paras") ‖ twox128("Heads") ‖
Twox64Concat(u32le(para_id))` (polkadot-sdk `polkadot/runtime/parachains/src/paras/mod.rs`,
`Heads: StorageMap<_, Twox64Concat, ParaId, HeadData>`). The value is SCALE `HeadData`, a
`Vec<u8>` (`polkadot/parachain/src/primitives.rs`); for a Cumulus parachain such as Phala or
Khala those bytes are the SCALE-encoded parachain header (cumulus `validate_block` returns
`HeadData(header.encode())`). The para id itself is `ParachainInfo::ParachainId` (a u32) in the
parachain's own storage, which is how a relayer learns it from the parachain node.
"""

from __future__ import annotations

from pinkpipe.chain.errors import ConfigError, InvalidChainData
from pinkpipe.chain.header import Header
from pinkpipe.chain.keys import Hasher, storage_map_key, storage_prefix
from pinkpipe.chain.scale import CodecError, Reader, encode_bytes, encode_u32

MAX_PARA_ID = 2**32 - 1
PARAS_HEADS_PREFIX = storage_prefix("Paras", "Heads")
PARACHAIN_ID_KEY = storage_prefix("ParachainInfo", "ParachainId")
"""`ParachainInfo::ParachainId` in the parachain's storage: the u32 para id, little-endian."""


class InvalidParaId(ConfigError):
    """A para id outside u32: no relay chain can store a head for it."""


class BadHeadData(InvalidChainData):
    """A `Paras::Heads` value that is not a `HeadData` holding exactly one parachain header."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"Paras::Heads value is not a HeadData header: {reason}")
        self.reason = reason
        self.offset = offset


class BadParaIdValue(InvalidChainData):
    """A `ParachainInfo::ParachainId` value that is not a 4-byte u32."""


def check_para_id(para_id: int) -> int:
    if not isinstance(para_id, int) or isinstance(para_id, bool) or not 0 <= para_id <= MAX_PARA_ID:
        raise InvalidParaId(f"para id must be an integer in 0..{MAX_PARA_ID}, got {para_id!r}")
    return para_id


def paras_heads_key(para_id: int) -> bytes:
    """The relay-chain storage key of `Paras::Heads(para_id)`."""
    return storage_map_key(
        "Paras", "Heads", Hasher.TWOX64_CONCAT, encode_u32(check_para_id(para_id))
    )


def encode_head_data(header: Header) -> bytes:
    """The `Paras::Heads` value of a parachain whose head is `header`."""
    return encode_bytes(header.encode())


def decode_head_data(value: bytes) -> Header:
    """The parachain header a `Paras::Heads` value holds; offsets in errors are into `value`.

    Strict: the length prefix must cover the rest of the value exactly, and the header must
    fill the `HeadData` exactly (a header followed by extra bytes is not what Cumulus stores).
    """
    r = Reader(value)
    try:
        inner = r.var_bytes("HeadData")
    except CodecError as e:
        raise BadHeadData(str(e), e.offset) from e
    if r.remaining:
        raise BadHeadData(
            f"{r.remaining} bytes after the {len(inner)}-byte HeadData at byte {r.offset}",
            r.offset,
        )
    start = len(value) - len(inner)
    header_reader = Reader(value, start)
    try:
        header = Header.read(header_reader)
    except CodecError as e:
        raise BadHeadData(str(e), e.offset) from e
    if header_reader.remaining:
        raise BadHeadData(
            f"the header ends at byte {header_reader.offset}, "
            f"{header_reader.remaining} bytes before the end of HeadData",
            header_reader.offset,
        )
    return header


def decode_para_id(value: bytes) -> int:
    """The para id stored in `ParachainInfo::ParachainId`."""
    if len(value) != 4:
        raise BadParaIdValue(
            f"ParachainInfo::ParachainId must be a 4-byte u32, got {len(value)} bytes"
        )
    return int.from_bytes(value, "little")
