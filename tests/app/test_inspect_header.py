"""`pinkpipe inspect header` on real Rococo and Westend headers, and on bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from pinkpipe.app.cli import cli
from pinkpipe.chain.grandpa import (
    Authority,
    ConsensusLog,
    ForcedChange,
    OnDisabled,
    Pause,
    Resume,
    ScheduledChange,
    encode_consensus_log,
    grandpa_logs,
)
from pinkpipe.chain.header import GRANDPA_ENGINE_ID, DigestItem, DigestKind, Header
from tests.vectors import rococo_register_header_bytes, westend_blocks


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["inspect", "header", *args], input=stdin)


def test_rococo_register_header_shows_the_68_authorities() -> None:
    raw = rococo_register_header_bytes(3164)
    header = Header.decode(raw)
    result = run("0x" + raw.hex())
    assert result.exit_code == 0, result.output
    out = result.output
    assert "number:          1842726\n" in out
    assert f"hash:            0x{header.hash().hex()}\n" in out
    assert f"parent hash:     0x{header.parent_hash.hex()}\n" in out
    assert f"state root:      0x{header.state_root.hex()}\n" in out
    assert f"extrinsics root: 0x{header.extrinsics_root.hex()}\n" in out
    assert "digest:          6 items\n" in out
    assert "  [4] consensus FRNK (GRANDPA): ScheduledChange: delay 0, 68 authorities\n" in out
    (change,) = grandpa_logs(header)
    for authority in change.next_authorities:
        assert f"      0x{authority.id.hex()} weight 1\n" in out
    assert out.count(" weight 1\n") == 68
    # Other engines stay raw: BEEFY's log and BABE's, shortened without --full.
    assert "  [3] consensus BEEF (BEEFY): 0x037bdb7a40dd" in out
    assert "(2755 bytes, --full shows all)" in out
    assert "  [5] seal BABE: 0x1209dc98" in out


def test_full_prints_whole_data() -> None:
    raw = rococo_register_header_bytes(3165)
    header = Header.decode(raw)
    (babe,) = header.items(DigestKind.CONSENSUS, b"BABE")
    result = run(raw.hex(), "--full")
    assert result.exit_code == 0, result.output
    assert f"  [1] consensus BABE: 0x{babe.data.hex()} ({len(babe.data)} bytes)\n" in result.output


def test_westend_header_from_stdin() -> None:
    block = westend_blocks()[41]
    header = Header.decode(block.header)
    result = run("-", stdin=f"  0x{block.header.hex()}\n")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "number:          42"
    assert lines[1] == f"hash:            0x{block.hash.hex()}"
    assert lines[5] == f"digest:          {len(header.digest)} items"
    pre, seal = header.items(DigestKind.PRE_RUNTIME)[0], header.items(DigestKind.SEAL)[0]
    assert f"  [0] pre-runtime BABE: 0x{pre.data.hex()} ({len(pre.data)} bytes)" in lines
    assert lines[-1] == f"  [{len(header.digest) - 1}] seal BABE: 0x{seal.data.hex()} (64 bytes)"


AUTH = (Authority(b"\x07" * 32, 3),)


def frnk(log: ConsensusLog) -> DigestItem:
    return DigestItem(DigestKind.CONSENSUS, encode_consensus_log(log), GRANDPA_ENGINE_ID)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            frnk(ForcedChange(9, ScheduledChange(AUTH, 4))),
            [
                "consensus FRNK (GRANDPA): ForcedChange: median last finalized #9, delay 4, "
                "1 authorities",
                "      0x" + "07" * 32 + " weight 3",
            ],
        ),
        (frnk(OnDisabled(2)), ["consensus FRNK (GRANDPA): OnDisabled: authority index 2"]),
        (frnk(Pause(5)), ["consensus FRNK (GRANDPA): Pause: delay 5"]),
        (frnk(Resume(6)), ["consensus FRNK (GRANDPA): Resume: delay 6"]),
        (
            DigestItem(DigestKind.CONSENSUS, b"\x09", GRANDPA_ENGINE_ID),
            [
                "consensus FRNK (GRANDPA): 0x09 (1 bytes)",
                "    does not decode: cannot decode ConsensusLog at byte 0: invalid tag 9",
            ],
        ),
        (
            DigestItem(DigestKind.PRE_RUNTIME, b"\x01", b"aura"),
            ["pre-runtime aura (Aura): 0x01 (1 bytes)"],
        ),
        (DigestItem(DigestKind.SEAL, b"", b"\x00\x01\x02\x03"), ["seal 0x00010203: 0x (0 bytes)"]),
        (DigestItem(DigestKind.OTHER, b"\xaa"), ["other: 0xaa (1 bytes)"]),
        (DigestItem(DigestKind.RUNTIME_ENVIRONMENT_UPDATED), ["runtime environment updated"]),
    ],
    ids=[
        "forced",
        "disabled",
        "pause",
        "resume",
        "bad-frnk",
        "aura",
        "binary-engine",
        "other",
        "runtime-updated",
    ],
)
def test_digest_items(item: DigestItem, expected: list[str]) -> None:
    header = Header(b"\x01" * 32, 7, b"\x02" * 32, b"\x03" * 32, (item,))
    result = run(header.encode().hex())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[6:] == ["  [0] " + expected[0], *expected[1:]]


@pytest.mark.parametrize(
    ("arg", "code", "message"),
    [
        ("0xzz", 2, "Error: HEX argument is not hex: 'zz'"),
        ("abc", 2, "Error: HEX argument is not hex: 'abc'"),
        (
            "0x00",
            1,
            "Error: not a SCALE header (1 bytes): cannot decode Header.parent_hash at byte 0",
        ),
        ("", 1, "Error: not a SCALE header (0 bytes)"),
    ],
)
def test_bad_input_is_a_clear_error(arg: str, code: int, message: str) -> None:
    result = run(arg)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a crash


def test_trailing_bytes_are_rejected() -> None:
    raw = westend_blocks()[0].header + b"\x00"
    result = run(raw.hex())
    assert result.exit_code == 1
    assert f"Header at byte {len(raw) - 1}: 1 trailing bytes" in result.output


def test_help() -> None:
    result = CliRunner().invoke(cli, ["inspect", "header", "--help"])
    assert result.exit_code == 0
    assert "`-` reads it from stdin" in " ".join(result.output.split())
