"""Sloth `prometheus/v1` specs → a slodrift spec.

Sloth (github.com/slok/sloth) and slodrift describe the same thing, SLOs over Prometheus, so most of
the mapping is one to one:

- `service` and `labels` become one slodrift service with those labels; each of `slos[]` an SLO with
  its `objective` (percent in both) and `description`; the window is Sloth's default, 30d.
- `sli.events.error_query`/`total_query` become slodrift's `error_query`/`total_query` and
  `sli.raw.error_ratio_query` becomes `error_ratio_query`; Sloth's `{{.window}}` is slodrift's
  `{{window}}`. Sloth SLI plugins are Go code that slodrift cannot run: an error names the SLO.
- Alerting: Sloth's page and ticket alerts use the same windows and factors as slodrift's defaults
  (14.4x 1h/5m and 6x 6h/30m; 3x 1d/2h and 1x 3d/6h), so only routing is carried over:
  `alerting.labels`/`annotations` apply to both tiers, `page_alert`/`ticket_alert` to one, `disable`
  turns a tier off, a `severity` label becomes the tier's `severity`. slodrift names its alerts
  itself (`SlodriftErrorBudgetBurn`), so `alerting.name` is kept as the label `sloth_alert`: route on
  it where Alertmanager matched `alertname`. slodrift's defaults add what Sloth lacks: a `for`, the
  minimum-traffic guard and a no-data alert.
- Labels slodrift sets itself (`tier`, `category`, `severity`...) are renamed `sloth_<name>`;
  annotation references to Sloth's `sloth_service`, `sloth_slo`, `sloth_id` and `sloth_severity`
  labels become slodrift's `service`, `slo` and `severity`; any other template action is dropped,
  each with a warning.

Both `prometheus/v1` files (one service per YAML document) and Kubernetes `PrometheusServiceLevel`
objects (`sloth.slok.dev/v1`, same fields under `spec`) are read.
"""

from __future__ import annotations

import re
from typing import Any

from slodrift.generator.importers.common import Context, Imported, Source, finish, percent

from slodrift.issues import Path_

VERSION = "prometheus/v1"
K8S_API = "sloth.slok.dev/v1"
K8S_KIND = "PrometheusServiceLevel"
SLO_WINDOW = "30d"
WINDOW_RE = re.compile(r"\{\{\s*\.window\s*\}\}")
TIERS = (("page_alert", "page"), ("ticket_alert", "ticket"))
SEVERITY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Sloth's own alert labels, as slodrift spells them (an annotation may reference either).
LABEL_REFS = {
    "sloth_service": "{{ $labels.service }}",
    "sloth_slo": "{{ $labels.slo }}",
    "sloth_id": "{{ $labels.service }}-{{ $labels.slo }}",
    "sloth_severity": "{{ $labels.severity }}",
}


def _query(ctx: Context, text: Any, path: Path_) -> str | None:
    """Sloth's Go-template window → slodrift's placeholder; any other template action is an error."""
    if not isinstance(text, str) or not text.strip():
        ctx.error(path, "must be a non-empty PromQL string")
        return None
    query = WINDOW_RE.sub("{{window}}", text.strip())
    if "{{window}}" not in query:
        ctx.error(path, "query has no {{.window}}: slodrift needs the rate window to build its 5m SLI")
        return None
    other = [a for a in re.findall(r"\{\{.*?\}\}", query) if a != "{{window}}"]
    if other:
        ctx.error(path, f"unsupported template action(s) {', '.join(other)}: only {{{{.window}}}} is known")
        return None
    return query


def _sli(ctx: Context, sli: dict[str, Any], path: Path_) -> dict[str, str] | None:
    if "plugin" in sli:
        plugin = sli["plugin"].get("id", "?") if isinstance(sli["plugin"], dict) else "?"
        ctx.error(
            (*path, "plugin"),
            f"Sloth SLI plugins are not supported (plugin {plugin!r}): write the "
            "plugin's queries as sli.events (error_query, total_query) or sli.raw (error_ratio_query)",
        )
        return None
    kinds = [k for k in ("events", "raw") if k in sli]
    if len(kinds) != 1:
        ctx.error(path, f"give exactly one of events, raw (found: {', '.join(sorted(sli)) or 'nothing'})")
        return None
    body = ctx.mapping(sli[kinds[0]], (*path, kinds[0]), kinds[0])
    keys = ("error_query", "total_query") if kinds[0] == "events" else ("error_ratio_query",)
    out = {}
    for key in keys:
        if key not in body:
            ctx.error((*path, kinds[0]), f"missing {key}")
            continue
        q = _query(ctx, body[key], (*path, kinds[0], key))
        if q is not None:
            out[key] = q
    return out if len(out) == len(keys) else None


