"""The devnet's settings section: one source of the defaults of a running devnet, used by
`pinkpipe devnet` and by the devnet that `pinkpipe run` embeds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_BLOCK = 2**32 - 1
"""Block numbers are u32: no period or count can exceed one."""
MAX_BLOCK_TIME_S = 3600.0


class DevnetSettings(BaseModel):
    """How a served devnet produces blocks (the chain itself is `DevnetConfig`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    block_time_s: float = Field(
        2.0,
        ge=0,
        le=MAX_BLOCK_TIME_S,
        description="devnet: seconds between blocks (at most an hour)",
    )
    devnet_set_period: int = Field(
        100,
        ge=0,
        le=MAX_BLOCK,
        description="devnet: authority-set rotation every N blocks (0 = never)",
    )
    devnet_justification_period: int = Field(
        16,
        ge=1,
        le=MAX_BLOCK,
        description="devnet: a justification every N blocks (and at set changes)",
    )
