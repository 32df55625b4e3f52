"""The `pinkpipe` command line."""

import click

from pinkpipe.app.abi_cmd import abi_group
from pinkpipe.app.api_cmd import api_command
from pinkpipe.app.bus_cmd import bus_group
from pinkpipe.app.commands import config_group, validator_group
from pinkpipe.app.events_cmd import db_group, events_group
from pinkpipe.app.inspect_cmds import inspect
from pinkpipe.app.pink_cmd import pink
from pinkpipe.app.relayer_cmd import relayer_command
from pinkpipe.app.runner import run_command
from pinkpipe.devnet.cli import devnet


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pinkpipe: a light-client pipeline for Phala-style Substrate chains."""


cli.add_command(inspect)
cli.add_command(config_group)
cli.add_command(relayer_command)
cli.add_command(validator_group)
cli.add_command(run_command)
cli.add_command(devnet)
cli.add_command(bus_group)
cli.add_command(pink)
cli.add_command(events_group)
cli.add_command(db_group)
cli.add_command(api_command)
cli.add_command(abi_group)


def main() -> None:
    cli()
