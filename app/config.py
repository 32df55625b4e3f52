"""Configuration: one settings model read from flags, `PINKPIPE_*` variables and a TOML file.

Precedence is flag > environment > TOML file > default, so an operator can keep a checked-in
`pinkpipe.toml` and still override one value for a single run. Secrets (NATS password/token)
are `SecretStr` so they never reach logs or `pinkpipe config show` in clear.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pinkpipe.chain.keys import (
    PHALA_MQ_OUTBOUND_MESSAGES,
    PINK_RUNTIME_VERSION,
    PINK_SYSTEM_CODE,
    TIMESTAMP_NOW,
)

ENV_PREFIX = "PINKPIPE_"
DEFAULT_CONFIG_FILE = Path("pinkpipe.toml")
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024
"""8 MiB: a real block (up to 5 MiB of extrinsics) still fits once base64-encoded."""

DEFAULT_STORAGE_KEYS = tuple(
    "0x" + k.hex()
    for k in (PHALA_MQ_OUTBOUND_MESSAGES, TIMESTAMP_NOW, PINK_SYSTEM_CODE, PINK_RUNTIME_VERSION)
)

_TOML_DATA: ContextVar[dict[str, Any] | None] = ContextVar("pinkpipe_toml_data", default=None)


class ConfigError(ValueError):
    """The configuration cannot be loaded: unreadable file, unknown key or invalid value."""


class _TomlSource(InitSettingsSource):
    """The TOML file's values, as read by `load_settings` for this call."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls, _TOML_DATA.get() or {})


class Settings(BaseSettings):
    """Every tunable of pinkpipe; field descriptions are what `config show` and --help print."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(Path("data"), description="where `run` keeps the embedded NATS store")
    log_level: str = Field("INFO", description="logging level (DEBUG, INFO, WARNING, ERROR)")

    nats_url: str | None = Field(
        None,
        description=f"NATS server(s), comma-separated for a cluster; unset: `run` embeds one, "
        f"other commands use {DEFAULT_NATS_URL}",
    )
    nats_user: str | None = Field(None, description="NATS user name")
    nats_password: SecretStr | None = Field(None, description="NATS password (masked)")
    nats_token: SecretStr | None = Field(None, description="NATS token (masked)")
    nats_creds: Path | None = Field(None, description="NATS credentials file (.creds)")
    nats_connect_timeout_s: float = Field(
        15.0, gt=0, description="give up when no NATS server answers at start within (seconds)"
    )
    nats_port: int = Field(0, ge=0, le=65535, description="embedded server port (0 = free port)")
    nats_max_payload: int = Field(
        DEFAULT_MAX_PAYLOAD,
        ge=1024 * 1024,
        le=64 * 1024 * 1024,
        description="embedded server max_payload in bytes (largest record)",
    )
    stream_replicas: int = Field(1, ge=1, le=5, description="JetStream replicas per stream")
    raw_max_bytes: int = Field(-1, ge=-1, description="raw stream size limit (-1 = unlimited)")
    verified_max_bytes: int = Field(
        -1, ge=-1, description="verified stream size limit (-1 = unlimited)"
    )
    duplicate_window_s: float = Field(
        120.0, gt=0, description="JetStream de-duplication window (seconds)"
    )

    node_url: str | None = Field(
        None, description="node WebSocket URL; unset: `run` embeds the devnet"
    )
    from_block: int = Field(1, ge=1, description="first block the relayer publishes (empty stream)")
    storage_keys: tuple[str, ...] = Field(
        DEFAULT_STORAGE_KEYS, description="storage keys proven for every block (hex)"
    )
    rpc_window: int = Field(256, ge=1, le=4096, description="blocks fetched concurrently")
    rpc_batch: int = Field(16, ge=1, le=512, description="blocks per JSON-RPC batch request")
    rpc_timeout_s: float = Field(10.0, gt=0, description="timeout of one node request (seconds)")
    rpc_retries: int = Field(
        5, ge=0, description="retries (reconnecting, with backoff) before a node error is final"
    )
    publish_window: int = Field(512, ge=1, le=4000, description="JetStream publishes awaiting ack")

    genesis: str | None = Field(None, description="validate only this chain (genesis hash hex)")
    trusted_checkpoint: str | None = Field(
        None, description="validator: accept a checkpoint bootstrap at `NUMBER:0xHASH`"
    )
    validator_fetch: int = Field(512, ge=1, le=10000, description="raw records per pull")
    validator_ack_wait_s: float = Field(
        600.0, gt=0, description="consumer ack wait; records wait for their batch's justification"
    )

    block_time_s: float = Field(2.0, gt=0, description="`run` devnet: seconds between blocks")
    devnet_set_period: int = Field(
        100, ge=0, description="`run` devnet: authority-set rotation every N blocks (0 = never)"
    )
    devnet_justification_period: int = Field(
        16, ge=1, description="`run` devnet: a justification every N blocks"
    )

    @field_validator("storage_keys")
    @classmethod
    def _hex_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        for key in keys:
            try:
                bytes.fromhex(key.removeprefix("0x"))
            except ValueError:
                raise ValueError(f"storage key {key!r} is not hex") from None
        return tuple("0x" + key.removeprefix("0x").lower() for key in keys)

    @field_validator("genesis")
    @classmethod
    def _genesis_hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        raw = value.removeprefix("0x")
        if len(raw) != 64:
            raise ValueError(f"genesis hash must be 32 bytes of hex, got {value!r}")
        bytes.fromhex(raw)
        return raw.lower()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def effective_nats_url(self) -> str:
        return self.nats_url or DEFAULT_NATS_URL

    @property
    def storage_key_bytes(self) -> tuple[bytes, ...]:
        return tuple(bytes.fromhex(k[2:]) for k in self.storage_keys)

    @property
    def genesis_bytes(self) -> bytes | None:
        return None if self.genesis is None else bytes.fromhex(self.genesis)


SECRET_FIELDS = frozenset(
    name for name, f in Settings.model_fields.items() if "SecretStr" in repr(f.annotation)
)


def config_file_path(config_file: Path | None) -> Path | None:
    """The file to read: the one given, else `pinkpipe.toml` in the working directory if any."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"config file {config_file} does not exist")
        return config_file
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} in {path}")
    return data


