"""The relayer's settings section (composed into the app's `Settings`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinkpipe.bus.config import mask_url

NODE_SCHEMES = ("ws", "wss")


class RelayerSettings(BaseModel):
    """Which node to follow and how hard to pull from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node_url: str | None = Field(
        None, description="node WebSocket URL (ws:// or wss://); unset: `run` embeds the devnet"
    )
    from_block: int = Field(
        1, ge=1, lt=2**32, description="first block the relayer publishes (empty stream)"
    )
    relay_url: str | None = Field(
        None,
        description="parachain mode: relay chain node WebSocket URL (node_url is then the "
        "parachain's node)",
    )
    para_id: int | None = Field(
        None,
        ge=0,
        lt=2**32,
        description="parachain mode: the para id (unset: read ParachainInfo::ParachainId)",
    )
    rpc_window: int = Field(256, ge=1, le=4096, description="blocks fetched concurrently")
    rpc_batch: int = Field(16, ge=1, le=512, description="blocks per JSON-RPC batch request")
    rpc_timeout_s: float = Field(
        10.0, gt=0, le=3600, description="timeout of one node request (seconds)"
    )
    rpc_retries: int = Field(
        5,
        ge=0,
        le=1000,
        description="retries (reconnecting, with backoff) before a node error is final",
    )

    @field_validator("node_url", "relay_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        """A node URL that can never work is refused at start, not retried."""
        if value is None:
            return None
        try:
            split = urlsplit(value)
        except ValueError as e:  # an unbalanced IPv6 bracket
            raise ValueError(f"{mask_url(value)!r}: {e}") from None
        if split.scheme not in NODE_SCHEMES or not split.hostname:
            raise ValueError(
                f"{mask_url(value)!r} is not a WebSocket URL (ws://host:port or wss://...)"
            )
        try:
            split.port  # noqa: B018  (raises on a port out of range)
        except ValueError as e:
            raise ValueError(f"{mask_url(value)!r}: {e}") from None
        return value
