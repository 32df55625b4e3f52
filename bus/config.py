"""The bus's settings section: how to reach NATS, the streams' limits, the record contract.

A plain pydantic model (no environment, no files): the app shell composes every stage's
section into one `Settings` and hands each stage only its own (`Settings.section`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from pinkpipe.chain.keys import (
    PHALA_MQ_OUTBOUND_MESSAGES,
    PINK_RUNTIME_VERSION,
    PINK_SYSTEM_CODE,
    TIMESTAMP_NOW,
)

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
HOUR_S = 3600.0
DAY_S = 24 * HOUR_S
MAX_I64 = 2**63 - 1
"""JetStream keeps sizes as signed 64-bit integers."""
NATS_SCHEMES = ("nats", "tls", "ws", "wss")
DEFAULT_STORAGE_KEYS = (
    PHALA_MQ_OUTBOUND_MESSAGES,
    TIMESTAMP_NOW,
    PINK_SYSTEM_CODE,
    PINK_RUNTIME_VERSION,
)
"""What a Phala worker reads per block (DESIGN.md "Storage keys read per block")."""


def mask_url(url: str) -> str:
    """`url` with any user name, password or token replaced by asterisks (for logs and
    errors: `nats://user:pass@host` must never be printed in clear)."""
    parts = []
    for one in url.split(","):
        one = one.strip()
        scheme, sep, rest = one.partition("://") if "://" in one else ("", "", one)
        netloc, slash, path = rest.partition("/")
        if "@" in netloc:
            netloc = "***@" + netloc.rsplit("@", 1)[1]
        parts.append(f"{scheme}{sep}{netloc}{slash}{path}")
    return ",".join(parts)


def check_nats_urls(value: str) -> str:
    """Each comma-separated server must be `scheme://host:port` with a known scheme and a port
    in range: caught here, at start, instead of as a traceback from the client."""
    for one in value.split(","):
        one = one.strip()
        try:
            split = urlsplit(one if "://" in one else f"nats://{one}")
        except ValueError as e:  # an unbalanced IPv6 bracket
            raise ValueError(f"{mask_url(one)!r}: {e}") from None
        if split.scheme not in NATS_SCHEMES:
            raise ValueError(f"{mask_url(one)!r}: scheme must be one of {', '.join(NATS_SCHEMES)}")
        if not split.hostname:
            raise ValueError(f"{mask_url(one)!r} names no host")
        try:
            split.port  # noqa: B018  (raises on a port out of range or not a number)
        except ValueError as e:
            raise ValueError(f"{mask_url(one)!r}: {e}") from None
    return value


class BusSettings(BaseModel):
    """NATS connection, stream limits and the storage keys every block record must prove."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nats_url: str | None = Field(
        None,
        description=f"NATS server(s), comma-separated for a cluster; unset: `run` embeds one, "
        f"other commands use {DEFAULT_NATS_URL}",
    )
    nats_user: str | None = Field(None, description="NATS user name")
    nats_password: SecretStr | None = Field(None, description="NATS password (masked)")
    nats_token: SecretStr | None = Field(None, description="NATS token (masked)")
    nats_creds: str | None = Field(None, description="NATS credentials file (.creds)")
    nats_connect_timeout_s: float = Field(
        15.0,
        gt=0,
        le=HOUR_S,
        description="give up when no NATS server answers at start within (seconds)",
    )
    nats_outage_limit_s: float = Field(
        300.0,
        ge=0,
        le=30 * DAY_S,
        description="stop (exit 1) when NATS stays unreachable this long (seconds; 0 = never)",
    )
    stream_replicas: int = Field(1, ge=1, le=5, description="JetStream replicas per stream")
    raw_max_bytes: int = Field(
        -1, ge=-1, le=MAX_I64, description="raw stream size limit (-1 = unlimited)"
    )
    verified_max_bytes: int = Field(
        -1, ge=-1, le=MAX_I64, description="verified stream size limit (-1 = unlimited)"
    )
    duplicate_window_s: float = Field(
        120.0, gt=0, le=7 * DAY_S, description="JetStream de-duplication window (seconds)"
    )
    publish_window: int = Field(512, ge=1, le=4000, description="JetStream publishes awaiting ack")
    storage_keys: tuple[str, ...] = Field(
        tuple("0x" + k.hex() for k in DEFAULT_STORAGE_KEYS),
        description="storage keys every block record must prove (hex); the relayer proves "
        "them, the validator refuses a record without them",
    )

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, value: str | None) -> str | None:
        return None if value is None else check_nats_urls(value)

    @field_validator("storage_keys")
    @classmethod
    def _hex_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        if not keys:
            raise ValueError("at least one storage key is required")
        out = []
        for key in keys:
            raw = key.removeprefix("0x")
            try:
                bytes.fromhex(raw)
            except ValueError:
                raise ValueError(f"storage key {key!r} is not hex") from None
            if not raw:
                raise ValueError("a storage key is empty")
            out.append("0x" + raw.lower())
        return tuple(out)

    @property
    def effective_nats_url(self) -> str:
        return self.nats_url or DEFAULT_NATS_URL

    @property
    def storage_key_bytes(self) -> tuple[bytes, ...]:
        return tuple(bytes.fromhex(k[2:]) for k in self.storage_keys)
