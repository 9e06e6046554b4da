"""A Sloth spec → a slodrift spec: its documents, services and SLOs (the mapping is described in
`sloth/__init__.py`); queries, alerting and plugins are read by the modules next to this one."""

from __future__ import annotations

from typing import Any

from slodrift.generator.importers.common import (
    TOOLS,
    Context,
    Imported,
    Source,
    description,
    finish,
    other_tool,
    percent,
    regroup,
)
from slodrift.generator.importers.sloth.alerting import alerting_tiers
from slodrift.generator.importers.sloth.fields import K8S_API, K8S_KIND, VERSION, Fields
from slodrift.generator.importers.sloth.plugins import warn_plugins
from slodrift.generator.importers.sloth.queries import sli_queries

from slodrift.issues import Path_

SERVICE_KEYS = ("version", "service", "labels", "slos", "slo_plugins")
SLO_KEYS = ("name", "objective", "description", "labels", "sli", "alerting", "plugins")


class Converter:
    """Converts the documents of one source, in Sloth's `--default-slo-period` `period`."""

    def __init__(self, source: Source, period: str) -> None:
        self.ctx = Context(source, "sloth")
        self.fields = Fields(self.ctx)
        self.period = period

    def service(self, doc: dict[str, Any], base: Path_) -> dict[str, Any] | None:
        ctx = self.ctx
        self.fields.unknown(
            doc, SERVICE_KEYS if not self.fields.k8s else SERVICE_KEYS[1:], base, "a Sloth service"
        )
        name = doc.get("service")
        if not isinstance(name, str) or not name:
            ctx.error((*base, "service"), "missing service name")
            return None
        svc: dict[str, Any] = {"name": name}
        ctx.origin(svc, (*base, "service"))
        labels = ctx.labels(doc.get("labels"), (*base, "labels"))
        if labels:
            svc["labels"] = labels
        plugins, ppath = self.fields.get(doc, "slo_plugins", base)
        if plugins is not None:
            warn_plugins(ctx, plugins, ppath)
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
        self.fields.unknown(slo_raw, SLO_KEYS, path, "an SLO")
        name = slo_raw.get("name")
        if not isinstance(name, str) or not name:
            ctx.error((*path, "name"), "missing SLO name")
            return None
        slo: dict[str, Any] = {"name": name}
        ctx.origin(slo, path)
        if slo_raw.get("description"):
            slo["description"] = description(slo_raw["description"])
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
            warn_plugins(ctx, slo_raw["plugins"], (*path, "plugins"))
        sli = sli_queries(self.fields, ctx.mapping(slo_raw.get("sli"), (*path, "sli"), "sli"), (*path, "sli"))
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
        alerting = alerting_tiers(
            self.fields,
            self.period,
            slo_raw.get("alerting"),
            (*path, "alerting"),
            known,
            set(group_by),
            objective,
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
                self.fields.k8s = True
                svc = self.service(ctx.mapping(doc.get("spec"), ("spec",), "spec"), ("spec",))
            elif doc.get("version") == VERSION:
                self.fields.k8s = False
                svc = self.service(doc, ())
            elif (tool := other_tool(doc, "sloth")) is not None:
                ctx.error(
                    ("apiVersion",),
                    f"{doc['apiVersion']} is {TOOLS[tool]}, not Sloth: use `slodrift import {tool}`",
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
