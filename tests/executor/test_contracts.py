"""The example contracts end to end: outputs, storage, events and deposits as the chain has them.

The erc20 expectations (storage keys, event topics and data, deposits) are what ink!'s own
erc20 example compiled with ink! 4 produces in this runtime; the flipper's deposit (126) and
address are those of Phala's flip fixture (PINK.md 8, `test_ink_flip` snapshot).
"""

from __future__ import annotations

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.executor.events import EventRecord
from pinkpipe.executor.runtime import Mode
from tests.executor.support import (
    ALICE,
    BALANCE_OF,
    BOB,
    DEFAULT,
    DEPLOY_CHILD,
    FLIP,
    FORWARD,
    GET,
    NEW,
    RECURSE,
    TOTAL_SUPPLY,
    TRANSFER,
    TX,
    args,
    call,
    contract,
    instantiate,
    new_cluster,
    output,
    u128,
    upload,
)


def kinds(events: tuple[EventRecord, ...]) -> list[tuple[int, int]]:
    return [(e.pallet, e.variant) for e in events]


def held_amounts(events: tuple[EventRecord, ...]) -> list[int]:
    return [
        int.from_bytes(e.fields[64:80], "little") for e in events if (e.pallet, e.variant) == (4, 8)
    ]


def test_flipper_instantiation_deposit_address_and_events() -> None:
    runtime = new_cluster()
    code_hash = upload(runtime, "flipper")
    outcome = runtime.contract_instantiate(
        code_hash, NEW + b"\x01", b"", Mode.TRANSACTION, args(), TX
    )
    result = outcome.value
    assert result.ok and result.output is not None and result.output.data == b"\x00\x00"
    assert result.account == blake2_256(ALICE + code_hash + bytes(32))
    # ED 1 + ContractInfo (122 bytes + 1 item) + one 1-byte item: Phala's flip fixture charges 126
    assert result.storage_deposit == 126
    assert kinds(outcome.events) == [(0, 3), (2, 0), (2, 2), (4, 0), (4, 8), (4, 8)]
    assert held_amounts(outcome.events) == [123, 2]
    assert runtime.total_balance(result.account) == 126


def test_flipper_flips_and_refuses_unknown_selectors() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")
    assert output(call(runtime, flipper, GET)) == b"\x00\x01"
    flipped = call(runtime, flipper, FLIP)
    assert output(flipped) == b"\x00"
    assert kinds(flipped.events) == [(4, 6)]  # Called; same-size write, no deposit
    assert output(call(runtime, flipper, GET)) == b"\x00\x00"
    before = dict(runtime.state._data)
    reverted = call(runtime, flipper, bytes.fromhex("deadbeef"))
    assert reverted.value.output is not None
    assert (reverted.value.output.flags, reverted.value.output.data) == (1, b"\x01\x01")
    assert reverted.events == () and runtime.state._data == before


def test_value_sent_to_a_non_payable_message_traps_and_changes_nothing() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", DEFAULT)
    before = dict(runtime.state._data)
    outcome = call(runtime, flipper, FLIP, tx=args(transfer=5))
    assert outcome.value.error is not None and outcome.value.error.name == "ContractTrapped"
    assert outcome.events == () and runtime.state._data == before


def test_the_same_salt_twice_is_a_duplicate_contract() -> None:
    runtime = new_cluster()
    code_hash = upload(runtime, "flipper")
    first = runtime.contract_instantiate(code_hash, DEFAULT, b"s", Mode.TRANSACTION, args(), TX)
    again = runtime.contract_instantiate(code_hash, DEFAULT, b"s", Mode.TRANSACTION, args(), TX)
    other = runtime.contract_instantiate(code_hash, DEFAULT, b"t", Mode.TRANSACTION, args(), TX)
    assert first.value.ok and other.value.ok
    assert again.value.error is not None and again.value.error.name == "DuplicateContract"
    assert again.events == ()


INK4_TRANSFER_TOPIC = bytes.fromhex("00" + b"Erc20::Transfer".hex()).ljust(32, b"\x00")
INK4_FROM_NONE = bytes.fromhex("54" + b"Erc20::Transfer::from".hex() + "00").ljust(32, b"\x00")


