"""Configuration: precedence flag > env > TOML > default, validation, `config show` masking."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pinkpipe.app.cli import cli
from pinkpipe.app.config import load_settings, value_sources
from pinkpipe.bus.config import DEFAULT_NATS_URL, DEFAULT_STORAGE_KEYS
from pinkpipe.chain.errors import ConfigError

TOML = """
nats_url = "nats://from-file:4222"
node_url = "ws://from-file:9944"
rpc_window = 64
stream_replicas = 3
nats_token = "file-token-secret"
"""


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(TOML)
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PINKPIPE_* from the caller's environment, no ./pinkpipe.toml in the cwd."""
    for name in list(os.environ):
        if name.startswith("PINKPIPE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_without_any_source() -> None:
    s = load_settings()
    assert s.nats_url is None and s.effective_nats_url == DEFAULT_NATS_URL
    assert s.stream_replicas == 1
    assert s.nats_max_payload == 8 * 1024 * 1024
    assert s.storage_key_bytes == DEFAULT_STORAGE_KEYS
    assert len(s.storage_key_bytes) == 4


def test_precedence_flag_over_env_over_file_over_default(
    toml_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINKPIPE_NATS_URL", "nats://from-env:4222")
    monkeypatch.setenv("PINKPIPE_RPC_WINDOW", "32")
    s = load_settings(toml_file, nats_url="nats://from-flag:4222", rpc_batch=None)
    assert s.nats_url == "nats://from-flag:4222"  # flag beats env and file
    assert s.rpc_window == 32  # env beats file
    assert s.node_url == "ws://from-file:9944"  # file beats default
    assert s.stream_replicas == 3
    assert s.rpc_batch == 16  # None = flag not given: default
    sources = value_sources(toml_file, {"nats_url": "x", "rpc_batch": None})
    assert sources["nats_url"] == "flag"
    assert sources["rpc_window"] == "env"
    assert sources["node_url"] == f"file {toml_file}"
    assert sources["rpc_batch"] == "default"


def test_default_file_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "pinkpipe.toml").write_text('node_url = "ws://cwd-file:1"\n')
    assert load_settings().node_url == "ws://cwd-file:1"
    assert load_settings(default_file=False).node_url is None


def test_env_list_value_is_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINKPIPE_STORAGE_KEYS", '["0xAABB", "ccdd"]')
    assert load_settings().storage_keys == ("0xaabb", "0xccdd")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("no_such_setting = 1\n", "unknown setting(s) no_such_setting"),
        ("rpc_window = 0\n", "rpc_window"),
        ('rpc_window = "many"\n', "rpc_window"),
        ('storage_keys = ["0xzz"]\n', "not hex"),
        ('genesis = "0x1234"\n', "32 bytes"),
        ("this is not toml", "is not valid TOML"),
    ],
)
def test_bad_file_is_an_error_naming_the_setting(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert message in str(info.value)


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")


def test_config_show_masks_secrets_and_names_sources(
    toml_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINKPIPE_NATS_PASSWORD", "env-password-secret")
    result = CliRunner().invoke(
        cli, ["config", "show", "--config", str(toml_file), "--nats", "nats://flag:1"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "file-token-secret" not in out and "env-password-secret" not in out
    lines = {line.split()[0]: line for line in out.splitlines() if not line.startswith("#")}
    assert "********" in lines["nats_token"] and "file" in lines["nats_token"]
    assert "********" in lines["nats_password"] and "env" in lines["nats_password"]
    assert "nats://flag:1" in lines["nats_url"] and "flag" in lines["nats_url"]
    assert "ws://from-file:9944" in lines["node_url"]
    assert "default" in lines["data_dir"]


def test_config_show_reports_bad_values_as_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("stream_replicas = 9\n")
    result = CliRunner().invoke(cli, ["config", "show", "--config", str(path)])
    assert result.exit_code == 2
    assert "stream_replicas" in result.output
