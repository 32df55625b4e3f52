"""`pinkpipe config show`, `pinkpipe validator` and `pinkpipe validator status`."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import click

from pinkpipe.app.config import Settings, config_file_path, masked_values, value_sources
from pinkpipe.app.datadir import check_secret_path
from pinkpipe.app.options import config_option, settings_from_cli
from pinkpipe.app.parachain import parachain_validator
from pinkpipe.app.process import (
    RateMeter,
    run_until_signalled,
    setup_logging,
)
from pinkpipe.app.stage import run_stage
from pinkpipe.bus import Bus, BusSettings, CheckpointStore, load_secret
from pinkpipe.bus.records import RecordError, ValidatorStatus, decode_raw, decode_status
from pinkpipe.bus.streams import raw_stream, raw_subject
from pinkpipe.chain.errors import PinkpipeError
from pinkpipe.services.validator import STATUS_EVERY_S, ValidatorService, ValidatorSettings

log = logging.getLogger("pinkpipe.validator")


# -- config -------------------------------------------------------------------------------------


@click.group("config")
def config_group() -> None:
    """Inspect pinkpipe's configuration (flags > PINKPIPE_* env > TOML file > defaults)."""


@config_group.command("show")
@config_option
@click.option("--node", "node_url", help="node WebSocket URL")
@click.option("--nats", "nats_url", help="NATS server URL")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="data dir")
@click.option("--log-level", help="logging level")
def config_show(
    config_file: Path | None,
    node_url: str | None,
    nats_url: str | None,
    data_dir: Path | None,
    log_level: str | None,
) -> None:
    """Print every effective setting, where it comes from, and its meaning; secrets (NATS
    password and token) are masked."""
    overrides = {
        "node_url": node_url,
        "nats_url": nats_url,
        "data_dir": data_dir,
        "log_level": log_level,
    }
    settings = settings_from_cli(config_file, **overrides)
    sources = value_sources(config_file, overrides)
    path = config_file_path(config_file)
    click.echo(f"# config file: {path if path is not None else '(none)'}")
    values = {k: v or "(unset)" for k, v in masked_values(settings).items()}
    width = max(len(name) for name in values)
    value_width = min(44, max(len(v) for v in values.values()))
    for name, value in values.items():
        description = Settings.model_fields[name].description or ""
        click.echo(f"{name:<{width}}  {value:<{value_width}}  {sources[name]:<8}  # {description}")


# -- validator ----------------------------------------------------------------------------------


def _progress_line(service: ValidatorService, meter: RateMeter) -> str | None:
    if not service.chains:
        return "validator: waiting for a chain on the bus"
    parts = []
    total = 0
    for genesis, chain in service.chains.items():
        p = chain.progress
        total += p.verified_blocks
        state = "FAILED" if p.last_error else f"finalized #{p.finalized}"
        parts.append(f"{genesis.hex()[:12]}: {state}, set id {p.set_id}, lag {p.lag}")
    return f"validator: {'; '.join(parts)}; {meter.rate(total):.0f} blocks/s"


async def run_validator(settings: Settings, stop: asyncio.Event, parachain: bool = False) -> int:
    meter = RateMeter()

    async def build(bus: Bus) -> ValidatorService:
        if parachain:
            return await parachain_validator(settings, bus, stop)
        store = await CheckpointStore.open(bus, load_secret(settings.validator_secret_path))
        return ValidatorService(settings.section(ValidatorSettings), bus, store, stop)

    return await run_stage(
        "validator", settings, stop, build, lambda service: _progress_line(service, meter)
    )


