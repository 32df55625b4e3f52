"""The event store's errors, under pinkpipe's root (`pinkpipe.chain.errors`) by whose fault.

    InvalidChainData (exit 3)
    └── RejectedEventBlock      the event blocks handed in are wrong: gap, wrong parent,
        │                       bad body hash, undecodable bytes
        └── ConflictingEventBlock   a different block already holds that number
    OperationalError (exit 1)
    ├── StoreUnavailable        the database failed: unreachable, read-only, full
    ├── NotStored               an unknown cluster or event block was asked for
    └── CheckpointRegression    a stage checkpoint would move backwards (a caller bug)
    ConfigError (exit 2)
    └── BadQuery                a query parameter that cannot be used

Messages are one line naming the cluster, block number and hashes involved.
"""

from __future__ import annotations

from pinkpipe.chain.errors import ConfigError, InvalidChainData, OperationalError


class RejectedEventBlock(InvalidChainData):
    """An event block that cannot be appended: wrong parent, gap, bad body hash."""


class ConflictingEventBlock(RejectedEventBlock):
    """A different event block is already stored at this cluster and number."""


class StoreUnavailable(OperationalError):
    """The database could not be reached or written (nothing was written)."""


class NotStored(OperationalError):
    """An unknown cluster or event block."""


class CheckpointRegression(OperationalError):
    """A stage checkpoint older than the stored one."""


class BadQuery(ConfigError):
    """A query parameter that cannot be used (bad cursor, range, hex, page size)."""
