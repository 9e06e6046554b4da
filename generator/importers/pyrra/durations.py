"""Prometheus durations as Pyrra reads and rounds them: seconds of a duration, Go's rounding to the
minute, and the shortest spelling of whole minutes."""

from __future__ import annotations

import re
from decimal import Decimal

DURATION_RE = re.compile(r"^(?:[0-9]+(?:ms|s|m|h|d|w|y))+$")
DURATION_PART_RE = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
UNIT_SECONDS = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
    "w": Decimal(604800),
    "y": Decimal(31536000),
}


def duration_seconds(text: str) -> Decimal:
    """A Prometheus duration (`4w`, `1d12h`, `200ms`) in seconds."""
    return sum((int(n) * UNIT_SECONDS[u] for n, u in DURATION_PART_RE.findall(text)), Decimal(0))


def round_minutes(seconds: Decimal) -> int:
    """Go's `Duration.Round(time.Minute)`: to the nearest minute, halves away from zero (Pyrra's rounding)."""
    whole, rest = divmod(seconds, 60)
    return int(whole) + (1 if rest * 2 >= 60 else 0)


def fmt_minutes(minutes: int) -> str:
    """Whole minutes in one unit, the largest that divides them: 1d, 6h, 90m."""
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"
