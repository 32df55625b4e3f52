"""The journaled state: nested snapshots roll back exactly, commits fold into the layer below."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinkpipe.executor.errors import ExecutorStateError
from pinkpipe.executor.state import State


def test_rollback_restores_values_and_absence() -> None:
    state = State({("a",): 1})
    state.snapshot()
    state.put(("a",), 2)
    state.put(("b",), 3)
    state.put(("a",), None)
    state.rollback()
    assert state.get(("a",)) == 1
    assert ("b",) not in state


def test_inner_commit_is_undone_by_outer_rollback() -> None:
    state = State()
    state.snapshot()
    state.put(("x",), 1)
    state.snapshot()
    state.put(("x",), 2)
    state.commit()
    assert state.get(("x",)) == 2
    state.rollback()
    assert ("x",) not in state


def test_changes_list_the_outermost_layer() -> None:
    state = State({("keep",): 0, ("gone",): 1})
    state.snapshot()
    state.put(("keep",), 5)
    state.put(("gone",), None)
    state.snapshot()
    state.put(("new",), b"v")
    state.commit()
    assert state.changes() == [(("gone",), None), (("keep",), 5), (("new",), b"v")]
    state.commit()
    assert state.changes() == []


def test_closing_without_a_snapshot_is_an_error() -> None:
    with pytest.raises(ExecutorStateError, match="no open state snapshot"):
        State().rollback()


ops = st.lists(
    st.tuples(st.sampled_from("abcd"), st.one_of(st.none(), st.integers(0, 3))), max_size=12
)


@given(st.dictionaries(st.sampled_from("abcd"), st.integers(0, 3)), ops, ops)
def test_any_writes_roll_back_to_the_snapshot(
    initial: dict[str, int],
    first: list[tuple[str, int | None]],
    second: list[tuple[str, int | None]],
) -> None:
    state = State({(k,): v for k, v in initial.items()})
    before = {k: state.get((k,)) for k in "abcd"}
    state.snapshot()
    for key, value in first:
        state.put((key,), value)
    state.snapshot()
    for key, value in second:
        state.put((key,), value)
    state.commit()
    state.rollback()
    assert {k: state.get((k,)) for k in "abcd"} == before