def test_erc20_matches_ink4_byte_for_byte() -> None:
    runtime = new_cluster()
    code_hash = upload(runtime, "erc20")
    created = runtime.contract_instantiate(
        code_hash, NEW + u128(1000), b"", Mode.TRANSACTION, args(), TX
    )
    token = created.value.account
    assert token is not None and created.value.storage_deposit == 158
    minted = [e for e in created.events if (e.pallet, e.variant) == (4, 3)]
    assert [t.hex() for t in minted[0].topics] == [
        INK4_TRANSFER_TOPIC.hex(),
        INK4_FROM_NONE.hex(),
        "cd8b0f069d566a1dded63c9bf06ce003bb56203e5fdd6ff0862ead64d00767f8",  # to: Some(ALICE)
    ]
    assert minted[0].fields[32:] == bytes.fromhex("cc000001") + ALICE + u128(1000)
    info = runtime.ledger.contract(token)
    assert info is not None
    keys = {
        k[3].hex() for k in runtime.state.keys_with_prefix(("Contracts", "Storage", info.trie_id))
    }
    assert keys == {
        "56306098eb1df2d1b4bebeb00978e48e39e7dc2326" + ALICE.hex(),  # balances[ALICE]
        "5611d2df4e979aa105cf552e9544ebd2b500000000",  # total_supply at the root key
    }

    moved = call(runtime, token, TRANSFER + BOB + u128(10))
    assert output(moved) == b"\x00\x00"
    emitted = moved.events[0]
    assert [t.hex() for t in emitted.topics] == [
        INK4_TRANSFER_TOPIC.hex(),
        "e47cd21e360dc8925f1308a582a11aff39329ef383085ec2b3217d0a64f16ddf",  # from: Some(ALICE)
        "773fdf5addf29d98c8807a4625b3ca0b565ab9c632695fb82351297ca2cc913e",  # to: Some(BOB)
    ]
    assert kinds(moved.events) == [(4, 3), (4, 6), (4, 8)]
    assert held_amounts(moved.events) == [17]  # a new 16-byte item
    assert output(call(runtime, token, BALANCE_OF + BOB, Mode.QUERY)) == b"\x00" + u128(10)
    assert output(call(runtime, token, BALANCE_OF + ALICE, Mode.QUERY)) == b"\x00" + u128(990)
    assert output(call(runtime, token, TOTAL_SUPPLY, Mode.QUERY)) == b"\x00" + u128(1000)


def test_erc20_insufficient_balance_reverts_without_a_trace() -> None:
    runtime = new_cluster()
    token = instantiate(runtime, "erc20", NEW + u128(5))
    before = dict(runtime.state._data)
    outcome = call(runtime, token, TRANSFER + BOB + u128(6))
    assert outcome.value.output is not None
    assert (outcome.value.output.flags, outcome.value.output.data) == (1, b"\x00\x01\x00")
    assert outcome.events == () and runtime.state._data == before


def test_cross_contract_calls_return_codes_and_outputs() -> None:
    runtime = new_cluster()
    cross = instantiate(runtime, "cross", DEFAULT)
    flipper = instantiate(runtime, "flipper", NEW + b"\x01")

    def forward(callee: bytes, data: bytes) -> bytes:
        return output(call(runtime, cross, FORWARD + callee + bytes([len(data) * 4]) + data))

    assert forward(flipper, GET) == b"\x00" + (0).to_bytes(4, "little") + b"\x08\x00\x01"
    assert forward(flipper, FLIP) == b"\x00" + (0).to_bytes(4, "little") + b"\x04\x00"
    assert forward(flipper, GET)[-1] == 0
    # callee reverted: code 2 with its output; no contract there: code 8 (NotCallable)
    assert forward(flipper, b"\xde\xad\xbe\xef") == b"\x00\x02\x00\x00\x00\x08\x01\x01"
    assert forward(BOB, GET) == b"\x00\x08\x00\x00\x00\x00"


