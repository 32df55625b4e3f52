"""The event store's errors, split by whose fault it is.

    StoreError
    ├── RejectedEventBlock      the event blocks handed in are wrong (exit 3)
    │   └── ConflictingEventBlock   a different block already holds that number
    ├── StoreUnavailable        the database failed: unreachable, read-only, full (exit 1)
    ├── NotFound                an unknown cluster or event block was asked for
    ├── CheckpointRegression    a stage checkpoint would move backwards
    └── BadQuery                a query parameter that cannot be used

Messages are one line naming the cluster, block number and hashes involved. (The project-wide
`pinkpipe.chain.errors` tree is not on main yet; these derive from Exception until it is.)
"""

from __future__ import annotations


class StoreError(Exception):
    """Root of the event store's errors."""


class RejectedEventBlock(StoreError):
    """An event block that cannot be appended: wrong parent, gap, bad body hash."""


class ConflictingEventBlock(RejectedEventBlock):
    """A different event block is already stored at this cluster and number."""


class StoreUnavailable(StoreError):
    """The database could not be reached or written (nothing was written)."""


class NotFound(StoreError):
    """An unknown cluster or event block."""


class CheckpointRegression(StoreError):
    """A stage checkpoint older than the stored one."""


class BadQuery(StoreError):
    """A query parameter that cannot be used (bad cursor, range, hex, page size)."""
