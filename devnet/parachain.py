"""A relay chain and a parachain in one deterministic object, for parachain mode.

The relay chain is a normal `DevChain` (GRANDPA justifications, authority-set rotations) whose
blocks also write `Paras::Heads(para_id)`; the parachain is a `DevChain` carrying the Phala
pallets' storage and accepting the same extrinsics, but without GRANDPA: it serves no
justification and its finalized head is the last head a relay block includes. As on Polkadot,
a parachain block is built on one relay block and its head lands in `Paras::Heads` one or two
relay blocks later (backed, then included: polkadot-sdk `paras_inherent`), and the parachain
produces a block every `para_period` relay blocks (Phala: 12 s blocks, relay 6 s: period 2).

The parachain's head is registered at relay block #1 (the para's genesis header, as
`Registrar::register` stores it). `ParachainInfo::ParachainId` is written by parachain block
#1: a real parachain has it in genesis, but `DevChain` builds genesis from its config alone.

Fault switches (`ParachainFaults`, which also holds the relay chain's own data faults):
`wrong_head_at=R` relay block R stores a header that is not the parachain's (its state root
altered); `head_skips_back_at=R` relay block R stores an older head than relay block R-1 did;
`withheld_head_at=P` the parachain node serves neither header nor body of parachain block P.
The parachain's own config keeps its own `Faults` (a wrong state root, a truncated proof, a
tampered body at parachain block P), so the Phala-key checks can be faulted as on the devnet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pinkpipe.chain.header import Header
from pinkpipe.chain.parachain import PARACHAIN_ID_KEY, encode_head_data, paras_heads_key
from pinkpipe.chain.scale import encode_u32
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig, DevnetError
from pinkpipe.devnet.faults import Faults, lying_state_root

DEFAULT_PARA_ID = 2035
"""Phala's para id on Polkadot."""


@dataclass
class ParachainFaults(Faults):
    """The relay chain's data faults plus the parachain-mode ones (see the module docstring)."""

    wrong_head_at: int | None = None
    """Relay block R: `Paras::Heads` holds a header that is not the parachain's."""
    head_skips_back_at: int | None = None
    """Relay block R: `Paras::Heads` holds an older head than at relay block R-1."""
    withheld_head_at: int | None = None
    """Parachain block P: the parachain node serves neither its header nor its body."""


class RelayDevChain(DevChain):
    """The relay chain: a `DevChain` whose next block also applies `next_changes`."""

    def __init__(self, config: DevnetConfig) -> None:
        super().__init__(config)
        self.next_changes: dict[bytes, bytes | None] = {}

    def extra_changes(self, number: int) -> dict[bytes, bytes | None]:
        changes, self.next_changes = self.next_changes, {}
        return changes


class ParaDevChain(DevChain):
    """The parachain: no GRANDPA justifications, final only as far as the relay includes it."""

    def __init__(self, config: DevnetConfig, para_id: int, faults: ParachainFaults) -> None:
        super().__init__(config)
        self.para_id = para_id
        self.para_faults = faults
        self.included_number = 0
        """The parachain block whose head the relay chain's latest block holds."""

    @property
    def finalized_number(self) -> int:
        return self.included_number

    @property
    def finalized_hash(self) -> bytes:
        return self.block(self.included_number).hash

    def extra_changes(self, number: int) -> dict[bytes, bytes | None]:
        return {PARACHAIN_ID_KEY: encode_u32(self.para_id)} if number == 1 else {}

    def _withheld(self, block_hash: bytes) -> bool:
        number = self.block_number(block_hash)
        return number is not None and number == self.para_faults.withheld_head_at

    def header(self, block_hash: bytes) -> Header | None:
        return None if self._withheld(block_hash) else super().header(block_hash)

    def body(self, block_hash: bytes) -> list[bytes] | None:
        return None if self._withheld(block_hash) else super().body(block_hash)

    def justification(self, block_hash: bytes) -> bytes | None:
        """None: a parachain has no GRANDPA; the relay chain finalizes it."""
        return None

    def justified_numbers(self) -> list[int]:
        return []

    def prove_finality(self, number: int) -> bytes | None:
        return None


