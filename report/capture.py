"""`baseline capture`: summarise each indicator's query over the release day into a baseline."""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from slodrift.report.baseline.model import FORMAT_VERSION, NAME_RE, Baseline, BaselineError, Issues
from slodrift.report.baseline.serialize import dump_baseline, format_time
from slodrift.report.baseline.validate import from_document
from slodrift.report.prometheus_api import PrometheusError, PrometheusQueryError, RangeQuerier

__all__ = ["capture_baseline"]


RATE_WINDOW = 300.0  # the rate window of the indicators' default queries
MIN_HOUR_SAMPLES = 2  # a profile hour needs at least this many values for a spread


def _seconds(step: timedelta | float | str) -> float:
    if isinstance(step, timedelta):
        return step.total_seconds()
    if isinstance(step, int | float):
        return float(step)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = step.strip()
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def _summary(values: list[float], spacing: float) -> dict[str, Any]:
    """Mean, population deviation and independent samples (values one rate window apart)."""
    return {
        "value": statistics.fmean(values),
        "stddev": statistics.pstdev(values),
        "samples": max(1, int(len(values) * spacing)),
    }


def _profile(
    values: list[tuple[float, float]], requests: list[tuple[float, float]], spacing: float
) -> list[dict[str, Any]]:
    """The summary per UTC hour of day of the sample times (hours with too few values are left out)."""
    by_hour: dict[int, list[float]] = {}
    for t, v in values:
        by_hour.setdefault(datetime.fromtimestamp(t, UTC).hour, []).append(v)
    traffic: dict[int, list[float]] = {}
    for t, v in requests:
        traffic.setdefault(datetime.fromtimestamp(t, UTC).hour, []).append(v)
    out = []
    for hour, vs in sorted(by_hour.items()):
        if len(vs) < MIN_HOUR_SAMPLES:
            continue
        point = {"hour": hour, **_summary(vs, spacing)}
        if traffic.get(hour):
            point["requests"] = statistics.fmean(traffic[hour])
        out.append(point)
    return out


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
    traffic: Mapping[tuple[str, str], str] | None = None,
    rate_window: float = RATE_WINDOW,
) -> Baseline:
    """Summarise each indicator's query over [start, end]: mean, population stddev, independent samples
    and, per UTC hour of day, the same (the profile the drift rules compare the same time of day with).

    Takes plain mappings (PromQL per (service, indicator), built from the spec elsewhere) so capture
    does not depend on the spec model; `traffic` gives the requests per second behind ratio and latency
    indicators, captured as `requests`. Each query must yield one series: several would be averaged
    with unknown weights, so the query should aggregate instead. NaN and ±Inf samples (an error ratio
    with no traffic at night) are skipped, not averaged. Samples count as independent only one rate
    window (`rate_window` seconds) apart. All problems are collected before raising; a Prometheus that
    is down stops the capture at once.
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
        warnings.extend(f"{service}/{indicator}: Prometheus warned: {w}" for w in result.warnings)
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
        finite = [(t, v) for t, v in series[0].samples if math.isfinite(v)]
        if not finite:
            issues(path, f"no data: {where} returned only NaN or infinite samples ({len(series[0].samples)})")
            continue
        values = [v for _, v in finite]
        spacing = min(1.0, _seconds(step) / rate_window)
        try:
            entry = _summary(values, spacing)
        except OverflowError:
            entry = {"value": math.inf, "stddev": math.inf}
        if not (math.isfinite(entry["value"]) and math.isfinite(entry["stddev"])):
            big = max(values, key=abs)
            issues(
                path, f"{where} returned values too large to average (e.g. {big:g}); check the query's unit"
            )
            continue
        requests: list[tuple[float, float]] = []
        traffic_expr = (traffic or {}).get((service, indicator))
        if traffic_expr:
            try:
                tres = client.query_range(traffic_expr, start, end, step)
            except PrometheusQueryError as exc:
                issues(
                    path,
                    f"Prometheus rejected the traffic query: {exc.prometheus_message} ({traffic_expr!r})",
                )
                continue
            except PrometheusError as exc:
                issues(path, str(exc))
                raise BaselineError(issues.items) from exc
            tseries = [s for s in tres.series if s.samples]
            if len(tseries) == 1:
                requests = [(t, v) for t, v in tseries[0].samples if math.isfinite(v)]
            if requests:
                entry["requests"] = statistics.fmean(v for _, v in requests)
        profile = _profile(finite, requests, spacing)
        if profile:
            entry["profile"] = profile
            if len(profile) < 24:
                warnings.append(
                    f"{service}/{indicator}: the profile covers {len(profile)} of 24 hours of the day; "
                    "the other hours use the flat baseline"
                )
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
