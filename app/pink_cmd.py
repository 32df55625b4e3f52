"""`pinkpipe pink run SESSION`: try contracts on a local Pink cluster, no chain needed.

A session file (YAML or JSON) names the cluster and a list of steps; each step prints one JSON
line with its result. This is an adapter: files and printing here, all execution in
`pinkpipe.executor`. The format is documented in the README ("Trying contracts").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import wasmtime
import yaml

from pinkpipe.executor.errors import CodeRejected, DispatchFailure
from pinkpipe.executor.events import EventRecord, event_name
from pinkpipe.executor.results import ContractResult
from pinkpipe.executor.runtime import ClusterSetup, Mode, Outcome, PinkRuntime, SetupError, TxArgs
from pinkpipe.executor.stack import ExecContext

ALICE = "0x" + "01" * 32
MODES = {"query": Mode.QUERY, "estimate": Mode.ESTIMATING, "transaction": Mode.TRANSACTION}
STEP_KINDS = ("deposit", "upload", "instantiate", "call")


class SessionError(click.ClickException):
    """A malformed session file or step; names the step and the field."""


def _hex(value: Any, where: str, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise SessionError(f"{where}: expected a 0x hex string, got {value!r:.60}")
    try:
        data = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise SessionError(f"{where}: not hex: {value!r:.60}") from None
    if size is not None and len(data) != size:
        raise SessionError(f"{where}: expected {size} bytes, got {len(data)}")
    return data


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SessionError(f"{where}: expected a non-negative integer, got {value!r:.60}")
    return value


def read_code(path: Path) -> bytes:
    """A .wasm file, a .wat file, or an ink! `.contract` bundle (JSON with source.wasm)."""
    try:
        if path.suffix == ".wat":
            return bytes(wasmtime.wat2wasm(path.read_text()))
        if path.suffix == ".contract":
            return _hex(json.loads(path.read_text())["source"]["wasm"], f"{path}: source.wasm")
        return path.read_bytes()
    except (OSError, KeyError, json.JSONDecodeError, wasmtime.WasmtimeError) as e:
        raise SessionError(f"cannot read code from {path}: {str(e).splitlines()[0]}") from None


class Session:
    """One cluster and the names the steps gave to code hashes and contracts."""

    def __init__(self, spec: dict[str, Any], base: Path) -> None:
        self.base = base
        self.names: dict[str, bytes] = {}
        self.runtime = PinkRuntime()
        cluster = spec.get("cluster") or {}
        if not isinstance(cluster, dict):
            raise SessionError("cluster: expected a mapping")
        owner = _hex(cluster.get("owner", ALICE), "cluster.owner", 32)
        self.owner = "0x" + owner.hex()  # the default caller of every step
        params = ClusterSetup(
            cluster_id=_hex(cluster.get("cluster_id", "0x" + "00" * 32), "cluster.cluster_id", 32),
            owner=owner,
            deposit=_int(cluster.get("deposit", 2**127 - 1), "cluster.deposit"),
            gas_price=_int(cluster.get("gas_price", 1), "cluster.gas_price"),
            deposit_per_item=_int(cluster.get("deposit_per_item", 1), "cluster.deposit_per_item"),
            deposit_per_byte=_int(cluster.get("deposit_per_byte", 1), "cluster.deposit_per_byte"),
            treasury=_hex(cluster.get("treasury", "0x" + "02" * 32), "cluster.treasury", 32),
            system_code=b"",
        )
        system = cluster.get("system_code")
        context = ExecContext(Mode.TRANSACTION)
        if system is None:
            self.runtime.configure(params, context)
            return
        code = read_code(self.base / str(system))
        try:
            self.runtime.setup(replace(params, system_code=code), context)
        except SetupError as e:
            raise SessionError(f"cluster setup failed: {e}") from None

    def account(self, value: Any, where: str) -> bytes:
        if isinstance(value, str) and value in self.names:
            return self.names[value]
        return _hex(value, where, 32)

    def code_hash(self, value: Any, where: str) -> bytes:
        if isinstance(value, str) and not value.startswith("0x") and value not in self.names:
            return self.upload({"file": value}, where)["code_hash_bytes"]
        return self.account(value, where)

    def upload(self, step: dict[str, Any], where: str) -> dict[str, Any]:
        code = read_code(self.base / str(step.get("file")))
        origin = self.account(step.get("caller", self.owner), f"{where}.caller")
        context = ExecContext(Mode.TRANSACTION, step.get("block", 0), step.get("time", 0))
        deterministic = bool(step.get("deterministic", True))
        try:
            outcome = self.runtime.upload_code(origin, code, deterministic, context)
        except (CodeRejected, DispatchFailure) as e:
            return {"ok": False, "error": str(e)}
        if "as" in step:
            self.names[str(step["as"])] = outcome.value
        return {
            "ok": True,
            "code_hash": "0x" + outcome.value.hex(),
            "code_hash_bytes": outcome.value,
            "events": [describe(e) for e in outcome.events],
        }

    def deposit(self, step: dict[str, Any], where: str) -> dict[str, Any]:
        who = self.account(step.get("account"), f"{where}.account")
        outcome = self.runtime.deposit(
            who, _int(step.get("amount"), f"{where}.amount"), ExecContext(Mode.TRANSACTION)
        )
        return {"ok": True, "events": [describe(e) for e in outcome.events]}

    def _args(self, step: dict[str, Any], where: str) -> TxArgs:
        return TxArgs(
            origin=self.account(step.get("caller", self.owner), f"{where}.caller"),
            transfer=_int(step.get("value", 0), f"{where}.value"),
            gas_limit=_int(step.get("gas_limit", 2**64 - 1), f"{where}.gas_limit"),
            gas_free=bool(step.get("gas_free", True)),
            storage_deposit_limit=step.get("storage_deposit_limit"),
        )

    def _mode(self, step: dict[str, Any], where: str) -> tuple[Mode, ExecContext]:
        name = step.get("mode", "transaction")
        if name not in MODES:
            raise SessionError(f"{where}.mode: one of {', '.join(MODES)}, not {name!r}")
        mode = MODES[name]
        return mode, ExecContext(mode, step.get("block", 0), step.get("time", 0))

    def instantiate(self, step: dict[str, Any], where: str) -> dict[str, Any]:
        code_hash = self.code_hash(step.get("code"), f"{where}.code")
        mode, context = self._mode(step, where)
        outcome = self.runtime.contract_instantiate(
            code_hash,
            _hex(step.get("input", "0x"), f"{where}.input"),
            _hex(step.get("salt", "0x"), f"{where}.salt"),
            mode,
            self._args(step, where),
            context,
        )
        if outcome.value.account is not None and "as" in step:
            self.names[str(step["as"])] = outcome.value.account
        return result_json(outcome)

    def call(self, step: dict[str, Any], where: str) -> dict[str, Any]:
        contract = self.account(step.get("contract"), f"{where}.contract")
        mode, context = self._mode(step, where)
        data = _hex(step.get("input", "0x"), f"{where}.input")
        outcome = self.runtime.contract_call(contract, data, mode, self._args(step, where), context)
        return result_json(outcome)

    def run_step(self, index: int, step: Any) -> dict[str, Any]:
        if not isinstance(step, dict) or len(step) != 1 or next(iter(step)) not in STEP_KINDS:
            raise SessionError(f"step {index}: expected one of {', '.join(STEP_KINDS)}")
        kind, body = next(iter(step.items()))
        if not isinstance(body, dict):
            raise SessionError(f"step {index} ({kind}): expected a mapping")
        handler: Callable[[dict[str, Any], str], dict[str, Any]] = getattr(self, kind)
        answer = handler(body, f"step {index} ({kind})")
        answer.pop("code_hash_bytes", None)
        return {"step": index, "kind": kind, **answer}


def describe(record: EventRecord) -> dict[str, Any]:
    return {
        "name": event_name(record),
        "fields": "0x" + record.fields.hex(),
        "topics": ["0x" + t.hex() for t in record.topics],
    }


def ink_result(flags: int, data: bytes) -> str:
    """How ink! 4/5 reads a message output: Result<T, LangError>."""
    if data == b"\x01\x01":
        return "Err(LangError::CouldNotReadInput)"
    if data[:1] == b"\x00":
        return f"Ok(0x{data[1:].hex()})"
    return "not an ink! 4/5 message result"


def _hex_or_none(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def result_json(outcome: Outcome[ContractResult]) -> dict[str, Any]:
    """The step's result, plus what an event block of it would carry (Transaction mode)."""
    result, emitted = outcome.value, outcome.events
    answer: dict[str, Any] = {
        "ok": result.ok,
        "gas_consumed": list(result.gas_consumed),
        "gas_required": list(result.gas_required),
        "storage_deposit": result.storage_deposit,
        "debug_message": result.debug_message.decode("utf-8", "replace"),
        "events": [describe(e) for e in emitted],
        "events_encoded": "0x" + b"".join(e.encode() for e in emitted).hex(),
        "entry_contract": _hex_or_none(outcome.entry_contract),
        "origin": _hex_or_none(outcome.origin),
    }
    if result.account is not None:
        answer["contract"] = "0x" + result.account.hex()
    if result.error is not None:
        answer["error"] = str(result.error)
    if result.output is not None:
        answer["flags"] = result.output.flags
        answer["data"] = "0x" + result.output.data.hex()
        answer["reverted"] = result.output.reverted
        answer["ink"] = ink_result(result.output.flags, result.output.data)
    return answer


def load_session(path: Path) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise SessionError(f"cannot read session {path}: {e}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("steps"), list):
        raise SessionError(f"{path}: expected a mapping with a 'steps' list")
    return spec


@click.group("pink")
def pink() -> None:
    """The Pink contract runtime."""


@pink.command("run")
@click.argument("session_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def run(session_file: Path) -> None:
    """Run SESSION_FILE's steps on a fresh local cluster; one JSON line per step."""
    spec = load_session(session_file)
    session = Session(spec, session_file.parent)
    for index, step in enumerate(spec["steps"]):
        click.echo(json.dumps(session.run_step(index, step)))
