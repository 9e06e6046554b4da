"""Times and incidents as the batch commands take them: RFC 3339 (with a zone) or Unix seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Incident", "parse_time_ms", "parse_incident", "iso"]


def parse_time_ms(text: str) -> int:
    """Milliseconds since the epoch; ValueError naming the text when it is neither form."""
    try:
        if text.replace(".", "", 1).isdigit():
            return round(float(text) * 1000)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time or a Unix timestamp") from None
    if ts.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; use UTC with a trailing Z")
    return round(ts.timestamp() * 1000)


def iso(t_ms: int | None) -> str | None:
    """RFC 3339 in UTC, seconds precision (milliseconds when there are any)."""
    if t_ms is None:
        return None
    dt = datetime.fromtimestamp(t_ms / 1000, UTC)
    text = dt.isoformat(timespec="milliseconds" if t_ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class Incident:
    """A user-marked incident: from `start_ms` to `end_ms`, for one SLO (`service/slo`) or all (None)."""

    start_ms: int
    end_ms: int
    scope: str | None = None
    expect: str | None = None  # page | ticket | quiet: what an SRE expects (the scenario suite's truth)

    @property
    def label(self) -> str:
        return f"{iso(self.start_ms)}..{iso(self.end_ms)}" + (f"@{self.scope}" if self.scope else "")


def parse_incident(text: str) -> Incident:
    """`T1..T2` or `T1..T2@service/slo`."""
    body, _, scope = text.partition("@")
    start, sep, end = body.partition("..")
    if not sep:
        raise ValueError(
            f"incident {text!r}: expected START..END (RFC 3339 or Unix times), e.g. "
            "2025-11-14T09:00:00Z..2025-11-14T10:30:00Z"
        )
    s, e = parse_time_ms(start), parse_time_ms(end)
    if e <= s:
        raise ValueError(f"incident {text!r}: its end is not after its start")
    if scope and scope.count("/") != 1:
        raise ValueError(f"incident {text!r}: the scope after @ is SERVICE/SLO")
    return Incident(s, e, scope or None)
