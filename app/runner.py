"""`pinkpipe run`: the whole pipeline in one process, for a first look and for development.

With no arguments it starts an embedded nats-server (store under the data dir), the devnet
(a `DevChain` served by `DevnetServer`, one block every `block_time_s`), the relayer and the
validator, and shows relayed/verified heights until Ctrl-C. `--nats` and `--node` replace the
embedded parts with real ones.

Running again resumes: the stream and the checkpoint are on disk, and the devnet is
deterministic, so it regenerates the same chain; before serving it fast-forwards to the
relayer's last published block so the relayer finds that block with the hash it published.
(Blocks produced with scenario extrinsics are not regenerated: `run` submits none.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import click
from pydantic import SecretStr

from pinkpipe.app.config import Settings, value_sources
from pinkpipe.app.datadir import check_run_paths
from pinkpipe.app.options import config_option, settings_from_cli
from pinkpipe.app.process import (
    EXIT_OK,
    RateMeter,
    exit_code,
    report,
    run_until_signalled,
    setup_logging,
)
from pinkpipe.bus import Bus, BusError, BusSettings, CheckpointStore, load_secret
from pinkpipe.bus.nats_auth import (
    CREDENTIALS_FILE,
    RELAYER_USER,
    USERS,
    VALIDATOR_USER,
    NatsCredentials,
)
from pinkpipe.bus.nats_server import EmbeddedNats
from pinkpipe.bus.records import RecordError, decode_raw
from pinkpipe.bus.streams import raw_stream, raw_subject
from pinkpipe.chain.errors import PinkpipeError
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.relayer.node import Node, NodeError
from pinkpipe.relayer.relayer import Relayer, RelayerError
from pinkpipe.services.validator import ValidatorService, ValidatorSettings

log = logging.getLogger("pinkpipe.run")


def devnet_config(settings: Settings) -> DevnetConfig:
    return DevnetConfig(
        set_period=settings.devnet_set_period,
        justification_period=settings.devnet_justification_period,
    )


async def published_height(bus: Bus, genesis: bytes) -> int:
    """The last block number in a chain's raw stream (0 when empty or absent)."""
    with contextlib.suppress(BusError, RecordError):
        last = await bus.last_message(raw_stream(genesis), raw_subject(genesis))
        if last is not None:
            return decode_raw(last.data, raw_stream(genesis), last.seq).number
    return 0


@dataclass(frozen=True)
class StageSettings:
    """The settings each part of `run` connects with: on the embedded server, each stage as
    its own NATS user (only its own subjects; see `pinkpipe.bus.nats_auth`)."""

    relayer: Settings
    validator: Settings


def _as_user(settings: Settings, url: str, user: str, credentials: NatsCredentials) -> Settings:
    password = SecretStr(credentials.passwords[user])
    return settings.model_copy(
        update={"nats_url": url, "nats_user": user, "nats_password": password}
    )


@contextlib.asynccontextmanager
async def embedded_nats(settings: Settings, chains: list[bytes]) -> AsyncIterator[StageSettings]:
    """Each stage's settings, on an embedded server requiring per-stage credentials for
    `chains` (generated into the data dir), unless a server is given (then the operator's
    credentials are used by all)."""
    if settings.nats_url is not None:
        yield StageSettings(settings, settings)
        return
    credentials_file = settings.data_dir / CREDENTIALS_FILE
    credentials = NatsCredentials.load_or_create(credentials_file)
    server = EmbeddedNats(
        settings.data_dir,
        port=settings.nats_port,
        max_payload=settings.nats_max_payload,
        credentials=credentials,
        chains=tuple(chains),
    )
    url = await server.start()
    click.echo(
        f"embedded nats-server at {url} (data in {settings.data_dir}; users "
        f"{', '.join(USERS)}, passwords in {credentials_file})"
    )
    try:
        yield StageSettings(
            relayer=_as_user(settings, url, RELAYER_USER, credentials),
            validator=_as_user(settings, url, VALIDATOR_USER, credentials),
        )
    finally:
        await server.stop()


async def node_genesis(settings: Settings) -> bytes:
    """The genesis hash of the node `run` relays (the embedded server's permissions name it)."""
    assert settings.node_url is not None
    node = Node(
        settings.node_url,
        (),
        timeout_s=settings.rpc_timeout_s,
        retries=settings.rpc_retries,
    )
    try:
        return (await node.chain_info()).genesis_hash
    except NodeError as e:
        raise RelayerError(str(e)) from None
    finally:
        await node.close()


@contextlib.asynccontextmanager
async def embedded_devnet(
    settings: Settings, chain: DevChain | None, bus: Bus
) -> AsyncIterator[str]:
    """The node URL: an in-process devnet serving `chain`, or the configured node."""
    if chain is None:
        assert settings.node_url is not None
        yield settings.node_url
        return
    resume = await published_height(bus, chain.genesis_hash)
    if resume:
        click.echo(f"devnet: regenerating blocks #1..#{resume} to resume")
        await asyncio.to_thread(chain.produce, resume)
    server = DevnetServer(chain, block_time=settings.block_time_s)
    await server.start()
    click.echo(
        f"devnet at {server.url}: genesis 0x{chain.genesis_hash.hex()}, a block every "
        f"{settings.block_time_s}s"
    )
    try:
        yield server.url
    finally:
        await server.stop()


