"""The devnet chain core: determinism, real headers/state/proofs, GRANDPA finality, data faults.

The judge is the chain core (`chain.*`): headers, roots, proofs and justifications are checked
with the same code the light client uses, never with the devnet's own helpers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scalecodec.base import RuntimeConfiguration, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset

from pinkpipe.chain import keys
from pinkpipe.chain.crypto import ed25519_verify
from pinkpipe.chain.grandpa import (
    Authority,
    FinalityProof,
    Justification,
    ScheduledChange,
    decode_authority_list,
    decode_versioned_authorities,
    grandpa_logs,
    precommit_payload,
    threshold,
)
from pinkpipe.chain.header import DigestKind, Header
from pinkpipe.chain.proof import verify_read_proof
from pinkpipe.chain.trie import MalformedProof, ProofIncomplete, ordered_trie_root, trie_root
from pinkpipe.devnet import DevChain, DevnetConfig, DevnetError, Faults, NoSuchBlock
from pinkpipe.devnet.config import DEFAULT_BALANCE, dev_account
from pinkpipe.devnet.faults import FaultError
from pinkpipe.devnet.genesis import AccountInfo, account_key
from pinkpipe.devnet.keys import dev_keypair
from pinkpipe.devnet.runtime import METADATA_ENV, metadata_path, packaged_metadata
from pinkpipe.validator.errors import LightClientError
from pinkpipe.validator.light_client import LightClient
from tests.vectors import VECTORS

ALICE_ED25519 = "88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"
MESSAGE = b"\x00\x0cfoo\x10dest\x08hi"  # any SCALE bytes stand in for a Phala Message


def make(**kwargs: object) -> DevChain:
    return DevChain(DevnetConfig(**kwargs))  # type: ignore[arg-type]


def block_hashes(chain: DevChain) -> list[bytes]:
    return [chain.block_hash(n) or b"" for n in range(chain.best_number + 1)]


def header_at(chain: DevChain, number: int) -> Header:
    header = chain.header(chain.block_hash(number) or b"")
    assert header is not None
    return header


def justification_at(chain: DevChain, number: int) -> bytes | None:
    return chain.justification(chain.block_hash(number) or b"")


def all_pairs(chain: DevChain, at: bytes) -> dict[bytes, bytes]:
    """Every served key/value pair at a block, through the serving API only."""
    pairs = {}
    for key in chain.keys_paged(b"", 10_000, None, at):
        value = chain.storage(key, at)
        assert value is not None
        pairs[key] = value
    return pairs


def verify_justification(
    encoded: bytes, target: Header, authorities: tuple[Authority, ...], set_id: int
) -> bool:
    """A GRANDPA check written against the chain core: target, signatures, voters, threshold."""
    j = Justification.decode(encoded)
    if (j.commit.target_hash, j.commit.target_number) != (target.hash(), target.number):
        return False
    voters = {a.id: a.weight for a in authorities}
    seen: set[bytes] = set()
    for pc in j.commit.precommits:
        payload = precommit_payload(pc.target_hash, pc.target_number, j.round, set_id)
        if pc.id not in voters or pc.id in seen or not ed25519_verify(pc.signature, payload, pc.id):
            return False
        if (pc.target_hash, pc.target_number) != (target.hash(), target.number):
            return False
        seen.add(pc.id)
    return sum(voters[i] for i in seen) >= threshold(sum(voters.values()))


def genesis_set(chain: DevChain) -> tuple[tuple[Authority, ...], int]:
    at = chain.genesis_hash
    versioned = chain.storage(keys.GRANDPA_AUTHORITIES_WELL_KNOWN, at)
    set_id = chain.storage(keys.GRANDPA_CURRENT_SET_ID, at)
    assert versioned is not None and set_id is not None
    return decode_versioned_authorities(versioned), int.from_bytes(set_id, "little")


# -- determinism ---------------------------------------------------------------------------


@pytest.mark.slow
def test_same_config_gives_identical_chains() -> None:
    a, b = make(set_period=7, justification_period=5), make(set_period=7, justification_period=5)
    for chain in (a, b):
        chain.include(b"\x10abcd", [MESSAGE], dev_account("Alice"))
        chain.produce(20)
    assert a.genesis_hash == b.genesis_hash
    assert block_hashes(a) == block_hashes(b)
    assert [a.justification(h) for h in block_hashes(a)] == [
        b.justification(h) for h in block_hashes(b)
    ]
    assert a.prove_finality(3) == b.prove_finality(3)


@pytest.mark.parametrize(
    "change",
    [
        {"authorities": 3},
        {"state_version": 1},
        {"slot_ms": 3000},
        {"genesis_time_ms": 1},
        {"chain_name": "other"},
        {"initial_balances": {"Alice": 1}},
        {"system_code": b"\x00asm"},
        {"set_period": 2},
    ],
)
def test_different_config_gives_different_hashes(change: dict) -> None:
    base, other = make(), make(**change)
    base.produce(3)
    other.produce(3)
    assert block_hashes(base)[3] != block_hashes(other)[3]
    if not {"set_period", "slot_ms"} & change.keys():
        assert base.genesis_hash != other.genesis_hash


# -- genesis -------------------------------------------------------------------------------


def test_genesis_storage_contents() -> None:
    chain = make(system_code=b"\x00asm-system")
    at = chain.genesis_hash
    authorities, set_id = genesis_set(chain)
    assert set_id == 0
    assert authorities[0].id.hex() == ALICE_ED25519
    assert [a.id for a in authorities] == [
        bytes(dev_keypair(n).public_key) for n in ("Alice", "Bob", "Charlie", "Dave")
    ]
    plain = chain.storage(keys.GRANDPA_AUTHORITIES, at)
    assert plain is not None and decode_authority_list(plain) == authorities
    assert chain.storage(keys.TIMESTAMP_NOW, at) == (1_700_000_000_000).to_bytes(8, "little")
    assert chain.storage(keys.SYSTEM_NUMBER, at) == bytes(4)
    assert chain.storage(keys.PINK_SYSTEM_CODE, at) == b"\x00\x00\x2c\x00asm-system"
    assert chain.storage(keys.PINK_RUNTIME_VERSION, at) == bytes([1, 0, 0, 0, 2, 0, 0, 0])
    assert chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES, at) is None
    code = chain.storage(keys.CODE, at)
    assert code is not None and code.startswith(b"\x00asm\x01\x00\x00\x00")
    alice = chain.account_info(dev_account("Alice"), at)
    assert alice == AccountInfo(providers=1, free=DEFAULT_BALANCE)
    raw = chain.storage(account_key(dev_account("Ferdie")), at)
    assert raw is not None and len(raw) == 80
    assert chain.storage(keys.storage_prefix("Sudo", "Key"), at) == dev_account("Alice")
    header = chain.header(at)
    assert header is not None and header.number == 0 and header.parent_hash == bytes(32)
    assert header.state_root == trie_root(all_pairs(chain, at))


def test_balances_accept_ss58_and_hex() -> None:
    bob = dev_keypair("Bob", "sr25519")
    chain = make(initial_balances={bob.ss58_address: 5, "0x" + "11" * 32: 7})
    assert chain.account_info(bytes(bob.public_key)).free == 5
    assert chain.account_info(b"\x11" * 32).free == 7
    assert chain.account_info(dev_account("Alice")) == AccountInfo()


# -- blocks --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 1])
def test_headers_link_and_commit_to_bodies_and_state(version: int) -> None:
    chain = make(state_version=version)
    seen: list[Header] = []
    chain.on_block(seen.append)
    chain.include(b"\x10" + b"x" * 40, [MESSAGE], dev_account("Bob"))
    chain.produce(6)
    assert [h.number for h in seen] == [1, 2, 3, 4, 5, 6]
    parent = chain.header(chain.genesis_hash)
    for n in range(1, 7):
        block_hash = chain.block_hash(n)
        assert block_hash is not None
        header = chain.header(block_hash)
        body = chain.body(block_hash)
        assert header is not None and body is not None and parent is not None
        assert Header.decode(header.encode()) == header and header.hash() == block_hash
        assert header.parent_hash == parent.hash() and header.number == n
        assert header.extrinsics_root == ordered_trie_root(body, 0)
        assert header.state_root == trie_root(all_pairs(chain, block_hash), version)
        parent = header
    assert chain.best_number == chain.finalized_number == 6
    assert chain.best_hash == chain.finalized_hash == chain.block_hash(6)
    assert chain.block_hash(7) is None and chain.block_hash(-1) is None


def test_timestamp_inherent_decodes_with_the_metadata() -> None:
    chain = make()
    chain.produce(2)
    runtime = RuntimeConfiguration()
    runtime.update_type_registry(load_type_registry_preset("core"))
    runtime.add_portable_registry(chain.runtime.decoded)
    body = chain.body(chain.best_hash)
    assert body is not None and len(body) == 1
    xt = runtime.create_scale_object(
        "Extrinsic", data=ScaleBytes(body[0]), metadata=chain.runtime.decoded
    )
    call = xt.decode()["call"]
    assert (call["call_module"], call["call_function"]) == ("Timestamp", "set")
    assert call["call_args"][0]["value"] == chain.timestamp(2) == 1_700_000_012_000


def test_per_block_storage_and_babe_digest() -> None:
    chain = make(slot_ms=2000)
    chain.produce(3)
    for n in range(1, 4):
        at = chain.block_hash(n)
        header = chain.header(at or b"")
        assert header is not None
        now = 1_700_000_000_000 + 2000 * n
        assert chain.storage(keys.TIMESTAMP_NOW, at) == now.to_bytes(8, "little")
        assert chain.storage(keys.SYSTEM_NUMBER, at) == n.to_bytes(4, "little")
        (pre,) = header.items(DigestKind.PRE_RUNTIME, b"BABE")
        slot = now // 2000
        assert pre.data == b"\x02" + (slot % 4).to_bytes(4, "little") + slot.to_bytes(8, "little")
        assert not header.items(DigestKind.SEAL)


def test_included_extrinsics_messages_and_nonces() -> None:
    chain = make()
    alice = dev_account("Alice")
    assert chain.account_nonce(alice) == 0
    chain.include(b"\x08\x01\x02", [MESSAGE, MESSAGE + b"!"], alice)
    chain.include(b"\x08\x03\x04", [], alice)
    chain.include(b"\x08\x05\x06", [MESSAGE])
    assert chain.account_nonce(alice) == 2 and len(chain.pending()) == 3
    chain.produce_block()
    at = chain.best_hash
    assert chain.pending() == []
    assert chain.body(at) == [chain.body(at)[0], b"\x08\x01\x02", b"\x08\x03\x04", b"\x08\x05\x06"]
    messages = chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES, at)
    assert messages == b"\x0c" + MESSAGE + MESSAGE + b"!" + MESSAGE
    assert chain.account_nonce(alice) == 2
    assert chain.account_info(alice).free == DEFAULT_BALANCE
    chain.produce_block()
    assert chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES) is None
    assert chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES, at) == messages
    assert chain.account_info(alice, chain.genesis_hash).nonce == 0


def test_include_rejects_bad_input() -> None:
    chain = make()
    with pytest.raises(DevnetError, match="non-empty"):
        chain.include(b"")
    with pytest.raises(DevnetError, match="message"):
        chain.include(b"\x04\x00", [b""])
    with pytest.raises(DevnetError, match="32-byte"):
        chain.include(b"\x04\x00", [], b"\x01")
    assert chain.pending() == []


# -- storage and proofs --------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 1])
def test_read_proofs_verify_for_present_and_absent_keys(version: int) -> None:
    chain = make(state_version=version, system_code=b"\x01" * 100)
    chain.include(b"\x08\x01\x02", [MESSAGE], dev_account("Alice"))
    chain.produce(4)
    wanted = [
        keys.TIMESTAMP_NOW,
        keys.PHALA_MQ_OUTBOUND_MESSAGES,
        keys.PINK_SYSTEM_CODE,
        account_key(dev_account("Alice")),
        b"\xff" * 32,
    ]
    for n in range(5):
        at = chain.block_hash(n)
        header = chain.header(at or b"")
        assert header is not None
        proven = verify_read_proof(header.state_root, chain.read_proof(wanted, at), wanted)
        assert proven == {k: chain.storage(k, at) for k in wanted}
    assert verify_read_proof(
        header_at(chain, 1).state_root,
        chain.read_proof([keys.PHALA_MQ_OUTBOUND_MESSAGES], chain.block_hash(1)),
        [keys.PHALA_MQ_OUTBOUND_MESSAGES],
    ) == {keys.PHALA_MQ_OUTBOUND_MESSAGES: b"\x04" + MESSAGE}


def test_keys_paged_pages_in_order() -> None:
    chain = make()
    prefix = keys.storage_prefix("System", "Account")
    every = chain.keys_paged(prefix, 100)
    assert len(every) == 6 and every == sorted(every)
    assert all(k.startswith(prefix) for k in every)
    pages: list[bytes] = []
    start = None
    while page := chain.keys_paged(prefix, 4, start):
        pages += page
        start = page[-1]
    assert pages == every
    assert chain.keys_paged(prefix, 0) == []
    assert chain.keys_paged(b"\xff\xff", 10) == []


def test_unknown_blocks() -> None:
    chain = make()
    unknown = b"\x42" * 32
    assert chain.header(unknown) is None and chain.body(unknown) is None
    assert chain.justification(unknown) is None and chain.block_number(unknown) is None
    with pytest.raises(NoSuchBlock, match="0x4242"):
        chain.storage(keys.TIMESTAMP_NOW, unknown)
    with pytest.raises(NoSuchBlock):
        chain.read_proof([keys.TIMESTAMP_NOW], unknown)
    with pytest.raises(NoSuchBlock):
        chain.keys_paged(b"", 1, None, unknown)
    with pytest.raises(NoSuchBlock, match="#3"):
        chain.block(3)


def test_history_keeps_every_state() -> None:
    chain = make()
    chain.produce(50)
    for n in (0, 1, 25, 50):
        at = chain.block_hash(n)
        assert chain.storage(keys.SYSTEM_NUMBER, at) == n.to_bytes(4, "little")


# -- finality ------------------------------------------------------------------------------


@pytest.mark.parametrize("signers", [None, 3])
def test_justifications_at_period_verify(signers: int | None) -> None:
    chain = make(justification_period=4, signers=signers)
    chain.produce(13)
    assert chain.justified_numbers() == [4, 8, 12]
    authorities, set_id = genesis_set(chain)
    rounds = []
    for n in range(1, 14):
        at = chain.block_hash(n) or b""
        encoded = chain.justification(at)
        if n % 4:
            assert encoded is None
            continue
        assert encoded is not None
        header = chain.header(at)
        assert header is not None
        assert verify_justification(encoded, header, authorities, set_id)
        assert not verify_justification(encoded, header, authorities, set_id + 1)
        j = Justification.decode(encoded)
        assert len(j.commit.precommits) == (signers or 4)
        rounds.append(j.round)
    assert rounds == sorted(set(rounds))


def test_set_rotation_light_client_from_genesis() -> None:
    """Follow the chain like a light client: genesis set, justified change blocks, hand-offs."""
    chain = make(set_period=5, justification_period=3)
    chain.produce(17)
    authorities, set_id = genesis_set(chain)
    changes = []
    for n in range(1, 18):
        at = chain.block_hash(n) or b""
        header = chain.header(at)
        assert header is not None
        logs = grandpa_logs(header)
        encoded = chain.justification(at)
        assert (encoded is not None) == (n % 3 == 0 or n % 5 == 0)
        if encoded is not None:
            assert verify_justification(encoded, header, authorities, set_id)
        assert chain.authority_set(n) == (set_id, authorities)
        if logs:
            assert n % 5 == 0 and encoded is not None
            (change,) = logs
            assert isinstance(change, ScheduledChange) and change.delay == 0
            assert change.next_authorities != authorities
            authorities, set_id = change.next_authorities, set_id + 1
            changes.append(n)
            stored = chain.storage(keys.GRANDPA_AUTHORITIES_WELL_KNOWN, at) or b""
            assert decode_versioned_authorities(stored) == authorities
            assert chain.storage(keys.GRANDPA_CURRENT_SET_ID, at) == set_id.to_bytes(8, "little")
    assert changes == [5, 10, 15] and set_id == 3
    names = chain.schedule.members
    assert set(names(0)).isdisjoint(names(4))
    assert names(0) == ("Alice", "Bob", "Charlie", "Dave")


def test_prove_finality_ranges() -> None:
    chain = make(set_period=10, justification_period=4)
    assert chain.prove_finality(0) is None
    chain.produce(25)
    expected = {0: (10, 1), 3: (10, 4), 10: (10, 11), 11: (20, 12), 20: (20, 21), 21: (25, 22)}
    expected |= {25: (25, 26)}
    for number, (target, first) in expected.items():
        encoded = chain.prove_finality(number)
        assert encoded is not None
        proof = FinalityProof.decode(encoded)
        assert proof.block == chain.block_hash(target)
        assert [h.number for h in proof.unknown_headers] == list(range(first, target + 1))
        set_id, authorities = chain.authority_set(target)
        header = chain.header(proof.block)
        assert header is not None
        assert verify_justification(proof.justification, header, authorities, set_id)
    assert chain.prove_finality(26) is None and chain.prove_finality(-1) is None
    assert chain.justification(chain.best_hash) is None


def test_prove_finality_without_rotation_uses_the_head() -> None:
    chain = make(justification_period=512)
    chain.produce(7)
    proof = FinalityProof.decode(chain.prove_finality(2) or b"")
    assert proof.block == chain.best_hash
    assert [h.number for h in proof.unknown_headers] == [3, 4, 5, 6, 7]
    authorities, set_id = genesis_set(chain)
    header = chain.header(chain.best_hash)
    assert header is not None
    assert verify_justification(proof.justification, header, authorities, set_id)


# -- data faults ---------------------------------------------------------------------------


def faulty(**faults: int) -> DevChain:
    chain = make(justification_period=4, faults=Faults(**faults))
    chain.produce(9)
    return chain


def test_fault_bad_justification_signature() -> None:
    chain = faulty(bad_justification_signature_at=6)
    authorities, set_id = genesis_set(chain)
    for n in (4, 6, 8):
        at = chain.block_hash(n) or b""
        header = chain.header(at)
        encoded = chain.justification(at)
        assert header is not None and encoded is not None
        assert verify_justification(encoded, header, authorities, set_id) == (n != 6)
    bad = Justification.decode(chain.justification(chain.block_hash(6) or b"") or b"")
    valid = [
        ed25519_verify(p.signature, precommit_payload(p.target_hash, 6, bad.round, 0), p.id)
        for p in bad.commit.precommits
    ]
    assert valid == [False, True, True, True]
    chain.faults.clear()
    assert chain.justification(chain.block_hash(6) or b"") is None


def test_fault_wrong_set_id() -> None:
    chain = faulty(wrong_set_id_at=8)
    authorities, _ = genesis_set(chain)
    at = chain.block_hash(8) or b""
    header = chain.header(at)
    encoded = chain.justification(at)
    assert header is not None and encoded is not None
    assert not verify_justification(encoded, header, authorities, 0)
    assert verify_justification(encoded, header, authorities, 1)
    proof = FinalityProof.decode(chain.prove_finality(7) or b"")
    assert proof.block == chain.block_hash(9)
    chain.faults.set("wrong_set_id", 9)
    proof = FinalityProof.decode(chain.prove_finality(7) or b"")
    header9 = chain.header(proof.block)
    assert header9 is not None
    assert not verify_justification(proof.justification, header9, authorities, 0)
    assert verify_justification(
        justification_at(chain, 4) or b"", header_at(chain, 4), authorities, 0
    )


def test_fault_wrong_state_root() -> None:
    clean = faulty()
    chain = faulty(wrong_state_root_at=5)
    assert block_hashes(chain)[:5] == block_hashes(clean)[:5]
    assert block_hashes(chain)[5] != block_hashes(clean)[5]
    wanted = [keys.TIMESTAMP_NOW]
    for n in (4, 5, 6):
        at = chain.block_hash(n) or b""
        header = chain.header(at)
        assert header is not None
        truthful = header.state_root == trie_root(all_pairs(chain, at))
        assert truthful == (n != 5)
        proof = chain.read_proof(wanted, at)
        if n == 5:
            with pytest.raises(MalformedProof):
                verify_read_proof(header.state_root, proof, wanted)
        else:
            assert verify_read_proof(header.state_root, proof, wanted)[wanted[0]] is not None
    header6 = chain.header(chain.block_hash(6) or b"")
    assert header6 is not None and header6.parent_hash == chain.block_hash(5)
    authorities, set_id = genesis_set(chain)
    assert verify_justification(
        justification_at(chain, 8) or b"", header_at(chain, 8), authorities, set_id
    )


def test_fault_truncated_proof() -> None:
    chain = faulty()
    wanted = [keys.TIMESTAMP_NOW, account_key(dev_account("Alice"))]
    chain.faults.set("truncated_proof", 3)
    for n in (2, 3, 4):
        at = chain.block_hash(n) or b""
        header = chain.header(at)
        assert header is not None
        proof = chain.read_proof(wanted, at)
        if n == 3:
            with pytest.raises((ProofIncomplete, MalformedProof)):
                verify_read_proof(header.state_root, proof, wanted)
        else:
            assert all(verify_read_proof(header.state_root, proof, wanted).values())


def test_fault_bad_body() -> None:
    chain = faulty(bad_body_at=2)
    for n in (1, 2, 3):
        at = chain.block_hash(n) or b""
        header = chain.header(at)
        body = chain.body(at)
        assert header is not None and body is not None
        assert (header.extrinsics_root == ordered_trie_root(body)) == (n != 2)
    chain.faults.bad_body_at = None
    body = chain.body(chain.block_hash(2) or b"")
    assert ordered_trie_root(body or []) == header_at(chain, 2).extrinsics_root


def test_fault_switches_and_validation() -> None:
    faults = Faults()
    faults.set("wrong_state_root", 5)
    faults.set("truncated_proof_at", 7)
    assert faults.active() == {"wrong_state_root": 5, "truncated_proof": 7}
    assert "bad_body" in Faults.names()
    with pytest.raises(FaultError, match="unknown fault"):
        faults.set("nope", 1)
    with pytest.raises(FaultError, match=">= 1"):
        faults.set("bad_body", 0)
    faults.clear()
    assert faults == Faults()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("authorities", 0),
        ("signers", 5),
        ("state_version", 2),
        ("slot_ms", 0),
        ("justification_period", 0),
        ("set_period", -1),
        ("initial_balances", {"not-an-address": 1}),
        ("initial_balances", {"Alice": -1}),
    ],
)
def test_config_validation(field: str, value: object) -> None:
    pattern = "account|balance" if field == "initial_balances" else field.split("_")[0]
    with pytest.raises(DevnetError, match=pattern):
        DevnetConfig(**{field: value})  # type: ignore[arg-type]


def test_missing_metadata_names_the_path_and_how_to_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = tmp_path / "absent.scale"
    with pytest.raises(DevnetError) as err:
        DevChain(DevnetConfig(metadata_path=absent))
    message = str(err.value)
    assert str(absent) in message and "No such file" in message
    for how in (
        "--metadata",
        METADATA_ENV,
        "DevnetConfig.metadata_path",
        "../shared/vectors/phala/phala_standalone_metadata.scale",
    ):
        assert how in message
    monkeypatch.setenv(METADATA_ENV, str(tmp_path / "from-env.scale"))
    with pytest.raises(DevnetError, match=r"from-env\.scale"):
        DevChain(DevnetConfig())
    shared = VECTORS / "phala" / "phala_standalone_metadata.scale"
    monkeypatch.setenv(METADATA_ENV, str(shared))
    assert metadata_path() == shared
    assert metadata_path(tmp_path / "configured.scale") == tmp_path / "configured.scale"
    monkeypatch.delenv(METADATA_ENV)
    assert metadata_path() == packaged_metadata()
    assert DevChain(DevnetConfig()).metadata == packaged_metadata().read_bytes()


def test_packaged_metadata_is_the_shared_vector() -> None:
    """The wheel's copy must not drift from the vector the tests prove the devnet against."""
    shared = (VECTORS / "phala" / "phala_standalone_metadata.scale").read_bytes()
    assert packaged_metadata().read_bytes() == shared


