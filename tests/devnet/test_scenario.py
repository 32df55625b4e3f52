"""Scenario files: the demo runs and puts the expected Phala messages in the expected blocks;
bad files are refused with errors that name the step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pinkpipe.chain import keys
from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.messages import (
    FORCE_PUSHED_PALLET,
    ContractInfo,
    DeployCluster,
    Deposit,
    DestroyCluster,
    InstantiateCode,
    Message,
    MessageOrigin,
    PlainPayload,
    RemoveWorker,
    ResourceType,
    UploadResource,
    contract_command_topic,
    decode_messages,
    decode_topic_payload,
)
from pinkpipe.devnet import DevChain, DevnetConfig
from pinkpipe.devnet.extrinsics import ExtrinsicPool
from pinkpipe.devnet.keys import dev_keypair
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.devnet.scenario import (
    Scenario,
    ScenarioError,
    ScenarioRunner,
    load_scenario,
    parse_scenario,
)
from tests.vectors import PROJECT_ROOT

DEMO = PROJECT_ROOT / "examples" / "scenarios" / "demo.yaml"
ALICE = bytes(dev_keypair("Alice", "ed25519").public_key)  # scenarios sign with ed25519 keys
BOB = bytes(dev_keypair("Bob", "ed25519").public_key)
FERDIE = bytes(dev_keypair("Ferdie", "ed25519").public_key)
PALLET = MessageOrigin.pallet(FORCE_PUSHED_PALLET)
EMPTY_WASM = bytes.fromhex("0061736d01000000")


def messages_by_block(chain: DevChain) -> dict[int, list[Message]]:
    out = {}
    for number in range(1, chain.best_number + 1):
        value = chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES, chain.block_hash(number))
        if value is not None:
            out[number] = decode_messages(value)
    return out


def scenario_chain(scenario: Scenario) -> DevChain:
    return DevChain(scenario.configure(DevnetConfig()))


def test_demo_scenario_produces_the_scripted_messages() -> None:
    scenario = load_scenario(DEMO)
    chain = scenario_chain(scenario)
    ScenarioRunner(scenario, ExtrinsicPool(chain)).run()
    assert chain.best_number == 6
    blocks = messages_by_block(chain)
    assert sorted(blocks) == [2, 3, 4, 5, 6]
    cluster = bytes(32)

    (deploy,) = blocks[2]
    assert deploy.sender == PALLET
    event = decode_topic_payload(deploy)
    assert isinstance(event, DeployCluster)
    assert (event.cluster, event.settings.owner, event.settings.treasury_account) == (
        cluster,
        ALICE,
        FERDIE,
    )
    assert event.settings.deposit == 100_000_000_000_000

    deposit, upload = blocks[3]
    assert decode_topic_payload(deposit) == Deposit(cluster, BOB, 50_000_000_000_000)
    uploaded = decode_topic_payload(upload)
    assert isinstance(uploaded, UploadResource) and uploaded.resource_data == EMPTY_WASM

    (instantiate,) = blocks[4]
    op = decode_topic_payload(instantiate)
    assert isinstance(op, InstantiateCode)
    data = bytes.fromhex("9bae9d5e01")
    info = ContractInfo(ALICE, blake2_256(EMPTY_WASM), b"demo", cluster, data)
    assert op.contract_info == info
    contract = info.contract_id()

    (by_bob,) = blocks[5]
    assert by_bob.sender == MessageOrigin.account(BOB)
    assert by_bob.destination == contract_command_topic(contract)
    command = decode_topic_payload(by_bob)
    assert isinstance(command, PlainPayload)
    assert (command.command.nonce, command.command.message) == (b"\x01", bytes.fromhex("633aa551"))
    (by_pallet,) = blocks[6]
    assert by_pallet.sender == PALLET and by_pallet.destination == by_bob.destination


async def test_scenario_runs_inside_the_server() -> None:
    scenario = load_scenario(DEMO)
    chain = scenario_chain(scenario)
    async with DevnetServer(chain) as server:
        runner = ScenarioRunner(scenario, server.pool)
        server.before_block(runner.before_block)
        await server.produce(6)
    assert len(runner.submitted) == 6
    assert sorted(messages_by_block(chain)) == [2, 3, 4, 5, 6]


def test_scenarios_are_deterministic() -> None:
    hashes = []
    for _ in range(2):
        scenario = load_scenario(DEMO)
        chain = scenario_chain(scenario)
        ScenarioRunner(scenario, ExtrinsicPool(chain)).run()
        hashes.append([chain.block_hash(n) for n in range(chain.best_number + 1)])
    assert hashes[0] == hashes[1]


def test_sr25519_scenarios_name_sr25519_accounts(tmp_path: Path) -> None:
    document = {
        "keys": "sr25519",
        "sudo": "Bob",
        "steps": [
            {"block": 1, "deploy_cluster": {"owner": "Alice"}},
            {"block": 1, "message": {"sender": "Charlie", "topic": "phala/t", "payload": "0x"}},
        ],
    }
    scenario = parse_scenario(document, tmp_path, "s.yaml")
    assert scenario.signers == ["Bob", "Charlie"]
    chain = scenario_chain(scenario)
    ScenarioRunner(scenario, ExtrinsicPool(chain)).run()
    deploy, message = decode_messages(chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES))
    event = decode_topic_payload(deploy)
    assert isinstance(event, DeployCluster)
    assert event.settings.owner == bytes(dev_keypair("Alice", "sr25519").public_key)
    charlie = bytes(dev_keypair("Charlie", "sr25519").public_key)
    assert message.sender == MessageOrigin.account(charlie)


def test_code_files_are_read_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "code.wasm").write_bytes(EMPTY_WASM)
    (tmp_path / "s.yaml").write_text(
        yaml.safe_dump(
            {
                "steps": [
                    {
                        "block": 1,
                        "deploy_cluster": {"name": "c", "owner": "Bob", "id": "0x" + "ab" * 32},
                    },
                    {
                        "block": 1,
                        "upload_code": {
                            "cluster": "c",
                            "origin": "Bob",
                            "code_file": "code.wasm",
                            "resource_type": "sidevm",
                        },
                    },
                ]
            }
        )
    )
    scenario = load_scenario(tmp_path / "s.yaml")
    assert scenario.clusters == {"c": b"\xab" * 32}
    upload = decode_topic_payload(
        Message(PALLET, scenario.messages[1].destination, scenario.messages[1].payload)
    )
    assert upload == UploadResource(BOB, b"\xab" * 32, ResourceType.SIDEVM_CODE, EMPTY_WASM)


def test_system_code_goes_into_genesis(tmp_path: Path) -> None:
    (tmp_path / "system.wasm").write_bytes(EMPTY_WASM + b"system")
    document = {
        "system_code": {"code_file": "system.wasm"},
        "steps": [{"block": 1, "deploy_cluster": {"owner": "Alice"}}],
    }
    chain = scenario_chain(parse_scenario(document, tmp_path, "s.yaml"))
    code = EMPTY_WASM + b"system"
    assert chain.storage(keys.PINK_SYSTEM_CODE, chain.genesis_hash) == (
        b"\x00\x00" + bytes([len(code) * 4]) + code
    )
    without = parse_scenario({"steps": document["steps"]}, tmp_path, "s.yaml")
    config = without.configure(DevnetConfig(system_code=b"kept"))
    assert config.system_code == b"kept"
    for bad, expected in (
        ({"code_hex": "0x00", "code_file": "x"}, "give exactly one of"),
        ({"code_hex": "0x00", "version": 1}, "unknown field(s) ['version']"),
        ("system.wasm", "expected a mapping"),
    ):
        with pytest.raises(ScenarioError, match=re.escape(f"s.yaml: system_code: {expected}")):
            parse_scenario({**document, "system_code": bad}, tmp_path, "s.yaml")


def step(**action: Any) -> dict[str, Any]:
    return {"steps": [{"block": 1, **action}]}


CLUSTER = {"deploy_cluster": {"name": "c", "owner": "Alice"}}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], "expected a mapping"),
        ({"steps": []}, "field 'steps': must be a non-empty list"),
        ({"steps": [{"block": 1, **CLUSTER}], "extra": 1}, "unknown field(s) ['extra']"),
        ({"sudo": "pallet", "steps": [{"block": 1, **CLUSTER}]}, "field 'sudo'"),
        ({"keys": "ecdsa", "steps": [{"block": 1, **CLUSTER}]}, "field 'keys'"),
        (step(), "steps[0]: needs exactly one action"),
        ({"steps": [{"block": 1, **CLUSTER, "deposit": {}}]}, "needs exactly one action"),
        ({"steps": [{**CLUSTER}]}, "steps[0]: missing field 'block'"),
        ({"steps": [{"block": 0, **CLUSTER}]}, "field 'block': must be >= 1"),
        (
            {"steps": [{"block": 2, **CLUSTER}, {"block": 1, **CLUSTER}]},
            "steps[1]: field 'block': 1 comes before the previous step's 2",
        ),
        (
            step(deploy_cluster={"owner": "Alice", "colour": "red"}),
            "steps[0] (block 1, deploy_cluster): unknown field(s) ['colour']",
        ),
        (step(deploy_cluster={"owner": "Nobody"}), "field 'owner'"),
        (
            step(deploy_cluster={"owner": "Alice", "deposit": -1}),
            "field 'deposit': must be an integer in 0..2^128-1",
        ),
        (
            step(deploy_cluster={"owner": "Alice", "id": "0x12"}),
            "field 'id': not 32 bytes long but 1",
        ),
        (
            step(deploy_cluster={"owner": "Alice", "workers": [{"pubkey": "0x00"}]}),
            "field 'workers'",
        ),
        (
            step(upload_code={"cluster": "missing", "origin": "Alice", "code_hex": "0x00"}),
            "no cluster named 'missing' defined by an earlier step",
        ),
        (
            {
                "steps": [
                    {"block": 1, **CLUSTER},
                    {"block": 1, "upload_code": {"cluster": "c", "origin": "Alice"}},
                ]
            },
            "exactly one of 'code_file' or 'code_hex'",
        ),
        (
            {
                "steps": [
                    {"block": 1, **CLUSTER},
                    {
                        "block": 1,
                        "upload_code": {
                            "cluster": "c",
                            "origin": "Alice",
                            "code_file": "nope.wasm",
                        },
                    },
                ]
            },
            "cannot read",
        ),
        (
            {"steps": [{"block": 1, **CLUSTER}, {"block": 1, **CLUSTER}]},
            "field 'name': 'c' is already defined",
        ),
        (
            step(command={"contract": "0x" + "00" * 32, "sender": "Zed", "message": "0x00"}),
            "field 'sender': must be `pallet` or a dev account",
        ),
        (
            step(
                command={
                    "contract": "0x" + "00" * 32,
                    "sender": "Bob",
                    "message": "0x00",
                    "nonce": "0x" + "00" * 33,
                }
            ),
            "at most 32",
        ),
        (
            step(command={"contract": "0x" + "00" * 32, "sender": "Bob", "message": "00"}),
            "field 'message': not 0x-prefixed hex",
        ),
        (step(message={"sender": "Bob", "topic": "t", "payload": "0xzz"}), "field 'payload'"),
        (
            step(
                instantiate={
                    "cluster": "0x" + "00" * 32,
                    "code": "x",
                    "deployer": "Alice",
                    "data": "0x",
                }
            ),
            "no code named 'x'",
        ),
        (
            step(deposit={"cluster": "0x" + "00" * 32, "account": "Bob", "amount": True}),
            "field 'amount'",
        ),
    ],
)
def test_invalid_scenarios_name_the_step(document: Any, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(document, tmp_path, "s.yaml")
    assert str(err.value).startswith("s.yaml")
    assert expected in str(err.value)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("steps: [")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(tmp_path / "bad.yaml")


def test_chain_that_does_not_fit_the_scenario_is_refused() -> None:
    scenario = load_scenario(DEMO)
    chain = scenario_chain(scenario)
    chain.produce(3)
    with pytest.raises(ScenarioError, match="starts at block 2 but the chain is already at #3"):
        ScenarioRunner(scenario, ExtrinsicPool(chain))
    with pytest.raises(ScenarioError, match="sudo key is not the scenario's sudo"):
        ScenarioRunner(scenario, ExtrinsicPool(DevChain(DevnetConfig())))
    unfunded = scenario.configure(DevnetConfig(initial_balances={}))
    unfunded.initial_balances.pop("0x" + BOB.hex())
    with pytest.raises(ScenarioError, match=r"signer Bob .* has no funds"):
        ScenarioRunner(scenario, ExtrinsicPool(DevChain(unfunded)))


def test_every_action_builds_its_message(tmp_path: Path) -> None:
    worker = "0x" + "77" * 32
    document = {
        "steps": [
            {
                "block": 1,
                "deploy_cluster": {
                    "name": "c",
                    "owner": "Alice",
                    "workers": [{"pubkey": worker, "ecdh_pubkey": worker}],
                },
            },
            {"block": 1, "remove_worker": {"cluster": "c", "worker": worker}},
            {"block": 1, "destroy_cluster": {"cluster": "c"}},
            {"block": 1, "message": {"sender": "Eve", "topic": "0x5e6f6e", "payload": "0x01"}},
        ]
    }
    scenario = parse_scenario(document, tmp_path, "s.yaml")
    chain = scenario_chain(scenario)
    ScenarioRunner(scenario, ExtrinsicPool(chain)).run()
    deploy, remove, destroy = decode_messages(chain.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES))
    assert all(m.sender.is_pallet for m in (deploy, remove, destroy))
    event = decode_topic_payload(deploy)
    assert isinstance(event, DeployCluster) and event.workers[0].pubkey == b"\x77" * 32
    assert decode_topic_payload(remove) == RemoveWorker(bytes(32), b"\x77" * 32)
    assert decode_topic_payload(destroy) == DestroyCluster(bytes(32))
    # "^on": an on-chain-only topic, included but not pushed to OutboundMessages.
    eve = bytes(dev_keypair("Eve", "ed25519").public_key)
    assert chain.account_nonce(eve) == 1
