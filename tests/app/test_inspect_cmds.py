"""`pinkpipe inspect genesis` and `pinkpipe inspect proof` on the real vectors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pinkpipe.app.cli import cli
from pinkpipe.chain.grandpa import decode_versioned_authorities, encode_authority_list
from pinkpipe.chain.keys import (
    GRANDPA_AUTHORITIES,
    GRANDPA_AUTHORITIES_WELL_KNOWN,
    GRANDPA_CURRENT_SET_ID,
    SYSTEM_EVENTS,
)
from pinkpipe.chain.proof import encode_proof
from pinkpipe.chain.scale import encode_u64
from tests.trie_vectors import rococo_events_proofs, smoldot_proof, smoldot_tests
from tests.vectors import WESTEND, WESTEND_GENESIS_HASH, westend_genesis_storage

SPEC = WESTEND / "chain-spec-raw.json"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["inspect", *args])
    return result.exit_code, result.output


def test_genesis_of_westend() -> None:
    code, out = _run("genesis", str(SPEC))
    assert code == 0, out
    assert f"genesis hash:   0x{WESTEND_GENESIS_HASH.hex()}" in out
    assert "state version:  V0" in out
    assert "keys:           93 top, 0 child tries" in out
    assert "grandpa set id: 0" in out
    assert "grandpa authorities: 4 (from :grandpa_authorities)" in out
    authorities = decode_versioned_authorities(
        westend_genesis_storage()[GRANDPA_AUTHORITIES_WELL_KNOWN]
    )
    for a in authorities:
        assert f"0x{a.id.hex()} weight 1" in out


def test_genesis_with_state_version_1_differs() -> None:
    code, out = _run("genesis", "--state-version", "1", str(SPEC))
    assert code == 0, out
    assert "state version:  V1" in out
    assert WESTEND_GENESIS_HASH.hex() not in out


def _spec_file(tmp_path: Path, storage: dict[bytes, bytes]) -> Path:
    top = {"0x" + k.hex(): "0x" + v.hex() for k, v in storage.items()}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"genesis": {"raw": {"top": top, "childrenDefault": {}}}}))
    return path


def test_genesis_reads_pallet_authorities_and_set_id(tmp_path: Path) -> None:
    storage = westend_genesis_storage()
    authorities = decode_versioned_authorities(storage.pop(GRANDPA_AUTHORITIES_WELL_KNOWN))
    storage[GRANDPA_AUTHORITIES] = encode_authority_list(authorities)
    storage[GRANDPA_CURRENT_SET_ID] = encode_u64(7)
    code, out = _run("genesis", str(_spec_file(tmp_path, storage)))
    assert code == 0, out
    assert "grandpa set id: 7" in out
    assert "grandpa authorities: 4 (from Grandpa::Authorities)" in out


def test_genesis_with_disagreeing_authority_keys_is_an_error(tmp_path: Path) -> None:
    """The same reading as the light client's bootstrap (chain.grandpa.genesis_grandpa)."""
    storage = westend_genesis_storage()
    authorities = decode_versioned_authorities(storage[GRANDPA_AUTHORITIES_WELL_KNOWN])
    storage[GRANDPA_AUTHORITIES] = encode_authority_list(authorities[1:])
    path = _spec_file(tmp_path, storage)
    code, out = _run("genesis", str(path))
    assert code == 1 and f"{path}: `:grandpa_authorities` and `Grandpa::Authorities`" in out


def test_genesis_rejects_non_raw_and_unreadable_specs(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"genesis": {"runtime": {}}}))
    code, out = _run("genesis", str(plain))
    assert code == 1 and "not a raw chain spec" in out
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, out = _run("genesis", str(broken))
    assert code == 2 and "cannot read" in out and "broken.json" in out


