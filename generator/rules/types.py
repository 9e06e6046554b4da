"""Rules as typed data: what the rule builders return and the writer turns into YAML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd


@dataclass(frozen=True)
class Recording:
    """A recording rule."""

    record: str
    expr: Expr
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The rule as Prometheus' rule-file YAML has it."""
        out: dict[str, Any] = {"record": self.record, "expr": self.expr}
        if self.labels:
            out["labels"] = dict(self.labels)
        return out


@dataclass(frozen=True)
class Alerting:
    """An alerting rule."""

    alert: str
    expr: Expr
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    for_seconds: int = 0
    keep_firing_for_seconds: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The rule as Prometheus' rule-file YAML has it."""
        out: dict[str, Any] = {"alert": self.alert, "expr": self.expr}
        if self.for_seconds:
            out["for"] = fd(self.for_seconds)
        if self.keep_firing_for_seconds:
            out["keep_firing_for"] = fd(self.keep_firing_for_seconds)
        if self.labels:
            out["labels"] = dict(self.labels)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


Rule = Recording | Alerting


@dataclass(frozen=True)
class Group:
    """A rule group: evaluated in order, every `interval` seconds, at the same timestamp for all rules."""

    name: str
    interval: int
    rules: tuple[Rule, ...]

    def to_dict(self) -> dict[str, Any]:
        """The group as Prometheus' rule-file YAML has it."""
        return {"name": self.name, "interval": fd(self.interval), "rules": [r.to_dict() for r in self.rules]}
