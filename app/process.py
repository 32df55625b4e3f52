"""Process plumbing shared by the long-running commands: logging, signals, progress lines."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn

from pinkpipe.chain.errors import ConfigError, InvalidChainData, PinkpipeError

EXIT_OK = 0
EXIT_FAILED = 1
"""An operational failure: NATS, a node, the disk, or pinkpipe itself."""
EXIT_USAGE = 2
"""Bad configuration or command-line input (click uses 2 for usage errors too)."""
EXIT_INVALID_DATA = 3
"""Invalid chain data stopped a chain (distinct from a crash or bad usage)."""


def exit_code(error: BaseException | None) -> int:
    """The one place that decides a process's exit code from how it ended."""
    if error is None:
        return EXIT_OK
    if isinstance(error, InvalidChainData):
        return EXIT_INVALID_DATA
    if isinstance(error, ConfigError):
        return EXIT_USAGE
    return EXIT_FAILED


def report(error: BaseException, what: str) -> int:
    """Log how `what` ended (one line for pinkpipe's own errors, a traceback for a bug) and
    return the exit code."""
    logger = logging.getLogger("pinkpipe")
    if isinstance(error, InvalidChainData):
        logger.error("%s stopped on invalid data: %s", what, error)
    elif isinstance(error, PinkpipeError):
        logger.error("%s stopped: %s", what, error)
    else:
        logger.error("%s crashed", what, exc_info=error)
    return exit_code(error)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("nats").setLevel(logging.WARNING)
    logging.getLogger("substrateinterface").setLevel(logging.WARNING)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM ask for a clean stop (finish in-flight acks, save state). A repeat
    within a second is ignored (a terminal and a supervisor may both signal); a later one
    exits at once."""
    loop = asyncio.get_running_loop()
    logger = logging.getLogger(__name__)
    first: list[float] = []

    def handler(sig: signal.Signals) -> None:
        now = time.monotonic()
        if not first:
            first.append(now)
            logger.info("%s received: stopping cleanly (again to force)", sig.name)
            stop.set()
        elif now - first[0] > 1.0:
            logger.warning("%s received again: exiting now", sig.name)
            os._exit(128 + sig.value)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, handler, sig)


def run_until_signalled(service: Callable[[asyncio.Event], Awaitable[int]]) -> NoReturn:
    """Run a long-running command's `service(stop)` with SIGINT/SIGTERM setting `stop`, and
    exit the process with the code it returns."""

    async def main() -> int:
        stop = asyncio.Event()
        stop_on_signals(stop)
        return await service(stop)

    sys.exit(asyncio.run(main()))


@dataclass
class RateMeter:
    """Blocks per second between two readings of a growing counter."""

    last_count: int = 0
    last_time: float = field(default_factory=time.monotonic)

    def rate(self, count: int) -> float:
        now = time.monotonic()
        elapsed = now - self.last_time
        value = (count - self.last_count) / elapsed if elapsed > 0 else 0.0
        self.last_count, self.last_time = count, now
        return max(0.0, value)


async def report_every(
    interval_s: float, stop: asyncio.Event, line: Callable[[], str | None]
) -> None:
    """Log `line()` every interval until `stop` (None = nothing to say this time)."""
    logger = logging.getLogger("pinkpipe.progress")
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            text = line()
            if text:
                logger.info(text)
