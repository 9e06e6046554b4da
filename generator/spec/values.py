"""Spec values as exact numbers: percentages, amounts with units, YAML numbers; and the merge of alerting
settings over their defaults."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any


def percent(value: Any) -> Decimal:
    """Percent (number or 'N%') → ratio, exactly."""
    text = value[:-1] if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    try:
        return Decimal(text) / 100
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a percentage") from None


_AMOUNT_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z%]*(?: of budget)?)\s*$")
_AMOUNT_UNITS: dict[str, dict[str, Decimal]] = {
    "seconds": {"": Decimal(1), "s": Decimal(1), "ms": Decimal("0.001"), "us": Decimal("0.000001")},
    "cores": {"": Decimal(1), "m": Decimal("0.001")},
    "bytes": {
        "": Decimal(1),
        "B": Decimal(1),
        "kB": Decimal(1000),
        "KB": Decimal(1000),
        "MB": Decimal(10**6),
        "GB": Decimal(10**9),
        "KiB": Decimal(1024),
        "MiB": Decimal(1024**2),
        "GiB": Decimal(1024**3),
    },
    "ratio": {"": Decimal(1), "pp": Decimal("0.01")},
    "requests_per_second": {"": Decimal(1)},
    "count": {"": Decimal(1)},
}
_AMOUNT_HINTS = {
    "seconds": "a number of seconds, or '5ms', '0.2s'",
    "cores": "a number of cores, or '50m' (millicores)",
    "bytes": "a number of bytes, or '32MiB', '1GB'",
    "ratio": "a ratio (0.0005), percentage points ('0.05pp') or a share of the error budget ('25% of budget')",
    "requests_per_second": "a number of requests per second",
    "count": "a number",
}


def parse_amount(value: Any, unit: str, budget: Decimal | None = None) -> Decimal:
    """An absolute amount in `unit`'s base unit: a number, or text with a unit suffix ('5ms', '32MiB',
    '50m' cores, '0.05pp', '25% of budget' of the error budget `budget`); ValueError says what is wrong."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an amount; write {_AMOUNT_HINTS[unit]}")
    if isinstance(value, int | float):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    m = _AMOUNT_RE.match(str(value))
    suffix = m.group(2) if m else None
    if m and unit == "ratio" and suffix == "% of budget":
        if budget is None:
            raise ValueError(
                f"{value!r} needs an error budget, but the service has no request SLO; "
                "write percentage points instead (e.g. '0.05pp')"
            )
        return Decimal(m.group(1)) / 100 * budget
    scale = _AMOUNT_UNITS[unit].get(suffix or "") if m and suffix is not None else None
    if m is None or scale is None:
        raise ValueError(f"{value!r} is not an amount in {unit}; write {_AMOUNT_HINTS[unit]}")
    return Decimal(m.group(1)) * scale


def decimal(value: Any) -> Decimal:
    """A YAML number as an exact Decimal (0.1 stays 0.1)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def merge(base: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """Deep-merge alerting settings: an SLO overrides single fields of the defaults, not whole tiers."""
    out = dict(base)
    for k, v in (override or {}).items():
        if (
            isinstance(v, dict)
            and isinstance(out.get(k), dict)
            and k not in ("labels", "annotations", "selector")
        ):
            out[k] = merge(out[k], v)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out
