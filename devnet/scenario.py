"""Scenario files: a YAML script of the Phala messages the devnet puts on chain, block by block.

```yaml
sudo: Alice                       # signs the pallet-origin messages (Sudo key); default Alice
keys: ed25519                     # dev keys the scenario signs with: ed25519 (default) or sr25519
system_code: {code_file: system.wasm}   # genesis PhalaPhatContracts::PinkSystemCode (optional)
steps:
  - block: 2                      # submitted right before block 2: its messages land in block 2
    deploy_cluster: {name: main, owner: Alice, deposit: 10000000000000}
  - block: 3
    upload_code: {name: flipper, cluster: main, origin: Alice, code_file: flipper.wasm}
  - block: 4
    instantiate: {name: flip, cluster: main, code: flipper, deployer: Alice, data: "0x9bae9d5e"}
  - block: 5
    command: {contract: flip, sender: Bob, message: "0x633aa551", gas_limit: 1000000000}
```

Actions: `deploy_cluster`, `upload_code`, `instantiate`, `deposit`, `destroy_cluster`,
`remove_worker` (all pallet-origin, sent as `Sudo.sudo(PhalaMq.force_push_pallet_message)`),
`command` (`push_message` signed by `sender`, or pallet-origin with `sender: pallet`) and
`message` (any topic and payload). Each message is a real signed extrinsic that goes through
the same checks as one arriving over RPC. Names given to clusters, code and contracts are
resolved when the file is loaded: a cluster id is the H256 of the cluster counter (as Phala
numbers them) unless `id` is given, a code hash is blake2-256 of the code, a contract id
follows `ContractInfo::contract_id`. Validation is strict: unknown fields, bad values and
undefined names are errors naming the step.

Dev names (`Alice`, ...) stand for the dev keys of the scenario's `keys` type everywhere in the
file, so an owner and a sender named alike are one account. ed25519 is the default because its
signatures are deterministic: the same scenario on the same configuration then yields the same
block hashes (sr25519 signatures are randomized, so its blocks differ run to run). Build the
chain with `Scenario.configure(config)` so its sudo key and balances match the signers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from substrateinterface import Keypair

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.hextext import parse_hex
from pinkpipe.chain.messages import (
    CLUSTER_EVENT_TOPIC,
    CLUSTER_KEY_TOPIC,
    CONTRACT_OP_TOPIC,
    ClusterSettings,
    ContractInfo,
    DeployCluster,
    Deposit,
    DestroyCluster,
    InkMessage,
    InstantiateCode,
    MessageError,
    PlainPayload,
    RemoveWorker,
    ResourceType,
    UploadResource,
    WorkerIdentity,
    contract_command_topic,
)
from pinkpipe.devnet.config import (
    DEFAULT_BALANCE,
    DEV_ACCOUNTS,
    DevnetConfig,
    DevnetError,
    parse_account,
)
from pinkpipe.devnet.extrinsics import ExtrinsicBuilder, ExtrinsicPool, ExtrinsicRejected
from pinkpipe.devnet.genesis import SUDO_KEY
from pinkpipe.devnet.keys import dev_keypair

PALLET = "pallet"
KEY_TYPES = ("ed25519", "sr25519")
DEFAULT_GAS_LIMIT = 10**12
RESOURCE_TYPES = {
    "ink": ResourceType.INK_CODE,
    "sidevm": ResourceType.SIDEVM_CODE,
    "indeterministic_ink": ResourceType.INDETERMINISTIC_INK_CODE,
}


class ScenarioError(DevnetError):
    """A scenario that cannot be loaded or run; names the file and the step."""


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """One message to put on chain: `sender` is a dev account name or `pallet`."""

    block: int
    label: str
    sender: str
    destination: bytes
    payload: bytes


# --- field parsing -------------------------------------------------------------------------------


class _Fields:
    """The fields of one mapping in the file, consumed one by one; leftovers are errors."""

    def __init__(self, where: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise ScenarioError(f"{where}: expected a mapping, got {_show(value)}")
        self.where = where
        self.values = dict(value)

    def fail(self, name: str, reason: str) -> ScenarioError:
        return ScenarioError(f"{self.where}: field {name!r}: {reason}")

    def take(self, name: str, parse: Callable[[Any], Any], default: Any = ...) -> Any:
        if name not in self.values:
            if default is ...:
                raise ScenarioError(f"{self.where}: missing field {name!r}")
            return default
        raw = self.values.pop(name)
        try:
            return parse(raw)
        except (ValueError, TypeError, DevnetError, MessageError) as e:
            raise self.fail(name, str(e)) from None

    def done(self) -> None:
        if self.values:
            raise ScenarioError(f"{self.where}: unknown field(s) {sorted(self.values)}")


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _uint(bits: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
            raise ValueError(f"must be an integer in 0..2^{bits}-1, got {_show(value)}")
        return value

    return parse


def _h256(value: Any) -> bytes:
    return parse_hex(value, size=32)


def _text_or_hex(value: Any) -> bytes:
    if isinstance(value, str):
        return parse_hex(value) if value.startswith("0x") else value.encode()
    raise ValueError(f"must be text or 0x hex, got {_show(value)}")


def _dev_name(value: Any) -> str | None:
    if isinstance(value, str) and value.lstrip("/") in DEV_ACCOUNTS:
        return value.lstrip("/")
    return None


def _key_type(value: Any) -> str:
    if value not in KEY_TYPES:
        raise ValueError(f"must be one of {', '.join(KEY_TYPES)}, got {_show(value)}")
    return str(value)


def _signer(value: Any) -> str:
    if value == PALLET:
        return PALLET
    name = _dev_name(value)
    if name is None:
        raise ValueError(
            f"must be `pallet` or a dev account ({', '.join(DEV_ACCOUNTS)}), got {_show(value)}"
        )
    return name


def _resource_type(value: Any) -> ResourceType:
    if value not in RESOURCE_TYPES:
        raise ValueError(f"must be one of {sorted(RESOURCE_TYPES)}, got {_show(value)}")
    return RESOURCE_TYPES[value]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value or value.startswith("0x"):
        raise ValueError(f"must be a non-empty name not starting with 0x, got {_show(value)}")
    return value


def _optional_u128(value: Any) -> int | None:
    return None if value is None else _uint(128)(value)


# --- loading -------------------------------------------------------------------------------------


class _Loader:
    """Turns the file's steps into planned messages, resolving names in file order."""

    def __init__(self, base_dir: Path, key_type: str) -> None:
        self.base_dir = base_dir
        self.key_type = key_type
        self.clusters: dict[str, bytes] = {}
        self.codes: dict[str, bytes] = {}
        self.contracts: dict[str, bytes] = {}
        self.cluster_count = 0

    def _account(self, value: Any) -> bytes:
        """A dev name (a key of the scenario's type), an SS58 address or 0x hex."""
        name = _dev_name(value)
        if name is not None:
            return bytes(dev_keypair(name, self.key_type).public_key)
        if not isinstance(value, str):
            raise ValueError(f"must be a dev name, SS58 address or 0x hex, got {_show(value)}")
        return parse_account(value)

    def _ref(self, table: dict[str, bytes], kind: str) -> Callable[[Any], bytes]:
        def parse(value: Any) -> bytes:
            if isinstance(value, str) and value.startswith("0x"):
                return _h256(value)
            if value not in table:
                raise ValueError(f"no {kind} named {value!r} defined by an earlier step")
            return table[value]

        return parse

    def _define(self, f: _Fields, table: dict[str, bytes], value: bytes) -> None:
        name = f.take("name", _name, None)
        if name is None:
            return
        if name in table:
            raise f.fail("name", f"{name!r} is already defined")
        table[name] = value

    def code(self, f: _Fields) -> bytes:
        """The bytes of exactly one of `code_file` (relative to the scenario) or `code_hex`."""
        has_file, has_hex = "code_file" in f.values, "code_hex" in f.values
        if has_file == has_hex:
            raise ScenarioError(f"{f.where}: give exactly one of 'code_file' or 'code_hex'")
        if has_hex:
            return f.take("code_hex", parse_hex)

        def read(value: Any) -> bytes:
            if not isinstance(value, str):
                raise ValueError(f"must be a path, got {_show(value)}")
            path = self.base_dir / value
            try:
                return path.read_bytes()
            except OSError as e:
                raise ValueError(f"cannot read {path}: {e.strerror}") from None

        return f.take("code_file", read)

    def step(self, block: int, action: str, f: _Fields) -> PlannedMessage:
        try:
            sender, destination, payload = getattr(self, f"_{action}")(f)
        except MessageError as e:
            raise ScenarioError(f"{f.where}: {e}") from None
        f.done()
        return PlannedMessage(block, f.where, sender, destination, payload)

    def _deploy_cluster(self, f: _Fields) -> tuple[str, bytes, bytes]:
        default_id = self.cluster_count.to_bytes(32, "big")
        cluster = f.take("id", _h256, default_id)
        self.cluster_count += 1
        self._define(f, self.clusters, cluster)
        owner = f.take("owner", self._account)
        settings = ClusterSettings(
            owner=owner,
            deposit=f.take("deposit", _uint(128), 0),
            gas_price=f.take("gas_price", _uint(128), 0),
            deposit_per_item=f.take("deposit_per_item", _uint(128), 0),
            deposit_per_byte=f.take("deposit_per_byte", _uint(128), 0),
            treasury_account=f.take("treasury", self._account, owner),
        )
        workers = f.take("workers", self._workers, ())
        return PALLET, CLUSTER_EVENT_TOPIC, DeployCluster(cluster, workers, settings).encode()

    def _workers(self, value: Any) -> tuple[WorkerIdentity, ...]:
        if not isinstance(value, list):
            raise ValueError(f"must be a list of {{pubkey, ecdh_pubkey}}, got {_show(value)}")
        out = []
        for i, item in enumerate(value):
            w = _Fields(f"workers[{i}]", item)
            out.append(WorkerIdentity(w.take("pubkey", _h256), w.take("ecdh_pubkey", _h256)))
            w.done()
        return tuple(out)

    def _upload_code(self, f: _Fields) -> tuple[str, bytes, bytes]:
        cluster = f.take("cluster", self._ref(self.clusters, "cluster"))
        origin = f.take("origin", self._account)
        resource_type = f.take("resource_type", _resource_type, ResourceType.INK_CODE)
        code = self.code(f)
        self._define(f, self.codes, blake2_256(code))
        op = UploadResource(origin, cluster, resource_type, code)
        return PALLET, CLUSTER_KEY_TOPIC, op.encode()

    def _instantiate(self, f: _Fields) -> tuple[str, bytes, bytes]:
        info = ContractInfo(
            deployer=f.take("deployer", self._account),
            code_hash=f.take("code", self._ref(self.codes, "code")),
            salt=f.take("salt", _text_or_hex, b""),
            cluster_id=f.take("cluster", self._ref(self.clusters, "cluster")),
            instantiate_data=f.take("data", parse_hex),
        )
        op = InstantiateCode(
            info,
            transfer=f.take("transfer", _uint(128), 0),
            gas_limit=f.take("gas_limit", _uint(64), DEFAULT_GAS_LIMIT),
            storage_deposit_limit=f.take("storage_deposit_limit", _optional_u128, None),
        )
        self._define(f, self.contracts, info.contract_id())
        return PALLET, CONTRACT_OP_TOPIC, op.encode()

    def _command(self, f: _Fields) -> tuple[str, bytes, bytes]:
        contract = f.take("contract", self._ref(self.contracts, "contract"))
        sender = f.take("sender", _signer)
        command = InkMessage(
            nonce=f.take("nonce", parse_hex, b""),
            message=f.take("message", parse_hex),
            transfer=f.take("transfer", _uint(128), 0),
            gas_limit=f.take("gas_limit", _uint(64), DEFAULT_GAS_LIMIT),
            storage_deposit_limit=f.take("storage_deposit_limit", _optional_u128, None),
        )
        return sender, contract_command_topic(contract), PlainPayload(command).encode()

    def _deposit(self, f: _Fields) -> tuple[str, bytes, bytes]:
        op = Deposit(
            f.take("cluster", self._ref(self.clusters, "cluster")),
            f.take("account", self._account),
            f.take("amount", _uint(128)),
        )
        return PALLET, CLUSTER_KEY_TOPIC, op.encode()

    def _destroy_cluster(self, f: _Fields) -> tuple[str, bytes, bytes]:
        op = DestroyCluster(f.take("cluster", self._ref(self.clusters, "cluster")))
        return PALLET, CLUSTER_KEY_TOPIC, op.encode()

    def _remove_worker(self, f: _Fields) -> tuple[str, bytes, bytes]:
        op = RemoveWorker(
            f.take("cluster", self._ref(self.clusters, "cluster")), f.take("worker", _h256)
        )
        return PALLET, CLUSTER_KEY_TOPIC, op.encode()

    def _message(self, f: _Fields) -> tuple[str, bytes, bytes]:
        sender = f.take("sender", _signer)
        return sender, f.take("topic", _text_or_hex), f.take("payload", parse_hex)


