"""Sloth `prometheus/v1` specs and `PrometheusServiceLevel` objects → a slodrift spec.

Sloth (github.com/slok/sloth) and slodrift describe the same thing, SLOs over Prometheus, so most of
the mapping is one to one:

- `service` and `labels` become one slodrift service with those labels; each of `slos[]` an SLO with
  its `objective` (percent in both) and `description`; the window is Sloth's default period, 30d
  (`--default-slo-period 28d` as with Sloth). Several documents of the same service are one service,
  as in Sloth; labels that differ between them move to their SLOs.
- `sli.events.error_query`/`total_query` become slodrift's `error_query`/`total_query` and
  `sli.raw.error_ratio_query` becomes `error_ratio_query`; Sloth's `{{.window}}` is slodrift's
  `{{window}}`. Every query must parse as PromQL. Sloth SLI plugins are Go code that slodrift cannot
  run: an error names the SLO.
- Grouping: Sloth divides the error query by the total query label by label, so a query grouped
  `by (cluster)` is one SLO per cluster. That becomes `group_by: [cluster]` (see `grouping.py`); a
  query whose result keeps every label of its series, or two queries grouped differently, cannot be
  mapped and are errors naming the query's line. A group label slodrift sets itself (`service`...) is
  copied to `sloth_<name>`; one that is also a fixed label of the service or SLO is not a group (the
  fixed value overwrites it, in Sloth too), with a warning.
- Alerting: Sloth's page and ticket alerts use the same windows and budget shares as slodrift's
  defaults (2 % and 5 % of the budget in 1h/5m and 6h/30m; 10 % in 1d/2h and 3d/6h), so only routing
  is carried over: `alerting.labels`/`annotations` apply to both tiers, `page_alert`/`ticket_alert`
  to one, `disable` turns a tier off, a `severity` label becomes the tier's `severity`. slodrift names
  its alerts itself (`SlodriftErrorBudgetBurn`), so `alerting.name` is kept as the label
  `sloth_alert`: route on it where Alertmanager matched `alertname`. slodrift's defaults add what Sloth
  lacks: a `for`, the minimum-traffic guard and a no-data alert. An unknown key in an alert block
  (`disabled` for `disable`) is a warning.
- Alert templates: `{{ .Labels.x }}` and `{{ $labels.x }}` in annotations stay references to the
  alert's labels. slodrift's label values are fixed text, so a label template is resolved where its
  value is known (a fixed label, the service or SLO name, the group label itself) and dropped with a
  warning where it is not.
- SLO plugins (`slo_plugins`/`sloPlugins` of the service, `plugins` of an SLO) are Go code too; each is
  named in a warning that says what its loss changes.
- Labels slodrift sets itself (`tier`, `category`, `severity`...) are renamed `sloth_<name>`;
  annotation references to Sloth's `sloth_service`, `sloth_slo`, `sloth_id` and `sloth_severity`
  labels become slodrift's `service`, `slo` and `severity`; any other template action is dropped,
  each with a warning.

Both `prometheus/v1` files (snake_case fields, one service per YAML document) and Kubernetes
`PrometheusServiceLevel` objects (`sloth.slok.dev/v1`, camelCase fields under `spec`: `errorQuery`,
`pageAlert`, `sloPlugins`...) are read; the other spelling of a field is accepted with a warning.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from slodrift.generator.grouping import ALL, SCALAR, GroupingUnknown, result_labels
from slodrift.generator.importers.common import (
    Context,
    Imported,
    ImportFailed,
    Source,
    finish,
    percent,
    regroup,
)
from slodrift.generator.spec import SpecIssue

from slodrift.issues import Path_

VERSION = "prometheus/v1"
K8S_API = "sloth.slok.dev/v1"
K8S_KIND = "PrometheusServiceLevel"
SLO_WINDOW = "30d"
# Sloth's built-in alert windows (internal/alert/windows/google-{28d,30d}.yaml): the same budget shares.
SLOTH_PERIODS = ("28d", "30d")
SLOTH_WINDOWS = {
    "page": [("1h", "5m", "2%"), ("6h", "30m", "5%")],
    "ticket": [("1d", "2h", "10%"), ("3d", "6h", "10%")],
}
WINDOW_RE = re.compile(r"\{\{\s*\.window\s*\}\}")
# A trailing `or vector(0)` (or `or on() vector(0)`): Sloth's idiom for "no errors yet is 0".
FALLBACK_RE = re.compile(r"\s(?:or|OR)\s+(?:on\s*\(\s*\)\s*)?vector\s*\(\s*[0-9.eE+-]+\s*\)\s*$")
TIERS = (("page_alert", "page"), ("ticket_alert", "ticket"))
SEVERITY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
TEMPLATE_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
REF_RE = re.compile(r"^\s*(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)\s*$")
# Sloth's own alert labels, as slodrift spells them (an annotation may reference either).
LABEL_REFS = {
    "sloth_service": "{{ $labels.service }}",
    "sloth_slo": "{{ $labels.slo }}",
    "sloth_id": "{{ $labels.service }}-{{ $labels.slo }}",
    "sloth_severity": "{{ $labels.severity }}",
}
# The Kubernetes spelling of each prometheus/v1 field.
CAMEL = {
    "error_query": "errorQuery",
    "total_query": "totalQuery",
    "error_ratio_query": "errorRatioQuery",
    "page_alert": "pageAlert",
    "ticket_alert": "ticketAlert",
    "slo_plugins": "sloPlugins",
}
SERVICE_KEYS = ("version", "service", "labels", "slos", "slo_plugins")
SLO_KEYS = ("name", "objective", "description", "labels", "sli", "alerting", "plugins")
ALERTING_KEYS = ("name", "labels", "annotations", "page_alert", "ticket_alert")
TIER_KEYS = ("disable", "labels", "annotations")
# What losing each known SLO plugin changes (sloth internal/plugin/slo/*/README.md).
PLUGINS = {
    "sloth.dev/core/debug/v1": "it only logs; nothing is lost",
    "sloth.dev/core/noop/v1": "it does nothing; nothing is lost",
    "sloth.dev/core/validate/v1": "slodrift validates the spec itself",
    "sloth.dev/core/sli_rules/v1": "slodrift writes its own SLI rules",
    "sloth.dev/core/metadata_rules/v1": "slodrift writes its own objective, budget and burn-rate rules",
    "sloth.dev/core/alert_rules/v1": "slodrift writes its own burn-rate alerts",
    "sloth.dev/contrib/denominator_corrected_rules/v1": "it weighs burn rates by traffic; slodrift's SLI is "
    "the plain error ratio over each window (its minimum-traffic guard keeps quiet periods from paging), "
    "so alerts fire as without the plugin",
    "sloth.dev/contrib/error_budget_exhausted_alert/v1": "slodrift has no budget-exhausted alert; alert on "
    "slodrift:slo_error_budget_remaining:ratio yourself",
    "sloth.dev/contrib/info_labels/v1": "its labels are not added to slodrift:slo:info",
    "sloth.dev/contrib/remove_labels/v1": "slodrift keeps the labels; its windows aggregate by the SLO's "
    "identity, so changing them does not break evaluation",
    "sloth.dev/contrib/rule_intervals/v1": "slodrift evaluates every group at defaults.evaluation_interval",
    "sloth.dev/contrib/validate_victoria_metrics/v1": "slodrift checks queries as PromQL, not MetricsQL",
}


class _Converter:
    def __init__(self, source: Source, period: str) -> None:
        self.ctx = Context(source, "sloth")
        self.period = period
        self.k8s = False

    # --- field access in either spelling -----------------------------------------------------------

    def key(self, d: dict[str, Any], name: str, path: Path_) -> str | None:
        """The key under which `d` holds the field `name` (snake_case, or camelCase in Kubernetes
        objects); the other spelling is accepted with a warning."""
        camel = CAMEL.get(name, name)
        mine, other = (camel, name) if self.k8s else (name, camel)
        if mine in d:
            return mine
        if other in d:
            where = "a PrometheusServiceLevel object" if self.k8s else "a prometheus/v1 spec"
            self.ctx.warn((*path, other), f"{other}: {where} spells it {mine}; read as {mine}")
            return other
        return None

    def get(self, d: dict[str, Any], name: str, path: Path_) -> tuple[Any, Path_]:
        key = self.key(d, name, path)
        return (d[key], (*path, key)) if key is not None else (None, (*path, name))

    def unknown(self, d: dict[str, Any], known: tuple[str, ...], path: Path_, what: str) -> None:
        spellings = {k for name in known for k in (name, CAMEL.get(name, name))}
        for key in d:
            if key not in spellings:
                close = difflib.get_close_matches(str(key), sorted(spellings), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.ctx.warn((*path, key), f"ignored: {key} is not a field of {what}{hint}")

    # --- queries -----------------------------------------------------------------------------------

    def query(self, text: Any, path: Path_) -> str | None:
        """Sloth's Go-template window → slodrift's placeholder; any other template action is an error."""
        ctx = self.ctx
        if not isinstance(text, str) or not text.strip():
            ctx.error(path, "must be a non-empty PromQL string")
            return None
        query = WINDOW_RE.sub("{{window}}", text.strip())
        if "{{window}}" not in query:
            ctx.error(path, "query has no {{.window}}: slodrift needs the rate window to build its 5m SLI")
            return None
        other = [a for a in re.findall(r"\{\{.*?\}\}", query) if a != "{{window}}"]
        if other:
            ctx.error(
                path, f"unsupported template action(s) {', '.join(other)}: only {{{{.window}}}} is known"
            )
            return None
        fallback = FALLBACK_RE.search(query)
        if fallback:
            query = query[: fallback.start()].rstrip()
            ctx.warn(
                path,
                f"{fallback.group(0).strip()!r} dropped: slodrift counts a query without samples as no events "
                "(0 errors when there are requests), and a constant would hide that the SLI has no data",
            )
        return query

    def sli(self, sli: dict[str, Any], path: Path_) -> tuple[dict[str, str], list[str]] | None:
        """The SLI's queries and the labels they group by."""
        ctx = self.ctx
        if "plugin" in sli:
            plugin = sli["plugin"].get("id", "?") if isinstance(sli["plugin"], dict) else "?"
            ctx.error(
                (*path, "plugin"),
                f"Sloth SLI plugins are not supported (plugin {plugin!r}): write the "
                "plugin's queries as sli.events (error_query, total_query) or sli.raw (error_ratio_query)",
            )
            return None
        kinds = [k for k in ("events", "raw") if k in sli]
        self.unknown(sli, ("events", "raw", "plugin"), path, "sli")
        if len(kinds) != 1:
            ctx.error(path, f"give exactly one of events, raw (found: {', '.join(sorted(sli)) or 'nothing'})")
            return None
        kind = kinds[0]
        body = ctx.mapping(sli[kind], (*path, kind), kind)
        keys = ("error_query", "total_query") if kind == "events" else ("error_ratio_query",)
        self.unknown(body, keys, (*path, kind), f"sli.{kind}")
        out: dict[str, str] = {}
        paths: dict[str, Path_] = {}
        for key in keys:
            value, qpath = self.get(body, key, (*path, kind))
            if value is None:
                ctx.error((*path, kind), f"missing {key}" + (f" ({CAMEL[key]})" if self.k8s else ""))
                continue
            q = self.query(value, qpath)
            if q is not None:
                out[key], paths[key] = q, qpath
        if len(out) != len(keys):
            return None
        group_by = self.grouping(out, paths)
        return (out, group_by) if group_by is not None else None

    def grouping(self, queries: dict[str, str], paths: dict[str, Path_]) -> list[str] | None:
        """The labels every query keeps, which Sloth's division keeps: the SLO's group_by."""
        ctx = self.ctx
        found: dict[str, tuple[str, ...]] = {}
        for key, query in queries.items():
            try:
                labels = result_labels(query)
            except GroupingUnknown as exc:
                ctx.error(paths[key], f"{exc}")
                return None
            if labels is ALL:
                ctx.error(
                    paths[key],
                    "the query keeps every label of its series (it has no sum or other aggregation), so "
                    "Sloth computes one SLO per series; slodrift needs those labels listed: aggregate it, "
                    "e.g. sum by (<labels>) (...)",
                )
                return None
            found[key] = () if labels is SCALAR else labels  # type: ignore[assignment]
        first = next(iter(found.values()))
        if any(set(v) != set(first) for v in found.values()):
            shown = ", ".join(
                f"{k} by ({', '.join(v)})" if v else f"{k} without grouping" for k, v in found.items()
            )
            ctx.error(
                paths["error_query"],
                f"the queries are grouped differently ({shown}): Sloth divides them label by label, so they "
                "must keep the same labels",
            )
            return None
        return list(first)

    # --- alerting ----------------------------------------------------------------------------------

    def template_labels(
        self, raw: dict[str, Any], path: Path_, known: dict[str, str], grouped: set[str]
    ) -> dict[str, Any]:
        """Labels whose values are Prometheus alert templates, resolved where their value is known."""
        ctx = self.ctx
        out: dict[str, Any] = {}
        for name, value in raw.items():
            if not isinstance(value, str) or "{{" not in value:
                out[name] = value
                continue
            unresolved: list[str] = []

            def resolve(m: re.Match[str], unresolved: list[str] = unresolved) -> str:
                ref = REF_RE.match(m.group(1))
                if ref and ref.group(1) in known:
                    return known[ref.group(1)]
                unresolved.append(m.group(0))
                return m.group(0)

            resolved = TEMPLATE_RE.sub(resolve, value)
            whole = REF_RE.match(value.strip()[2:-2]) if value.strip().startswith("{{") else None
            if not unresolved:
                out[name] = resolved
            elif whole and whole.group(1) == name and name in grouped:
                continue  # `cluster: {{ $labels.cluster }}`: the alert carries the group label already
            else:
                ctx.warn(
                    (*path, name),
                    f"label {name} dropped: its template {value!r} needs the alert's labels, and slodrift's "
                    "label values are fixed text"
                    + (f" (the alert carries {', '.join(sorted(grouped))})" if grouped else ""),
                )
        return out

    def alerting(
        self, raw: Any, path: Path_, known: dict[str, str], grouped: set[str], objective: float | None
    ) -> dict[str, Any]:
        ctx = self.ctx
        alerting = ctx.mapping(raw, path, "alerting")
        self.unknown(alerting, ALERTING_KEYS, path, "alerting")
        out: dict[str, Any] = {}
        raw_labels = dict(ctx.mapping(alerting.get("labels"), (*path, "labels"), "labels"))
        severity = raw_labels.pop("severity", None)
        raw_labels = self.template_labels(raw_labels, (*path, "labels"), known, grouped)
        common_labels = ctx.labels(raw_labels, (*path, "labels"))
        if alerting.get("name"):
            common_labels["sloth_alert"] = str(alerting["name"])
        if common_labels:
            out["labels"] = common_labels
        annotations = ctx.annotations(alerting.get("annotations"), (*path, "annotations"), LABEL_REFS)
        if annotations:
            out["annotations"] = annotations
        for sloth_key, tier_name in TIERS:
            tier_raw_value, tpath = self.get(alerting, sloth_key, path)
            tier_raw = ctx.mapping(tier_raw_value, tpath, sloth_key)
            self.unknown(tier_raw, TIER_KEYS, tpath, CAMEL[sloth_key] if self.k8s else sloth_key)
            if tier_raw.get("disable") is True or str(tier_raw.get("disable")).lower() == "true":
                out[tier_name] = False
                continue
            tier: dict[str, Any] = {}
            raw_labels = dict(ctx.mapping(tier_raw.get("labels"), (*tpath, "labels"), "labels"))
            sev = raw_labels.pop("severity", severity)
            raw_labels = self.template_labels(raw_labels, (*tpath, "labels"), known, grouped)
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
            if self.period != SLO_WINDOW:
                tier["windows"] = self.windows(tier_name, objective, tpath)
                if not tier["windows"]:
                    out[tier_name] = False
                    continue
            if tier:
                out[tier_name] = tier
        return out

    def windows(self, tier: str, objective: float | None, path: Path_) -> list[dict[str, str]]:
        """Sloth's windows for a period other than 30d, written out so they stay Sloth's."""
        out = []
        for long_, short, share in SLOTH_WINDOWS[tier]:
            days = int(self.period[:-1])
            factor = float(share[:-1]) / 100 * days * 24 / {"h": 1, "d": 24}[long_[-1]] / int(long_[:-1])
            if objective is not None and factor * (1 - objective / 100) >= 1:
                self.ctx.warn(
                    path,
                    f"Sloth's {tier} alert over {long_}/{short} ({factor:.3g}x burn) can never fire at objective "
                    f"{objective}%: dropped, as it never fires in Sloth either",
                )
                continue
            out.append({"long": long_, "short": short, "budget_consumed": share})
        return out

    # --- plugins -----------------------------------------------------------------------------------

    def plugins(self, raw: Any, path: Path_) -> None:
        """Each SLO plugin named in a warning that says what its loss changes."""
        ctx = self.ctx
        block = ctx.mapping(raw, path, "plugins")
        chain = block.get("chain") or []
        if not isinstance(chain, list):
            ctx.error((*path, "chain"), "chain must be a list of plugins")
            return
        if block.get("overridePrevious"):
            ctx.warn(
                (*path, "overridePrevious"),
                "overridePrevious: Sloth's default plugins are replaced; "
                "slodrift always writes its own SLI, objective and alert rules",
            )
        for i, item in enumerate(chain):
            pid = str(item.get("id", "?")) if isinstance(item, dict) else "?"
            why = PLUGINS.get(pid, "a custom plugin: its effect on the rules is lost")
            ctx.warn((*path, "chain", i), f"SLO plugin {pid} not run: {why}")

    # --- services ----------------------------------------------------------------------------------

    def service(self, doc: dict[str, Any], base: Path_) -> dict[str, Any] | None:
        ctx = self.ctx
        self.unknown(doc, SERVICE_KEYS if not self.k8s else SERVICE_KEYS[1:], base, "a Sloth service")
        name = doc.get("service")
        if not isinstance(name, str) or not name:
            ctx.error((*base, "service"), "missing service name")
            return None
        svc: dict[str, Any] = {"name": name}
        ctx.origin(svc, (*base, "service"))
        labels = ctx.labels(doc.get("labels"), (*base, "labels"))
        if labels:
            svc["labels"] = labels
        plugins, ppath = self.get(doc, "slo_plugins", base)
        if plugins is not None:
            self.plugins(plugins, ppath)
        slos = doc.get("slos")
        if not isinstance(slos, list) or not slos:
            ctx.error((*base, "slos"), "a Sloth service needs a non-empty list of slos")
            return svc
        svc["slos"] = []
        for i, raw in enumerate(slos):
            slo = self.slo(ctx.mapping(raw, (*base, "slos", i), "an SLO"), (*base, "slos", i), name, labels)
            if slo is not None:
                svc["slos"].append(slo)
        return svc

    def slo(
        self, slo_raw: dict[str, Any], path: Path_, service: str, service_labels: dict[str, str]
    ) -> dict[str, Any] | None:
        ctx = self.ctx
        self.unknown(slo_raw, SLO_KEYS, path, "an SLO")
        name = slo_raw.get("name")
        if not isinstance(name, str) or not name:
            ctx.error((*path, "name"), "missing SLO name")
            return None
        slo: dict[str, Any] = {"name": name}
        ctx.origin(slo, path)
        if slo_raw.get("description"):
            slo["description"] = str(slo_raw["description"])[:1024]
        objective = slo_raw.get("objective")
        if isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 < objective < 100:
            ctx.error(
                (*path, "objective"), f"objective {objective!r} must be a percentage above 0 and below 100"
            )
            objective = None
        else:
            slo["objective"] = percent(objective)
        slo["window"] = self.period
        slo_labels = ctx.labels(slo_raw.get("labels"), (*path, "labels"))
        if slo_labels:
            slo["labels"] = slo_labels
        if "plugins" in slo_raw:
            self.plugins(slo_raw["plugins"], (*path, "plugins"))
        sli = self.sli(ctx.mapping(slo_raw.get("sli"), (*path, "sli"), "sli"), (*path, "sli"))
        group_by: list[str] = []
        if sli:
            queries, group_by = sli
            fixed = {**service_labels, **slo_labels}
            clash = [g for g in group_by if g in fixed]
            if clash:
                ctx.warn(
                    (*path, "sli"),
                    f"group label(s) {', '.join(clash)} are also fixed labels of the SLO "
                    f"({', '.join(f'{g}={fixed[g]}' for g in clash)}), whose value overwrites the grouped one, "
                    "in Sloth too: not grouped by them",
                )
                group_by = [g for g in group_by if g not in fixed]
            queries, group_by = regroup(ctx, queries, group_by, (*path, "sli"), "sloth")
            if group_by:
                slo["group_by"] = group_by
            slo["sli"] = queries
        known = {
            **service_labels,
            **slo_labels,
            "sloth_service": service,
            "sloth_slo": name,
            "sloth_id": f"{service}-{name}",
            "service": service,
            "slo": name,
        }
        alerting = self.alerting(
            slo_raw.get("alerting"), (*path, "alerting"), known, set(group_by), objective
        )
        if alerting:
            slo["alerting"] = alerting
        return slo

    def convert(self) -> Imported:
        ctx = self.ctx
        services: dict[str, dict[str, Any]] = {}
        for n, doc in enumerate(ctx.source.documents):
            ctx.doc = n
            if not isinstance(doc, dict):
                ctx.error((), f"a Sloth spec is a YAML mapping, not a {type(doc).__name__}")
                continue
            if doc.get("apiVersion") == K8S_API and doc.get("kind") == K8S_KIND:
                self.k8s = True
                svc = self.service(ctx.mapping(doc.get("spec"), ("spec",), "spec"), ("spec",))
            elif doc.get("version") == VERSION:
                self.k8s = False
                svc = self.service(doc, ())
            elif str(doc.get("apiVersion", "")).startswith("openslo/"):
                ctx.error(
                    ("apiVersion",),
                    f"{doc['apiVersion']} is OpenSLO, not Sloth: use `slodrift import openslo`",
                )
                continue
            elif str(doc.get("apiVersion", "")).startswith("pyrra.dev/"):
                ctx.error(
                    ("apiVersion",), f"{doc['apiVersion']} is Pyrra, not Sloth: use `slodrift import pyrra`"
                )
                continue
            else:
                found = doc.get("version", doc.get("apiVersion"))
                ctx.error(
                    ("version",) if "version" in doc else ("apiVersion",) if "apiVersion" in doc else (),
                    f"unknown Sloth spec version {found!r}: supported are version: {VERSION} and "
                    f"apiVersion: {K8S_API} kind: {K8S_KIND}",
                )
                continue
            if svc is not None:
                self.merge(services, svc)
        ctx.check()
        spec = {"version": 1, "defaults": {"slo_window": self.period}, "services": list(services.values())}
        return finish(ctx, spec)

    def merge(self, services: dict[str, dict[str, Any]], svc: dict[str, Any]) -> None:
        """Sloth reads every document on its own: the same service in two documents is one service here,
        its SLOs together; service labels that differ between the documents move to their SLOs."""
        ctx = self.ctx
        first = services.get(svc["name"])
        if first is None:
            services[svc["name"]] = svc
            return
        a, b = first.get("labels", {}), svc.get("labels", {})
        shared = {k: v for k, v in a.items() if b.get(k) == v}
        for owner, labels in ((first, a), (svc, b)):
            moved = {k: v for k, v in labels.items() if k not in shared}
            for slo in owner.get("slos", []):
                if moved:
                    slo["labels"] = {**moved, **slo.get("labels", {})}
        if shared:
            first["labels"] = shared
        else:
            first.pop("labels", None)
        names = {s["name"] for s in first.get("slos", [])}
        for slo in svc.get("slos", []):
            if slo["name"] in names:
                doc, path = ctx.origins[id(slo)]
                ctx.errors.append(
                    ctx._issue(
                        (*path, "name"),
                        f"SLO {slo['name']!r} of service {svc['name']!r} is defined twice "
                        "(Sloth refuses the duplicate id too)",
                        doc,
                    )
                )
                continue
            first.setdefault("slos", []).append(slo)


def sloth_to_spec(source: Source, period: str = SLO_WINDOW) -> Imported:
    """Convert every Sloth document of `source` into one slodrift spec (one service per service name).

    `period` is Sloth's `--default-slo-period` (28d or 30d). Raises ImportFailed listing every problem;
    the result always passes slodrift's own validation.
    """
    if period not in SLOTH_PERIODS:
        raise ImportFailed(
            [
                SpecIssue(
                    source.file,
                    "",
                    None,
                    f"--default-slo-period {period}: Sloth has alert "
                    f"windows for {' and '.join(SLOTH_PERIODS)} only",
                )
            ]
        )
    return _Converter(source, period).convert()
