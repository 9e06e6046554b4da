"""OpenSLO documents → a slodrift spec: the objects of the file (SLIs, data sources and services first, then
the SLOs that refer to them), each SLO's objectives as slodrift SLOs, grouped into services."""

from __future__ import annotations

import re
from typing import Any

from slodrift.generator.importers.common import (
    Context,
    Imported,
    Source,
    description,
    finish,
    other_tool_hint,
    regroup,
    source_objects,
)
from slodrift.generator.importers.openslo.indicators import indicator_sli
from slodrift.generator.importers.openslo.objectives import objective_count, read_objective, time_window
from slodrift.generator.importers.openslo.versions import API_V1, API_V1ALPHA, KNOWN_KINDS

from slodrift.issues import Path_


class Converter:
    """Converts the OpenSLO documents of one source."""

    def __init__(self, source: Source) -> None:
        self.ctx = Context(source, "openslo")
        # What SLOs may refer to, by name: SLI objects (document, path, object, apiVersion), DataSource
        # types, Service descriptions.
        self.slis: dict[str, tuple[int, Path_, dict[str, Any], str]] = {}
        self.sources: dict[str, str] = {}
        self.service_desc: dict[str, str] = {}

    def slo(self, doc: dict[str, Any], api: str) -> list[tuple[str, dict[str, Any]]]:
        """The slodrift SLOs of one OpenSLO SLO: one per objective (Sloth's reading of several objectives)."""
        ctx = self.ctx
        meta = ctx.mapping(doc.get("metadata"), ("metadata",), "metadata")
        spec = ctx.mapping(doc.get("spec"), ("spec",), "spec")
        path: Path_ = ("spec",)
        name = meta.get("name")
        service = spec.get("service")
        if not isinstance(name, str) or not isinstance(service, str):
            ctx.error(("metadata", "name") if not isinstance(name, str) else (*path, "service"), "missing")
            return []
        method = spec.get("budgetingMethod", "Occurrences")
        if method != "Occurrences":
            ctx.error(
                (*path, "budgetingMethod"),
                f"{method} is not supported: slodrift counts events "
                "(Occurrences); time-slice budgets need per-slice booleans it does not record",
            )
        window = time_window(ctx, spec, path, api)
        if "alertPolicies" in spec:
            ctx.warn((*path, "alertPolicies"), "ignored: slodrift's multi-window burn-rate alerts apply")
        count = objective_count(ctx, spec, path)
        if count > 1:
            ctx.warn(
                (*path, "objectives"),
                f"{count} objectives: one slodrift SLO each, named {name}-0 to {name}-{count - 1} (as Sloth names them)",
            )
        out = []
        for i in range(count):
            slo = self.one(meta, spec, path, name if count == 1 else f"{name}-{i}", i, window, api)
            if slo is not None:
                out.append((service, slo))
        return out

    def one(
        self,
        meta: dict[str, Any],
        spec: dict[str, Any],
        path: Path_,
        name: str,
        index: int,
        window: str | None,
        api: str,
    ) -> dict[str, Any] | None:
        """Objective `index` of an OpenSLO SLO as a slodrift SLO named `name`."""
        ctx = self.ctx
        objective = read_objective(ctx, spec, path, index)
        found = None
        if api == API_V1ALPHA:
            found = (
                indicator_sli(ctx, objective[1], (*path, "objectives", index), api, self.sources)
                if objective
                else None
            )
        elif "indicator" in spec:
            ind = ctx.mapping(spec["indicator"], (*path, "indicator"), "indicator")
            found = indicator_sli(
                ctx,
                ctx.mapping(ind.get("spec"), (*path, "indicator", "spec"), "spec"),
                (*path, "indicator", "spec"),
                api,
                self.sources,
            )
        elif "indicatorRef" in spec:
            ref = str(spec["indicatorRef"])
            if ref not in self.slis:
                ctx.error((*path, "indicatorRef"), f"no SLI named {ref!r} in this file")
            else:
                here = (ctx.doc, ctx.base)
                ctx.doc, ctx.base, sli_doc, sli_api = self.slis[ref]
                found = indicator_sli(
                    ctx, ctx.mapping(sli_doc.get("spec"), ("spec",), "spec"), ("spec",), sli_api, self.sources
                )
                ctx.doc, ctx.base = here
        else:
            ctx.error(path, "give indicator or indicatorRef")
        if window is None or objective is None or found is None:
            return None
        sli, by = found
        out: dict[str, Any] = {"name": name}
        text = spec.get("description") or meta.get("displayName")
        if text:
            out["description"] = description(text)
        out["objective"] = objective[0]
        out["window"] = window
        labels = ctx.labels(meta.get("labels"), ("metadata", "labels"))
        if labels:
            out["labels"] = labels
        sli, group_by = regroup(ctx, sli, by, path, "openslo") if by else (sli, [])
        if group_by:
            out["group_by"] = group_by
        out["sli"] = sli
        ctx.origin(out, ("metadata", "name") if index == 0 else (*path, "objectives", index))
        return out

    def convert(self) -> Imported:
        ctx = self.ctx
        objects = []
        for n, base, doc in source_objects(ctx.source):  # first pass: what SLOs may refer to
            ctx.doc, ctx.base = n, base
            if not isinstance(doc, dict):
                ctx.error((), f"an OpenSLO object is a YAML mapping, not a {type(doc).__name__}")
                continue
            api = doc.get("apiVersion")
            if api not in (API_V1, API_V1ALPHA):
                hint = other_tool_hint(doc, "openslo")
                if re.fullmatch(r"openslo(\.com)?/v2alpha\d*", str(api)):
                    hint = " (OpenSLO v2alpha is a draft slodrift does not read yet)"
                ctx.error(
                    ("apiVersion",),
                    f"unknown apiVersion {api!r}: supported are {API_V1} and {API_V1ALPHA}{hint}",
                )
                continue
            kind = doc.get("kind")
            raw_meta, raw_spec = doc.get("metadata"), doc.get("spec")
            meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
            spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
            if kind == "SLI" and "name" in meta:
                self.slis[str(meta["name"])] = (n, base, doc, str(api))
            elif kind == "DataSource" and "name" in meta:
                self.sources[str(meta["name"])] = str(spec.get("type", ""))
            elif kind == "Service" and "name" in meta and spec.get("description"):
                self.service_desc[str(meta["name"])] = description(spec["description"])
            elif kind not in KNOWN_KINDS:
                ctx.error(("kind",), f"unknown kind {kind!r}: expected one of {', '.join(KNOWN_KINDS)}")
            elif kind not in ("SLO", "SLI", "Service", "DataSource"):
                ctx.warn(("kind",), f"{kind} ignored: slodrift's multi-window burn-rate alerts apply")
            if kind == "SLO":
                objects.append((n, base, doc, str(api)))
        ctx.check()
        services: dict[str, dict[str, Any]] = {}
        for n, base, doc, api in objects:
            ctx.doc, ctx.base = n, base
            for service, slo in self.slo(doc, api):
                svc = services.setdefault(service, {"name": service})
                if service in self.service_desc:
                    svc["description"] = self.service_desc[service]
                if any(other["name"] == slo["name"] for other in svc.get("slos", [])):
                    ctx.error(("metadata", "name"), f"a second SLO {slo['name']!r} of service {service!r}")
                    continue
                svc.setdefault("slos", []).append(slo)
        ctx.check()
        if not services:
            ctx.doc, ctx.base = 0, ()
            ctx.error((), "no SLO objects (kind: SLO) found")
        spec = {"version": 1, "services": list(services.values())}
        return finish(ctx, spec)
