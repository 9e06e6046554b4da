"""`baseline capture`: summarise each indicator's query over the release day into a baseline."""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slodrift.report.baseline.model import FORMAT_VERSION, NAME_RE, Baseline, BaselineError, Issues
from slodrift.report.baseline.serialize import dump_baseline, format_time
from slodrift.report.baseline.validate import from_document
from slodrift.report.prometheus_api import PrometheusError, PrometheusQueryError, QueryResult

__all__ = ["RangeQuerier", "capture_baseline"]


class RangeQuerier(Protocol):
    """What capture needs of a Prometheus client (PrometheusClient, or a test double)."""

    def query_range(
        self, expr: str, start: datetime, end: datetime, step: timedelta | float | str
    ) -> QueryResult: ...


def capture_baseline(
    client: RangeQuerier,
    queries: Mapping[tuple[str, str], str],
    start: datetime,
    end: datetime,
    step: timedelta | float | str,
    *,
    release_name: str,
    release_version: str | None = None,
    units: Mapping[tuple[str, str], str] | None = None,
    known: Mapping[str, Collection[str]] | None = None,
    captured_at: datetime | None = None,
    source: str | None = None,
) -> Baseline:
    """Summarise each indicator's query over [start, end]: mean, population stddev and sample count.

    Takes plain mappings (PromQL per (service, indicator), built from the spec elsewhere) so capture
    does not depend on the spec model. Each query must yield one series: several would be averaged
    with unknown weights, so the query should aggregate instead. NaN and ±Inf samples (an error ratio
    with no traffic at night) are skipped, not averaged. All problems are collected before raising;
    a Prometheus that is down stops the capture at once.
    """
    base_url = getattr(client, "base_url", None)
    source = source if source is not None else (f"prometheus {base_url}" if base_url else "prometheus")
    issues = Issues(source)
    for when, name in ((start, "start"), (end, "end")):
        if when.tzinfo is None or when.utcoffset() is None:
            issues(("window", name), f"{when.isoformat()} has no timezone; use an aware datetime (UTC)")
    issues.raise_if_any()
    if start >= end:
        issues(("window",), f"start {format_time(start)} must be before end {format_time(end)}")
        issues.raise_if_any()
    units = units or {}
    services: dict[str, Any] = {}
    warnings: list[str] = []
    for (service, indicator), expr in sorted(queries.items()):
        path = ("services", service, "indicators", indicator)
        if not NAME_RE.fullmatch(service) or not NAME_RE.fullmatch(indicator):
            issues(path, "invalid service or indicator name: use letters, digits, `_`, `.` or `-`")
            continue
        where = f"query {expr!r} between {format_time(start)} and {format_time(end)}"
        try:
            result = client.query_range(expr, start, end, step)
        except PrometheusQueryError as exc:
            issues(path, f"Prometheus rejected the query: {exc.prometheus_message} (query {expr!r})")
            continue
        except PrometheusError as exc:
            issues(path, str(exc))
            raise BaselineError(issues.items) from exc
        warnings.extend(f"{service}/{indicator}: {w}" for w in result.warnings)
        series = [s for s in result.series if s.samples]
        if not series:
            issues(path, f"no data: {where} returned no samples")
            continue
        if len(series) > 1:
            shown = "; ".join(str(s.labels) for s in series[:3])
            issues(
                path,
                f"{where} returned {len(series)} series ({shown}); aggregate it to one series, "
                "e.g. avg(...) or sum(...)",
            )
            continue
        finite = [v for _, v in series[0].samples if math.isfinite(v)]
        if not finite:
            issues(path, f"no data: {where} returned only NaN or infinite samples ({len(series[0].samples)})")
            continue
        try:
            mean, stddev = statistics.fmean(finite), statistics.pstdev(finite)
        except OverflowError:
            mean = stddev = math.inf
        if not (math.isfinite(mean) and math.isfinite(stddev)):
            big = max(finite, key=abs)
            issues(
                path, f"{where} returned values too large to average (e.g. {big:g}); check the query's unit"
            )
            continue
        entry: dict[str, Any] = {"value": mean, "stddev": stddev, "samples": len(finite)}
        unit = units.get((service, indicator))
        if unit is not None:
            entry["unit"] = unit
        services.setdefault(service, {"indicators": {}})["indicators"][indicator] = entry
    issues.raise_if_any()
    if not services:
        issues((), "no queries given")
        issues.raise_if_any()
    release: dict[str, Any] = {"name": release_name}
    if release_version is not None:
        release["version"] = release_version
    doc = {
        "version": FORMAT_VERSION,
        "release": release,
        "captured_at": format_time(captured_at or datetime.now(UTC)),
        "window": {"start": format_time(start), "end": format_time(end)},
        "source": source,
        "services": services,
    }
    # Validate exactly what will be written (e.g. a "ratio" query that returns 1.3 is caught here).
    provisional = from_document(doc, issues, known, sha256="", file=None)
    text = dump_baseline(provisional)
    return Baseline(
        release_name=provisional.release_name,
        release_version=provisional.release_version,
        captured_at=provisional.captured_at,
        window=provisional.window,
        source=provisional.source,
        values=provisional.values,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        file=None,
        format="slodrift",
        warnings=tuple(warnings),
    )
