"""B11: credentials inside a NATS URL (`nats://user:pass@host`) never appear in clear: not in
`config show`, not in a reconnect warning, not in the final error."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pinkpipe.app.cli import cli
from pinkpipe.bus.nats_auth import ADMIN_USER, RELAYER_USER, VALIDATOR_USER, NatsCredentials
from pinkpipe.bus.nats_server import EmbeddedNats
from tests.pipeline_support import PINKPIPE

SECRET = "s3cret-in-the-url"
UNREACHABLE = f"nats://operator:{SECRET}@127.0.0.1:9"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINKPIPE_")}
    return {
        **env,
        "PINKPIPE_NATS_CONNECT_TIMEOUT_S": "1",
        "PINKPIPE_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


def test_config_show_masks_credentials_in_urls(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(f'nats_url = "nats://file:{SECRET}-file@10.0.0.1:4222"\n')
    result = CliRunner().invoke(
        cli,
        ["config", "show", "--config", str(config), "--node", f"ws://node:{SECRET}-flag@n:9944"],
        env={"PINKPIPE_NATS_URL": f"nats://a:{SECRET}-env@h:1,nats://b:{SECRET}-2@h:2"},
    )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "nats://***@h:1,nats://***@h:2" in result.output
    assert "ws://***@n:9944" in result.output


def test_an_invalid_url_is_refused_without_its_password(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["config", "show", "--nats", f"nats://u:{SECRET}@[::1"], env=_env(tmp_path)
    )
    assert result.exit_code == 2
    assert SECRET not in result.output and "***@[::1" in result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["validator", "status"],
        ["validator"],
        ["relayer", "--node", "ws://127.0.0.1:9"],
        ["bus", "truncate", "--genesis", "00" * 32, "--after-seq", "0", "--yes"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_the_final_error_masks_the_url(tmp_path: Path, command: list[str]) -> None:
    proc = subprocess.run(
        [str(PINKPIPE), *command, "--nats", UNREACHABLE],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert SECRET not in output
    assert "cannot connect to NATS at nats://***@127.0.0.1:9" in output
    assert "Traceback" not in output


@pytest.mark.slow
@pytest.mark.integration
def test_reconnect_warnings_and_the_outage_error_mask_the_url(tmp_path: Path) -> None:
    """A validator connected as `admin:<password>@` loses its server: every warning while it
    reconnects, and the error when it gives up, show the URL masked."""
    passwords = {RELAYER_USER: "r-pw", VALIDATOR_USER: "v-pw", ADMIN_USER: SECRET}
    server = EmbeddedNats(tmp_path / "nats", credentials=NatsCredentials(passwords))
    url = asyncio.run(server.start())
    with_password = url.replace("nats://", f"nats://{ADMIN_USER}:{SECRET}@")
    proc = subprocess.Popen(
        [str(PINKPIPE), "validator", "--nats", with_password, "--log-level", "INFO"],
        env=_env(tmp_path, PINKPIPE_NATS_OUTAGE_LIMIT_S="3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(3)  # connected, looking for chains
        assert proc.poll() is None, proc.communicate()[0]
        asyncio.run(server.stop())
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        asyncio.run(server.stop())
    assert proc.returncode == 1, output
    assert SECRET not in output
    masked = url.replace("nats://", "nats://***@")
    lines = output.splitlines()
    assert any("disconnected; reconnecting" in line and masked in line for line in lines), output
    errors = [line for line in lines if " ERROR " in line]
    assert len(errors) == 1 and masked in errors[0] and "unreachable" in errors[0], output
