"""Genesis storage of the devnet and the storage values its blocks write.

Layouts follow the runtime the devnet's metadata describes (Phala standalone node, 2022):
`System::Account` is `AccountInfo{nonce, consumers, providers, sufficients: u32,
data: {free, reserved, misc_frozen, fee_frozen: u128}}` (80 bytes), `Timestamp::Now` a u64,
`PhalaPhatContracts::PinkSystemCode` a `(u16, Vec<u8>)` ValueQuery and `PinkRuntimeVersion` a
`(u32, u32)` OptionQuery (stored as the bare 8-byte tuple; absent means None, as FRAME does).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pinkpipe.chain import keys
from pinkpipe.chain.grandpa import (
    Authority,
    encode_authority_list,
    encode_versioned_authorities,
)
from pinkpipe.chain.keys import Hasher, storage_map_key, storage_prefix
from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    decode_all,
    encode_bytes,
    encode_u32,
    encode_u64,
    encode_u128,
    encode_uint,
)
from pinkpipe.devnet.config import DevnetConfig, DevnetError, parse_account

SYSTEM_PARENT_HASH = storage_prefix("System", "ParentHash")
SUDO_KEY = storage_prefix("Sudo", "Key")
GENESIS_PARENT_HASH = bytes([69]) * 32
"""frame_system's genesis `ParentHash` (`hash69`)."""


def account_key(account: bytes) -> bytes:
    """`System::Account` key of a 32-byte account id (Blake2_128Concat)."""
    return storage_map_key("System", "Account", Hasher.BLAKE2_128_CONCAT, account)


@dataclass(frozen=True)
class AccountInfo:
    nonce: int = 0
    consumers: int = 0
    providers: int = 0
    sufficients: int = 0
    free: int = 0
    reserved: int = 0
    misc_frozen: int = 0
    fee_frozen: int = 0

    def encode(self) -> bytes:
        return b"".join(
            (
                encode_u32(self.nonce),
                encode_u32(self.consumers),
                encode_u32(self.providers),
                encode_u32(self.sufficients),
                encode_u128(self.free),
                encode_u128(self.reserved),
                encode_u128(self.misc_frozen),
                encode_u128(self.fee_frozen),
            )
        )

    @staticmethod
    def decode(data: bytes) -> AccountInfo:
        def read(r: Reader) -> AccountInfo:
            return AccountInfo(r.u32(), r.u32(), r.u32(), r.u32(), *(r.u128() for _ in range(4)))

        return decode_all(data, read, "AccountInfo")


def dev_code(chain_name: str) -> bytes:
    """`:code`: an empty wasm module with a custom section naming the chain.

    It is NOT a runnable runtime: the devnet executes its blocks in Python. Being valid wasm
    keeps tools that sniff `:code` from choking; naming the chain makes genesis differ per name.
    """
    name = b"pinkpipe-devnet"
    payload = f"not a runnable runtime; chain {chain_name!r}".encode()
    body = bytes([len(name)]) + name + payload
    return b"\x00asm\x01\x00\x00\x00" + b"\x00" + _leb128(len(body)) + body


def _leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def authority_changes(authorities: tuple[Authority, ...], set_id: int) -> dict[bytes, bytes]:
    """The storage a GRANDPA set (its list and id) occupies."""
    return {
        keys.GRANDPA_AUTHORITIES_WELL_KNOWN: encode_versioned_authorities(authorities),
        keys.GRANDPA_AUTHORITIES: encode_authority_list(authorities),
        keys.GRANDPA_CURRENT_SET_ID: encode_u64(set_id),
    }


def genesis_storage(config: DevnetConfig, authorities: tuple[Authority, ...]) -> dict[bytes, bytes]:
    """Every genesis key/value pair of the devnet (set 0 is `authorities`)."""
    storage = {
        keys.CODE: dev_code(config.chain_name),
        keys.SYSTEM_NUMBER: encode_u32(0),
        SYSTEM_PARENT_HASH: GENESIS_PARENT_HASH,
        keys.TIMESTAMP_NOW: encode_u64(config.genesis_time_ms),
        keys.PINK_SYSTEM_CODE: encode_uint(0, 2) + encode_bytes(config.system_code),
        **authority_changes(authorities, 0),
    }
    if config.pink_runtime_version is not None:
        major, minor = config.pink_runtime_version
        storage[keys.PINK_RUNTIME_VERSION] = encode_u32(major) + encode_u32(minor)
    if config.sudo is not None:
        storage[SUDO_KEY] = parse_account(config.sudo)
    for account, balance in config.initial_balances.items():
        info = AccountInfo(providers=1, free=balance)
        storage[account_key(parse_account(account))] = info.encode()
    return storage


def bump_nonce(value: bytes | None, account: bytes) -> bytes:
    """`System::Account` after one more signed extrinsic from `account` (created if absent)."""
    try:
        info = AccountInfo() if value is None else AccountInfo.decode(value)
    except CodecError as e:
        raise DevnetError(f"System::Account of 0x{account.hex()} does not decode: {e}") from None
    return replace(info, nonce=info.nonce + 1).encode()