ACTIONS = (
    "deploy_cluster",
    "upload_code",
    "instantiate",
    "command",
    "deposit",
    "destroy_cluster",
    "remove_worker",
    "message",
)


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: who signs, and the messages to send, by block."""

    sudo: str
    key_type: str
    messages: tuple[PlannedMessage, ...]
    contracts: dict[str, bytes]
    clusters: dict[str, bytes]
    system_code: bytes | None = None
    """The Pink system contract to put in genesis; None keeps the configuration's."""

    @property
    def last_block(self) -> int:
        return max((m.block for m in self.messages), default=0)

    def at(self, block: int) -> list[PlannedMessage]:
        return [m for m in self.messages if m.block == block]

    def keypair(self, name: str) -> Keypair:
        return dev_keypair(name, self.key_type)

    def account(self, name: str) -> bytes:
        return bytes(self.keypair(name).public_key)

    @property
    def signers(self) -> list[str]:
        """Dev names that sign extrinsics (the sudo key if any message is pallet-origin)."""
        names = {self.sudo if m.sender == PALLET else m.sender for m in self.messages}
        return sorted(names)

    def configure(self, config: DevnetConfig) -> DevnetConfig:
        """`config` with the scenario's sudo key, system code and every dev key of its type
        funded."""
        funded = {"0x" + self.account(name).hex(): DEFAULT_BALANCE for name in DEV_ACCOUNTS}
        system_code = config.system_code if self.system_code is None else self.system_code
        return replace(
            config,
            sudo="0x" + self.account(self.sudo).hex(),
            initial_balances={**config.initial_balances, **funded},
            system_code=system_code,
        )