class LiveLine:
    """One progress line: rewritten in place on a terminal, printed periodically otherwise."""

    def __init__(self, interval_s: float) -> None:
        self.tty = sys.stdout.isatty()
        self.interval_s = interval_s
        self.meter = RateMeter()
        self.verified_meter = RateMeter()

    def show(self, relayer: Relayer, validator: ValidatorService) -> None:
        r = relayer.progress
        chains = list(validator.chains.values())
        v = chains[0].progress if chains else None
        verified = f"#{v.finalized} (set {v.set_id})" if v is not None else "-"
        rate = self.meter.rate(r.blocks)
        vrate = self.verified_meter.rate(v.verified_blocks if v is not None else 0)
        text = (
            f"head #{r.head} | relayed #{r.published} {rate:.0f}/s | verified {verified} "
            f"{vrate:.0f}/s"
        )
        if v is not None and v.last_error:
            text += f" | VALIDATION STOPPED: {v.last_error}"
        if self.tty:
            click.echo("\r" + text.ljust(100), nl=False)
        else:
            click.echo(text)


async def run_pipeline(settings: Settings, stop: asyncio.Event) -> int:
    """Everything `pinkpipe run` starts, until `stop` or a component fails."""
    secret = load_secret(settings.validator_secret_path)
    chain = DevChain(devnet_config(settings)) if settings.node_url is None else None
    chains: list[bytes] = []
    if settings.nats_url is None:
        chains = [chain.genesis_hash if chain is not None else await node_genesis(settings)]
    async with embedded_nats(settings, chains) as stages, contextlib.AsyncExitStack() as buses:
        relayer_bus = await Bus.connect(stages.relayer.section(BusSettings), "pinkpipe-relayer")
        buses.push_async_callback(relayer_bus.close)
        validator_bus = await Bus.connect(
            stages.validator.section(BusSettings), "pinkpipe-validator"
        )
        buses.push_async_callback(validator_bus.close)
        async with embedded_devnet(settings, chain, relayer_bus) as node_url:
            relayer = Relayer(settings.section(RelayerSettings), relayer_bus, node_url, stop)
            store = await CheckpointStore.open(validator_bus, secret)
            validator = ValidatorService(
                settings.section(ValidatorSettings), validator_bus, store, stop
            )
            return await _supervise(relayer, validator, stop)


async def _supervise(relayer: Relayer, validator: ValidatorService, stop: asyncio.Event) -> int:
    tasks = {
        "relayer": asyncio.create_task(relayer.run(), name="relayer"),
        "validator": asyncio.create_task(validator.run(), name="validator"),
    }
    line = LiveLine(1.0)
    code = EXIT_OK
    started = time.monotonic()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), line.interval_s)
        if time.monotonic() - started >= line.interval_s:
            line.show(relayer, validator)
        for name, task in tasks.items():
            if task.done() and not stop.is_set():
                code = _outcome(name, task)
                stop.set()
    results = await asyncio.gather(*tasks.values(), return_exceptions=True)
    if line.tty:
        click.echo("")
    for name, result in zip(tasks, results, strict=True):
        if isinstance(result, BaseException) and code == EXIT_OK:
            code = _outcome(name, tasks[name])
    return code


def _outcome(name: str, task: asyncio.Task[None]) -> int:
    error = task.exception()
    return exit_code(None) if error is None else report(error, name)


@click.command("run")
@config_option
@click.option("--node", "node_url", help="relay this node instead of starting the devnet")
@click.option("--nats", "nats_url", help="use this NATS server instead of an embedded one")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="data dir")
@click.option("--block-time", "block_time_s", type=float, help="devnet seconds per block")
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR")
@click.option(
    "--parachain",
    is_flag=True,
    help="parachain mode: a devnet relay chain and parachain (or --relay and --node), the "
    "parachain relayer and validator",
)
@click.option("--relay", "relay_url", help="with --parachain: the relay chain node's URL")
def run_command(
    config_file: Path | None,
    node_url: str | None,
    nats_url: str | None,
    data_dir: Path | None,
    block_time_s: float | None,
    log_level: str | None,
    parachain: bool,
    relay_url: str | None,
) -> None:
    """Run the pipeline: embedded NATS + devnet + relayer + validator, with live progress
    (relayed and verified height, rates) until Ctrl-C. Run it again to resume where it was.

    --nats and --node replace the embedded server and the devnet with real ones.
    """
    settings = settings_from_cli(
        config_file,
        check=check_run_paths,
        node_url=node_url,
        nats_url=nats_url,
        data_dir=data_dir,
        block_time_s=block_time_s,
        log_level=log_level,
        relay_url=relay_url,
    )
    level_source = value_sources(config_file, {"log_level": log_level})["log_level"]
    setup_logging("WARNING" if level_source == "default" else settings.log_level)

    async def service(stop: asyncio.Event) -> int:
        try:
            if parachain:
                # imported here: app.parachain builds on this module's pieces
                from pinkpipe.app.parachain import run_parachain_pipeline

                return await run_parachain_pipeline(settings, stop)
            return await run_pipeline(settings, stop)
        except PinkpipeError as e:
            return report(e, "pinkpipe run")

    run_until_signalled(service)
