"""Pink 1.2's `Contracts::Schedule` and limits (metadata 1.2 constants; PINK.md 3.1-3.2).

Weights are (ref_time picoseconds, proof_size bytes) exactly as the metadata's Schedule lists
them; `instruction_weights.base` (8000) converts wasmi fuel units to ref_time.
"""

from __future__ import annotations

from typing import NamedTuple


class Weight(NamedTuple):
    ref_time: int
    proof_size: int = 0


MAX_CODE_LEN = 2 * 1024 * 1024
MAX_DECOMPRESSED_CODE = 4 * MAX_CODE_LEN  # Pink: 16 x instructions + data <= 8 MiB
MEMORY_PAGES = 64
MAX_STORAGE_KEY_LEN = 128
PAYLOAD_LEN = 1024 * 1024  # max storage value and event data
EVENT_TOPICS = 4
MAX_DEBUG_BUFFER = 128 * 1024
SUBJECT_LEN = 32
CALL_STACK_FRAMES = 6  # `CallStack = [Frame; 5]`: entry frame plus 5 nested
REF_TIME_PER_FUEL = 8000
GAS_CLIP_TRANSACTION = 2_500_000_000_000  # 0.5 s of GAS_PER_SECOND = 5e12
GAS_CLIP_QUERY = 50_000_000_000_000
U64_MAX = 2**64 - 1
U128_MAX = 2**128 - 1
SENTINEL = 2**32 - 1

HOST_FN_WEIGHTS: dict[str, Weight] = {
    "caller": Weight(339309, 6),
    "is_contract": Weight(3788924, 2684),
    "code_hash": Weight(4720110, 2688),
    "own_code_hash": Weight(428765, 6),
    "caller_is_origin": Weight(183053, 3),
    "address": Weight(343762, 6),
    "gas_left": Weight(371542, 6),
    "balance": Weight(1656237, 6),
    "value_transferred": Weight(347368, 6),
    "minimum_balance": Weight(337202, 6),
    "block_number": Weight(330788, 6),
    "now": Weight(337860, 6),
    "weight_to_fee": Weight(1446663, 14),
    "input": Weight(282718, 6),
    "input_per_byte": Weight(1052, 0),
    "return": Weight(0, 45),
    "return_per_byte": Weight(391, 0),
    "terminate": Weight(126508132, 5266),
    "random": Weight(2057388, 10),
    "deposit_event": Weight(3808788, 10),
    "deposit_event_per_topic": Weight(3683455, 2508),
    "deposit_event_per_byte": Weight(731, 0),
    "debug_message": Weight(241240, 7),
    "debug_message_per_byte": Weight(1102, 0),
    "set_storage": Weight(7145641, 293),
    "set_storage_per_new_byte": Weight(547, 0),
    "set_storage_per_old_byte": Weight(558, 1),
    "set_code_hash": Weight(27627005, 3090),
    "clear_storage": Weight(6927074, 289),
    "clear_storage_per_byte": Weight(4, 1),
    "contains_storage": Weight(5548039, 289),
    "contains_storage_per_byte": Weight(83, 1),
    "get_storage": Weight(5707060, 297),
    "get_storage_per_byte": Weight(1010, 1),
    "take_storage": Weight(6895457, 297),
    "take_storage_per_byte": Weight(643, 1),
    "transfer": Weight(38468091, 2520),
    "call": Weight(248206665, 2721),
    "delegate_call": Weight(249943483, 2637),
    "call_transfer_surcharge": Weight(357425411, 5227),
    "call_per_cloned_byte": Weight(1111, 0),
    "instantiate": Weight(388311259, 2731),
    "instantiate_transfer_surcharge": Weight(0, 2549),
    "instantiate_per_input_byte": Weight(1963, 0),
    "instantiate_per_salt_byte": Weight(2060, 0),
    "hash_sha2_256": Weight(400604, 8),
    "hash_sha2_256_per_byte": Weight(1134, 0),
    "hash_keccak_256": Weight(802363, 8),
    "hash_keccak_256_per_byte": Weight(3410, 0),
    "hash_blake2_256": Weight(480457, 8),
    "hash_blake2_256_per_byte": Weight(1254, 0),
    "hash_blake2_128": Weight(505330, 8),
    "hash_blake2_128_per_byte": Weight(1252, 0),
    "ecdsa_recover": Weight(46037637, 77),
    "ecdsa_to_eth_address": Weight(11949979, 42),
    "instantiation_nonce": Weight(152842, 3),
}
ZERO = Weight(0, 0)

# Loading code costs `call_with_code_per_byte(len) - call_with_code_per_byte(0)` from v1.5's
# benchmarked `weights.rs` (`CodeLoadToken`). Its proof part is 1 byte per code byte (this
# reproduces Phala's flip fixture proof_size exactly); its ref_time slope is not available
# here, so it is 0 until the v1.5 value is pinned [verify] (the main gap to Phala's gas).
CODE_LOAD_PER_BYTE = Weight(0, 1)


def host_weight(name: str, per: str | None = None, count: int = 0) -> Weight:
    """Base weight of `name` plus `count` times its `per` part (e.g. per byte, per topic)."""
    base = HOST_FN_WEIGHTS[name]
    if per is None or not count:
        return base
    unit = HOST_FN_WEIGHTS[per]
    return Weight(base.ref_time + unit.ref_time * count, base.proof_size + unit.proof_size * count)
