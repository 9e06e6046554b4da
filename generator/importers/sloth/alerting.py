"""Sloth's `alerting` block → slodrift's page and ticket tiers.

Sloth's page and ticket alerts use the same windows and budget shares as slodrift's defaults at 30d, so only
routing is carried over: labels and annotations (both tiers, or one), `disable`, a `severity` label as the
tier's severity, `name` as the label `sloth_alert`. Label templates are resolved where their value is
known; at 28d Sloth's windows are written out.
"""

from __future__ import annotations

import re
from typing import Any

from slodrift.generator.alert_templates import TEMPLATE_ACTION_RE
from slodrift.generator.importers.common import SEVERITY_RE, Context, label_ref
from slodrift.generator.importers.sloth.fields import CAMEL, Fields

from slodrift.issues import Path_

SLO_WINDOW = "30d"
# Sloth's built-in alert windows (internal/alert/windows/google-{28d,30d}.yaml): the same budget shares.
SLOTH_PERIODS = ("28d", "30d")
SLOTH_WINDOWS = {
    "page": [("1h", "5m", "2%"), ("6h", "30m", "5%")],
    "ticket": [("1d", "2h", "10%"), ("3d", "6h", "10%")],
}
TIERS = (("page_alert", "page"), ("ticket_alert", "ticket"))
# Sloth's own alert labels, as slodrift spells them (an annotation may reference either).
LABEL_REFS = {
    "sloth_service": "{{ $labels.service }}",
    "sloth_slo": "{{ $labels.slo }}",
    "sloth_id": "{{ $labels.service }}-{{ $labels.slo }}",
    "sloth_severity": "{{ $labels.severity }}",
}
ALERTING_KEYS = ("name", "labels", "annotations", "page_alert", "ticket_alert")
TIER_KEYS = ("disable", "labels", "annotations")


def template_labels(
    ctx: Context, raw: dict[str, Any], path: Path_, known: dict[str, str], grouped: set[str]
) -> dict[str, Any]:
    """Labels whose values are Prometheus alert templates, resolved where their value is known."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if not isinstance(value, str) or "{{" not in value:
            out[name] = value
            continue
        unresolved: list[str] = []

        def resolve(m: re.Match[str], unresolved: list[str] = unresolved) -> str:
            label = label_ref(m.group(1))
            if label is not None and label in known:
                return known[label]
            unresolved.append(m.group(0))
            return m.group(0)

        resolved = TEMPLATE_ACTION_RE.sub(resolve, value)
        whole = label_ref(value.strip()[2:-2]) if value.strip().startswith("{{") else None
        if not unresolved:
            out[name] = resolved
        elif whole == name and name in grouped:
            continue  # `cluster: {{ $labels.cluster }}`: the alert carries the group label already
        else:
            ctx.warn(
                (*path, name),
                f"label {name} dropped: its template {value!r} needs the alert's labels, and slodrift's "
                "label values are fixed text"
                + (f" (the alert carries {', '.join(sorted(grouped))})" if grouped else ""),
            )
    return out


def alerting_tiers(
    fields: Fields,
    period: str,
    raw: Any,
    path: Path_,
    known: dict[str, str],
    grouped: set[str],
    objective: float | None,
) -> dict[str, Any]:
    """The SLO's `alerting` block: routing of both tiers, then each tier's own (or `False`, disabled)."""
    ctx = fields.ctx
    alerting = ctx.mapping(raw, path, "alerting")
    fields.unknown(alerting, ALERTING_KEYS, path, "alerting")
    out: dict[str, Any] = {}
    raw_labels = dict(ctx.mapping(alerting.get("labels"), (*path, "labels"), "labels"))
    severity = raw_labels.pop("severity", None)
    raw_labels = template_labels(ctx, raw_labels, (*path, "labels"), known, grouped)
    common_labels = ctx.labels(raw_labels, (*path, "labels"))
    if alerting.get("name"):
        common_labels["sloth_alert"] = str(alerting["name"])
    if common_labels:
        out["labels"] = common_labels
    annotations = ctx.annotations(alerting.get("annotations"), (*path, "annotations"), LABEL_REFS)
    if annotations:
        out["annotations"] = annotations
    for sloth_key, tier_name in TIERS:
        tier_raw_value, tpath = fields.get(alerting, sloth_key, path)
        tier_raw = ctx.mapping(tier_raw_value, tpath, sloth_key)
        fields.unknown(tier_raw, TIER_KEYS, tpath, CAMEL[sloth_key] if fields.k8s else sloth_key)
        if tier_raw.get("disable") is True or str(tier_raw.get("disable")).lower() == "true":
            out[tier_name] = False
            continue
        tier: dict[str, Any] = {}
        raw_labels = dict(ctx.mapping(tier_raw.get("labels"), (*tpath, "labels"), "labels"))
        sev = raw_labels.pop("severity", severity)
        raw_labels = template_labels(ctx, raw_labels, (*tpath, "labels"), known, grouped)
        labels = ctx.labels(raw_labels, (*tpath, "labels"))
        if sev is not None:
            sev = str(sev)
            if SEVERITY_RE.match(sev):
                tier["severity"] = sev
            else:
                ctx.warn(
                    (*tpath, "labels", "severity"),
                    f"severity {sev!r} is not [a-z][a-z0-9_-]*: kept as "
                    "label sloth_severity; the tier keeps slodrift's default severity",
                )
                labels["sloth_severity"] = sev
        if labels:
            tier["labels"] = labels
        tier_ann = ctx.annotations(tier_raw.get("annotations"), (*tpath, "annotations"), LABEL_REFS)
        if tier_ann:
            tier["annotations"] = tier_ann
        if period != SLO_WINDOW:
            tier["windows"] = windows(ctx, period, tier_name, objective, tpath)
            if not tier["windows"]:
                out[tier_name] = False
                continue
        if tier:
            out[tier_name] = tier
    return out


def windows(
    ctx: Context, period: str, tier: str, objective: float | None, path: Path_
) -> list[dict[str, str]]:
    """Sloth's windows for a period other than 30d, written out so they stay Sloth's."""
    out = []
    for long_, short, share in SLOTH_WINDOWS[tier]:
        days = int(period[:-1])
        factor = float(share[:-1]) / 100 * days * 24 / {"h": 1, "d": 24}[long_[-1]] / int(long_[:-1])
        if objective is not None and factor * (1 - objective / 100) >= 1:
            ctx.warn(
                path,
                f"Sloth's {tier} alert over {long_}/{short} ({factor:.3g}x burn) can never fire at objective "
                f"{objective}%: dropped, as it never fires in Sloth either",
            )
            continue
        out.append({"long": long_, "short": short, "budget_consumed": share})
    return out
