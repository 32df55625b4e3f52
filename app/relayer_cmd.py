"""`pinkpipe relayer`: follow a node and publish its finalized blocks to the raw stream."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from pinkpipe.app.config import Settings
from pinkpipe.app.options import config_option, settings_from_cli
from pinkpipe.app.parachain import parachain_relayer
from pinkpipe.app.process import (
    RateMeter,
    run_until_signalled,
    setup_logging,
)
from pinkpipe.app.stage import run_stage
from pinkpipe.bus import Bus
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.relayer.relayer import Relayer, RelayerProgress

log = logging.getLogger("pinkpipe.relayer")


def progress_line(progress: RelayerProgress, meter: RateMeter) -> str:
    rate = meter.rate(progress.blocks)
    return (
        f"relayer: published #{progress.published}, finalized head #{progress.head}, "
        f"lag {progress.lag}, {rate:.0f} blocks/s"
    )


async def run_relayer(settings: Settings, stop: asyncio.Event) -> int:
    """Connect to NATS and relay until `stop`; returns the process exit code."""
    assert settings.node_url is not None
    node_url = settings.node_url
    meter = RateMeter()

    async def build(bus: Bus) -> Relayer:
        if settings.relay_url is not None:
            return parachain_relayer(settings, bus, stop)
        return Relayer(settings.section(RelayerSettings), bus, node_url, stop)

    return await run_stage(
        "relayer", settings, stop, build, lambda relayer: progress_line(relayer.progress, meter)
    )


@click.command("relayer")
@config_option
@click.option("--node", "node_url", help="node WebSocket URL (ws://host:9944)")
@click.option("--nats", "nats_url", help="NATS server URL (default nats://127.0.0.1:4222)")
@click.option("--from", "from_block", type=int, help="first block to relay into an empty stream")
@click.option("--rpc-window", type=int, help="blocks fetched concurrently")
@click.option("--rpc-batch", type=int, help="blocks per JSON-RPC batch (1: concurrent calls)")
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR")
@click.option(
    "--relay",
    "relay_url",
    help="parachain mode: the relay chain node's URL (--node is then the parachain's)",
)
@click.option("--para-id", type=int, help="parachain mode: para id (default: the node's own)")
def relayer_command(
    config_file: Path | None,
    node_url: str | None,
    nats_url: str | None,
    from_block: int | None,
    rpc_window: int | None,
    rpc_batch: int | None,
    log_level: str | None,
    relay_url: str | None,
    para_id: int | None,
) -> None:
    """Relay a node's finalized blocks (headers, bodies, justifications, storage proofs)
    into NATS JetStream, exactly once, resuming from the stream after any restart.

    With --from N on an empty stream the light client starts from a checkpoint at block N-1
    (the validator must be told to trust it with --trusted-checkpoint); the default starts
    at genesis. Stops cleanly on SIGINT/SIGTERM; exits 1 on an unrecoverable error.

    With --relay (parachain mode) it relays the relay chain's finalized blocks with the
    Paras::Heads proof at each batch end, and the parachain's blocks up to each proven head.
    """
    settings = settings_from_cli(
        config_file,
        node_url=node_url,
        nats_url=nats_url,
        from_block=from_block,
        rpc_window=rpc_window,
        rpc_batch=rpc_batch,
        log_level=log_level,
        relay_url=relay_url,
        para_id=para_id,
    )
    if settings.node_url is None:
        raise click.UsageError("no node: give --node ws://... (or PINKPIPE_NODE_URL)")
    setup_logging(settings.log_level)
    run_until_signalled(lambda stop: run_relayer(settings, stop))
