"""The bus's shape, declared once: stream and subject names, message ids, stream limits.

Per chain (genesis hash in hex, `<g>`) two streams, each with one subject and one owner:

| stream                 | subject                  | owner (writer)  | readers            |
|------------------------|--------------------------|-----------------|--------------------|
| `PINKPIPE_RAW_<g>`      | `pinkpipe.<g>.raw`       | relayer         | validator          |
| `PINKPIPE_VERIFIED_<g>` | `pinkpipe.<g>.verified`  | validator       | executor, audits   |

Both use file storage and limits retention (nothing is deleted by consumption, so raw blocks
stay available for audits and for inspecting a block that failed validation), `discard: new`
(a full stream refuses new blocks, which stops the producer, rather than silently dropping the
oldest ones a lagging consumer still needs), `max_msg_size` = the server's max payload.

Only a stream's owner creates it or changes its limits; a reader that finds other limits than
its own configuration says so and leaves them (two processes with different defaults must not
fight over a stream's size).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nats.js import api

from pinkpipe.bus.config import BusSettings

SUBJECT_ROOT = "pinkpipe"
RAW_STREAM_PREFIX = "PINKPIPE_RAW_"
PARA_RAW_STREAM_PREFIX = "PINKPIPE_PARARAW_"
VERIFIED_STREAM_PREFIX = "PINKPIPE_VERIFIED_"
CHECKPOINT_BUCKET = "pinkpipe-validator"
VALIDATOR_CONSUMER = "validator"
HEADER_ROOM = 1024
"""Bytes kept free under max_payload for the message headers (msg id, expected sequence)."""

MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
WRONG_LAST_SEQUENCE = 10071
STORAGE_FULL = (10023, 10028, 10047)
"""JetStream's "insufficient resources", "insufficient memory resources available" and
"insufficient storage resources available": the server's store is full (its disk, or its
`max_file_store`/`max_memory_store`). From nats-server's `server/errors.json`."""
STORE_FAILED = 10077
"""JetStream's "store failed: {err}": a stream's own limit ("maximum bytes exceeded") or the
disk itself ("no space left on device")."""

_GENESIS_HEX = re.compile(r"[0-9a-f]{64}")


def chain_id(genesis: bytes) -> str:
    return genesis.hex()


def raw_subject(genesis: bytes) -> str:
    return f"{SUBJECT_ROOT}.{chain_id(genesis)}.raw"


def verified_subject(genesis: bytes) -> str:
    return f"{SUBJECT_ROOT}.{chain_id(genesis)}.verified"


def raw_stream(genesis: bytes) -> str:
    return RAW_STREAM_PREFIX + chain_id(genesis)


def verified_stream(genesis: bytes) -> str:
    return VERIFIED_STREAM_PREFIX + chain_id(genesis)


def genesis_of_raw_stream(name: str) -> bytes | None:
    """The genesis hash a raw stream name stands for; None for any other name."""
    rest = name.removeprefix(RAW_STREAM_PREFIX)
    if rest == name or not _GENESIS_HEX.fullmatch(rest):
        return None
    return bytes.fromhex(rest)


def para_raw_subject(genesis: bytes) -> str:
    """Parachain mode's raw subject, named by the parachain's genesis (see `para_raw_spec`)."""
    return f"{SUBJECT_ROOT}.{chain_id(genesis)}.pararaw"


def para_raw_stream(genesis: bytes) -> str:
    return PARA_RAW_STREAM_PREFIX + chain_id(genesis)


def genesis_of_para_raw_stream(name: str) -> bytes | None:
    """The parachain genesis a parachain-mode raw stream name stands for; None otherwise."""
    rest = name.removeprefix(PARA_RAW_STREAM_PREFIX)
    if rest == name or not _GENESIS_HEX.fullmatch(rest):
        return None
    return bytes.fromhex(rest)


def msg_id(genesis: bytes, number: int, block_hash: bytes) -> str:
    return f"{genesis.hex()}:{number}:{block_hash.hex()}"


@dataclass(frozen=True)
class StreamSpec:
    """One stream's declared shape; `config()` is what its owner asks the server to hold."""

    name: str
    subject: str
    owner: str
    max_bytes: int
    max_msg_size: int
    replicas: int
    duplicate_window_s: float

    def config(self) -> api.StreamConfig:
        return api.StreamConfig(
            name=self.name,
            subjects=[self.subject],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            discard=api.DiscardPolicy.NEW,
            max_msgs=-1,
            max_bytes=self.max_bytes,
            max_age=0,
            max_msg_size=self.max_msg_size,
            num_replicas=self.replicas,
            duplicate_window=self.duplicate_window_s,
            allow_direct=True,
        )

    def differs(self, current: api.StreamConfig) -> list[str]:
        """Names of the managed settings that the server's copy does not match."""
        want = {
            "subjects": [self.subject],
            "max_bytes": self.max_bytes,
            "max_msg_size": self.max_msg_size,
            "num_replicas": self.replicas,
            "discard": api.DiscardPolicy.NEW,
        }
        out = [k for k, v in want.items() if getattr(current, k) != v]
        if abs((current.duplicate_window or 0) - self.duplicate_window_s) > 1e-3:
            out.append("duplicate_window")
        return out


def _spec(
    name: str, subject: str, owner: str, max_bytes: int, settings: BusSettings, max_msg_size: int
) -> StreamSpec:
    return StreamSpec(
        name,
        subject,
        owner,
        max_bytes,
        max_msg_size,
        settings.stream_replicas,
        settings.duplicate_window_s,
    )


def raw_spec(settings: BusSettings, genesis: bytes, max_msg_size: int) -> StreamSpec:
    """The raw stream: written by the relayer, which sets its limits."""
    return _spec(
        raw_stream(genesis),
        raw_subject(genesis),
        "relayer",
        settings.raw_max_bytes,
        settings,
        max_msg_size,
    )


def verified_spec(settings: BusSettings, genesis: bytes, max_msg_size: int) -> StreamSpec:
    """The verified stream: written by the validator, which sets its limits."""
    return _spec(
        verified_stream(genesis),
        verified_subject(genesis),
        "validator",
        settings.verified_max_bytes,
        settings,
        max_msg_size,
    )


def para_raw_spec(settings: BusSettings, genesis: bytes, max_msg_size: int) -> StreamSpec:
    """Parachain mode's raw stream: relay and parachain records interleaved in the order the
    parachain validator needs them (docs/architecture.md, "Parachain mode"); written by the
    parachain relayer, which sets its limits. Its own prefix keeps the standalone validator,
    which reads `PINKPIPE_RAW_*`, away from it."""
    return _spec(
        para_raw_stream(genesis),
        para_raw_subject(genesis),
        "relayer",
        settings.raw_max_bytes,
        settings,
        max_msg_size,
    )
