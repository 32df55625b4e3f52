"""`pinkpipe devnet`: run the development chain as a node-compatible WebSocket JSON-RPC server."""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
from dataclasses import dataclass, field
from pathlib import Path

import click

from pinkpipe.chain.header import Header
from pinkpipe.chain.hextext import hex_of
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig, DevnetError
from pinkpipe.devnet.faults import FaultError, Faults
from pinkpipe.devnet.parachain import ParachainDevnet, ParachainFaults
from pinkpipe.devnet.rpc import DevnetServer, TransportFaults
from pinkpipe.devnet.runtime import METADATA_ENV
from pinkpipe.devnet.scenario import ScenarioRunner, load_scenario
from pinkpipe.devnet.settings import MAX_BLOCK, MAX_BLOCK_TIME_S, DevnetSettings

DATA_FAULTS = {
    "bad-signature": "bad_justification_signature",
    "wrong-set-id": "wrong_set_id",
    "wrong-state-root": "wrong_state_root",
    "truncated-proof": "truncated_proof",
    "bad-body": "bad_body",
}
PARACHAIN_FAULTS = {
    "wrong-head": "wrong_head_at",
    "head-skips-back": "head_skips_back_at",
    "withheld-head": "withheld_head_at",
}
"""With --parachain: relay block R holds a wrong or an older head; parachain block P withheld."""
FAULT_HELP = """Misbehave on purpose (repeatable):
drop-every=N (close the connection on every Nth request), drop-at=B (drop every connection when
block B is produced), stall=S or stall=S@B (hold answers S seconds, always or once block B is
produced), reorder (answer out of order), bad-signature=B (a bad precommit signature in B's
justification), wrong-set-id=B, wrong-state-root=B, truncated-proof=B, bad-body=B; with
--parachain (B is then a relay block): wrong-head=R, head-skips-back=R, withheld-head=P."""


@dataclass
class FaultPlan:
    data: Faults = field(default_factory=Faults)
    transport: TransportFaults = field(default_factory=TransportFaults)


