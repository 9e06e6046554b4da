"""The whole spec model: defaults, services (their SLOs and indicators), the release and drift settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import Release, Service, Spec
from slodrift.generator.spec.context import Context
from slodrift.generator.spec.defaults import (
    DEFAULT_EVALUATION_INTERVAL,
    DEFAULT_MAX_GROUPS,
    DEFAULT_NO_DATA,
    DEFAULT_SLO_WINDOW,
    DEFAULT_TIERS,
)
from slodrift.generator.spec.drift_settings import build_drift
from slodrift.generator.spec.indicators import build_anomaly, build_indicator
from slodrift.generator.spec.slos import build_slo
from slodrift.generator.spec.values import merge

from slodrift.issues import Path_


def build_spec(ctx: Context) -> Spec:
    """The model of a schema-valid spec; problems are collected in `ctx`."""
    data = ctx.doc.data
    defaults = data.get("defaults", {})
    default_window = ctx.duration(defaults.get("slo_window", DEFAULT_SLO_WINDOW), ("defaults", "slo_window"))
    interval = ctx.duration(
        defaults.get("evaluation_interval", DEFAULT_EVALUATION_INTERVAL),
        ("defaults", "evaluation_interval"),
    )
    if interval > 300:
        ctx.fail(
            ("defaults", "evaluation_interval"),
            "must be at most 5m: the shortest SLI window, 5m, is built from the events recorded at "
            "each evaluation",
        )
    elif 300 % interval:
        ctx.fail(
            ("defaults", "evaluation_interval"),
            f"must divide 5m evenly (15s, 20s, 30s, 1m, 5m, ...; got {promql.format_duration(interval)}): "
            "the SLIs are recorded as the events of each evaluation interval, and every window, 5m "
            "included, must hold a whole number of them",
        )
    ctx.interval = interval
    ctx.check_window(default_window, ("defaults", "slo_window"))
    given = defaults.get("alerting") or {}
    ctx.annotations(given.get("annotations"), ("defaults", "alerting", "annotations"))
    for tier in ("page", "ticket"):
        if isinstance(given.get(tier), dict):
            ctx.annotations(given[tier].get("annotations"), ("defaults", "alerting", tier, "annotations"))
    default_alerting = merge({**DEFAULT_TIERS, "no_data": DEFAULT_NO_DATA}, defaults.get("alerting"))
    ctx.default_group_by = defaults.get("group_by", [])
    ctx.default_max_groups = defaults.get("max_groups", DEFAULT_MAX_GROUPS)
    services = []
    seen: dict[str, int] = {}
    for i, svc in enumerate(data.get("services", [])):
        path = ("services", i)
        if svc["name"] in seen:
            ctx.fail(
                (*path, "name"),
                f"duplicate service name {svc['name']!r} (first at services[{seen[svc['name']]}])",
            )
        seen.setdefault(svc["name"], i)
        services.append(build_service(ctx, svc, path, default_window, default_alerting))
    rel = data.get("release", {})
    release = Release(
        name=rel.get("name", data["services"][0]["name"] if data.get("services") else "release"),
        version=rel.get("version", ""),
        watch_start=timestamp(ctx, rel.get("watch_start"), ("release", "watch_start")),
        watch_days=rel.get("watch_days", 7),
    )
    return Spec(
        ctx.doc.file,
        data["version"],
        release,
        interval,
        tuple(services),
        build_drift(ctx, data.get("drift")),
        warnings=tuple(ctx.warnings),
    )


def timestamp(ctx: Context, value: str | None, path: Path_) -> datetime | None:
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        ctx.fail(path, f"{value!r} is not an RFC 3339 time like 2025-11-22T00:00:00Z")
        return None
    if ts.tzinfo is None:
        ctx.fail(path, f"{value!r} has no time zone; write it in UTC with a trailing Z")
        return None
    return ts.astimezone(UTC)


def build_service(
    ctx: Context, svc: dict[str, Any], path: Path_, default_window: int, default_alerting: dict[str, Any]
) -> Service:
    labels = ctx.labels(svc.get("labels"), (*path, "labels"))
    try:
        selector = promql.equality_matchers(svc.get("selector", {}))
    except promql.PromQLError as exc:
        ctx.fail((*path, "selector"), str(exc))
        selector = ()
    if "le" in svc.get("selector", {}):  # it is added to every read: `_count` and `_sum` have no `le`
        ctx.fail(
            (*path, "selector", "le"),
            "a service selector cannot match `le`: histogram `_count` and `_sum` series have no `le` "
            "label, and the bucket is chosen by each SLI's threshold",
        )
        selector = tuple(m for m in selector if m.label != "le")
    slos = []
    seen: dict[str, int] = {}
    for j, slo in enumerate(svc.get("slos", [])):
        spath = (*path, "slos", j)
        if slo["name"] in seen:
            ctx.fail((*spath, "name"), f"duplicate SLO name {slo['name']!r} in service {svc['name']!r}")
        seen.setdefault(slo["name"], j)
        slos.append(build_slo(ctx, slo, spath, selector, labels, default_window, default_alerting))
    if not slos and not svc.get("indicators"):
        ctx.fail(path, "a service needs at least one SLO or one indicator")
    budgets = [slo.error_budget for slo in slos if slo.sli.kind != "latency"]
    inds = tuple(
        build_indicator(
            ctx, name, ind or {}, (*path, "indicators", name), selector, min(budgets, default=None), labels
        )
        for name, ind in (svc.get("indicators") or {}).items()
    )
    anomaly = build_anomaly(ctx, svc.get("anomaly"), (*path, "anomaly"), {i.name for i in inds})
    return Service(svc["name"], labels, selector, tuple(slos), svc.get("description", ""), inds, anomaly)
