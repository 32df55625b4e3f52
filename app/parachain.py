"""Parachain mode in the app: `pinkpipe run --parachain` and the stages' parachain builders.

`run --parachain` embeds NATS (unless `--nats`), the devnet pair (a relay chain and a
parachain, unless `--relay` and `--node` name real nodes), the parachain relayer and the
parachain validator. The pair is deterministic, so a restart regenerates it up to the relay
block the stream holds last, then keeps stepping it every `block_time_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import click

from pinkpipe.app.config import Settings
from pinkpipe.app.runner import _supervise, devnet_config, embedded_nats
from pinkpipe.bus import Bus, BusError, BusSettings, CheckpointStore, load_secret
from pinkpipe.bus.records import RecordError, RelayBlockRecord, decode_para_raw
from pinkpipe.bus.streams import para_raw_stream
from pinkpipe.devnet.config import DevnetConfig
from pinkpipe.devnet.parachain import ParachainDevnet
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.relayer.parachain import ParachainRelayer
from pinkpipe.services.parachain import (
    ParachainValidatorService,
    ParachainValidatorSettings,
    Trust,
)
from pinkpipe.services.validator import ValidatorSettings

SCAN_BACK = 100_000
"""Records read back from a stream's tail looking for its last relay block."""


def trust(settings: Settings) -> Trust:
    """The parachain validator's anchors from the settings."""
    relay = settings.section(ParachainValidatorSettings).relay_genesis
    return Trust(None if relay is None else bytes.fromhex(relay), settings.para_id)


async def parachain_validator(
    settings: Settings, bus: Bus, stop: asyncio.Event
) -> ParachainValidatorService:
    store = await CheckpointStore.open(bus, load_secret(settings.validator_secret_path))
    return ParachainValidatorService(
        settings.section(ValidatorSettings), bus, store, stop, trust(settings)
    )


def parachain_relayer(settings: Settings, bus: Bus, stop: asyncio.Event) -> ParachainRelayer:
    if settings.relay_url is None or settings.node_url is None:
        raise click.UsageError("parachain mode needs --relay ws://RELAY and --node ws://PARA")
    return ParachainRelayer(
        settings.section(RelayerSettings), bus, settings.relay_url, settings.node_url, stop
    )


async def relayed_relay_height(bus: Bus, para_genesis: bytes) -> int:
    """The last relay block number in a parachain raw stream (0 when none)."""
    stream = para_raw_stream(para_genesis)
    with contextlib.suppress(BusError):
        last = await bus.last_seq(stream)
        for seq in range(last, max(0, last - SCAN_BACK), -1):
            message = await bus.message(stream, seq)
            if message is None:
                continue
            with contextlib.suppress(RecordError):
                record = decode_para_raw(message.data, stream, seq)
                if isinstance(record, RelayBlockRecord):
                    return record.number
    return 0


async def _step_pair(pair: ParachainDevnet, block_time_s: float) -> None:
    while True:
        await asyncio.sleep(block_time_s)
        pair.step()


@contextlib.asynccontextmanager
async def embedded_pair(settings: Settings, bus: Bus) -> AsyncIterator[Settings]:
    """The settings with `relay_url` and `node_url` pointing at an in-process devnet pair
    (unless both are given)."""
    if settings.relay_url is not None and settings.node_url is not None:
        yield settings
        return
    pair = ParachainDevnet(devnet_config(settings), DevnetConfig(chain_name="pinkpipe para"))
    resume = await relayed_relay_height(bus, pair.para.genesis_hash)
    if resume:
        click.echo(f"devnet: regenerating relay blocks #1..#{resume} to resume")
        await asyncio.to_thread(pair.produce, resume)
    async with DevnetServer(pair.relay) as relay, DevnetServer(pair.para) as para:
        timer = asyncio.create_task(_step_pair(pair, settings.block_time_s))
        click.echo(
            f"devnet pair: relay at {relay.url}, parachain at {para.url} (para id "
            f"{pair.para_id}, genesis 0x{pair.para.genesis_hash.hex()}), a relay block every "
            f"{settings.block_time_s}s"
        )
        try:
            urls = {"relay_url": relay.url, "node_url": para.url}
            yield settings.model_copy(update={**urls, "para_id": settings.para_id or pair.para_id})
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer


async def run_parachain_pipeline(settings: Settings, stop: asyncio.Event) -> int:
    """Everything `pinkpipe run --parachain` starts, until `stop` or a component fails."""
    async with embedded_nats(settings) as settings:
        bus = await Bus.connect(settings.section(BusSettings), "pinkpipe-run")
        try:
            async with embedded_pair(settings, bus) as settings:
                relayer = parachain_relayer(settings, bus, stop)
                validator = await parachain_validator(settings, bus, stop)
                return await _supervise(relayer, validator, stop)  # type: ignore[arg-type]
        finally:
            await bus.close()