def test_genesis_rejects_malformed_raw_specs_without_a_traceback(tmp_path: Path) -> None:
    cases = {
        "genesis-not-a-map": ({"genesis": 5}, "not a raw chain spec"),
        "value-not-a-string": ({"top": {"0x00": 5}}, "genesis.raw.top[0x00] is not a hex string"),
        "top-not-a-map": ({"top": ["0x00"]}, "genesis.raw.top is not a key/value map"),
        "children-not-a-map": ({"top": {}, "childrenDefault": 7}, "childrenDefault is not a map"),
        "child-not-a-map": (
            {"top": {}, "childrenDefault": {"0x01": 3}},
            "childrenDefault[0x01] is not a key/value map",
        ),
    }
    for name, (raw, message) in cases.items():
        path = tmp_path / f"{name}.json"
        spec = raw if "genesis" in raw else {"genesis": {"raw": raw}}
        path.write_text(json.dumps(spec))
        result = CliRunner().invoke(cli, ["inspect", "genesis", str(path)])
        assert result.exit_code == 1 and result.exception is not None, name
        assert isinstance(result.exception, SystemExit), (name, result.exception)
        assert message in result.output, (name, result.output)


def _smoldot_files(tmp_path: Path) -> list[Path]:
    _, nodes = smoldot_proof("example_proof_polkadot_genesis")
    hex_nodes = ["0x" + n.hex() for n in nodes]
    files = {
        "rpc.json": json.dumps({"at": "0x" + "00" * 32, "proof": hex_nodes}),
        "response.json": json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"proof": hex_nodes}}),
        "list.json": json.dumps(hex_nodes),
        "scale.hex": "0x" + encode_proof(nodes).hex() + "\n",
    }
    paths = []
    for name, text in files.items():
        paths.append(tmp_path / name)
        paths[-1].write_text(text)
    paths.append(tmp_path / "scale.bin")
    paths[-1].write_bytes(encode_proof(nodes))
    return paths


def test_proof_reports_present_absent_and_uncovered(tmp_path: Path) -> None:
    root = smoldot_tests()["example_proof_polkadot_genesis"]["state_root"]
    present, absent, uncovered = (
        r["key"] for r in smoldot_tests()["example_proof_polkadot_genesis"]["reads"]
    )
    for path in _smoldot_files(tmp_path):
        code, out = _run(
            "proof",
            "--root",
            root,
            "--key",
            present,
            "--keys",
            f"{absent},{uncovered}",
            str(path),
        )
        assert code == 0, (path.name, out)
        assert "proof: 6 nodes" in out
        assert f"0x{present}: value 0x0d1456fdda7b8ec7f9e5c794cd83194f0593e4ea (20 bytes)" in out
        assert f"0x{absent}: absent" in out
        assert f"0x{uncovered}: not covered (missing node 0x" in out


def test_proof_of_rococo_system_events(tmp_path: Path) -> None:
    case = rococo_events_proofs()[0]
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"proof": ["0x" + n.hex() for n in case.nodes]}))
    root = case.header.state_root.hex()
    code, out = _run("proof", "--root", root, "--key", SYSTEM_EVENTS.hex(), str(path))
    assert code == 0, out
    assert "(11718 bytes)" in out and "…" in out
    code, out = _run("proof", "--full", "--root", root, "--key", SYSTEM_EVENTS.hex(), str(path))
    assert case.event.hex() in out


def test_proof_errors_are_clear(tmp_path: Path) -> None:
    root = smoldot_tests()["example_proof_polkadot_genesis"]["state_root"]
    scale = _smoldot_files(tmp_path)[-1]
    code, out = _run("proof", "--root", "00" * 32, "--key", "00", str(scale))
    assert code == 1 and "is not in the proof" in out
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\xff\xff\xff\xff\x01")
    code, out = _run("proof", "--root", root, "--key", "00", str(garbage))
    assert code == 1 and "malformed proof encoding" in out and "garbage.bin" in out
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(json.dumps({"proof": [1, 2]}))
    code, out = _run("proof", "--root", root, "--key", "00", str(bad_json))
    assert code == 1 and "hex nodes" in out
    code, out = _run("proof", "--root", "zz", "--key", "00", str(scale))
    assert code == 2 and "--root is not hex" in out
