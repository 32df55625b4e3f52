"""Command-line plumbing shared by the commands: the `--config` option and settings loading
with configuration errors turned into usage errors (exit 2, one line naming the setting and
the command's own flag for it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from pinkpipe.app.config import DEFAULT_CONFIG_FILE, Settings, load_settings
from pinkpipe.app.process import EXIT_USAGE
from pinkpipe.chain.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])
SettingsCheck = Callable[[Settings, Mapping[str, str]], None]
"""A check of loaded settings against the world (paths, files) that raises `ConfigError`."""


class BadInput(click.ClickException):
    """An argument or input file that cannot be read as what it should be: a usage error
    (exit 2), like a bad flag."""

    exit_code = EXIT_USAGE


def config_option(func: F) -> F:
    """The `--config FILE` option every command shares."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"TOML settings file (default: ./{DEFAULT_CONFIG_FILE} if present)",
    )(func)


def command_flags() -> dict[str, str]:
    """Setting name -> this command's option for it (`node_url` -> `--node`), so an error
    names the flag the user can actually type."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    return {p.name: p.opts[0] for p in ctx.command.params if isinstance(p, click.Option) and p.name}


def settings_from_cli(
    config_file: Path | None, *, check: SettingsCheck | None = None, **overrides: Any
) -> Settings:
    """`load_settings` for a click command, then `check` (if given): configuration errors
    become usage errors."""
    flags = command_flags()
    try:
        settings = load_settings(config_file, flags=flags, **overrides)
        if check is not None:
            check(settings, flags)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    return settings