@click.group("validator", invoke_without_command=True)
@config_option
@click.option("--nats", "nats_url", help="NATS server URL (default nats://127.0.0.1:4222)")
@click.option("--genesis", help="validate only this chain (genesis hash hex; default: all)")
@click.option("--trusted-checkpoint", help="accept a checkpoint bootstrap at NUMBER:0xHASH")
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR")
@click.option(
    "--parachain",
    is_flag=True,
    help="parachain mode: validate the parachain raw streams through their relay chain",
)
@click.option("--relay-genesis", help="parachain mode: trusted relay chain genesis hash")
@click.option("--para-id", type=int, help="parachain mode: the para id to accept")
@click.pass_context
def validator_group(
    ctx: click.Context,
    config_file: Path | None,
    nats_url: str | None,
    genesis: str | None,
    trusted_checkpoint: str | None,
    log_level: str | None,
    parachain: bool,
    relay_genesis: str | None,
    para_id: int | None,
) -> None:
    """Run the GRANDPA light client over the raw stream of every chain on the bus and publish
    verified blocks; see `validator status` for its progress.

    Invalid data (bad signature, broken link, failed proof) stops that chain's validation at
    the offending block, which stays in the raw stream unacknowledged; the process then exits
    with code 3. SIGINT/SIGTERM stop it cleanly; a restart resumes from the KV checkpoint.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from_cli(
        config_file,
        check=check_secret_path,
        nats_url=nats_url,
        genesis=genesis,
        trusted_checkpoint=trusted_checkpoint,
        log_level=log_level,
        relay_genesis=relay_genesis,
        para_id=para_id,
    )
    setup_logging(settings.log_level)
    run_until_signalled(lambda stop: run_validator(settings, stop, parachain))


async def _raw_head(bus: Bus, genesis: bytes) -> int | None:
    last = await bus.last_message(raw_stream(genesis), raw_subject(genesis))
    if last is None:
        return None
    try:
        return decode_raw(last.data, raw_stream(genesis), last.seq).number
    except RecordError:
        return None


def format_status(
    genesis: bytes, status: ValidatorStatus | None, raw_head: int | None, now: float
) -> str:
    head = "none" if raw_head is None else f"#{raw_head}"
    if status is None:
        return f"chain 0x{genesis.hex()}: not validated yet (raw head {head})"
    lag = "?" if raw_head is None else str(max(0, raw_head - status.finalized_number))
    age = max(0.0, now - status.updated_at)
    state = status.state
    if state == "running" and age > 3 * STATUS_EVERY_S:
        state = (
            f"running? (no update for {age:.0f}s although a running validator writes one every "
            f"{STATUS_EVERY_S:.0f}s: it was probably killed)"
        )
    return "\n".join(
        (
            f"chain 0x{genesis.hex()}: {state}",
            f"  finalized   #{status.finalized_number} 0x{status.finalized_hash.hex()}",
            f"  set id      {status.set_id}",
            f"  raw head    {head} (lag {lag})",
            f"  verified    {status.verified_blocks} blocks this run, "
            f"{status.invalid_records} invalid record(s)",
            f"  last error  {status.last_error or 'none'}",
            f"  updated     {age:.0f}s ago (raw stream sequence {status.raw_seq})",
        )
    )


async def collect_status(settings: Settings) -> list[str]:
    bus = await Bus.connect(settings.section(BusSettings), "pinkpipe-status")
    try:
        store = await CheckpointStore.open(bus, b"")
        configured = settings.genesis_bytes
        chains = [configured] if configured is not None else await bus.chains()
        lines = []
        for genesis in chains:
            value = await store.status(genesis)
            status = None if value is None else decode_status(value, "validator status", 0)
            lines.append(format_status(genesis, status, await _raw_head(bus, genesis), time.time()))
        return lines or ["no chain on the bus yet"]
    finally:
        await bus.close()


@validator_group.command("status")
@config_option
@click.option("--nats", "nats_url", help="NATS server URL")
@click.option("--genesis", help="only this chain (genesis hash hex)")
def validator_status(config_file: Path | None, nats_url: str | None, genesis: str | None) -> None:
    """Show each chain's finalized height, set id, lag behind the raw stream and last error."""
    settings = settings_from_cli(config_file, nats_url=nats_url, genesis=genesis)
    try:
        lines = asyncio.run(collect_status(settings))
    except PinkpipeError as e:
        raise click.ClickException(str(e)) from None
    click.echo("\n".join(lines))
