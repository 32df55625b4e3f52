"""The `pinkpipe` command line."""

import click

from pipeline.inspect_cmds import inspect


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pinkpipe: a light-client pipeline for Phala-style Substrate chains."""


cli.add_command(inspect)


def main() -> None:
    cli()
