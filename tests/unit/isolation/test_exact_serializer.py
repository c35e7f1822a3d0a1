"""The state serializer is exact for task data: what is saved comes back equal and of the same
type, and what cannot be saved exactly is a clear StateError, never a TypeError or RecursionError."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from engine.runtime.serializer import ExactRegistry, StateError, StateSerializer, check_data, json_ready
from engine.errors import InvalidData

TRICKY = {
    "typename": "a variable called typename",
    "object": {"typename": "nope"},
    "decimal_like": {"typename": "Decimal", "value": "NaN"},
    "escaped_like": {"typename": "bankflow.dict", "items": {"typename": "date", "value": "x"}},
    "typed": [Decimal("-0.00"), date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5, 6, timezone.utc), time(7, 8, 9),
              timedelta(days=-1, microseconds=3)],
    "nested": {"a": [{"b": [{"typename": "UUID", "value": "1"}]}]},
    "big": 2**300,
}


def _registry() -> ExactRegistry:
    return StateSerializer()._serializer.registry


def test_data_round_trips_exactly_through_json():
    registry = _registry()
    saved = json.loads(json.dumps(registry.convert(TRICKY)))
    assert registry.restore(saved) == TRICKY
    assert type(registry.restore(saved)["typed"][0]) is Decimal


def test_tuples_of_any_kind_are_saved_as_lists():
    registry = _registry()
    assert registry.convert({"t": Decimal("1.5").as_tuple(), "c": date(2024, 1, 1).isocalendar()}) == \
        {"t": [0, [1, 5], -1], "c": [2024, 1, 1]}


def test_a_dict_from_before_the_escaping_with_an_unknown_typename_restores_as_data():
    assert _registry().restore({"x": {"typename": "nope", "v": 1}}) == {"x": {"typename": "nope", "v": 1}}


@pytest.mark.parametrize(("data", "says"), [
    ({"n": float("nan")}, "not finite"),
    ({"n": Decimal("sNaN")}, "not finite"),
    ({"n": {1: 2}}, "key 1 is not text"),
    ({"n": {1, 2}}, "a set cannot be saved"),
    ({"n": object()}, "a object cannot be saved"),
])
def test_what_cannot_be_saved_exactly_is_a_clear_error(data, says):
    with pytest.raises(StateError, match=says):
        _registry().convert(data)


def test_deep_nesting_is_a_clear_error_not_a_recursion_error():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(StateError, match="nested more than"):
        _registry().convert({"deep": deep})
    with pytest.raises(InvalidData, match="nested more than 100 levels"):
        check_data({"deep": deep})
    with pytest.raises(StateError):
        json_ready({"deep": deep})


def test_check_data_accepts_ordinary_variables():
    check_data({"amount": Decimal("10.5"), "customer": {"name": "Ada", "tags": ["a"]}, "when": date(2026, 1, 1)})
