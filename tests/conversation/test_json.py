"""freeze: its one-pass route for a flat object gives what the general walk gives."""

from __future__ import annotations

import enum
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conversation._json import FrozenDict, _freeze, freeze
from conversation.errors import MalformedInputError
from tests.strategies import json_objects


class _Word(enum.StrEnum):
    CALM = "calm"


class _Count(enum.IntEnum):
    ONE = 1


# Flat objects, with the values and keys the one-pass route must hand on to the walk.
_keys = st.text(max_size=4) | st.just(_Word.CALM) | st.just(3)
_values = (
    st.text(max_size=4)
    | st.integers()
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.just(_Word.CALM)
    | st.just(_Count.ONE)
    | st.just([1])
    | st.just({"a": None})
)


def _frozen(value: Any, by: Any) -> object:
    """What ``by`` makes of ``value``: the frozen value and its item types, or the error."""
    try:
        frozen = by(value)
    except MalformedInputError:
        return "refused"
    return frozen, type(frozen), [(type(k), type(v)) for k, v in frozen.items()]


def _walk(value: Any) -> Any:
    """The general walk alone (its own error type turned into the public one)."""
    try:
        return _freeze(value, 0)
    except Exception:
        raise MalformedInputError("not JSON", "$") from None


@given(st.dictionaries(_keys, _values, max_size=4) | json_objects())
def test_a_flat_object_freezes_as_the_walk_freezes_it(value: dict[Any, Any]) -> None:
    assert _frozen(value, freeze) == _frozen(value, _walk)


@given(json_objects())
def test_a_frozen_object_is_checked_and_not_frozen_again(value: dict[str, Any]) -> None:
    frozen = freeze(value)
    assert type(frozen) is FrozenDict
    assert frozen == value
    assert freeze(frozen) is frozen
