"""The root of pinkpipe's exceptions, split by whose fault a failure is.

    PinkpipeError
    ├── InvalidChainData   the node, the chain or a record lied: that chain stops at the
    │                      offending block (exit code 3); retrying cannot help
    ├── OperationalError   the infrastructure or our side failed (NATS, a node that stays
    │                      unreachable, a full disk): fix it and restart (exit code 1)
    └── ConfigError        the operator's input is wrong: a flag, a variable, a file (exit 2)

Every module's own exceptions derive from one of the three, so a caller can always tell a lie
from an outage (h11's `LocalProtocolError` vs `RemoteProtocolError` is the model). The app
shell maps them to exit codes in one place (`pinkpipe.app.process.exit_code`).
"""

from __future__ import annotations


class PinkpipeError(Exception):
    """Anything pinkpipe raises on purpose."""


class InvalidChainData(PinkpipeError):
    """Data that fails verification or decoding: the source is wrong, not the pipeline."""


class OperationalError(PinkpipeError):
    """A failure of the environment or of pinkpipe itself; the data may be fine."""


class ConfigError(PinkpipeError, ValueError):
    """The configuration cannot be used: unreadable file, unknown key or invalid value."""
