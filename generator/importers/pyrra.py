"""Pyrra `ServiceLevelObjective` resources (`pyrra.dev/v1alpha1`) → a slodrift spec.

Pyrra (github.com/pyrra-dev/pyrra) has no services: an SLO is a Kubernetes object named by its
`metadata.name` in its `metadata.namespace`. Each becomes a slodrift SLO of that name in a service
named after the namespace (`default` without one, as Kubernetes would). One file may hold several
objects: YAML documents, a YAML list, or a `List` with `items`.

- `target` (a string such as `'99.5'`) is the objective in percent; `window` the SLO window;
  `description` the description. Labels `pyrra.dev/<name>` of the object become SLO labels `<name>`,
  as Pyrra propagates them to its rules; its other labels (`prometheus: k8s`, `role: alert-rules`)
  select the PrometheusRule object, so a warning points to `slodrift generate --k8s-label`.
- `indicator.ratio`: `errors` and `total` are plain selectors, so they become slodrift's exact
  `errors`/`total` events.
- `indicator.latency`: a `<h>_bucket{..., le="T"}` success selector and a `<h>_count{...}` total with
  the same equality matchers become the latency kind (`histogram: <h>`, `threshold: T`); any other pair
  (regex matchers, matchers that differ between the two) becomes errors = total - success as event
  queries over `rate()`, exactly what Pyrra computes.
- `indicator.latencyNative`: a native histogram; errors are the requests slower than `latency`,
  `histogram_count(...) * (1 - histogram_fraction(0, latency, ...))`, as Pyrra computes them.
- `indicator.bool_gauge`: a 0/1 gauge such as `probe_success`; the error ratio is
  `1 - sum(sum_over_time(g)) / sum(count_over_time(g))`, Pyrra's ratio, as `error_ratio_query`.
- `grouping` (any kind) becomes `group_by`: one objective per value of those labels.
- Alerting: Pyrra's four burn-rate alerts scale with the SLO window (for 28d: 14x over 1h/5m and
  7x over 6h/30m, critical; 2x over 1d/2h and 1x over 4d/6h, warning). They are converted exactly to
  slodrift's `page` (the two critical ones) and `ticket` (the two warning ones) tiers with explicit
  windows and factors. A pair that can never fire (factor x error budget >= 1, at low objectives) is
  dropped with a warning, as it never fires in Pyrra either. Pyrra waits `for` a different time per
  pair; a slodrift tier has one `for`, the shorter one, so a warning says which pair now waits less.
  `disabled: true` or `burnrates: false` turn both tiers off, `absent: false` the no-data alert;
  the absent alert's `for` and severity are Pyrra's; `severities` set the tiers' severities;
  `name` becomes the label `pyrra_alert` (slodrift names its alerts itself).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from slodrift.generator import promql
from slodrift.generator.importers.common import (
    SEVERITY_RE,
    Context,
    Imported,
    Source,
    description,
    finish,
    label_name_ok,
    other_tool_hint,
    percent,
    regroup,
    source_objects,
)
from slodrift.generator.spec import RESERVED_LABELS

from slodrift.issues import Path_

API_PREFIX = "pyrra.dev/"
KIND = "ServiceLevelObjective"
LIST_KINDS = ("List", "ServiceLevelObjectiveList")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
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
INDICATORS = ("ratio", "latency", "latencyNative", "bool_gauge")
SPEC_KEYS = {
    "description",
    "target",
    "window",
    "indicator",
    "alerting",
    "partial_response_strategy",
    "performanceOverAccuracy",
    "ruleOutput",
}
ALERTING_KEYS = {"disabled", "burnrates", "absent", "name", "absentName", "severities"}
SEVERITY_KEYS = {"fastBurn", "mediumBurn", "slowBurn", "longTermBurn", "absent"}
# Pyrra's burn-rate windows as fractions of 28 days (slo/rules.go `Windows`): (tier, Pyrra's name,
# factor, long, short, for), each duration in minutes at a 28-day SLO window.
DAY28_MINUTES = 28 * 24 * 60
PYRRA_WINDOWS = (
    ("page", "fastBurn", 14, 60, 5, 2),
    ("page", "mediumBurn", 7, 360, 30, 15),
    ("ticket", "slowBurn", 2, 1440, 120, 60),
    ("ticket", "longTermBurn", 1, 5760, 360, 180),
)
DEFAULT_SEVERITY = {"page": "critical", "ticket": "warning", "absent": "critical"}


def duration_seconds(text: str) -> Decimal:
    """A Prometheus duration (`4w`, `1d12h`, `200ms`) in seconds."""
    return sum((int(n) * UNIT_SECONDS[u] for n, u in DURATION_PART_RE.findall(text)), Decimal(0))


def round_minutes(seconds: Decimal) -> int:
    """Go's `Duration.Round(time.Minute)`: to the nearest minute, halves away from zero (Pyrra's rounding)."""
    whole, rest = divmod(seconds, 60)
    return int(whole) + (1 if rest * 2 >= 60 else 0)


def fmt_minutes(minutes: int) -> str:
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


class _Converter:
    def __init__(self, source: Source) -> None:
        self.ctx = Context(source, "pyrra")
        self.services: dict[str, dict[str, Any]] = {}
        self.k8s_labels: dict[str, tuple[int, Path_]] = {}

    # --- objects ---------------------------------------------------------------------------------

    def convert(self) -> Imported:
        ctx = self.ctx
        for n, base, obj in source_objects(ctx.source, LIST_KINDS):
            ctx.doc = n
            if not isinstance(obj, dict):
                ctx.error(base, f"a Pyrra object is a YAML mapping, not a {type(obj).__name__}")
                continue
            api, kind = str(obj.get("apiVersion", "")), obj.get("kind")
            if not api.startswith(API_PREFIX) or kind != KIND:
                hint = other_tool_hint(obj, "pyrra")
                ctx.error(
                    (*base, "kind") if "kind" in obj else base,
                    f"expected apiVersion {API_PREFIX}v1alpha1 and kind {KIND}, found {api or None!r} "
                    f"and {kind!r}{hint}",
                )
                continue
            self.slo(obj, base)
        ctx.check()
        if not self.services:
            ctx.doc = 0
            ctx.error((), f"no {KIND} objects found")
        if self.k8s_labels:
            n, path = next(iter(self.k8s_labels.values()))
            ctx.doc = n
            ctx.warn(
                path,
                f"object label(s) {', '.join(sorted(self.k8s_labels))} select Pyrra's PrometheusRule "
                "object, not its rules: give them to `slodrift generate --format prometheusrule --k8s-label "
                "KEY=VALUE` if Prometheus selects rules by them",
            )
        spec = {"version": 1, "services": list(self.services.values())}
        return finish(ctx, spec)

    def slo(self, obj: dict[str, Any], base: Path_) -> None:
        ctx = self.ctx
        meta = ctx.mapping(obj.get("metadata"), (*base, "metadata"), "metadata")
        spec = ctx.mapping(obj.get("spec"), (*base, "spec"), "spec")
        sp: Path_ = (*base, "spec")
        name = meta.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            ctx.error(
                (*base, "metadata", "name") if "name" in meta else (*base, "metadata"),
                f"metadata.name {name!r} must be a name of letters, digits, '_', '.' or '-'",
            )
            return
        namespace = meta.get("namespace", "default")
        if not isinstance(namespace, str) or not NAME_RE.match(namespace):
            ctx.error(
                (*base, "metadata", "namespace"), f"namespace {namespace!r} is not a valid service name"
            )
            return
        for key in sorted(set(spec) - SPEC_KEYS):
            ctx.warn((*sp, key), f"ignored: {key} is not a Pyrra ServiceLevelObjective field")
        for key, why in (
            ("partial_response_strategy", "it only applies to Thanos Ruler"),
            (
                "performanceOverAccuracy",
                "slodrift's long windows are always built from per-interval "
                "slices, so they cost the same either way",
            ),
            ("ruleOutput", "slodrift writes one rule file per service"),
        ):
            if key in spec:
                ctx.warn((*sp, key), f"ignored: {why}")
        out: dict[str, Any] = {"name": name}
        if spec.get("description"):
            out["description"] = description(spec["description"])
        objective = self.target(spec.get("target"), (*sp, "target"))
        window = self.window(spec.get("window"), (*sp, "window"))
        labels = self.labels(meta.get("labels"), (*base, "metadata", "labels"))
        sli, group_by = self.indicator(spec.get("indicator"), (*sp, "indicator"))
        alerting = self.alerting(spec.get("alerting"), (*sp, "alerting"), objective, window)
        if objective is None or window is None or sli is None:
            return
        out["objective"] = percent(objective)
        out["window"] = spec["window"]
        if labels:
            out["labels"] = labels
        if group_by:
            out["group_by"] = group_by
        out["sli"] = sli
        if alerting:
            out["alerting"] = alerting
        svc = self.services.setdefault(namespace, {"name": namespace, "slos": []})
        if any(s["name"] == name for s in svc["slos"]):
            ctx.error(
                (*base, "metadata", "name"),
                f"a second SLO {name!r} in namespace {namespace!r}: Kubernetes would keep only one of them",
            )
            return
        svc["slos"].append(out)

    # --- fields ----------------------------------------------------------------------------------

    def target(self, raw: Any, path: Path_) -> Decimal | None:
        ctx = self.ctx
        if raw is None:
            ctx.error(path, "target is missing")
            return None
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            ctx.error(path, f"target {raw!r} is not a number (Pyrra's target is a percentage such as '99.5')")
            return None
        if not 0 < value < 100:
            ctx.error(path, f"target {raw!r} must be above 0 and below 100 (percent)")
            return None
        if value < 1:
            ctx.warn(
                path,
                f"target {raw!r} is read as {value}% (Pyrra's target is 0-100, not 0-1), as Pyrra reads it",
            )
        return value

    def window(self, raw: Any, path: Path_) -> Decimal | None:
        if not isinstance(raw, str) or not DURATION_RE.match(raw.strip()) or duration_seconds(raw) <= 0:
            self.ctx.error(path, f"window {raw!r} must be a duration such as 28d, 4w or 7d")
            return None
        return duration_seconds(raw)

    def labels(self, raw: Any, path: Path_) -> dict[str, str]:
        """`pyrra.dev/<name>` labels become SLO labels, as Pyrra propagates them to its rules."""
        propagated: dict[str, Any] = {}
        for key, value in self.ctx.mapping(raw, path, "labels").items():
            if str(key).startswith(API_PREFIX):
                propagated[str(key)[len(API_PREFIX) :]] = value
            else:
                self.k8s_labels.setdefault(str(key), (self.ctx.doc, (*path, key)))
        if not propagated:
            return {}
        return self.ctx.labels(propagated, path)

    def selector(self, raw: Any, path: Path_, what: str) -> promql.Selector | None:
        query = self.ctx.mapping(raw, path, what)
        metric = query.get("metric")
        if not isinstance(metric, str) or not metric.strip():
            self.ctx.error(path, f"{what}.metric is missing")
            return None
        try:
            return promql.parse_selector(metric)
        except promql.PromQLError as exc:
            self.ctx.error((*path, "metric"), f"{exc} (Pyrra also requires a plain selector here)")
            return None

    def grouping(self, raw: Any, path: Path_) -> list[str]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
            self.ctx.error(path, "grouping must be a list of label names")
            return []
        bad = [g for g in raw if not label_name_ok(g)]
        if bad:
            self.ctx.error(
                path, f"grouping label(s) {', '.join(map(repr, bad))} are not Prometheus label names"
            )
            return []
        return list(dict.fromkeys(raw))

    def indicator(self, raw: Any, path: Path_) -> tuple[dict[str, Any] | None, list[str]]:
        ctx = self.ctx
        ind = ctx.mapping(raw, path, "indicator")
        kinds = [k for k in INDICATORS if k in ind]
        for key in sorted(set(ind) - set(INDICATORS)):
            ctx.warn(
                (*path, key), f"ignored: {key} is not a Pyrra indicator (one of {', '.join(INDICATORS)})"
            )
        if len(kinds) != 1:
            ctx.error(
                path, f"give exactly one of {', '.join(INDICATORS)} (found: {', '.join(kinds) or 'none'})"
            )
            return None, []
        kind = kinds[0]
        kpath = (*path, kind)
        body = ctx.mapping(ind[kind], kpath, kind)
        known = {
            "ratio": {"errors", "total", "grouping"},
            "latency": {"success", "total", "grouping"},
            "latencyNative": {"total", "latency", "grouping"},
            "bool_gauge": {"metric", "grouping"},
        }[kind]
        for key in sorted(set(body) - known):
            ctx.warn((*kpath, key), f"ignored: {key} is not a field of {kind}")
        group_by = self.grouping(body.get("grouping"), (*kpath, "grouping"))
        sli = self.sli(kind, body, kpath, group_by)
        if sli is None:
            return None, group_by
        return regroup(ctx, sli, group_by, (*kpath, "grouping"), "pyrra")

    def sli(
        self, kind: str, body: dict[str, Any], kpath: Path_, group_by: list[str]
    ) -> dict[str, Any] | None:
        """One indicator as a slodrift SLI. Exact selectors where slodrift can read them as they are; queries
        where a group label must be renamed (slodrift sets `service` itself), since only a query can rename."""
        ctx = self.ctx
        by = f" by ({', '.join(group_by)})" if group_by else ""
        rate = "[{{window}}]"
        exact = not any(g in RESERVED_LABELS for g in group_by)
        if kind == "ratio":
            errors = self.selector(body.get("errors"), (*kpath, "errors"), "errors")
            total = self.selector(body.get("total"), (*kpath, "total"), "total")
            if errors is None or total is None:
                return None
            if not exact:
                return {
                    "error_query": f"sum{by} (rate({errors.render()}{rate}))",
                    "total_query": f"sum{by} (rate({total.render()}{rate}))",
                }
            return {"errors": errors.render(), "total": total.render()}
        if kind == "latency":
            success = self.selector(body.get("success"), (*kpath, "success"), "success")
            total = self.selector(body.get("total"), (*kpath, "total"), "total")
            if success is None or total is None:
                return None
            le = [m for m in success.matchers if m.label == "le"]
            if len(le) != 1 or le[0].op != "=":
                ctx.error(
                    (*kpath, "success", "metric"),
                    'the success selector needs one le="<bound>" matcher, '
                    "the bucket of requests fast enough (Pyrra requires it too)",
                )
                return None
            histogram = self.histogram(success, total, le[0].value) if exact else None
            if histogram is not None:
                return {"latency": histogram}
            t, s = total.render(), success.render()
            return {
                "error_query": f"sum{by} (rate({t}{rate})) - sum{by} (rate({s}{rate}))",
                "total_query": f"sum{by} (rate({t}{rate}))",
            }
        if kind == "latencyNative":
            total = self.selector(body.get("total"), (*kpath, "total"), "total")
            latency = body.get("latency")
            if not isinstance(latency, str) or not DURATION_RE.match(latency.strip()):
                ctx.error((*kpath, "latency"), f"latency {latency!r} must be a duration such as 200ms or 1s")
                return None
            if total is None:
                return None
            bound = promql.number(duration_seconds(latency))
            h = f"sum{by} (rate({total.render()}{rate}))"
            return {
                "error_query": f"histogram_count({h}) * (1 - histogram_fraction(0, {bound}, {h}))",
                "total_query": f"histogram_count({h})",
            }
        gauge = self.selector(body, kpath, "bool_gauge")
        if gauge is None:
            return None
        g = gauge.render()
        return {
            "error_ratio_query": f"1 - sum{by} (sum_over_time({g}{rate})) / sum{by} (count_over_time({g}{rate}))"
        }

    @staticmethod
    def histogram(success: promql.Selector, total: promql.Selector, le: str) -> dict[str, Any] | None:
        """slodrift's latency kind when it selects exactly what Pyrra's pair does, else None."""
        if not (
            success.metric.endswith("_bucket")
            and total.metric == success.metric[: -len("_bucket")] + "_count"
        ):
            return None
        rest = [m for m in success.matchers if m.label != "le"]
        if sorted(map(repr, rest)) != sorted(map(repr, total.matchers)) or any(m.op != "=" for m in rest):
            return None
        if len({m.label for m in rest}) != len(rest):
            return None
        try:
            bound = Decimal(le)
        except InvalidOperation:
            return None
        if not bound.is_finite() or bound <= 0:
            return None
        text = promql.number(bound)
        if le != text and not (bound == bound.to_integral_value() and le in (text, f"{text}.0")):
            return None  # a spelling slodrift's le matcher would not match (0.250): keep Pyrra's selectors
        out: dict[str, Any] = {"histogram": success.metric[: -len("_bucket")], "threshold": percent(bound)}
        if rest:
            out["selector"] = {m.label: m.value for m in rest}
        return out

    def alerting(
        self, raw: Any, path: Path_, objective: Decimal | None, window: Decimal | None
    ) -> dict[str, Any]:
        ctx = self.ctx
        al = ctx.mapping(raw, path, "alerting")
        for key in sorted(set(al) - ALERTING_KEYS):
            ctx.warn(
                (*path, key),
                f"ignored: {key} is not a Pyrra alerting field ({', '.join(sorted(ALERTING_KEYS))})",
            )
        sev_raw = ctx.mapping(al.get("severities"), (*path, "severities"), "severities")
        for key in sorted(set(sev_raw) - SEVERITY_KEYS):
            ctx.warn(
                (*path, "severities", key),
                f"ignored: {key} is not a Pyrra severity ({', '.join(sorted(SEVERITY_KEYS))})",
            )
        severities: dict[str, str] = {}
        for key, value in sev_raw.items():
            if key in SEVERITY_KEYS and value not in (None, ""):
                if SEVERITY_RE.match(str(value)):
                    severities[key] = str(value)
                else:
                    ctx.warn(
                        (*path, "severities", key),
                        f"severity {value!r} is not [a-z][a-z0-9_-]*: Pyrra's default kept",
                    )
        out: dict[str, Any] = {}
        if al.get("name"):
            out["labels"] = {"pyrra_alert": str(al["name"])}
        if al.get("absentName"):
            ctx.warn((*path, "absentName"), "ignored: slodrift's no-data alert is named SlodriftSLINoData")
        disabled = al.get("disabled") is True
        if disabled or al.get("burnrates") is False:
            out["page"] = out["ticket"] = False
        elif objective is not None and window is not None:
            out.update(self.tiers(path, objective, window, severities))
        if disabled or al.get("absent") is False:
            out["no_data"] = False
        elif objective is not None and window is not None:
            # Pyrra's absent alert: the time the fast burn's long window takes to cross its threshold at
            # 100 % errors, plus its `for` (slo.go `AbsentDuration`).
            scale = window / DAY28_MINUTES / 60
            long_s = round_minutes(PYRRA_WINDOWS[0][3] * 60 * scale) * 60
            for_s = round_minutes(PYRRA_WINDOWS[0][5] * 60 * scale) * 60
            absent_s = Decimal(PYRRA_WINDOWS[0][2]) * (1 - objective / 100) * long_s
            minutes = max(1, round_minutes(Decimal(int(absent_s)) + for_s))
            out["no_data"] = {
                "for": fmt_minutes(minutes),
                "severity": severities.get("absent", DEFAULT_SEVERITY["absent"]),
            }
        return out

    def tiers(
        self, path: Path_, objective: Decimal, window: Decimal, severities: dict[str, str]
    ) -> dict[str, Any]:
        """Pyrra's four burn-rate alerts as slodrift's page and ticket tiers, windows scaled as Pyrra scales them."""
        ctx = self.ctx
        budget = 1 - objective / 100
        scale = window / DAY28_MINUTES / 60  # Pyrra's windows are fractions of 28 days
        out: dict[str, Any] = {}
        waits: list[str] = []
        for tier in ("page", "ticket"):
            pairs = [p for p in PYRRA_WINDOWS if p[0] == tier]
            windows, fors, sev = [], [], []
            for _, pname, factor, long_m, short_m, for_m in pairs:
                long_, short = round_minutes(long_m * 60 * scale), round_minutes(short_m * 60 * scale)
                if factor * budget >= 1:
                    ctx.warn(
                        path,
                        f"Pyrra's {pname} alert ({factor}x burn over {fmt_minutes(long_)}) can never fire at "
                        f"objective {objective}% ({factor} x {budget} >= 1): dropped, as it never fires in Pyrra either",
                    )
                    continue
                if short < 1 or short >= long_:
                    ctx.warn(
                        path,
                        f"Pyrra's {pname} alert windows ({fmt_minutes(long_)}/{short}m) are too short for "
                        "slodrift at this SLO window: dropped",
                    )
                    continue
                windows.append({"long": fmt_minutes(long_), "short": fmt_minutes(short), "factor": factor})
                fors.append((max(0, round_minutes(for_m * 60 * scale)), pname))
                sev.append(severities.get(pname, DEFAULT_SEVERITY[tier]))
            if not windows:
                out[tier] = False
                continue
            entry: dict[str, Any] = {
                "severity": sev[0],
                "for": fmt_minutes(min(f for f, _ in fors) or 1),
                "windows": windows,
            }
            if len(set(sev)) > 1:
                ctx.warn(
                    (*path, "severities"),
                    f"Pyrra's {' and '.join(p for _, p in fors)} alerts have severities "
                    f"{' and '.join(sev)}; slodrift's {tier} tier has one: {sev[0]}",
                )
            if len({f for f, _ in fors}) > 1:
                slow = max(fors)
                waits.append(f"{fmt_minutes(slow[0])} before its {slow[1]} alert ({tier}: {entry['for']})")
            out[tier] = entry
        if waits:
            ctx.warn(
                path,
                f"Pyrra waits {' and '.join(waits)}; a slodrift tier waits as long as its quicker pair, so "
                "those alerts fire sooner",
            )
        return out


def pyrra_to_spec(source: Source) -> Imported:
    """Convert the Pyrra `ServiceLevelObjective` objects of `source` into one slodrift spec.

    Raises ImportFailed listing every problem; the result always passes slodrift's own validation.
    """
    return _Converter(source).convert()
