"""A spec's generated rule files, in memory: what `slodrift generate` would write, parsed as rule groups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from slodrift.generator.model import Spec
from slodrift.generator.promql import format_duration
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec

from .backtest_doc import SLOInfo, Threshold
from .rulefiles import Group, parse_groups

__all__ = ["SpecRules", "slo_infos", "spec_rules", "tiers_by_receiver"]


@dataclass(frozen=True)
class SpecRules:
    spec: Spec
    groups: list[Group]
    files: dict[str, str]  # every generated file, by path relative to the output directory

    @property
    def alertmanager_config(self) -> str | None:
        return self.files.get("alertmanager/alertmanager.yml")


def spec_rules(path: str | Path) -> SpecRules:
    """Load and validate the spec (SpecError on a bad one) and render its rules."""
    spec = load_spec(path)
    files = render([spec])
    groups: list[Group] = []
    for rel in sorted(f for f in files if f.startswith("rules/") and f.endswith(".yml")):
        groups += parse_groups(yaml.safe_load(files[rel]), rel)
    return SpecRules(spec=spec, groups=groups, files=files)


def slo_infos(spec: Spec) -> list[SLOInfo]:
    """Each SLO's identity, objective and burn thresholds, for the backtest's document and charts."""
    out = []
    for svc in spec.services:
        for slo in svc.slos:
            budget = float(slo.error_budget)
            ths = tuple(
                Threshold(
                    tier=t.name,
                    long_s=w.long,
                    short_s=w.short,
                    factor=float(w.factor),
                    error_ratio=float(w.factor) * budget,
                    series=f"slodrift:sli_error:ratio_rate{format_duration(w.long)}",
                )
                for t in slo.tiers
                for w in t.windows
            )
            out.append(
                SLOInfo(
                    owner=f"{svc.name}/{slo.name}",
                    objective_percent=float(slo.objective) * 100,
                    window_s=slo.window,
                    labels={"service": svc.name, "slo": slo.name},
                    thresholds=ths,
                )
            )
    return out


def tiers_by_receiver(spec: Spec) -> dict[str, str]:
    """Which receivers page and which ticket, from the burn tiers' routing (page wins a tie)."""
    out: dict[str, str] = {}
    for svc in spec.services:
        for slo in svc.slos:
            for t in slo.tiers:
                if t.receiver and t.name in ("page", "ticket") and out.get(t.receiver) != "page":
                    out[t.receiver] = t.name
    return out
