"""Running one stage as a process: the bus connection, progress lines, the exit code.

Every long-running stage command (`pinkpipe relayer`, `pinkpipe validator`, and the stages to
come) has the same life: connect to NATS, build the stage, run it until `stop`, log a progress
line every few seconds, close the bus, and turn how it ended into an exit code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from pinkpipe.app.config import Settings
from pinkpipe.app.process import EXIT_OK, report, report_every
from pinkpipe.bus import Bus, BusSettings
from pinkpipe.chain.errors import PinkpipeError

PROGRESS_EVERY_S = 5.0


class Stage(Protocol):
    async def run(self) -> None: ...


S = TypeVar("S", bound=Stage)


async def run_stage(
    name: str,
    settings: Settings,
    stop: asyncio.Event,
    build: Callable[[Bus], Awaitable[S]],
    progress: Callable[[S], str | None],
) -> int:
    """Connect, `build(bus)` the stage, run it until `stop`; returns the exit code. A stop
    asked for while still connecting ends it at once (code 0)."""
    connecting = asyncio.create_task(Bus.connect(settings.section(BusSettings), f"pinkpipe-{name}"))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not connecting.done():
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        return EXIT_OK
    try:
        bus = connecting.result()
    except PinkpipeError as e:
        return report(e, name)
    stage: S | None = None
    reporter = asyncio.create_task(
        report_every(PROGRESS_EVERY_S, stop, lambda: None if stage is None else progress(stage))
    )
    try:
        stage = await build(bus)
        await stage.run()
        return EXIT_OK
    except PinkpipeError as e:
        return report(e, name)
    finally:
        stop.set()
        await reporter
        await bus.close()
