"""`pinkpipe bus truncate`: the documented way out after a chain stopped on a bad record.

A raw record the validator refused stays in the stream (for inspection), so a restart stops at
it again. Once the cause is fixed (a second writer stopped, a node repaired), the operator
deletes that record and everything after it; the relayer then publishes again after the last
record left (its position is always the stream's last message), and the validator resumes
from its checkpoint, checking that the new records link to what it verified. The same works
for the verified stream when a record there was not written by the validator.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from pinkpipe.app.options import config_option, settings_from_cli
from pinkpipe.bus import Bus, BusSettings, raw_stream, verified_stream
from pinkpipe.chain.errors import PinkpipeError
from pinkpipe.chain.hextext import HexError, parse_hex

STREAMS = {"raw": raw_stream, "verified": verified_stream}
MAX_STREAM_SEQ = 2**64 - 1
"""JetStream sequences are unsigned 64-bit."""


def _genesis(value: str) -> bytes:
    try:
        return parse_hex(value, size=32, prefix_optional=True)
    except HexError as e:
        raise click.BadParameter(f"genesis hash {e}", param_hint="--genesis") from None


async def truncate(bus: Bus, stream: str, after_seq: int) -> list[int]:
    """Delete every message of `stream` after `after_seq`; returns the deleted sequences."""
    deleted = []
    for message in await bus.messages_after(stream, after_seq):
        await bus.delete_message(stream, message.seq)
        deleted.append(message.seq)
    return deleted


@click.group("bus")
def bus_group() -> None:
    """Inspect and repair the NATS streams (stop the stages writing to a stream first)."""


@bus_group.command("truncate")
@config_option
@click.option("--nats", "nats_url", help="NATS server URL")
@click.option("--genesis", required=True, help="the chain (genesis hash hex)")
@click.option(
    "--stream",
    type=click.Choice(sorted(STREAMS)),
    default="raw",
    show_default=True,
    help="which of the chain's streams",
)
@click.option(
    "--after-seq",
    type=click.IntRange(0, MAX_STREAM_SEQ),
    required=True,
    help="keep messages up to this stream sequence, delete the rest",
)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def truncate_command(
    config_file: Path | None,
    nats_url: str | None,
    genesis: str,
    stream: str,
    after_seq: int,
    yes: bool,
) -> None:
    """Delete a chain stream's messages after --after-seq, so the relayer (raw) or the
    validator (verified) writes them again. Error messages that stop a chain print the exact
    command to run. Stop the stream's writer first; nothing before --after-seq is touched."""
    name = STREAMS[stream](_genesis(genesis))
    settings = settings_from_cli(config_file, nats_url=nats_url)

    async def run() -> list[int]:
        bus = await Bus.connect(settings.section(BusSettings), "pinkpipe-bus-truncate")
        try:
            last = await bus.last_seq(name)
            if last <= after_seq:
                return []
            if not yes:
                click.confirm(
                    f"delete {name} sequences {after_seq + 1}..{last}?", abort=True, err=True
                )
            return await truncate(bus, name, after_seq)
        finally:
            await bus.close()

    try:
        deleted = asyncio.run(run())
    except PinkpipeError as e:
        raise click.ClickException(str(e)) from None
    if deleted:
        click.echo(
            f"{name}: deleted {len(deleted)} message(s) (sequences {deleted[0]}..{deleted[-1]}); "
            f"it now ends at or before sequence {after_seq}"
        )
    else:
        click.echo(f"{name}: nothing after sequence {after_seq}")
