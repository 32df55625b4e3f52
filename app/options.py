"""Command-line plumbing shared by the commands: the `--config` option and settings loading
with configuration errors turned into usage errors (exit 2, one line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pinkpipe.app.config import DEFAULT_CONFIG_FILE, Settings, load_settings
from pinkpipe.chain.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """The `--config FILE` option every command shares."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"TOML settings file (default: ./{DEFAULT_CONFIG_FILE} if present)",
    )(func)


def settings_from_cli(config_file: Path | None, **overrides: Any) -> Settings:
    """`load_settings` for a click command: configuration errors become usage errors."""
    try:
        return load_settings(config_file, **overrides)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