@contextmanager
def _toml_data(data: dict[str, Any]) -> Iterator[None]:
    token = _TOML_DATA.set(data)
    try:
        yield
    finally:
        _TOML_DATA.reset(token)


def load_settings(
    config_file: Path | None = None, *, default_file: bool = True, **overrides: Any
) -> Settings:
    """Settings from (highest first) `overrides` (CLI flags; None = not given), the
    environment, the TOML file and the defaults. `default_file=False` ignores a
    `./pinkpipe.toml` when no file is named (embedding code that must not pick one up)."""
    path = config_file_path(config_file) if config_file or default_file else None
    data = read_toml(path) if path is not None else {}
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        with _toml_data(data):
            return Settings(**given)
    except ValidationError as e:
        where = f" (config file {path})" if path is not None else ""
        raise ConfigError(f"invalid configuration{where}: {e}") from None


def value_sources(
    config_file: Path | None, overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Where each setting's effective value comes from: flag, env, file or default."""
    env = {k.upper() for k in (os.environ if environ is None else environ)}
    path = config_file_path(config_file)
    file_keys = set(read_toml(path)) if path is not None else set()
    sources: dict[str, str] = {}
    for name in Settings.model_fields:
        if overrides.get(name) is not None:
            sources[name] = "flag"
        elif f"{ENV_PREFIX}{name}".upper() in env:
            sources[name] = "env"
        elif name in file_keys:
            sources[name] = f"file {path}"
        else:
            sources[name] = "default"
    return sources


def masked_values(settings: Settings) -> dict[str, str]:
    """Each setting rendered for display, secrets replaced by asterisks."""
    out: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name in SECRET_FIELDS and value is not None:
            out[name] = "********"
        elif isinstance(value, tuple):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out


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
