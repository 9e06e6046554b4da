"""Pyrra objects → a slodrift spec: every `ServiceLevelObjective` of the file as an SLO of the service
named after its namespace; the indicator and the alerting are read by the modules next to this one."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from slodrift.generator.importers.common import (
    Context,
    Imported,
    Source,
    description,
    finish,
    other_tool_hint,
    percent,
    source_objects,
)
from slodrift.generator.importers.pyrra.alerting import read_alerting
from slodrift.generator.importers.pyrra.durations import DURATION_RE, duration_seconds
from slodrift.generator.importers.pyrra.indicators import read_indicator

from slodrift.issues import Path_

API_PREFIX = "pyrra.dev/"
KIND = "ServiceLevelObjective"
LIST_KINDS = ("List", "ServiceLevelObjectiveList")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
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


class Converter:
    """Converts the Pyrra objects of one source."""

    def __init__(self, source: Source) -> None:
        self.ctx = Context(source, "pyrra")
        self.services: dict[str, dict[str, Any]] = {}
        # Object labels that are not `pyrra.dev/` ones (they select Pyrra's PrometheusRule object), with
        # where each was first seen, for one warning at the end.
        self.k8s_labels: dict[str, tuple[int, Path_]] = {}

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
        ctx.ignore_unknown(spec, SPEC_KEYS, sp, "a Pyrra ServiceLevelObjective field")
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
        sli, group_by = read_indicator(ctx, spec.get("indicator"), (*sp, "indicator"))
        alerting = read_alerting(ctx, spec.get("alerting"), (*sp, "alerting"), objective, window)
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

    def target(self, raw: Any, path: Path_) -> Decimal | None:
        """The objective in percent."""
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
        """The SLO window in seconds."""
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
