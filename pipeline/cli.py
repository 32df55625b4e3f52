"""The `pinkpipe` command line."""

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pinkpipe: a light-client pipeline for Phala-style Substrate chains."""


def main() -> None:
    cli()