def _int(name: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise DevnetError(f"fault {name} needs a non-negative integer, got {value!r}")
    return int(value)


def parse_faults(specs: tuple[str, ...] | list[str], parachain: bool = False) -> FaultPlan:
    """`--fault` values to data and transport faults; errors name the bad spec. With
    `parachain` the data faults are the relay chain's plus the parachain-mode switches."""
    plan = FaultPlan(data=ParachainFaults()) if parachain else FaultPlan()
    names = {**DATA_FAULTS, **PARACHAIN_FAULTS} if parachain else DATA_FAULTS
    transport = plan.transport
    for spec in specs:
        name, _, value = spec.strip().partition("=")
        if name == "reorder" and not value:
            transport.reorder = True
        elif name == "drop-every":
            transport.drop_every = _int(name, value)
        elif name == "drop-at":
            transport.drop_at_block = _int(name, value)
        elif name == "stall":
            seconds, _, block = value.partition("@")
            try:
                transport.stall_seconds = float(seconds)
            except ValueError:
                raise DevnetError(f"fault stall needs seconds, got {seconds!r}") from None
            transport.stall_at_block = _int(name, block) if block else None
        elif name in names:
            try:
                plan.data.set(names[name], _int(name, value))
            except FaultError as e:
                raise DevnetError(str(e)) from None
        else:
            raise DevnetError(
                f"unknown fault {spec!r}; known: reorder, drop-every=N, "
                f"drop-at=B, stall=S[@B], {'=B, '.join(names)}=B"
            )
    transport.validate()
    return plan


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """click's FloatRange lets NaN through (every comparison with it is false)."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds", ctx, param)
    return value


def _announce_block(header: Header) -> None:
    click.echo(f"#{header.number} 0x{header.hash().hex()}")


async def serve_devnet(server: DevnetServer, blocks: int, runner: ScenarioRunner | None) -> None:
    """Start, pre-produce `blocks`, announce, and serve until SIGINT/SIGTERM.

    A scenario step the chain refuses stops the block timer; that error is raised here.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if runner is not None:
        server.before_block(runner.before_block)
    await server.start()
    try:
        await server.produce(blocks)
        click.echo(f"genesis 0x{server.chain.genesis_hash.hex()}")
        click.echo(f"best #{server.chain.best_number} {hex_of(server.chain.best_hash)}")
        click.echo(f"listening on {server.url}", nl=True)
        server.chain.on_block(_announce_block)
        waiter = asyncio.ensure_future(stop.wait())
        watched = {waiter} if server.block_task is None else {waiter, server.block_task}
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if server.block_task in done:
            server.block_task.result()
    finally:
        await server.stop()


async def serve_parachain_devnet(
    pair: ParachainDevnet,
    servers: tuple[DevnetServer, DevnetServer],
    blocks: int,
    block_time: float,
) -> None:
    """Serve the relay chain and the parachain on their two ports, one block timer stepping
    the pair (`ParachainDevnet.step`), until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    relay, para = servers
    await relay.start()
    await para.start()
    try:
        pair.produce(blocks)
        for name, server in (("relay", relay), ("parachain", para)):
            click.echo(f"{name} genesis 0x{server.chain.genesis_hash.hex()}")
            click.echo(f"{name} listening on {server.url}")
        click.echo(f"para id {pair.para_id}, parachain final #{pair.para.finalized_number}")
        pair.relay.on_block(_announce_block)
        while not stop.is_set():
            if block_time > 0:
                pair.step()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), block_time if block_time > 0 else None)
    finally:
        await para.stop()
        await relay.stop()


_DEFAULTS = DevnetSettings()
"""The same defaults as the devnet `pinkpipe run` embeds (devnet/settings.py)."""


@click.command("devnet")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=9944,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="WebSocket port (0 picks a free one).",
)
@click.option(
    "--blocks",
    default=0,
    show_default=True,
    type=click.IntRange(0, MAX_BLOCK),
    help="Blocks to produce before serving.",
)
@click.option(
    "--block-time",
    default=_DEFAULTS.block_time_s,
    show_default=True,
    type=click.FloatRange(0, MAX_BLOCK_TIME_S),
    callback=_finite,
    help="Seconds between blocks (0: only the --blocks produced at start).",
)
@click.option(
    "--authorities",
    default=4,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="GRANDPA authorities (//Alice, //Bob, ...).",
)
@click.option(
    "--set-period",
    default=_DEFAULTS.devnet_set_period,
    show_default=True,
    type=click.IntRange(0, MAX_BLOCK),
    help="Rotate the authority set every M blocks (0: never).",
)
@click.option(
    "--justification-period",
    default=_DEFAULTS.devnet_justification_period,
    show_default=True,
    type=click.IntRange(1, MAX_BLOCK),
    help="Keep a justification every P blocks.",
)
@click.option(
    "--state-version",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1),
    help="Trie layout of the state: 0 or 1.",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file scripting clusters, code, contracts and calls by block "
    "(and the genesis Pink system code); see examples/scenarios/demo.yaml.",
)
@click.option(
    "--metadata",
    "metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=METADATA_ENV,
    show_envvar=True,
    help="V14 metadata the devnet serves and encodes its calls by [default: the Phala "
    "standalone metadata packaged with pinkpipe].",
)
@click.option("--fault", "faults", multiple=True, metavar="SPEC", help=FAULT_HELP)
@click.option(
    "--parachain",
    is_flag=True,
    help="Serve a relay chain (on --port) and a parachain (on --para-port) whose heads the "
    "relay chain includes in Paras::Heads; --blocks and --block-time count relay blocks.",
)
@click.option(
    "--para-port",
    default=9945,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="With --parachain: the parachain's WebSocket port.",
)
def devnet(
    host: str,
    port: int,
    blocks: int,
    block_time: float,
    authorities: int,
    set_period: int,
    justification_period: int,
    state_version: int,
    scenario: Path | None,
    metadata: Path | None,
    faults: tuple[str, ...],
    parachain: bool,
    para_port: int,
) -> None:
    """Run a deterministic development chain that speaks a Substrate node's JSON-RPC.

    It prints the genesis hash and the WebSocket URL, then produces a block every
    --block-time seconds until Ctrl-C. Same options, same chain: block hashes are
    reproducible.
    """
    try:
        plan = parse_faults(faults, parachain)
    except DevnetError as e:
        raise click.BadParameter(str(e), param_hint="'--fault'") from None
    try:
        config = DevnetConfig(
            authorities=authorities,
            set_period=set_period,
            justification_period=justification_period,
            state_version=state_version,
            faults=plan.data,
            metadata_path=metadata,
        )
        script = None if scenario is None else load_scenario(scenario)
        if script is not None:
            config = script.configure(config)
        if parachain:
            if script is not None:
                raise DevnetError("--scenario is not supported with --parachain yet")
            para_config = DevnetConfig(
                chain_name="pinkpipe para", state_version=state_version, metadata_path=metadata
            )
            pair = ParachainDevnet(config, para_config)
            servers = (
                DevnetServer(pair.relay, host=host, port=port, faults=plan.transport),
                DevnetServer(pair.para, host=host, port=para_port),
            )
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(serve_parachain_devnet(pair, servers, blocks, block_time))
            return
        chain = DevChain(config)
        server = DevnetServer(
            chain, host=host, port=port, block_time=block_time, faults=plan.transport
        )
        runner = None if script is None else ScenarioRunner(script, server.pool)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_devnet(server, blocks, runner))
    except (DevnetError, OSError) as e:
        raise click.ClickException(str(e)) from None