def parse_scenario(document: Any, base_dir: Path, source: str = "scenario") -> Scenario:
    """Validate a parsed YAML document; errors are prefixed with `source` and the step."""
    top = _Fields(source, document)
    sudo = top.take("sudo", _signer, "Alice")
    if sudo == PALLET:
        raise top.fail("sudo", "must be a dev account")
    key_type = top.take("keys", _key_type, "ed25519")
    steps = top.take("steps", _list_of_steps)
    loader = _Loader(base_dir, key_type)
    system_code = None
    if "system_code" in top.values:
        code = _Fields(f"{source}: system_code", top.values.pop("system_code"))
        system_code = loader.code(code)
        code.done()
    top.done()
    planned = []
    previous = 0
    for i, step in enumerate(steps):
        where = f"{source}: steps[{i}]"
        f = _Fields(where, step)
        block = f.take("block", _uint(32))
        if block < 1:
            raise f.fail("block", "must be >= 1 (genesis has no extrinsics)")
        if block < previous:
            raise f.fail("block", f"{block} comes before the previous step's {previous}")
        previous = block
        actions = [k for k in f.values if k in ACTIONS]
        if len(actions) != 1:
            raise ScenarioError(
                f"{where}: needs exactly one action of {', '.join(ACTIONS)}, got {sorted(f.values)}"
            )
        action = actions[0]
        body = _Fields(f"{where} (block {block}, {action})", f.values.pop(action))
        f.done()
        planned.append(loader.step(block, action, body))
    return Scenario(sudo, key_type, tuple(planned), loader.contracts, loader.clusters, system_code)


