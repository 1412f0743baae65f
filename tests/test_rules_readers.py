"""The embedded analysts' readers of detector statistics (``analysts/_rules_base.py``): any
value a detector, a report read back or a SIEM can hold becomes a usable value or the
documented default, never an exception."""

from __future__ import annotations

import math
from typing import Any

import pytest

from siem_consensus.analysts._rules_base import as_number, count, flag, items, mapping, number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3.0),
        (2.5, 2.5),
        (" 7.5 ", 7.5),
        ("-1", -1.0),
        ("seven", None),
        (True, None),
        (False, None),
        (None, None),
        (math.nan, None),
        (math.inf, None),
        ("inf", None),
        ([1], None),
    ],
)
def test_as_number(value: Any, expected: float | None) -> None:
    assert as_number(value, None) == expected


def test_as_number_default_and_number() -> None:
    assert as_number(None) == 0.0  # the documented default
    assert as_number("x", 4.0) == 4.0
    assert number({"a": "2"}, "a") == 2.0
    assert number({}, "a") == 0.0
    assert number({}, "a", None) is None
    assert number({"a": math.nan}, "a", 1.5) == 1.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1, 2, 3], 3),
        ((1,), 1),
        ({1, 2}, 2),
        (frozenset(), 0),
        (5, 5),
        (2.9, 2),
        ("4", 4),
        (-3, 0),
        (None, 9),
        ("many", 9),
        (True, 9),
        ({"a": 1}, 9),
    ],
)
def test_count(value: Any, expected: int) -> None:
    assert count({"k": value}, "k", 9) == expected


def test_count_default_is_zero() -> None:
    assert count({}, "k") == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1, 2], [1, 2]),
        ((1,), [1]),
        ({3}, [3]),
        (frozenset({4}), [4]),
        ("ab", []),
        ({"a": 1}, []),
        (None, []),
        (5, []),
    ],
)
def test_items(value: Any, expected: list[Any]) -> None:
    assert items({"k": value}, "k") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (0.5, True),
        (0.0, False),
        (math.nan, False),
        (" Yes ", True),
        ("TRUE", True),
        ("1", True),
        ("no", False),
        ("0", False),
        (None, False),
        ([1], False),
    ],
)
def test_flag(value: Any, expected: bool) -> None:
    assert flag({"k": value}, "k") is expected


def test_mapping() -> None:
    inner = {"a": 1}
    assert mapping({"k": inner}, "k") is inner
    assert mapping({"k": [("a", 1)]}, "k") == {}
    assert mapping({}, "k") == {}
