"""Who may do what on the bus: one NATS user per stage, with the least permissions it needs.

Anyone who can publish to a chain's streams or write the validator's KV bucket can stop that
chain (the validator checks everything it reads, see docs/trust.md); nobody but the stage that
owns a subject may write it. Per stage, for the chains `<g>` it serves (NATS subjects, JetStream
API subjects as nats-server 2.10+ names them):

- relayer: publish `pinkpipe.<g>.raw`; create, update and read `PINKPIPE_RAW_<g>`;
- validator: publish `pinkpipe.<g>.verified`; create, update and read `PINKPIPE_VERIFIED_<g>`;
  read `PINKPIPE_RAW_<g>` through its durable consumer `validator` (create, delete, pull, ack)
  and create it when it starts before the relayer (never change it);
  create and read the KV bucket `pinkpipe-validator` (shared by the chains, so never
  reconfigured by one) and write its keys `<g>.*` only;
- every stage: stream info and the stream list (read-only), and replies on its own inbox
  (`_INBOX.<user>.>`: another stage cannot read its replies);
- admin: everything (`pinkpipe bus truncate`, `validator status`, an operator's tools).

Passwords are random, generated on first use into an owner-only JSON file; the embedded
server's configuration (also owner-only) holds them, so only the owner of the data directory
can connect.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pinkpipe.bus.streams import (
    CHECKPOINT_BUCKET,
    VALIDATOR_CONSUMER,
    chain_id,
    raw_stream,
    raw_subject,
    verified_stream,
    verified_subject,
)
from pinkpipe.chain.errors import OperationalError

log = logging.getLogger(__name__)

RELAYER_USER = "relayer"
VALIDATOR_USER = "validator"
ADMIN_USER = "admin"
USERS = (RELAYER_USER, VALIDATOR_USER, ADMIN_USER)
CREDENTIALS_FILE = "nats-credentials.json"
JS_API = "$JS.API"
KV_STREAM = f"KV_{CHECKPOINT_BUCKET}"


class NatsAuthError(OperationalError):
    """The credentials file cannot be created or read."""


@dataclass(frozen=True)
class Permissions:
    """Subjects a user may publish to and subscribe to (NATS wildcards `*` and `>`)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    def config(self) -> dict[str, dict[str, list[str]]]:
        return {
            "publish": {"allow": list(self.publish)},
            "subscribe": {"allow": list(self.subscribe)},
        }


def inbox_prefix(user: str) -> str:
    """The reply subjects of `user`'s connections (`Bus` connects with it)."""
    return f"_INBOX.{user}"


def _stream_owner(stream: str) -> tuple[str, ...]:
    """What the owner of `stream` asks JetStream: create it, change its limits, read it."""
    return (
        f"{JS_API}.STREAM.CREATE.{stream}",
        f"{JS_API}.STREAM.UPDATE.{stream}",
        *_stream_reader(stream),
    )


def _stream_reader(stream: str) -> tuple[str, ...]:
    return (
        f"{JS_API}.STREAM.MSG.GET.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}.>",
    )


def _common(user: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    publish = (
        f"{JS_API}.INFO",
        f"{JS_API}.STREAM.INFO.*",
        f"{JS_API}.STREAM.LIST",
        f"{JS_API}.STREAM.NAMES",
    )
    return publish, (f"{inbox_prefix(user)}.>",)


def relayer_permissions(chains: list[bytes]) -> Permissions:
    publish, subscribe = _common(RELAYER_USER)
    for genesis in chains:
        publish += (raw_subject(genesis), *_stream_owner(raw_stream(genesis)))
    return Permissions(publish, subscribe)


def validator_permissions(chains: list[bytes]) -> Permissions:
    publish, subscribe = _common(VALIDATOR_USER)
    publish += (f"{JS_API}.STREAM.CREATE.{KV_STREAM}", *_stream_reader(KV_STREAM))
    for genesis in chains:
        raw = raw_stream(genesis)
        consumer = f"{raw}.{VALIDATOR_CONSUMER}"
        publish += (
            verified_subject(genesis),
            *_stream_owner(verified_stream(genesis)),
            *_stream_reader(raw),
            f"{JS_API}.STREAM.CREATE.{raw}",  # if it starts first (with the owner's shape)
            f"{JS_API}.CONSUMER.CREATE.{consumer}",
            f"{JS_API}.CONSUMER.CREATE.{consumer}.>",
            f"{JS_API}.CONSUMER.DURABLE.CREATE.{consumer}",
            f"{JS_API}.CONSUMER.INFO.{consumer}",
            f"{JS_API}.CONSUMER.DELETE.{consumer}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{consumer}",
            f"$JS.ACK.{consumer}.>",
            f"$KV.{CHECKPOINT_BUCKET}.{chain_id(genesis)}.>",
        )
    return Permissions(publish, subscribe)


ADMIN_PERMISSIONS = Permissions((">",), (">",))


def stage_permissions(chains: list[bytes]) -> dict[str, Permissions]:
    """Each user's permissions for these chains."""
    return {
        RELAYER_USER: relayer_permissions(chains),
        VALIDATOR_USER: validator_permissions(chains),
        ADMIN_USER: ADMIN_PERMISSIONS,
    }


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (mode set before any byte lands)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


@dataclass(frozen=True)
class NatsCredentials:
    """One password per user, kept in `<data_dir>/nats-credentials.json` (mode 600)."""

    passwords: dict[str, str]

    @classmethod
    def load_or_create(cls, path: Path) -> NatsCredentials:
        """The credentials at `path`, created with fresh random passwords if absent."""
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                created = {user: secrets.token_urlsafe(24) for user in USERS}
                write_private(path, json.dumps(created, indent=2) + "\n")
                log.info("created NATS credentials %s", path)
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else e
            raise NatsAuthError(f"NATS credentials {path}: {reason}") from None
        if not isinstance(data, dict) or not all(
            isinstance(data.get(user), str) and data[user] for user in USERS
        ):
            raise NatsAuthError(
                f"NATS credentials {path}: expected a password for each of {', '.join(USERS)}; "
                f"delete the file to generate new ones"
            )
        if path.stat().st_mode & 0o077:
            log.warning("NATS credentials %s are readable by other users: chmod 600 it", path)
        return cls({user: data[user] for user in USERS})

    def authorization(self, chains: list[bytes]) -> dict[str, object]:
        """The `authorization` block of a nats-server configuration for these chains."""
        permissions = stage_permissions(chains)
        return {
            "users": [
                {
                    "user": user,
                    "password": self.passwords[user],
                    "permissions": permissions[user].config(),
                }
                for user in USERS
            ]
        }