# -- the light client accepts what the devnet serves ---------------------------------------


def light_client_batches(chain: DevChain) -> list[tuple[list[Header], bytes]]:
    """(headers, justification) per stored justification, as a relayer would batch them."""
    batches, start = [], 1
    for target in chain.justified_numbers():
        headers = [header_at(chain, n) for n in range(start, target + 1)]
        batches.append((headers, justification_at(chain, target) or b""))
        start = target + 1
    return batches


@pytest.mark.parametrize("version", [0, 1])
def test_light_client_follows_the_devnet_from_genesis(version: int) -> None:
    chain = make(state_version=version, set_period=6, justification_period=4, signers=3)
    chain.include(b"\x08\x01\x02", [MESSAGE], dev_account("Alice"))
    chain.produce(20)
    client = LightClient.from_genesis_storage(
        all_pairs(chain, chain.genesis_hash), trie_version=version, genesis_hash=chain.genesis_hash
    )
    set_ids = []
    for headers, justification in light_client_batches(chain):
        result = client.import_batch(headers, justification)
        set_ids.append(result.set_id)
    assert client.finalized.number == 20 and client.finalized.hash == chain.block_hash(20)
    assert set_ids == [0, 1, 1, 2, 2, 3, 3]  # justified 4, 6, 8, 12, 16, 18, 20
    wanted = [keys.PHALA_MQ_OUTBOUND_MESSAGES, keys.TIMESTAMP_NOW]
    proven = client.read_storage(20, chain.read_proof(wanted, chain.block_hash(20)), wanted)
    assert proven == {k: chain.storage(k) for k in wanted}
    client.check_body(20, chain.body(chain.best_hash) or [])


def test_light_client_refuses_each_data_fault() -> None:
    for name, block in (("bad_justification_signature", 8), ("wrong_set_id", 8)):
        chain = faulty(**{f"{name}_at": block})
        client = LightClient.from_genesis_storage(all_pairs(chain, chain.genesis_hash))
        first, second = light_client_batches(chain)[:2]
        client.import_batch(*first)
        with pytest.raises(LightClientError):
            client.import_batch(*second)
        assert client.finalized.number == 4
    chain = faulty(wrong_state_root_at=8, truncated_proof_at=4, bad_body_at=4)
    client = LightClient.from_genesis_storage(all_pairs(chain, chain.genesis_hash))
    for headers, justification in light_client_batches(chain):
        client.import_batch(headers, justification)
    wanted = [keys.TIMESTAMP_NOW]
    for number in (4, 8):
        with pytest.raises(LightClientError):
            client.read_storage(number, chain.read_proof(wanted, chain.block_hash(number)), wanted)
        assert client.read_storage(
            number - 1, chain.read_proof(wanted, chain.block_hash(number - 1)), wanted
        )
    with pytest.raises(LightClientError):
        client.check_body(4, chain.body(chain.block_hash(4) or b"") or [])
