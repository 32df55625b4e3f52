"""The runtime's whole state as one journaled key-value map.

Pink keeps everything (balances, contracts, code, cluster parameters, event-chain counters) in
one storage trie committed per ecall (PINK.md 5.1); pallet-contracts runs every call frame in a
storage transaction that a trap or revert rolls back (`exec.rs`). Both are nested snapshots
here: `snapshot()` opens a layer, `rollback()` undoes it exactly, `commit()` folds it into the
layer below. Values are immutable (bytes, ints, frozen dataclasses, tuples), so undoing means
putting the old object back. `changes()` lists what the outermost open layer changed, which is
what an ecall commits and what the replay persists.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pinkpipe.executor.errors import ExecutorStateError

_MISSING: Any = object()

Key = tuple[Hashable, ...]


class State:
    """A map of `Key` to immutable values with nested, all-or-nothing layers."""

    __slots__ = ("_data", "_layers")

    def __init__(self, data: dict[Key, Any] | None = None) -> None:
        self._data: dict[Key, Any] = dict(data or {})
        self._layers: list[dict[Key, Any]] = []

    def get(self, key: Key, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __contains__(self, key: Key) -> bool:
        return key in self._data

    def put(self, key: Key, value: Any) -> None:
        """Set `key`; `None` deletes it. Remembers the first old value per open layer."""
        if self._layers:
            self._layers[-1].setdefault(key, self._data.get(key, _MISSING))
        if value is None:
            self._data.pop(key, None)
        else:
            self._data[key] = value

    def snapshot(self) -> None:
        self._layers.append({})

    @property
    def depth(self) -> int:
        return len(self._layers)

    def _pop(self) -> dict[Key, Any]:
        if not self._layers:
            raise ExecutorStateError("no open state snapshot to close")
        return self._layers.pop()

    def rollback(self) -> None:
        """Undo everything since the matching `snapshot()`."""
        for key, old in self._pop().items():
            if old is _MISSING:
                self._data.pop(key, None)
            else:
                self._data[key] = old

    def commit(self) -> None:
        """Keep the changes; an enclosing layer can still roll them back."""
        layer = self._pop()
        if self._layers:
            below = self._layers[-1]
            for key, old in layer.items():
                below.setdefault(key, old)

    def changes(self) -> list[tuple[Key, Any]]:
        """(key, new value or None if deleted) changed in the outermost open layer, sorted;
        keys written and then restored (or created and deleted again) are not changes."""
        if not self._layers:
            return []
        out = [
            (key, self._data.get(key))
            for key, old in self._layers[0].items()
            if self._data.get(key, _MISSING) != old
        ]
        return sorted(out, key=lambda kv: repr(kv[0]))

    def keys_with_prefix(self, prefix: Key) -> list[Key]:
        n = len(prefix)
        return sorted((k for k in self._data if k[:n] == prefix), key=repr)