def _list_of_steps(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a non-empty list of steps, got {_show(value)}")
    return value


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ScenarioError(f"cannot read scenario {path}: {e.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError(f"scenario {path} is not valid YAML: {e}") from None
    return parse_scenario(document, path.parent, str(path))


# --- running -------------------------------------------------------------------------------------


class ScenarioRunner:
    """Submits a scenario's messages as signed extrinsics right before their block."""

    def __init__(self, scenario: Scenario, pool: ExtrinsicPool) -> None:
        chain = pool.chain
        first = min((m.block for m in scenario.messages), default=1)
        if first <= chain.best_number:
            raise ScenarioError(
                f"the scenario starts at block {first} but the chain is "
                f"already at #{chain.best_number}"
            )
        if any(m.sender == PALLET for m in scenario.messages) and (
            chain.storage(SUDO_KEY) != scenario.account(scenario.sudo)
        ):
            raise ScenarioError(
                f"the chain's sudo key is not the scenario's sudo "
                f"({scenario.sudo}, {scenario.key_type}): build the chain with "
                f"Scenario.configure(config)"
            )
        for name in scenario.signers:
            if chain.account_info(scenario.account(name)).free == 0:
                raise ScenarioError(
                    f"the scenario's signer {name} ({scenario.key_type}) has no "
                    f"funds on the chain: build it with Scenario.configure"
                )
        self.scenario = scenario
        self.builder = ExtrinsicBuilder(pool)
        self.pool = pool
        self.submitted: list[bytes] = []

    def before_block(self, number: int) -> None:
        """Submit the messages of block `number` (a `DevnetServer.before_block` hook)."""
        scenario = self.scenario
        for planned in scenario.at(number):
            if planned.sender == PALLET:
                extrinsic = self.builder.force_push(
                    scenario.keypair(scenario.sudo), planned.destination, planned.payload
                )
            else:
                extrinsic = self.builder.push_message(
                    scenario.keypair(planned.sender), planned.destination, planned.payload
                )
            try:
                self.submitted.append(self.pool.submit(extrinsic))
            except ExtrinsicRejected as e:
                raise ScenarioError(
                    f"{planned.label}: the chain refused the extrinsic: {e}"
                ) from None

    def run(self) -> None:
        """Produce blocks on the pool's chain until the scenario's last block (no server)."""
        chain = self.pool.chain
        while chain.best_number < self.scenario.last_block:
            self.before_block(chain.best_number + 1)
            chain.produce_block()
