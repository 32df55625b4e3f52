"""`pinkpipe devnet` as a real process: started, its announcement read, stopped with Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def running_devnet(
    pinkpipe: Path, *options: str, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """Run `pinkpipe devnet --port 0 --block-time 0 OPTIONS` and yield its first three lines
    (`genesis 0x..`, `best #N 0x..`, `listening on ws://..`); on leaving, SIGINT must end it
    with exit code 0."""
    command = [str(pinkpipe), "devnet", "--port", "0", "--block-time", "0", *options]
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        yield [process.stdout.readline() for _ in range(3)]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, process.stderr.read()
    finally:
        process.kill()
        process.wait()
