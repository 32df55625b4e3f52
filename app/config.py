"""Configuration: each stage's settings section, composed into one `Settings` read from flags,
`PINKPIPE_*` variables and a TOML file.

Each stage owns its section (`BusSettings`, `RelayerSettings`, `ValidatorSettings`,
`DevnetSettings`, `StoreSettings`, and the app's own `AppSettings` here); `Settings` inherits
them all, so every setting keeps one flat name (`PINKPIPE_<NAME>` in the environment,
`name = value` in TOML) and a stage is handed only its section
(`settings.section(RelayerSettings)`).

Precedence is flag > environment > TOML file > default, so an operator can keep a checked-in
`pinkpipe.toml` and still override one value for a single run. Secrets are `SecretStr`, and
URLs with credentials are masked, so neither reaches logs or `config show` in clear. An
unknown `PINKPIPE_*` variable is an error: a misspelt password variable must not go unnoticed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from pinkpipe.bus.config import BusSettings, mask_url
from pinkpipe.chain.errors import ConfigError
from pinkpipe.devnet.settings import DevnetSettings
from pinkpipe.eventstore.config import StoreSettings
from pinkpipe.relayer.config import RelayerSettings
from pinkpipe.services.parachain import ParachainValidatorSettings
from pinkpipe.services.validator import ValidatorSettings

ENV_PREFIX = "PINKPIPE_"
DEFAULT_CONFIG_FILE = Path("pinkpipe.toml")
DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024
"""8 MiB: a real block (up to 5 MiB of extrinsics) still fits once base64-encoded."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
NOT_SETTINGS = frozenset({"DEVNET_METADATA"})
"""`PINKPIPE_*` variables read elsewhere (the devnet's metadata override)."""

UPPER_BOUNDS: dict[str, float] = {
    "validator_ack_wait_s": 7 * 24 * 3600.0,
    "validator_max_buffer_bytes": 2**40,
}
"""Upper bounds the validator's section does not declare itself (a huge number must be
refused at start, not overflow inside JetStream or the buffer accounting)."""
S = TypeVar("S", bound=BaseModel)
_TOML_FILE: ContextVar[Path | None] = ContextVar("pinkpipe_toml_file", default=None)
"""The TOML file of the `load_settings` call under way (pydantic-settings builds its sources
per instantiation, so the file can differ from call to call)."""


class AppSettings(BaseModel):
    """What the app shell itself uses: where data lives, logging, the embedded NATS server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(Path("data"), description="where `run` keeps its data (NATS store)")
    log_level: str = Field("INFO", description="logging level (DEBUG, INFO, WARNING, ERROR)")
    nats_port: int = Field(0, ge=0, le=65535, description="embedded server port (0 = free port)")
    nats_max_payload: int = Field(
        DEFAULT_MAX_PAYLOAD,
        ge=1024 * 1024,
        le=64 * 1024 * 1024,
        description="embedded server max_payload in bytes (largest record)",
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
        return value.upper()


class Settings(
    AppSettings,
    BusSettings,
    RelayerSettings,
    ValidatorSettings,
    ParachainValidatorSettings,
    DevnetSettings,
    StoreSettings,
    BaseSettings,
):
    """Every section, flat; field descriptions are what `config show` and --help print."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, allow_inf_nan=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        path = _TOML_FILE.get()
        if path is not None:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=path),)
        return sources

    @field_validator(*UPPER_BOUNDS)
    @classmethod
    def _upper_bound(cls, value: float, info: ValidationInfo) -> float:
        limit = UPPER_BOUNDS[str(info.field_name)]
        if value > limit:
            raise ValueError(f"{value} is over the limit of {limit}")
        return value

    def section(self, cls: type[S]) -> S:
        """One stage's section of these settings."""
        return cls.model_validate({name: getattr(self, name) for name in cls.model_fields})

    @property
    def validator_secret_path(self) -> Path:
        return self.validator_secret_file or self.data_dir / "validator.secret"


