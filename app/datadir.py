"""The paths a command writes to, checked before anything starts.

`pinkpipe run` keeps the embedded NATS store, its log, its credentials and the validator's
checkpoint secret under `data_dir`; `pinkpipe validator` keeps the secret there (or at
`validator_secret_file`). A data directory that sits under a file, is read-only, is not ours
to write, or holds a directory where a file goes would otherwise fail halfway through start-up
with an error naming some inner file; checked here, it is a usage error (exit 2) naming the
setting to fix.

Writability is tested by creating a file, not with `os.access`: a read-only file system or an
ACL answers the same way for every user, root included.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pinkpipe.app.config import Settings, setting_label
from pinkpipe.bus.nats_server import DATA_DIRS, DATA_FILES
from pinkpipe.chain.errors import ConfigError


def _writable_dir(path: Path, label: str) -> None:
    """`path` exists (created if absent) as a directory this process can write to."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"{label}: {path} is a file, not a directory") from None
    except NotADirectoryError:
        raise ConfigError(f"{label}: {path} is under a file, not a directory") from None
    except OSError as e:
        raise ConfigError(f"{label}: cannot create {path}: {e.strerror or e}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".pinkpipe-write-test-")
    except OSError as e:
        raise ConfigError(
            f"{label}: cannot write in {path}: {e.strerror or e} (read-only, or not this "
            f"user's to write)"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _entries(path: Path, label: str, files: tuple[str, ...], dirs: tuple[str, ...]) -> None:
    """Each of `files` and `dirs` under `path` is absent or of its kind, and usable."""
    for name in files + dirs:
        entry = path / name
        if not entry.exists():
            continue
        want_dir = name in dirs
        if entry.is_dir() != want_dir:
            kind = "a directory where a file" if entry.is_dir() else "a file where a directory"
            raise ConfigError(f"{label}: {entry} is {kind} goes; move it away")
        mode = os.R_OK | os.W_OK | (os.X_OK if want_dir else 0)
        if not os.access(entry, mode):
            raise ConfigError(f"{label}: {entry} is not readable and writable by this user")


def check_secret_path(settings: Settings, flags: Mapping[str, str]) -> None:
    """The validator's checkpoint secret can be created or read where the settings put it."""
    path = settings.validator_secret_path
    name = "data_dir" if settings.validator_secret_file is None else "validator_secret_file"
    label = setting_label(name, flags)
    _writable_dir(path.parent, label)
    _entries(path.parent, label, (path.name,), ())


def check_run_paths(settings: Settings, flags: Mapping[str, str]) -> None:
    """Everything `pinkpipe run` writes: the secret, and (when it embeds NATS) the server's
    store, run directory, log and credentials under `data_dir`."""
    check_secret_path(settings, flags)
    if settings.nats_url is None:
        label = setting_label("data_dir", flags)
        _writable_dir(settings.data_dir, label)
        _entries(settings.data_dir, label, DATA_FILES, DATA_DIRS)
