"""The seed's release-day summary (`ga_kpi_summary.json`: percentages and milliseconds of one service),
converted to base units. It names no service, so the caller gives one."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from slodrift.report.baseline.model import NAME_RE, Baseline, IndicatorBaseline, Issues
from slodrift.report.baseline.strict_json import json_type, walk_literals

GIB = 1073741824


@dataclass(frozen=True)
class _GaField:
    indicator: str
    unit: str
    source_unit: str  # "percent", "ms" or "percent_of_gib"
    required: bool


# Seed 000/004 `ga_kpi_summary.json` keys. The seed collector computed memory as
# bytes / 1 GiB * 100 and CPU as rate(process_cpu_seconds_total) * 100, so both invert exactly.
GA_KPI_FIELDS: dict[str, _GaField] = {
    "overall_availability": _GaField("availability", "ratio", "percent", True),
    "overall_error_rate": _GaField("error_ratio", "ratio", "percent", True),
    "avg_p95_latency_ms": _GaField("p95_latency", "seconds", "ms", False),
    "avg_p99_latency_ms": _GaField("p99_latency", "seconds", "ms", True),
    "avg_cpu_percent": _GaField("cpu", "cores", "percent", True),
    "avg_memory_percent": _GaField("memory", "bytes", "percent_of_gib", True),
    "avg_db_latency_ms": _GaField("db_latency", "seconds", "ms", False),
    "avg_redis_hit_rate": _GaField("cache_hit_ratio", "ratio", "percent", False),
}


def is_ga_summary(doc: object) -> bool:
    return (
        isinstance(doc, dict)
        and "version" not in doc
        and "services" not in doc
        and any(key in doc for key in GA_KPI_FIELDS)
    )


def _convert_ga(raw: float, spec: _GaField) -> float:
    # Decimal of the shortest repr, so 245.8 ms is 0.2458 s exactly as a person would write it.
    exact = Decimal(repr(float(raw)))
    if spec.source_unit == "ms":
        exact /= 1000
    elif spec.source_unit == "percent":
        exact /= 100
    else:
        exact = exact / 100 * GIB
    return float(exact)


def from_ga_summary(
    doc: Mapping[str, Any],
    issues: Issues,
    known: Mapping[str, Collection[str]] | None,
    *,
    service: str | None,
    sha256: str,
    file: str,
) -> Baseline:
    """Converts the seed summary; other keys in it (request counts, timestamps, ...) are ignored."""
    if service is None:
        issues(
            (),
            "this is a ga_kpi_summary.json (percentages and milliseconds of one service), which "
            "names no service: give the service it describes",
        )
        issues.raise_if_any()
    assert service is not None
    if not NAME_RE.fullmatch(service):
        issues((), f"service name {service!r} is invalid: use letters, digits, `_`, `.` or `-`")
    if known is not None and service not in known:
        issues((), f"service {service!r} is not in the spec (known: {', '.join(sorted(known)) or 'none'})")
    walk_literals(doc, (), issues)
    issues.raise_if_any()
    values: dict[tuple[str, str], IndicatorBaseline] = {}
    for key, spec in GA_KPI_FIELDS.items():
        if key not in doc:
            if spec.required:
                issues((key,), f"missing required key {key!r}")
            continue
        raw = doc[key]
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            issues((key,), f"must be a number, got {json_type(raw)} {json.dumps(raw)[:60]}")
            continue
        if raw < 0:
            issues((key,), f"cannot be negative, got {raw}")
            continue
        if spec.unit == "ratio" and raw > 100:
            issues((key,), f"a percentage cannot exceed 100, got {raw}")
            continue
        # The summary always carries every KPI; the spec decides which ones are watched.
        if known is not None and spec.indicator not in known.get(service, ()):
            continue
        values[(service, spec.indicator)] = IndicatorBaseline(_convert_ga(raw, spec), spec.unit)
    issues.raise_if_any()
    if not values:
        issues((), f"none of the summary's indicators is in the spec for service {service!r}")
        issues.raise_if_any()
    return Baseline(
        release_name=service,
        release_version=None,
        captured_at=None,
        window=None,
        source=f"{Path(file).name} (ga_kpi_summary format)",
        values=values,
        sha256=sha256,
        file=file,
        format="ga_kpi_summary",
    )
