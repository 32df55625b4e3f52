"""Configuration of the development chain: everything that decides its genesis and its blocks.

The chain is a pure function of this configuration (no wall clock, no randomness), so two
devnets built from equal configurations produce byte-identical genesis and block hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from scalecodec.utils.ss58 import ss58_decode

from pinkpipe.chain.errors import OperationalError
from pinkpipe.chain.hextext import HexError, parse_hex
from pinkpipe.devnet.faults import Faults
from pinkpipe.devnet.keys import dev_keypair

DEV_ACCOUNTS = ("Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie")
"""Substrate's well-known development names, in the order the keyring lists them."""
DEFAULT_BALANCE = 10**18
"""1,000,000 PHA at Phala's 12 decimals: plenty for any development scenario."""


class DevnetError(OperationalError):
    """Any devnet failure: bad configuration, unknown block, invalid request to the chain."""


class NoSuchBlock(DevnetError):
    """A block hash or number the chain does not have."""


@cache
def dev_account(name: str) -> bytes:
    """The sr25519 account id (public key) of a development name such as `Alice`."""
    return bytes(dev_keypair(name, "sr25519").public_key)


def parse_account(account: str | bytes) -> bytes:
    """A 32-byte account id from raw bytes, `0x` hex, an SS58 address or a dev name (`Alice`)."""
    if isinstance(account, bytes | bytearray):
        raw = bytes(account)
    elif account.startswith("0x"):
        try:
            raw = parse_hex(account)
        except HexError as e:
            raise DevnetError(f"account {account!r} is {e}") from None
    elif account.lstrip("/") in DEV_ACCOUNTS or account.startswith("//"):
        raw = dev_account(account.lstrip("/"))
    else:
        try:
            raw = bytes.fromhex(ss58_decode(account))
        except ValueError as e:
            raise DevnetError(f"account {account!r} is not an SS58 address: {e}") from None
    if len(raw) != 32:
        raise DevnetError(f"account {account!r} is {len(raw)} bytes, expected 32")
    return raw


def _default_balances() -> dict[str, int]:
    return {name: DEFAULT_BALANCE for name in DEV_ACCOUNTS}


@dataclass
class DevnetConfig:
    """What the devnet builds (the chain is a pure function of these fields).

    `authorities`: GRANDPA set size (ed25519 dev keys //Alice, //Bob, ...); `signers`: how
    many of them sign each justification (None: all); `state_version`: trie layout 0 or 1;
    `slot_ms`: how far `Timestamp::Now` advances per block; `justification_period`: a stored
    justification every N blocks (and at every set change); `set_period`: rotate the set every
    M blocks (0: never); `initial_balances`: account (dev name, SS58 or 0x hex) -> free balance;
    `system_code`: `PhalaPhatContracts::PinkSystemCode` (version 0); `faults`: data faults
    (devnet/faults.py); `sudo`: the `Sudo::Key` account; `metadata_path`: the V14 metadata to
    serve (see `devnet.runtime.metadata_path`); `pink_runtime_version`:
    `PhalaPhatContracts::PinkRuntimeVersion` (None leaves it unset).
    """

    chain_name: str = "pinkpipe devnet"
    authorities: int = 4
    signers: int | None = None
    state_version: int = 0
    slot_ms: int = 6000
    genesis_time_ms: int = 1_700_000_000_000
    justification_period: int = 512
    set_period: int = 0
    initial_balances: dict[str, int] = field(default_factory=_default_balances)
    system_code: bytes = b""
    faults: Faults = field(default_factory=Faults)
    sudo: str | None = "Alice"
    metadata_path: Path | None = None
    pink_runtime_version: tuple[int, int] | None = (1, 2)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Reject values the chain cannot honour, naming the field."""
        if not 1 <= self.authorities <= 1000:
            raise DevnetError(f"authorities must be 1..1000, got {self.authorities}")
        if self.signers is not None and not 1 <= self.signers <= self.authorities:
            raise DevnetError(f"signers must be 1..{self.authorities}, got {self.signers}")
        if self.state_version not in (0, 1):
            raise DevnetError(f"state_version must be 0 or 1, got {self.state_version}")
        if self.slot_ms <= 0:
            raise DevnetError(f"slot_ms must be positive, got {self.slot_ms}")
        if self.genesis_time_ms < 0:
            raise DevnetError(f"genesis_time_ms must be >= 0, got {self.genesis_time_ms}")
        if self.justification_period < 1:
            raise DevnetError(f"justification_period must be >= 1, got {self.justification_period}")
        if self.set_period < 0:
            raise DevnetError(f"set_period must be >= 0, got {self.set_period}")
        for account, balance in self.initial_balances.items():
            parse_account(account)
            if not 0 <= balance < 2**128:
                raise DevnetError(f"balance of {account} must fit u128, got {balance}")
        if self.sudo is not None:
            parse_account(self.sudo)

    @property
    def signer_count(self) -> int:
        """How many authorities sign each justification."""
        return self.authorities if self.signers is None else self.signers