def test_a_reverted_callee_leaves_no_events() -> None:
    runtime = new_cluster()
    cross = instantiate(runtime, "cross", DEFAULT)
    token = instantiate(runtime, "erc20", NEW + u128(1))
    data = TRANSFER + BOB + u128(1)  # cross holds no tokens: the callee reverts
    outcome = call(runtime, cross, FORWARD + token + bytes([len(data) * 4]) + data)
    assert output(outcome)[1] == 2
    assert kinds(outcome.events) == [(4, 6)]  # only cross's own Called


def test_instantiation_from_a_contract() -> None:
    runtime = new_cluster()
    cross = instantiate(runtime, "cross", DEFAULT)
    code_hash = upload(runtime, "flipper")
    data = NEW + b"\x01"
    message = DEPLOY_CHILD + code_hash + bytes([len(data) * 4]) + data + b"\x04\x07"
    outcome = call(runtime, cross, message)
    answer = output(outcome)
    child = blake2_256(cross + code_hash + bytes(32) + b"\x07")
    assert answer == b"\x00" + bytes(4) + child
    assert output(call(runtime, child, GET)) == b"\x00\x01"
    assert (4, 0) in kinds(outcome.events)  # Instantiated{deployer: cross, contract: child}
    # raised while pushing the frame (ErrorOrigin::Caller): it traps the caller, as in v1.5
    again = call(runtime, cross, message)
    assert again.value.error is not None and again.value.error.name == "DuplicateContract"


def depth_keys(runtime: object, contract_address: bytes) -> set[int]:
    info = runtime.ledger.contract(contract_address)  # type: ignore[attr-defined]
    keys = runtime.state.keys_with_prefix(("Contracts", "Storage", info.trie_id))  # type: ignore[attr-defined]
    return {int.from_bytes(k[3][-4:], "little") for k in keys}


def recurse(depth: int, flags: int) -> bytes:
    return RECURSE + depth.to_bytes(4, "little") + flags.to_bytes(4, "little")


def test_six_frames_live_and_a_seventh_traps_its_caller_only() -> None:
    runtime = new_cluster()
    cross = instantiate(runtime, "cross", DEFAULT)
    assert output(call(runtime, cross, recurse(5, 8))) == bytes(5)
    assert depth_keys(runtime, cross) == {0, 1, 2, 3, 4, 5}

    runtime = new_cluster()
    cross = instantiate(runtime, "cross", DEFAULT)
    assert output(call(runtime, cross, recurse(6, 8))) == bytes(5)
    # the 6th frame (depth 1) hit MaxCallDepthReached and was rolled back
    assert depth_keys(runtime, cross) == {2, 3, 4, 5, 6}


def test_reentrancy_is_denied_without_the_flag() -> None:
    runtime = new_cluster()
    cross = instantiate(runtime, "cross", DEFAULT)
    before = dict(runtime.state._data)
    outcome = call(runtime, cross, recurse(2, 0))
    assert outcome.value.error is not None and outcome.value.error.name == "ReentranceDenied"
    assert runtime.state._data == before


def test_contract_code_is_compiled_once_per_hash() -> None:
    runtime = new_cluster()
    flipper = instantiate(runtime, "flipper", DEFAULT)
    cached = runtime.engine._cache[blake2_256(contract("flipper"))]
    call(runtime, flipper, FLIP)
    assert runtime.engine._cache[blake2_256(contract("flipper"))] is cached


def test_call_flags() -> None:
    runtime = new_cluster()
    cross = instantiate(runtime, "cross", DEFAULT)
    before = dict(runtime.state._data)
    # cross has already read its input, so forwarding or cloning it is InputForwarded
    for flags in (1 | 8, 2 | 8):
        outcome = call(runtime, cross, recurse(2, flags))
        assert outcome.value.error is not None and outcome.value.error.name == "InputForwarded"
    unknown = call(runtime, cross, recurse(2, 16 | 8))
    assert unknown.value.error is not None and unknown.value.error.name == "InvalidCallFlags"
    assert runtime.state._data == before
    # TAIL_CALL: each frame ends with its callee's output, the innermost answers for all
    assert output(call(runtime, cross, recurse(3, 4 | 8))) == bytes(5)
    assert depth_keys(runtime, cross) == {0, 1, 2, 3}