SECRET_FIELDS = frozenset(
    name for name, f in Settings.model_fields.items() if "SecretStr" in repr(f.annotation)
)
URL_FIELDS = frozenset({"nats_url", "node_url"})


@contextmanager
def _toml_file(path: Path | None) -> Iterator[None]:
    token = _TOML_FILE.set(path)
    try:
        yield
    finally:
        _TOML_FILE.reset(token)


def config_file_path(config_file: Path | None) -> Path | None:
    """The file to read: the one given, else `pinkpipe.toml` in the working directory if any."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"config file {config_file} does not exist or is not a file")
        return config_file
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    """The file's settings, checked: readable UTF-8 TOML, known keys only."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config file {path} is not UTF-8 text: {e.reason} at byte {e.start}"
        ) from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} in {path}")
    return data


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse `PINKPIPE_*` variables that name no setting."""
    env = os.environ if environ is None else environ
    known = {name.upper() for name in Settings.model_fields} | NOT_SETTINGS
    unknown = sorted(
        k for k in env if k.upper().startswith(ENV_PREFIX) and k.upper()[9:] not in known
    )
    if unknown:
        raise ConfigError(
            f"unknown environment variable(s) {', '.join(unknown)}: no such setting "
            f"(see `pinkpipe config show`)"
        )


def setting_label(name: str, flags: Mapping[str, str] | None = None) -> str:
    """How an error names a setting: its name, the command's flag for it (if the command has
    one) and its environment variable, e.g. `nats_url (--nats / PINKPIPE_NATS_URL)`."""
    env = f"{ENV_PREFIX}{name.upper()}"
    flag = (flags or {}).get(name)
    return f"{name} ({flag} / {env})" if flag else f"{name} ({env})"


def _describe(error: ValidationError, flags: Mapping[str, str] | None) -> str:
    """One line per invalid setting, naming it and where a value can come from."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "settings"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{setting_label(name, flags)}: {message}")
    return "; ".join(lines)


_UNPARSED_FIELD = re.compile(r'field "(\w+)"')


def _unparsed(error: SettingsError, flags: Mapping[str, str] | None) -> ConfigError:
    """pydantic-settings reads list settings from the environment as JSON and fails with a
    bare exception naming only the field; say which variable holds what."""
    match = _UNPARSED_FIELD.search(str(error))
    if match is None:
        return ConfigError(f"invalid configuration: {error}")
    name = match.group(1)
    value = os.environ.get(f"{ENV_PREFIX}{name.upper()}", "")
    cause = f": {error.__cause__}" if error.__cause__ is not None else ""
    return ConfigError(
        f"invalid configuration: {setting_label(name, flags)}: {value[:80]!r} is not JSON "
        f'(list settings are JSON in the environment, e.g. ["0x..."]){cause}'
    )


def load_settings(
    config_file: Path | None = None,
    *,
    default_file: bool = True,
    flags: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from (highest first) `overrides` (CLI flags; None = not given), the
    environment, the TOML file and the defaults. `default_file=False` ignores a
    `./pinkpipe.toml` when no file is named (embedding code that must not pick one up);
    `flags` (setting name -> the command's option) lets errors name the option to fix."""
    check_environment()
    path = config_file_path(config_file) if config_file or default_file else None
    if path is not None:
        read_toml(path)
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
    try:
        with _toml_file(path):
            return Settings(**given)
    except ValidationError as e:
        where = f" (config file {path})" if path is not None else ""
        raise ConfigError(f"invalid configuration{where}: {_describe(e, flags)}") from None
    except SettingsError as e:
        raise _unparsed(e, flags) from None


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
    """Each setting rendered for display: secrets replaced by asterisks, credentials inside
    URLs masked."""
    out: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name in SECRET_FIELDS and value is not None:
            out[name] = "********"
        elif name in URL_FIELDS and value is not None:
            out[name] = mask_url(str(value))
        elif isinstance(value, tuple):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out
