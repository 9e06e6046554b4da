"""JSON parsing that refuses what JSON does not have: NaN, Infinity, numbers too large for a float, and
keys given twice (Python's json accepts the first two and silently keeps the last of the third)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from slodrift.report.baseline.model import IssueSink

from slodrift.issues import Path_


class NonFinite:
    """Placeholder for NaN / Infinity / 1e999 so the walker can report where it was."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Object(dict[str, Any]):
    """A JSON object that remembers keys given twice (json keeps the last one silently)."""

    duplicates: list[str]


def object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def parse_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def walk_literals(value: object, path: Path_, issue: IssueSink) -> None:
    if isinstance(value, NonFinite):
        issue(path, f"{value.text} is not a finite number (NaN and Infinity are not JSON numbers)")
    elif isinstance(value, dict):
        for dup in getattr(value, "duplicates", []):
            issue((*path, dup), "key given more than once (JSON readers would silently keep the last)")
        for key, item in value.items():
            walk_literals(item, (*path, key), issue)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            walk_literals(item, (*path, i), issue)
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            issue(path, "number is too large to be a float")


def loads(text: str) -> Any:
    """Parse `text`, leaving markers for non-finite numbers and duplicate keys for `walk_literals`."""
    return json.loads(text, object_pairs_hook=object_pairs, parse_constant=NonFinite, parse_float=parse_float)
