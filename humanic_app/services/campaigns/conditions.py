"""Trigger `where` clauses: eq ne gt gte lt lte contains not_contains is_set is_not_set in."""

from __future__ import annotations

from typing import Any

from humanic_app.services.mapping import _MISSING, resolve_path


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "is_set":
        return actual is not _MISSING and actual is not None and actual != ""
    if op == "is_not_set":
        return actual is _MISSING or actual is None or actual == ""
    if actual is _MISSING:
        return op in ("ne", "not_contains")
    if op in ("eq", "ne"):
        a, e = _number(actual), _number(expected)
        equal = (
            (a == e)
            if a is not None and e is not None
            else str(actual) == str(expected)
            if not isinstance(actual, (dict, list))
            else actual == expected
        )
        return equal if op == "eq" else not equal
    if op in ("gt", "gte", "lt", "lte"):
        a, e = _number(actual), _number(expected)
        if a is None or e is None:
            return False
        return {"gt": a > e, "gte": a >= e, "lt": a < e, "lte": a <= e}[op]
    if op in ("contains", "not_contains"):
        if isinstance(actual, list):
            found = expected in actual
        else:
            found = str(expected).lower() in str(actual).lower()
        return found if op == "contains" else not found
    if op == "in":
        return any(_compare("eq", actual, option) for option in (expected or []))
    raise ValueError(f"unknown operator {op}")


def failing_condition(conditions, event_properties: dict[str, Any], person_properties: dict[str, Any]) -> str | None:
    """The description of the first clause that does not hold (with the value seen), or None."""
    for condition in conditions:
        if condition.property:
            actual = resolve_path(event_properties, condition.property)
        else:
            actual = resolve_path(person_properties, condition.person_property)
        if not _compare(condition.op, actual, condition.value):
            seen = "not set" if actual is _MISSING else repr(actual)
            return f"{condition.describe()} (was {seen})"
    return None
