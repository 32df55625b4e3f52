"""`DevChain`: a deterministic, instantly finalized development chain kept fully in memory.

Each block is real: a SCALE header whose state root is the trie root of the block's storage
(`chain.trie.TrieState`, V0 or V1), whose extrinsics root commits to its body, with a BABE
pre-runtime digest and, at authority-set rotations, a GRANDPA `ScheduledChange`. Every block
is finalized as it is produced; GRANDPA justifications are kept every `justification_period`
blocks and at every set change, as a node stores them. Past states are kept as structurally
shared tries, so any block's storage, keys and read proofs stay servable.

Decisions (see also devnet/genesis.py and devnet/finality.py):
- No BABE seal. sr25519 signatures are randomized and the header hash covers the seal, so a
  real seal would make block hashes differ between runs; a fake one would be a lie a BABE
  verifier would catch. The pipeline trusts GRANDPA finality, not BABE authorship.
- The pre-runtime digest is BABE `SecondaryPlain{authority_index, slot}` with
  `slot = timestamp / slot_ms` and the authority chosen round-robin (`slot % authorities`).
- `PhalaMq::OutboundMessages` is absent in blocks without messages (pallet-mq kills it in
  `on_initialize`; it is a ValueQuery, so absent reads as the empty Vec).
- The extrinsics root is always layout V0: frame_system computed it with V0 regardless of the
  state version in this runtime era (and does so today unless `system_version >= 2`).
- `prove_finality` follows polkadot-sdk's `finality_proof.rs`, except that before the first
  set change it answers from the latest justification instead of failing with
  "Block not covered by authority set changes" (polkadot-sdk issue #1401).

Not thread-safe: one thread (the RPC server's asyncio loop, block timer included) uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pinkpipe.chain import keys
from pinkpipe.chain.grandpa import (
    Authority,
    FinalityProof,
    Justification,
    ScheduledChange,
    encode_consensus_log,
)
from pinkpipe.chain.header import (
    BABE_ENGINE_ID,
    GRANDPA_ENGINE_ID,
    DigestItem,
    DigestKind,
    Header,
    genesis_header,
)
from pinkpipe.chain.scale import encode_compact, encode_u32, encode_u64
from pinkpipe.chain.trie import TrieState, ordered_trie_root
from pinkpipe.devnet.config import DevnetConfig, DevnetError, NoSuchBlock
from pinkpipe.devnet.faults import corrupt_signature, lying_state_root, tamper_body, truncate_proof
from pinkpipe.devnet.finality import AuthoritySchedule, sign_justification
from pinkpipe.devnet.genesis import (
    SYSTEM_PARENT_HASH,
    AccountInfo,
    account_key,
    authority_changes,
    bump_nonce,
    genesis_storage,
)
from pinkpipe.devnet.runtime import RuntimeInfo, load_runtime

BABE_SECONDARY_PLAIN = 2
"""`PreDigest::SecondaryPlain` variant index (Primary=1, SecondaryPlain=2, SecondaryVRF=3)."""
EXTRINSIC_V4_UNSIGNED = 0x04
EXTRINSICS_ROOT_VERSION = 0


@dataclass(frozen=True, slots=True)
class Block:
    """A produced block with the state after it; `state` is the truth even if the header lies."""

    header: Header
    hash: bytes
    body: tuple[bytes, ...]
    state: TrieState


@dataclass(frozen=True, slots=True)
class _Queued:
    extrinsic: bytes
    messages: tuple[bytes, ...]
    signer: bytes | None


def timestamp_inherent(pallet: int, call: int, now_ms: int) -> bytes:
    """The unsigned `Timestamp.set(now)` extrinsic, with its compact length prefix."""
    inner = bytes([EXTRINSIC_V4_UNSIGNED, pallet, call]) + encode_compact(now_ms)
    return encode_compact(len(inner)) + inner


def babe_pre_digest(authority_index: int, slot: int) -> DigestItem:
    data = bytes([BABE_SECONDARY_PLAIN]) + encode_u32(authority_index) + encode_u64(slot)
    return DigestItem(DigestKind.PRE_RUNTIME, data, BABE_ENGINE_ID)


def encode_messages(messages: Sequence[bytes]) -> bytes:
    """SCALE `Vec<Message>` from already-encoded messages."""
    return encode_compact(len(messages)) + b"".join(messages)


class DevChain:
    """The development chain: produces, finalizes and serves blocks, state, proofs and
    justifications (by hash; unknown hashes give None, or `NoSuchBlock` for state)."""

    def __init__(self, config: DevnetConfig) -> None:
        config.validate()
        self.config = config
        self.faults = config.faults
        self.runtime: RuntimeInfo = load_runtime(config.metadata_path)
        self.metadata: bytes = self.runtime.metadata
        self.runtime_version: dict = {**self.runtime.version, "stateVersion": config.state_version}
        self.schedule = AuthoritySchedule(config.authorities, config.set_period)
        self._timestamp_call = self.runtime.call_index("Timestamp", "set")
        state = TrieState.from_pairs(
            genesis_storage(config, self.schedule.authorities(0)), config.state_version
        )
        header = genesis_header(state.root())
        genesis = Block(header, header.hash(), (), state)
        self.genesis_hash: bytes = genesis.hash
        self._blocks: list[Block] = [genesis]
        self._numbers: dict[bytes, int] = {genesis.hash: 0}
        self._justifications: dict[int, bytes] = {}
        self._generated: dict[int, bytes] = {}
        self._queue: list[_Queued] = []
        self._callbacks: list[Callable[[Header], None]] = []

    # -- production ------------------------------------------------------------------------

    @property
    def best_number(self) -> int:
        return len(self._blocks) - 1

    @property
    def finalized_number(self) -> int:
        return self.best_number

    @property
    def best_hash(self) -> bytes:
        return self._blocks[-1].hash

    @property
    def finalized_hash(self) -> bytes:
        return self.best_hash

    def timestamp(self, number: int) -> int:
        """`Timestamp::Now` in block `number` (ms)."""
        return self.config.genesis_time_ms + number * self.config.slot_ms

    def include(
        self, extrinsic: bytes, messages: Sequence[bytes] = (), signer: bytes | None = None
    ) -> None:
        """Queue an already-validated extrinsic (and the messages it emits) for the next block."""
        if not isinstance(extrinsic, bytes | bytearray) or not extrinsic:
            raise DevnetError("an extrinsic must be non-empty bytes")
        if any(not isinstance(m, bytes | bytearray) or not m for m in messages):
            raise DevnetError("each message must be non-empty SCALE-encoded bytes")
        if signer is not None and len(signer) != 32:
            raise DevnetError(f"signer must be a 32-byte account id, got {len(signer)} bytes")
        self._queue.append(
            _Queued(
                bytes(extrinsic),
                tuple(bytes(m) for m in messages),
                None if signer is None else bytes(signer),
            )
        )

    def pending(self) -> list[bytes]:
        """Extrinsics queued for the next block, in inclusion order."""
        return [q.extrinsic for q in self._queue]

    def account_info(self, account: bytes, at: bytes | None = None) -> AccountInfo:
        """`System::Account` of `account` at a block (default zeros if absent)."""
        value = self.storage(account_key(account), at)
        return AccountInfo() if value is None else AccountInfo.decode(value)

    def account_nonce(self, account: bytes) -> int:
        """The next nonce of `account`: its nonce at the best block plus its queued extrinsics."""
        queued = sum(1 for q in self._queue if q.signer == account)
        return self.account_info(account).nonce + queued

    def produce_block(self) -> Header:
        """Build, finalize and announce the next block from the queue."""
        parent = self._blocks[-1]
        number = len(self._blocks)
        queue, self._queue = self._queue, []
        now = self.timestamp(number)
        body = (timestamp_inherent(*self._timestamp_call, now), *(q.extrinsic for q in queue))
        changes = self._block_changes(parent, number, now, queue)
        changes.update(self.extra_changes(number))
        slot = now // self.config.slot_ms
        digest = [babe_pre_digest(slot % self.config.authorities, slot)]
        if self.schedule.is_change(number):
            next_set = self.schedule.set_id(number) + 1
            authorities = self.schedule.authorities(next_set)
            changes.update(authority_changes(authorities, next_set))
            log = encode_consensus_log(ScheduledChange(authorities, 0))
            digest.append(DigestItem(DigestKind.CONSENSUS, log, GRANDPA_ENGINE_ID))
        state = parent.state.apply(changes.items())
        state_root = state.root()
        if self.faults.wrong_state_root_at == number:
            state_root = lying_state_root(state_root)
        header = Header(
            parent.hash,
            number,
            state_root,
            ordered_trie_root(body, EXTRINSICS_ROOT_VERSION),
            tuple(digest),
        )
        block = Block(header, header.hash(), body, state)
        self._blocks.append(block)
        self._numbers[block.hash] = number
        if number % self.config.justification_period == 0 or self.schedule.is_change(number):
            self._justifications[number] = self._sign(number)
        self._generated.clear()
        for callback in self._callbacks:
            callback(header)
        return header

    def produce(self, n: int) -> None:
        for _ in range(n):
            self.produce_block()

    def on_block(self, callback: Callable[[Header], None]) -> None:
        """Call `callback(header)` after each new block (it is both the new and finalized head)."""
        self._callbacks.append(callback)

    def extra_changes(self, number: int) -> dict[bytes, bytes | None]:
        """Storage written into block `number` besides the runtime's own: none here; the
        parachain pair's chains write `Paras::Heads` and `ParachainInfo::ParachainId`."""
        return {}

    def _block_changes(
        self, parent: Block, number: int, now: int, queue: list[_Queued]
    ) -> dict[bytes, bytes | None]:
        messages = [m for q in queue for m in q.messages]
        changes: dict[bytes, bytes | None] = {
            keys.SYSTEM_NUMBER: encode_u32(number),
            SYSTEM_PARENT_HASH: parent.hash,
            keys.TIMESTAMP_NOW: encode_u64(now),
            keys.PHALA_MQ_OUTBOUND_MESSAGES: encode_messages(messages) if messages else None,
        }
        for q in queue:
            if q.signer is not None:
                key = account_key(q.signer)
                current = changes[key] if key in changes else parent.state.get(key)
                changes[key] = bump_nonce(current, q.signer)
        return changes

    # -- blocks ----------------------------------------------------------------------------

    def block_hash(self, number: int) -> bytes | None:
        if 0 <= number < len(self._blocks):
            return self._blocks[number].hash
        return None

    def block_number(self, block_hash: bytes) -> int | None:
        return self._numbers.get(bytes(block_hash))

    def block(self, number: int) -> Block:
        """The block record (true state included); raises `NoSuchBlock`."""
        if not 0 <= number < len(self._blocks):
            raise NoSuchBlock(f"block #{number} does not exist (best is #{self.best_number})")
        return self._blocks[number]

    def header(self, block_hash: bytes) -> Header | None:
        number = self.block_number(block_hash)
        return None if number is None else self._blocks[number].header

    def body(self, block_hash: bytes) -> list[bytes] | None:
        number = self.block_number(block_hash)
        if number is None:
            return None
        body = list(self._blocks[number].body)
        if self.faults.bad_body_at == number and body:
            return tamper_body(body)
        return body

    # -- storage ---------------------------------------------------------------------------

    def _state(self, at: bytes | None) -> tuple[int, TrieState]:
        if at is None:
            return self.best_number, self._blocks[-1].state
        number = self.block_number(at)
        if number is None:
            raise NoSuchBlock(f"unknown block 0x{bytes(at).hex()}")
        return number, self._blocks[number].state

    def storage(self, key: bytes, at: bytes | None = None) -> bytes | None:
        return self._state(at)[1].get(bytes(key))

    def keys_paged(
        self, prefix: bytes, count: int, start_key: bytes | None = None, at: bytes | None = None
    ) -> list[bytes]:
        """Up to `count` keys with `prefix`, in order, strictly after `start_key` if given."""
        state = self._state(at)[1]
        prefix = bytes(prefix)
        out: list[bytes] = []
        if count <= 0:
            return out
        for key, _ in state.items():
            if key < prefix or (start_key is not None and key <= start_key):
                continue
            if not key.startswith(prefix):
                break
            out.append(key)
            if len(out) == count:
                break
        return out

    def read_proof(self, keys: Sequence[bytes], at: bytes | None = None) -> list[bytes]:
        """Trie nodes proving each key's value or absence at the block."""
        number, state = self._state(at)
        nodes = state.read_proof([bytes(k) for k in keys])
        if self.faults.truncated_proof_at == number:
            return truncate_proof(nodes)
        return nodes

    # -- finality --------------------------------------------------------------------------

    def authority_set(self, number: int) -> tuple[int, tuple[Authority, ...]]:
        """(set id, authorities) of the set that finalizes block `number`."""
        set_id = self.schedule.set_id(number)
        return set_id, self.schedule.authorities(set_id)

    def _sign(self, number: int, set_id: int | None = None) -> bytes:
        block = self._blocks[number]
        return sign_justification(
            self.schedule, block.hash, number, self.config.signer_count, set_id
        ).encode()

    def _justification_at(self, number: int, required: bool) -> bytes | None:
        """The justification served for block `number`, faults applied.

        `required` makes one even if none is stored (the node's latest round justification).
        """
        faults = self.faults
        stored = self._justifications.get(number)
        if faults.wrong_set_id_at == number:
            stored = self._sign(number, self.schedule.set_id(number) + 1)
        elif stored is None and (required or faults.bad_justification_signature_at == number):
            stored = self._generated.get(number)
            if stored is None:
                stored = self._generated[number] = self._sign(number)
        if stored is None or faults.bad_justification_signature_at != number:
            return stored
        return corrupt_signature(Justification.decode(stored)).encode()

    def justification(self, block_hash: bytes) -> bytes | None:
        """The stored GRANDPA justification of a block (SCALE), if the node keeps one."""
        number = self.block_number(block_hash)
        if number is None or number == 0:
            return None
        return self._justification_at(number, required=False)

    def justified_numbers(self) -> list[int]:
        """Blocks with a stored justification, ascending (faults not included)."""
        return sorted(self._justifications)

    def prove_finality(self, number: int) -> bytes | None:
        """SCALE `FinalityProof` for block `number`, as `grandpa_proveFinality` answers.

        A block of a past set is proved by the justification of that set's last block (its
        change block); a block of the current set by the latest finalized block's
        justification. `unknown_headers` are the headers after `number` up to the justified
        block. None for a block not yet finalized, or when nothing can be justified (genesis
        only).
        """
        finalized = self.finalized_number
        if number < 0 or number > finalized:
            return None
        period = self.config.set_period
        last_change = finalized - finalized % period if period else 0
        if last_change > 0 and number <= last_change:
            target = -(-max(number, 1) // period) * period
        elif finalized > 0:
            target = finalized
        else:
            return None
        justification = self._justification_at(target, required=True)
        if justification is None:
            return None
        headers = tuple(b.header for b in self._blocks[number + 1 : target + 1])
        return FinalityProof(self._blocks[target].hash, justification, headers).encode()
