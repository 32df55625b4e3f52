"""`pinkpipe pink run`: the example session end to end, and clean errors for bad sessions."""

from __future__ import annotations

import json
from pathlib import Path

import wasmtime
from click.testing import CliRunner

from pinkpipe.app.cli import cli
from tests.vectors import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "sessions" / "flipper_and_token.yaml"


def run(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["pink", "run", str(path)])
    return result.exit_code, result.output


def test_the_example_session() -> None:
    code, out = run(EXAMPLE)
    assert code == 0, out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["kind"] for line in lines] == [
        "upload", "instantiate", "call", "call", "call", "instantiate", "deposit", "call",
    ]  # fmt: skip
    assert all(line["ok"] for line in lines)
    assert lines[1]["storage_deposit"] == 126 and lines[1]["ink"] == "Ok(0x00)"
    assert [lines[2]["ink"], lines[4]["ink"]] == ["Ok(0x01)", "Ok(0x00)"]
    assert lines[5]["storage_deposit"] == 158
    transfer = lines[7]
    names = [e["name"] for e in transfer["events"]]
    assert names[0] == "System::NewAccount"  # the treasury, paid for gas the first time
    assert "Contracts::ContractEmitted" in names and names[-1] == "Balances::Transfer"  # refund
    assert transfer["events_encoded"].startswith("0x02")  # Phase::Initialization
    assert transfer["entry_contract"] == lines[5]["contract"]
    assert transfer["origin"] == "0x" + "01" * 32


def test_bad_sessions_fail_cleanly(tmp_path: Path) -> None:
    cases = {
        "steps: 3": "expected a mapping with a 'steps' list",
        "steps: [{jump: {}}]": "step 0: expected one of deposit, upload, instantiate, call",
        "steps: [{call: {contract: '0x12'}}]": "step 0 (call).contract: expected 32 bytes",
        "steps: [{upload: {file: missing.wasm}}]": "cannot read code from",
        "steps: [{call: {contract: '0x" + "00" * 32 + "', mode: fast}}]": "mode: one of",
    }
    for text, message in cases.items():
        session = tmp_path / "session.yaml"
        session.write_text("cluster: {}\n" + text)
        code, out = run(session)
        assert code != 0 and message in out, (text, out)


def test_a_refused_upload_is_a_result_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "bad.wasm").write_bytes(b"\x00asm\x01\x00\x00\x00\xff")
    session = tmp_path / "session.yaml"
    session.write_text("steps:\n  - upload: {file: bad.wasm}\n")
    code, out = run(session)
    assert code == 0
    line = json.loads(out)
    assert line["ok"] is False and "invalid wasm at byte 9: unexpected end" in line["error"]


def test_ink_contract_bundles_are_read(tmp_path: Path) -> None:
    """An ink! `.contract` bundle carries the wasm as hex under source.wasm."""
    wasm = (PROJECT_ROOT / "examples" / "contracts" / "flipper.wat").read_text()
    bundle = {"source": {"wasm": "0x" + bytes(wasmtime.wat2wasm(wasm)).hex()}, "spec": {}}
    (tmp_path / "flipper.contract").write_text(json.dumps(bundle))
    session = tmp_path / "session.yaml"
    session.write_text(
        "steps:\n"
        "  - instantiate: {code: flipper.contract, input: '0xed4b9d1b', as: f}\n"
        "  - call: {contract: f, input: '0x2f865bd9', mode: query}\n"
    )
    code, out = run(session)
    assert code == 0, out
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["ok"] and lines[1]["ink"] == "Ok(0x00)"


def test_the_cluster_owner_is_the_default_caller(tmp_path: Path) -> None:
    owner = "0x" + "07" * 32
    flipper = PROJECT_ROOT / "examples" / "contracts" / "flipper.wat"
    session = tmp_path / "session.yaml"
    session.write_text(
        f"cluster: {{owner: '{owner}'}}\n"
        f"steps:\n  - instantiate: {{code: {flipper}, input: '0xed4b9d1b'}}\n"
    )
    code, out = run(session)
    assert code == 0, out
    line = json.loads(out)
    assert line["ok"] and line["events"][-3]["name"] == "Contracts::Instantiated"
    assert line["events"][-3]["fields"].startswith(owner)  # deployer
