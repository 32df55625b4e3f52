"""`pinkpipe run`'s embedded nats-server requires the credentials it generates: owner-only
files in the data dir, no anonymous access, and an operator connecting as `admin` sees the
validator's status (docs/trust.md)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
from pathlib import Path

import nats
import pytest

from pinkpipe.bus.nats_auth import ADMIN_USER, CREDENTIALS_FILE, USERS
from tests.pipeline_support import PINKPIPE

pytestmark = pytest.mark.slow


def _refused_anonymously(url: str) -> bool:
    async def attempt() -> bool:
        try:
            nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
        except nats.errors.Error as e:
            return "authorization" in str(e).lower()
        await nc.close()
        return False

    return asyncio.run(attempt())


def test_run_requires_its_generated_credentials(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINKPIPE_")}
    proc = subprocess.Popen(
        [str(PINKPIPE), "run", "--data-dir", str(data), "--block-time", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**env, "PINKPIPE_DEVNET_JUSTIFICATION_PERIOD": "8"},
        cwd=tmp_path,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            verified = re.search(r"verified #(\d+)", line)
            if verified and int(verified.group(1)) > 0:
                break
        url = next(m.group(1) for line in lines if (m := re.search(r"nats-server at (\S+)", line)))
        credentials = data / CREDENTIALS_FILE
        conf = data / "nats-run" / "nats-server.conf"
        for private in (credentials, conf):
            assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
        passwords = json.loads(credentials.read_text())
        assert set(passwords) == set(USERS)
        assert _refused_anonymously(url)
        status = subprocess.run(
            [str(PINKPIPE), "validator", "status", "--nats", url],
            env={
                **env,
                "PINKPIPE_NATS_USER": ADMIN_USER,
                "PINKPIPE_NATS_PASSWORD": passwords[ADMIN_USER],
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines) + rest
    assert proc.returncode == 0, output
    assert status.returncode == 0, status.stdout + status.stderr
    assert ": running" in status.stdout and "finalized   #" in status.stdout
    assert not any(password in output for password in passwords.values())
