"""The checkpoint store: each stage's durable position and status, per chain, in a KV bucket.

A checkpoint replaces trust: a validator restored from one does not re-check the blocks before
it. Anyone who can write the bucket could otherwise make a validator skip blocks, so every
checkpoint is stored with an HMAC-SHA256 under a secret that only the stage's host holds (a
file created on first use, owner-only). A checkpoint whose MAC does not verify (forged, or
written with another secret) is ignored with a warning: the stage starts from the beginning of
its input instead, as if it had none. Status values are informative and not authenticated.

Keys: `<g>.checkpoint` and `<g>.status` in the bucket `pinkpipe-validator`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

import nats
from nats.js.errors import KeyNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from pinkpipe.bus.client import Bus, BusError, describe
from pinkpipe.bus.records import RecordError, decode_signed, encode_signed
from pinkpipe.bus.streams import CHECKPOINT_BUCKET, chain_id

log = logging.getLogger(__name__)

SECRET_BYTES = 32


def load_secret(path: Path) -> bytes:
    """The MAC secret at `path`, created (owner-only, 32 random bytes) if absent."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(SECRET_BYTES))
            log.info("created checkpoint secret %s", path)
        secret = path.read_bytes()
    except OSError as e:
        raise BusError(f"checkpoint secret {path}: {e.strerror or e}") from None
    if len(secret) < SECRET_BYTES:
        raise BusError(f"checkpoint secret {path} holds {len(secret)} bytes, expected 32")
    if path.stat().st_mode & 0o077:
        log.warning("checkpoint secret %s is readable by other users: chmod 600 it", path)
    return secret


def checkpoint_key(genesis: bytes) -> str:
    return f"{chain_id(genesis)}.checkpoint"


def status_key(genesis: bytes) -> str:
    return f"{chain_id(genesis)}.status"


class CheckpointStore:
    """Authenticated checkpoints and plain status values of one stage, per chain."""

    def __init__(self, kv: KeyValue, secret: bytes) -> None:
        self.kv = kv
        self.secret = secret

    @classmethod
    async def open(cls, bus: Bus, secret: bytes) -> CheckpointStore:
        return cls(await bus.bucket(CHECKPOINT_BUCKET), secret)

    def _mac(self, key: str, payload: bytes) -> bytes:
        return hmac.new(self.secret, key.encode() + b"\x00" + payload, hashlib.sha256).digest()

    async def load(self, genesis: bytes) -> bytes | None:
        """The checkpoint payload this stage wrote last; None when there is none or when the
        stored one is not authenticated by this stage's secret (a warning says which)."""
        key = checkpoint_key(genesis)
        value = await self._get(key)
        if value is None:
            return None
        try:
            mac, payload = decode_signed(value, f"KV {key}")
        except RecordError as e:
            log.warning("ignoring checkpoint %s: %s; starting from the beginning", key, e)
            return None
        if not hmac.compare_digest(mac, self._mac(key, payload)):
            log.warning(
                "ignoring checkpoint %s: not written with this validator's secret (forged, or "
                "another host's); starting from the beginning of the stream",
                key,
            )
            return None
        return payload

    async def save(self, genesis: bytes, payload: bytes) -> None:
        key = checkpoint_key(genesis)
        await self._put(key, encode_signed(self._mac(key, payload), payload))

    async def status(self, genesis: bytes) -> bytes | None:
        return await self._get(status_key(genesis))

    async def save_status(self, genesis: bytes, payload: bytes) -> None:
        await self._put(status_key(genesis), payload)

    async def _get(self, key: str) -> bytes | None:
        try:
            entry = await self.kv.get(key)
        except (KeyNotFoundError, NotFoundError):
            return None
        except (nats.errors.Error, TimeoutError) as e:
            raise BusError(f"KV {key}: {describe(e)}") from None
        return entry.value or None

    async def _put(self, key: str, value: bytes) -> None:
        try:
            await self.kv.put(key, value)
        except (nats.errors.Error, TimeoutError) as e:
            raise BusError(f"KV {key}: cannot write: {describe(e)}") from None
