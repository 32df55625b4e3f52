"""Storage proofs and block bodies checked against finalized headers: Rococo System.Events
proofs through the light client, smoldot's proof cases, Westend bodies #1..#256."""

from __future__ import annotations

import dataclasses

import pytest

from pinkpipe.chain.header import Header
from pinkpipe.chain.keys import SYSTEM_EVENTS
from pinkpipe.chain.proof import encode_proof
from pinkpipe.chain.trie import ordered_trie_root
from pinkpipe.validator import (
    BadBody,
    BadProof,
    LightClient,
    UnknownBlock,
    verify_body,
    verify_storage_proof,
)
from tests.grandpa_builder import authorities, child, justify, make_genesis, make_voters
from tests.trie_vectors import rococo_events_proofs, smoldot_proof, smoldot_tests, unhex
from tests.validator_vectors import headers_of, rococo_client
from tests.vectors import ROCOCO_SET_IDS, rococo_batches, westend_blocks


@pytest.fixture(scope="module")
def rococo_clients() -> list[LightClient]:
    """One client per Rococo set, every batch of it imported."""
    clients = []
    for set_id in ROCOCO_SET_IDS:
        client = rococo_client(set_id)
        for batch in rococo_batches(set_id):
            client.import_batch(headers_of(batch), batch.justification)
        clients.append(client)
    return clients


def finalizing(clients: list[LightClient], block_hash: bytes) -> LightClient:
    for client in clients:
        try:
            client.state.block(block_hash)
        except UnknownBlock:
            continue
        return client
    raise AssertionError(f"no client finalized 0x{block_hash.hex()}")


def test_rococo_events_proofs_through_the_light_client(rococo_clients: list[LightClient]) -> None:
    proofs = rococo_events_proofs()
    assert len(proofs) == 2
    for proof in proofs:
        block_hash = proof.header.hash()
        client = finalizing(rococo_clients, block_hash)
        assert client.state.block(block_hash).state_root == proof.header.state_root
        values = client.read_storage(block_hash, proof.nodes, [SYSTEM_EVENTS])
        events = values[SYSTEM_EVENTS]
        assert events is not None and 11_000 <= len(events) <= 18_000
        assert proof.event in events
        by_number = client.read_storage(
            proof.header.number, encode_proof(proof.nodes), [SYSTEM_EVENTS]
        )
        assert by_number == values


def test_rococo_events_proof_with_a_node_missing(rococo_clients: list[LightClient]) -> None:
    proof = rococo_events_proofs()[0]
    block_hash = proof.header.hash()
    client = finalizing(rococo_clients, block_hash)
    for index in range(len(proof.nodes)):
        nodes = proof.nodes[:index] + proof.nodes[index + 1 :]
        with pytest.raises(BadProof) as info:
            client.read_storage(block_hash, nodes, [SYSTEM_EVENTS])
        message = str(info.value)
        assert f"#{proof.header.number} 0x{block_hash.hex()}" in message
        assert "proof incomplete" in message or "not in the proof" in message


def test_rococo_events_proof_against_another_block_is_rejected(
    rococo_clients: list[LightClient],
) -> None:
    proof = rococo_events_proofs()[0]
    client = finalizing(rococo_clients, proof.header.hash())
    with pytest.raises(BadProof, match=f"#{proof.header.number - 1} "):
        client.read_storage(proof.header.number - 1, proof.nodes, [SYSTEM_EVENTS])


def test_proof_for_a_block_that_is_not_finalized(rococo_clients: list[LightClient]) -> None:
    proof = rococo_events_proofs()[0]
    with pytest.raises(UnknownBlock, match=f"0x{'00' * 32}"):
        rococo_clients[0].read_storage(bytes(32), proof.nodes, [SYSTEM_EVENTS])
    with pytest.raises(UnknownBlock, match=r"remembered: #1842726\.\.#1843135\) \(block #1\)"):
        rococo_clients[0].read_storage(1, proof.nodes, [SYSTEM_EVENTS])


def test_smoldot_present_absent_and_incomplete() -> None:
    root, nodes = smoldot_proof("example_proof_polkadot_genesis")
    present, absent, uncovered = (
        unhex(r["key"]) for r in smoldot_tests()["example_proof_polkadot_genesis"]["reads"]
    )
    values = verify_storage_proof(root, nodes, [present, absent])
    assert values[present] == unhex(
        smoldot_tests()["example_proof_polkadot_genesis"]["reads"][0]["value"]
    )
    assert values[absent] is None
    with pytest.raises(BadProof, match="proof incomplete") as info:
        verify_storage_proof(root, nodes, [present, uncovered], number=0)
    assert info.value.key == uncovered and uncovered.hex() in str(info.value)


def test_malformed_proof_bytes() -> None:
    root, _ = smoldot_proof("timestamp_now_proof")
    with pytest.raises(BadProof, match="malformed proof encoding"):
        verify_storage_proof(root, b"\x08\x01", [b"key"])


# --- bodies -----------------------------------------------------------------------------------


def test_westend_bodies_match_extrinsics_roots() -> None:
    blocks = westend_blocks()
    assert [Header.decode(b.header).number for b in blocks] == list(range(1, 257))
    for block in blocks:
        header = Header.decode(block.header)
        verify_body(header.extrinsics_root, block.extrinsics, trie_version=0)
        verify_body(header.extrinsics_root, block.extrinsics)


def test_westend_bodies_tampered() -> None:
    block = next(b for b in westend_blocks() if len(b.extrinsics) == 5)
    header = Header.decode(block.header)
    xts = block.extrinsics
    flipped = [*xts[:2], bytes([xts[2][0] ^ 1]) + xts[2][1:], *xts[3:]]
    for body in (xts[:-1], xts[::-1], flipped, [*xts, xts[0]], []):
        with pytest.raises(BadBody, match=f"#{header.number} 0x") as info:
            verify_body(
                header.extrinsics_root, body, number=header.number, block_hash=header.hash()
            )
        assert header.extrinsics_root.hex() in str(info.value)


def test_body_of_a_finalized_block_in_trie_layout_v1() -> None:
    extrinsics = [b"\x04" + bytes(40), b"\x08" + bytes(3)]  # the first is hashed under V1
    voters = make_voters(4, "body")
    genesis = make_genesis("body")
    block = dataclasses.replace(child(genesis), extrinsics_root=ordered_trie_root(extrinsics, 1))
    client = LightClient.from_checkpoint(
        genesis, authorities(voters), 0, genesis_hash=genesis.hash()
    )
    client.import_batch([block], justify(block, voters[:3], 0))
    assert client.check_body(block.hash(), extrinsics).number == 1
    assert client.check_body(1, extrinsics, trie_version=1).hash == block.hash()
    with pytest.raises(BadBody, match="layout V0"):
        client.check_body(1, extrinsics, trie_version=0)
    with pytest.raises(UnknownBlock):
        client.check_body(2, extrinsics)
