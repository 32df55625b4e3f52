"""pinkpipe: an event-sourced light-client pipeline for Phala-style Substrate chains.

The package's overview is `docs/architecture.md`; each subpackage is one stage or layer
(`pinkpipe.chain`, `pinkpipe.validator`, `pinkpipe.bus`, `pinkpipe.relayer`,
`pinkpipe.services`, `pinkpipe.app`, `pinkpipe.devnet`).
"""

from __future__ import annotations

import signal
from types import FrameType


def _stop_during_start_up(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    """The `pinkpipe` command. A SIGTERM that arrives while the command is still starting
    (importing, before a service installs its own handlers) ends it cleanly with code 0 rather
    than killing it: a supervisor stopping a service that had not begun has nothing to lose."""
    signal.signal(signal.SIGTERM, _stop_during_start_up)
    from pinkpipe.app.cli import main as cli_main

    cli_main()