class ParachainDevnet:
    """The relay chain and the parachain, advanced together one relay block at a time.

    `inclusion_lags` are cycled over parachain blocks: parachain block P's head enters
    `Paras::Heads` `inclusion_lags[P % len]` relay blocks after the relay block it was built
    on. Each relay block holds the highest parachain head whose inclusion is due.
    """

    def __init__(
        self,
        relay: DevnetConfig,
        para: DevnetConfig,
        *,
        para_id: int = DEFAULT_PARA_ID,
        para_period: int = 2,
        inclusion_lags: tuple[int, ...] = (1, 2),
    ) -> None:
        if not isinstance(relay.faults, ParachainFaults):
            relay = replace(relay, faults=ParachainFaults(**vars(relay.faults)))
        if para_period < 1:
            raise DevnetError(f"para_period must be >= 1, got {para_period}")
        if not inclusion_lags or any(lag < 1 for lag in inclusion_lags):
            raise DevnetError(f"inclusion lags must be >= 1, got {inclusion_lags}")
        self.faults: ParachainFaults = relay.faults
        self.relay = RelayDevChain(relay)
        self.para = ParaDevChain(para, para_id, self.faults)
        self.para_id = para_id
        self.heads_key = paras_heads_key(para_id)
        self.para_period = para_period
        self.inclusion_lags = inclusion_lags
        self._due: list[int] = [1]
        """Relay block at which each parachain block's head is due (index: para number)."""
        self._held: list[int | None] = [None]
        """The parachain block whose head each relay block holds (index: relay number)."""

    def head_number_at(self, relay_number: int) -> int | None:
        """The parachain block whose true head relay block `relay_number` holds (faults
        aside; None at relay genesis, before the para is registered)."""
        if not 0 <= relay_number < len(self._held):
            raise DevnetError(f"relay block #{relay_number} does not exist")
        return self._held[relay_number]

    def step(self) -> Header:
        """Produce one relay block (and a parachain block when one is due); its header."""
        self._check_in_step()
        number = self.relay.best_number + 1
        if (number - 1) % self.para_period == 0 and number > 1:
            para_number = self.para.produce_block().number
            lag = self.inclusion_lags[para_number % len(self.inclusion_lags)]
            self._due.append(number + lag)
        held = self._held[-1] or 0
        held = max([held, *(p for p in range(held + 1, len(self._due)) if self._due[p] <= number)])
        self.relay.next_changes = {self.heads_key: self._head_value(number, held)}
        header = self.relay.produce_block()
        self._held.append(held)
        self.para.included_number = held
        return header

    def _check_in_step(self) -> None:
        """Both chains must only advance through `step` (a server's own block timer must not
        run): the inclusion schedule is indexed by block number."""
        if len(self._held) != self.relay.best_number + 1:
            raise DevnetError(
                f"relay block #{self.relay.best_number} was produced outside "
                "ParachainDevnet.step; produce blocks through the pair"
            )
        if len(self._due) != self.para.best_number + 1:
            raise DevnetError(
                f"parachain block #{self.para.best_number} was produced outside "
                "ParachainDevnet.step; produce blocks through the pair"
            )

    def produce(self, relay_blocks: int) -> None:
        for _ in range(relay_blocks):
            self.step()

    def _head_value(self, relay_number: int, held: int) -> bytes:
        """`Paras::Heads` at relay block `relay_number`, faults applied."""
        faults = self.faults
        if faults.head_skips_back_at == relay_number:
            held = max(0, (self._held[relay_number - 1] or 0) - 1)
        head = self.para.block(held).header
        if faults.wrong_head_at == relay_number:
            head = replace(head, state_root=lying_state_root(head.state_root))
        return encode_head_data(head)

    def heads_proof(self, relay_hash: bytes) -> list[bytes]:
        """The read proof of `Paras::Heads(para_id)` at a relay block (relay faults applied)."""
        return self.relay.read_proof([self.heads_key], relay_hash)