def _alerting(ctx: Context, raw: Any, path: Path_) -> dict[str, Any]:
    alerting = ctx.mapping(raw, path, "alerting")
    out: dict[str, Any] = {}
    raw_labels = dict(ctx.mapping(alerting.get("labels"), (*path, "labels"), "labels"))
    severity = raw_labels.pop("severity", None)
    common_labels = ctx.labels(raw_labels, (*path, "labels"))
    if alerting.get("name"):
        common_labels["sloth_alert"] = str(alerting["name"])
    if common_labels:
        out["labels"] = common_labels
    annotations = ctx.annotations(alerting.get("annotations"), (*path, "annotations"), LABEL_REFS)
    if annotations:
        out["annotations"] = annotations
    for sloth_key, tier_name in TIERS:
        tpath = (*path, sloth_key)
        tier_raw = ctx.mapping(alerting.get(sloth_key), tpath, sloth_key)
        if tier_raw.get("disable"):
            out[tier_name] = False
            continue
        tier: dict[str, Any] = {}
        raw_labels = dict(ctx.mapping(tier_raw.get("labels"), (*tpath, "labels"), "labels"))
        sev = raw_labels.pop("severity", severity)
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
        if tier:
            out[tier_name] = tier
    unknown = sorted(set(alerting) - {"name", "labels", "annotations", "page_alert", "ticket_alert"})
    if unknown:
        ctx.warn(path, f"ignored: {', '.join(unknown)}")
    return out


def _service(ctx: Context, doc: dict[str, Any], base: Path_) -> dict[str, Any]:
    name = doc.get("service")
    if not isinstance(name, str) or not name:
        ctx.error((*base, "service"), "missing service name")
        name = "service"
    svc: dict[str, Any] = {"name": name}
    labels = ctx.labels(doc.get("labels"), (*base, "labels"))
    if labels:
        svc["labels"] = labels
    slos = doc.get("slos")
    if not isinstance(slos, list) or not slos:
        ctx.error((*base, "slos"), "a Sloth service needs a non-empty list of slos")
        return svc
    svc["slos"] = []
    for i, raw in enumerate(slos):
        path = (*base, "slos", i)
        slo_raw = ctx.mapping(raw, path, "an SLO")
        slo: dict[str, Any] = {"name": slo_raw.get("name", f"slo-{i}")}
        if slo_raw.get("description"):
            slo["description"] = str(slo_raw["description"])[:1024]
        objective = slo_raw.get("objective")
        if isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 < objective < 100:
            ctx.error(
                (*path, "objective"), f"objective {objective!r} must be a percentage above 0 and below 100"
            )
        else:
            slo["objective"] = percent(objective)
        slo["window"] = SLO_WINDOW
        slo_labels = ctx.labels(slo_raw.get("labels"), (*path, "labels"))
        if slo_labels:
            slo["labels"] = slo_labels
        sli = _sli(ctx, ctx.mapping(slo_raw.get("sli"), (*path, "sli"), "sli"), (*path, "sli"))
        if sli:
            slo["sli"] = sli
        alerting = _alerting(ctx, slo_raw.get("alerting"), (*path, "alerting"))
        if alerting:
            slo["alerting"] = alerting
        svc["slos"].append(slo)
    return svc


def sloth_to_spec(source: Source) -> Imported:
    """Convert every Sloth document of `source` into one slodrift spec (one service per document).

    Raises ImportFailed listing every problem; the result always passes slodrift's own validation.
    """
    ctx = Context(source, "sloth")
    services = []
    for n, doc in enumerate(source.documents):
        ctx.doc = n
        if not isinstance(doc, dict):
            ctx.error((), f"a Sloth spec is a YAML mapping, not a {type(doc).__name__}")
            continue
        if doc.get("apiVersion") == K8S_API and doc.get("kind") == K8S_KIND:
            services.append(_service(ctx, ctx.mapping(doc.get("spec"), ("spec",), "spec"), ("spec",)))
        elif doc.get("version") == VERSION:
            services.append(_service(ctx, doc, ()))
        elif str(doc.get("apiVersion", "")).startswith("openslo/"):
            ctx.error(
                ("apiVersion",), f"{doc['apiVersion']} is OpenSLO, not Sloth: use `slodrift import openslo`"
            )
        else:
            found = doc.get("version", doc.get("apiVersion"))
            ctx.error(
                ("version",) if "version" in doc else ("apiVersion",) if "apiVersion" in doc else (),
                f"unknown Sloth spec version {found!r}: supported are version: {VERSION} and "
                f"apiVersion: {K8S_API} kind: {K8S_KIND}",
            )
    ctx.check()
    spec = {"version": 1, "defaults": {"slo_window": SLO_WINDOW}, "services": services}
    return finish(ctx, spec)
