"""Prometheus rule files as typed data: groups with their evaluation interval, recording and alerting rules.

Any rule file Prometheus loads is accepted (slodrift's, Sloth's, Pyrra's): `groups[].{name, interval,
rules[]}`, each rule with `record` or `alert`, `expr`, `labels`, and for alerts `for`, `keep_firing_for` and
`annotations`. A group without `interval` takes the default (Prometheus' `evaluation_interval`, 1m unless
told otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .promql_names import parse_duration_ms

__all__ = ["Group", "Rule", "RuleFileError", "load_groups", "parse_groups", "DEFAULT_INTERVAL_MS"]

DEFAULT_INTERVAL_MS = 60_000  # Prometheus' global evaluation_interval when a config does not set one


class RuleFileError(ValueError):
    """A rule file that Prometheus would not load; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    """One rule; `name` is the recorded name or the alert name."""

    kind: str  # "record" | "alert"
    name: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)
    for_ms: int = 0
    keep_firing_for_ms: int = 0
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_alert(self) -> bool:
        return self.kind == "alert"


@dataclass(frozen=True)
class Group:
    """A rule group: its rules are evaluated in order, every `interval_ms`, on one time grid."""

    name: str
    interval_ms: int
    rules: tuple[Rule, ...]
    source: str = ""  # the file it came from, for messages

    def with_rules(self, rules: Iterable[Rule]) -> Group:
        return replace(self, rules=tuple(rules))


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RuleFileError(f"{where}: expected a mapping of strings")
    return {str(k): str(v) for k, v in value.items()}


def _duration(value: Any, where: str) -> int:
    if value is None:
        return 0
    try:
        return parse_duration_ms(str(value))
    except ValueError as exc:
        raise RuleFileError(f"{where}: {exc}") from None


def parse_groups(doc: Any, source: str, default_interval_ms: int = DEFAULT_INTERVAL_MS) -> list[Group]:
    """The groups of one loaded rule file (`{"groups": [...]}`)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("groups"), list):
        raise RuleFileError(f"{source}: not a Prometheus rule file (no 'groups' list)")
    out = []
    for gi, g in enumerate(doc["groups"]):
        where = f"{source}: groups[{gi}]"
        if not isinstance(g, Mapping) or not isinstance(g.get("rules"), list) or not g.get("name"):
            raise RuleFileError(f"{where}: a group needs a name and a list of rules")
        interval = _duration(g.get("interval"), f"{where}.interval") or default_interval_ms
        rules = []
        for ri, r in enumerate(g["rules"]):
            rw = f"{where}.rules[{ri}]"
            if not isinstance(r, Mapping) or ("record" in r) == ("alert" in r) or not r.get("expr"):
                raise RuleFileError(f"{rw}: a rule needs 'expr' and exactly one of 'record' or 'alert'")
            kind = "record" if "record" in r else "alert"
            rules.append(
                Rule(
                    kind=kind,
                    name=str(r[kind]),
                    expr=str(r["expr"]),
                    labels=_strings(r.get("labels"), f"{rw}.labels"),
                    for_ms=_duration(r.get("for"), f"{rw}.for"),
                    keep_firing_for_ms=_duration(r.get("keep_firing_for"), f"{rw}.keep_firing_for"),
                    annotations=_strings(r.get("annotations"), f"{rw}.annotations"),
                )
            )
        out.append(Group(name=str(g["name"]), interval_ms=interval, rules=tuple(rules), source=source))
    return out


def load_groups(paths: Iterable[Path], default_interval_ms: int = DEFAULT_INTERVAL_MS) -> list[Group]:
    """Every group of every file, in file order."""
    out: list[Group] = []
    for path in paths:
        try:
            doc = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise RuleFileError(f"{path}: cannot read rule file: {exc}") from None
        out += parse_groups(doc, str(path), default_interval_ms)
    return out
