"""Load a spec: YAML → JSON Schema → checks the schema cannot express → the typed model.

Every problem is reported with the file, the YAML path and, where known, the line, and all problems
are collected before giving up, so a user fixes a spec in one pass instead of one error per run.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import jsonschema
import yaml
from slodrift.generator import grouping, promql
from slodrift.generator import indicators as builtin
from slodrift.generator.model import (
    SLI,
    SLO,
    AlertTier,
    Anomaly,
    BurnWindow,
    DriftSettings,
    DriftThresholds,
    Indicator,
    NoDataAlert,
    Release,
    Service,
    Spec,
)
from slodrift.generator.template_check import template_problem
from slodrift.generator.testgen.labels import SynthesisError, labels_matching

from slodrift.inputs import ReadError, read_bounded
from slodrift.issues import InputError, Issue, Path_, format_path
from slodrift.schemas import validator

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 200_000
RESERVED_LABELS = frozenset(
    {
        "service",
        "slo",
        "window",
        "tier",
        "severity",
        "alertname",
        "indicator",
        "category",
        "le",
        "objective",
        "sli_kind",
        "release",
        "version",
        "compliance",
        "unit",
        "receiver",
        "slodrift_case",
    }
)

DEFAULT_SLO_WINDOW = "30d"
DEFAULT_EVALUATION_INTERVAL = "1m"
DEFAULT_MIN_REQUEST_RATE = Decimal(0)
DEFAULT_MIN_ERROR_EVENTS = Decimal(10)
DEFAULT_MAX_GROUPS = 100
REFERENCE_WINDOW = 30 * 86400  # the SLO window the workbook's default burn pairs are written for
INFEASIBLE_CAP = Decimal("0.9")  # a default pair that could never fire alerts at this error ratio instead
DEFAULT_TIERS: dict[str, dict[str, Any]] = {
    # Google SRE workbook, chapter 5, for a 30-day window: 2 % / 5 % of the budget in 1 h / 6 h page
    # (14.4x, 6x); 10 % in 1 d / 3 d file a ticket (3x, 1x). For another SLO window the factors stay and
    # the windows scale with it (as Pyrra does), so each pair still fires at the same share of the budget
    # and the slowest one at 1x: a service on track to meet its SLO never gets a ticket. `_default` marks
    # these windows (the schema keeps users from writing the key), so only they are scaled or adapted.
    "page": {
        "severity": "critical",
        "for": "1m",
        "windows": [
            {"long": "1h", "short": "5m", "factor": 14.4, "_default": True},
            {"long": "6h", "short": "30m", "factor": 6, "_default": True},
        ],
    },
    "ticket": {
        "severity": "warning",
        "for": "15m",
        "windows": [
            {"long": "1d", "short": "2h", "factor": 3, "_default": True},
            {"long": "3d", "short": "6h", "factor": 1, "_default": True},
        ],
    },
}
DEFAULT_NO_DATA = {"for": "15m", "severity": "warning"}
# Seed 004: performance drifts warn at 5 %, resource and behaviour at 10 %; critical past 10 % (or twice
# the category threshold); configuration is strict, any drift is critical.
DEFAULT_DRIFT = {
    "performance": {"warning": "5%", "critical": "10%"},
    "resource": {"warning": "10%", "critical": "20%"},
    "behaviour": {"warning": "10%", "critical": "20%"},
    "configuration": {"warning": None, "critical": "0%"},
}
DEFAULT_DRIFT_FOR = "10m"
DEFAULT_REGRESSION_FOR = "30m"
DEFAULT_BASELINE_MISSING_FOR = "10m"
DEFAULT_DRIFT_KEEP_FIRING_FOR = "10m"
MAX_DRIFT_WAIT = 86400  # drift `for`, `regression_for`, `baseline_missing_for`, `keep_firing_for`
DEFAULT_DRIFT_Z = 3.0
DEFAULT_ANOMALY = {"z_threshold": 3.0, "window": "1w", "seasonality": "none", "for": "10m"}


SpecIssue = Issue


class SpecError(InputError):
    """A spec could not be loaded; `issues` lists every problem found."""


class _Document:
    """A parsed YAML document plus the line of every node, for errors that point at the spec."""

    def __init__(self, file: str, data: Any, lines: dict[Path_, int]) -> None:
        self.file = file
        self.data = data
        self.lines = lines

    def issue(self, path: Path_, message: str) -> SpecIssue:
        line = None
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line:
                break
        return SpecIssue(self.file, format_path(path), line, message)


MAX_DOCUMENTS = 1000


def _compose(text: str, multi: bool) -> list[yaml.Node | None]:
    """The node trees of `text`: libyaml's parser when PyYAML has it (several times faster on a big spec),
    PyYAML's own otherwise; on invalid YAML always PyYAML's, whose messages the error corpus pins."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return list(yaml.compose_all(text, Loader=fast)) if multi else [yaml.compose(text, Loader=fast)]
        except yaml.YAMLError:
            pass
    return (
        list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        if multi
        else [yaml.compose(text, Loader=yaml.SafeLoader)]
    )


def parse_yaml_documents(file: str, raw: bytes, multi: bool = False) -> list[tuple[Any, dict[Path_, int]]]:
    """Parse YAML defensively: size, encoding, depth, alias expansion and duplicate keys are all checked.

    Returns each document with the line of every node; `multi` accepts several `---` documents (Sloth
    and OpenSLO files), otherwise a second document is invalid YAML. An empty file gives no document.
    """
    if len(raw) > MAX_BYTES:
        raise SpecError([SpecIssue(file, "", None, f"file is {len(raw)} bytes; the limit is {MAX_BYTES}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError([SpecIssue(file, "", line, f"not valid UTF-8 (byte offset {exc.start})")]) from None
    budget = [MAX_NODES]  # shared by all documents: many small alias bombs are one big one
    constructor = yaml.SafeLoader("")

    def fail(path: Path_, node: yaml.Node, message: str) -> NoReturn:
        raise SpecError([SpecIssue(file, format_path(path), node.start_mark.line + 1, message)])

    def pairs(n: yaml.MappingNode, path: Path_, depth: int) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping with YAML merge keys (`<<: *defaults`) applied:
        keys written in the mapping win over merged ones, and earlier merged mappings over later ones."""
        own: list[tuple[str, yaml.Node, yaml.Node]] = []
        merged: list[tuple[str, yaml.Node, yaml.Node]] = []
        for k, v in n.value:
            if not isinstance(k, yaml.ScalarNode):
                fail(path, k, "mapping keys must be plain strings")
            if k.tag == "tag:yaml.org,2002:merge":
                sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        fail(
                            path,
                            src,
                            "a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *defaults",
                        )
                    if depth > MAX_DEPTH:
                        fail(path, src, f"nested deeper than {MAX_DEPTH} levels")
                    merged += pairs(src, path, depth + 1)
                continue
            key = constructor.construct_object(k)
            own.append((key if isinstance(key, str) else str(key), k, v))
        out, seen = [], set()
        for key, k, v in own:
            if key in seen:
                fail((*path, key), k, f"duplicate key {key!r}")
            seen.add(key)
            out.append((key, k, v))
        for key, k, v in merged:
            if key not in seen:
                seen.add(key)
                out.append((key, k, v))
        return out

    def build(n: yaml.Node, path: Path_, lines: dict[Path_, int], depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            fail(path, n, f"document expands to more than {MAX_NODES} nodes (alias bomb?)")
        if depth > MAX_DEPTH:
            fail(path, n, f"nested deeper than {MAX_DEPTH} levels")
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            return {key: build(v, (*path, key), lines, depth + 1) for key, _, v in pairs(n, path, depth)}
        if isinstance(n, yaml.SequenceNode):
            return [build(v, (*path, i), lines, depth + 1) for i, v in enumerate(n.value)]
        try:
            value = constructor.construct_object(n)
        except ValueError as exc:  # an integer with more digits than Python converts
            fail(path, n, f"{n.value[:40]!r}...: not a usable number ({exc})")
        if isinstance(value, float) and not math.isfinite(value):
            fail(path, n, f"{n.value[:40]!r} is not a finite number (NaN and infinities are not allowed)")
        if hasattr(value, "isoformat"):
            value = n.value  # keep dates and times as text; the schema and model parse them
        return value

    documents: list[tuple[Any, dict[Path_, int]]] = []
    try:
        for node in _compose(text, multi):
            if node is None:
                continue
            if len(documents) >= MAX_DOCUMENTS:
                raise SpecError([SpecIssue(file, "", None, f"more than {MAX_DOCUMENTS} YAML documents")])
            lines: dict[Path_, int] = {}
            documents.append((build(node, (), lines, 0), lines))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecIssue(file, "", line, f"invalid YAML: {problem}")]) from None
    except RecursionError:
        raise SpecError([SpecIssue(file, "", None, "nested too deeply")]) from None
    return documents


def _parse_yaml(file: str, raw: bytes) -> _Document:
    """The one YAML document of a spec file."""
    documents = parse_yaml_documents(file, raw)
    if not documents:
        raise SpecError([SpecIssue(file, "", None, "the file is empty; a spec is a YAML mapping")])
    data, lines = documents[0]
    return _Document(file, data, lines)


# What YAML 1.1 (PyYAML) leaves as text although it reads as a number: an exponent without a dot or sign.
_PERCENT_PATTERN = json.dumps("^[0-9]+(\\.[0-9]+)?%$")  # the schema's percent strings, as dumped
_NUMBER_AS_TEXT = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")


def _schema_message(err: jsonschema.ValidationError) -> str:
    """Turn jsonschema's wording into something a spec author can act on."""
    if err.validator == "oneOf" and _PERCENT_PATTERN in json.dumps(err.schema.get("oneOf")):
        return (
            f"{err.instance!r} is not a percentage: write a number (5 means 5 %) or a string like '5%' "
            "or '12.5%' (digits only: no sign, no exponent)"
        )
    if (
        err.validator == "type"
        and isinstance(err.instance, str)
        and "number"
        in (err.validator_value if isinstance(err.validator_value, list) else [err.validator_value])
        and _NUMBER_AS_TEXT.match(err.instance)
    ):
        return (
            f"{err.instance!r} is text, not a number, to YAML (an exponent needs a dot and a sign there: "
            "write 1.0e+30, or the number in full)"
        )
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        if err.schema.get("properties"):
            allowed = ", ".join(sorted(err.schema["properties"]))
            return f"unknown key(s) {', '.join(map(repr, extra))}; allowed: {allowed}"
        return f"unknown key(s) {', '.join(map(repr, extra))}"
    if err.validator == "oneOf" and err.context:
        best = jsonschema.exceptions.best_match(err.context)
        return best.message
    if err.validator == "pattern" and "duration" in json.dumps(err.schema):
        return f"{err.instance!r} is not a duration like '5m', '1h30m' or '30d'"
    if err.validator == "propertyNames":
        return f"invalid name: {err.message}"
    if err.validator in ("maxItems", "maxProperties") and isinstance(err.instance, list | dict):
        return f"has {len(err.instance)} entries; the limit is {err.validator_value}"
    if err.validator == "maxLength" and isinstance(err.instance, str):
        return f"is {len(err.instance)} characters long; the limit is {err.validator_value}"
    return err.message


def _schema_issues(doc: _Document) -> list[SpecIssue]:
    issues = []
    for err in sorted(
        validator("slodrift.generator", "spec.schema.json").iter_errors(doc.data),
        key=lambda e: list(map(str, e.absolute_path)),
    ):
        if err.validator == "oneOf" and err.context:
            # `page: false` or a tier: a problem inside the tier beats "False was expected".
            deepest = max(
                err.context, key=lambda e: (len(e.absolute_path), e.validator not in ("type", "const"))
            )
            if len(deepest.absolute_path) > len(err.absolute_path):
                err = deepest
        path = tuple(err.absolute_path)
        if err.validator == "propertyNames":
            bad = err.instance if isinstance(err.instance, str) else None
            issues.append(doc.issue(path, f"invalid label name {bad!r}" if bad else _schema_message(err)))
            continue
        issues.append(doc.issue(path, _schema_message(err)))
    return issues


def _percent(value: Any) -> Decimal:
    """Percent (number or 'N%') → ratio, exactly."""
    text = value[:-1] if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    try:
        return Decimal(text) / 100
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a percentage") from None


_AMOUNT_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z%]*(?: of budget)?)\s*$")
_AMOUNT_UNITS: dict[str, dict[str, Decimal]] = {
    "seconds": {"": Decimal(1), "s": Decimal(1), "ms": Decimal("0.001"), "us": Decimal("0.000001")},
    "cores": {"": Decimal(1), "m": Decimal("0.001")},
    "bytes": {
        "": Decimal(1),
        "B": Decimal(1),
        "kB": Decimal(1000),
        "KB": Decimal(1000),
        "MB": Decimal(10**6),
        "GB": Decimal(10**9),
        "KiB": Decimal(1024),
        "MiB": Decimal(1024**2),
        "GiB": Decimal(1024**3),
    },
    "ratio": {"": Decimal(1), "pp": Decimal("0.01")},
    "requests_per_second": {"": Decimal(1)},
    "count": {"": Decimal(1)},
}
_AMOUNT_HINTS = {
    "seconds": "a number of seconds, or '5ms', '0.2s'",
    "cores": "a number of cores, or '50m' (millicores)",
    "bytes": "a number of bytes, or '32MiB', '1GB'",
    "ratio": "a ratio (0.0005), percentage points ('0.05pp') or a share of the error budget ('25% of budget')",
    "requests_per_second": "a number of requests per second",
    "count": "a number",
}


def parse_amount(value: Any, unit: str, budget: Decimal | None = None) -> Decimal:
    """An absolute amount in `unit`'s base unit: a number, or text with a unit suffix ('5ms', '32MiB',
    '50m' cores, '0.05pp', '25% of budget' of the error budget `budget`); ValueError says what is wrong."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an amount; write {_AMOUNT_HINTS[unit]}")
    if isinstance(value, int | float):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    m = _AMOUNT_RE.match(str(value))
    suffix = m.group(2) if m else None
    if m and unit == "ratio" and suffix == "% of budget":
        if budget is None:
            raise ValueError(
                f"{value!r} needs an error budget, but the service has no request SLO; "
                "write percentage points instead (e.g. '0.05pp')"
            )
        return Decimal(m.group(1)) / 100 * budget
    scale = _AMOUNT_UNITS[unit].get(suffix or "") if m and suffix is not None else None
    if m is None or scale is None:
        raise ValueError(f"{value!r} is not an amount in {unit}; write {_AMOUNT_HINTS[unit]}")
    return Decimal(m.group(1)) * scale


def _decimal(value: Any) -> Decimal:
    """A YAML number as an exact Decimal (0.1 stays 0.1)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _merge(base: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """Deep-merge alerting settings: an SLO overrides single fields of the defaults, not whole tiers."""
    out = dict(base)
    for k, v in (override or {}).items():
        if (
            isinstance(v, dict)
            and isinstance(out.get(k), dict)
            and k not in ("labels", "annotations", "selector")
        ):
            out[k] = _merge(out[k], v)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


class _Builder:
    """Builds the model from schema-valid data, collecting semantic problems with their paths."""

    def __init__(self, doc: _Document) -> None:
        self.doc = doc
        self.issues: list[SpecIssue] = []
        self.bad_templates: set[str] = set()
        self.warnings: list[str] = []
        self.interval = 60
        self.default_group_by: list[str] = []
        self.default_max_groups = DEFAULT_MAX_GROUPS

    def fail(self, path: Path_, message: str) -> None:
        self.issues.append(self.doc.issue(path, message))

    def warn(self, path: Path_, message: str) -> None:
        """Something the loader adapted: printed as `warning:`, never an error."""
        self.warnings.append(str(self.doc.issue(path, message)))

    def duration(self, value: str, path: Path_) -> int:
        try:
            return promql.parse_duration(value)
        except promql.PromQLError as exc:
            self.fail(path, str(exc))
            return 60

    def check_window(self, window: int, path: Path_) -> None:
        if window % 60 or window % self.interval:
            self.fail(
                path,
                f"SLO window {promql.format_duration(window)} must be whole minutes and a whole "
                f"number of evaluation intervals ({promql.format_duration(self.interval)})",
            )

    def labels(self, labels: dict[str, str] | None, path: Path_) -> dict[str, str]:
        out = {}
        for k, v in (labels or {}).items():
            try:
                promql.check_label_name(k)
            except promql.PromQLError as exc:
                self.fail((*path, k), str(exc))
                continue
            if k in RESERVED_LABELS:
                self.fail((*path, k), f"label {k!r} is set by slodrift itself; choose another name")
                continue
            if v == "":
                self.fail(
                    (*path, k),
                    "empty label value: Prometheus treats an empty label as absent, so it "
                    "would vanish from every series; remove the label instead",
                )
                continue
            out[k] = v
        return out

    def annotations(self, annotations: dict[str, str] | None, path: Path_) -> dict[str, str]:
        for k, v in (annotations or {}).items():
            if v in self.bad_templates:
                continue  # inherited from the defaults, and reported there once
            problem = template_problem(v)
            if problem:
                self.bad_templates.add(v)
                self.fail((*path, k), problem)
        return dict(annotations or {})

    def build(self) -> Spec:
        data = self.doc.data
        defaults = data.get("defaults", {})
        default_window = self.duration(
            defaults.get("slo_window", DEFAULT_SLO_WINDOW), ("defaults", "slo_window")
        )
        interval = self.duration(
            defaults.get("evaluation_interval", DEFAULT_EVALUATION_INTERVAL),
            ("defaults", "evaluation_interval"),
        )
        if interval > 300:
            self.fail(
                ("defaults", "evaluation_interval"),
                "must be at most 5m: the shortest SLI window, 5m, is built from the events recorded at "
                "each evaluation",
            )
        elif 300 % interval:
            self.fail(
                ("defaults", "evaluation_interval"),
                f"must divide 5m evenly (15s, 20s, 30s, 1m, 5m, ...; got {promql.format_duration(interval)}): "
                "the SLIs are recorded as the events of each evaluation interval, and every window, 5m "
                "included, must hold a whole number of them",
            )
        self.interval = interval
        self.check_window(default_window, ("defaults", "slo_window"))
        given = defaults.get("alerting") or {}
        self.annotations(given.get("annotations"), ("defaults", "alerting", "annotations"))
        for tier in ("page", "ticket"):
            if isinstance(given.get(tier), dict):
                self.annotations(
                    given[tier].get("annotations"), ("defaults", "alerting", tier, "annotations")
                )
        default_alerting = _merge({**DEFAULT_TIERS, "no_data": DEFAULT_NO_DATA}, defaults.get("alerting"))
        self.default_group_by = defaults.get("group_by", [])
        self.default_max_groups = defaults.get("max_groups", DEFAULT_MAX_GROUPS)
        services = []
        seen: dict[str, int] = {}
        for i, svc in enumerate(data.get("services", [])):
            path = ("services", i)
            if svc["name"] in seen:
                self.fail(
                    (*path, "name"),
                    f"duplicate service name {svc['name']!r} (first at services[{seen[svc['name']]}])",
                )
            seen.setdefault(svc["name"], i)
            services.append(self.service(svc, path, default_window, default_alerting))
        rel = data.get("release", {})
        release = Release(
            name=rel.get("name", data["services"][0]["name"] if data.get("services") else "release"),
            version=rel.get("version", ""),
            watch_start=self.timestamp(rel.get("watch_start"), ("release", "watch_start")),
            watch_days=rel.get("watch_days", 7),
        )
        return Spec(
            self.doc.file,
            data["version"],
            release,
            interval,
            tuple(services),
            self.drift(data.get("drift")),
            warnings=tuple(self.warnings),
        )

    def timestamp(self, value: str | None, path: Path_) -> datetime | None:
        if value is None:
            return None
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            self.fail(path, f"{value!r} is not an RFC 3339 time like 2025-11-22T00:00:00Z")
            return None
        if ts.tzinfo is None:
            self.fail(path, f"{value!r} has no time zone; write it in UTC with a trailing Z")
            return None
        return ts.astimezone(UTC)

    def service(
        self, svc: dict[str, Any], path: Path_, default_window: int, default_alerting: dict[str, Any]
    ) -> Service:
        labels = self.labels(svc.get("labels"), (*path, "labels"))
        try:
            selector = promql.equality_matchers(svc.get("selector", {}))
        except promql.PromQLError as exc:
            self.fail((*path, "selector"), str(exc))
            selector = ()
        slos = []
        seen: dict[str, int] = {}
        for j, slo in enumerate(svc.get("slos", [])):
            spath = (*path, "slos", j)
            if slo["name"] in seen:
                self.fail((*spath, "name"), f"duplicate SLO name {slo['name']!r} in service {svc['name']!r}")
            seen.setdefault(slo["name"], j)
            slos.append(self.slo(slo, spath, selector, labels, default_window, default_alerting))
        if not slos and not svc.get("indicators"):
            self.fail(path, "a service needs at least one SLO or one indicator")
        budgets = [slo.error_budget for slo in slos if slo.sli.kind != "latency"]
        inds = tuple(
            self.indicator(
                name, ind or {}, (*path, "indicators", name), selector, min(budgets, default=None), labels
            )
            for name, ind in (svc.get("indicators") or {}).items()
        )
        anomaly = self.anomaly(svc.get("anomaly"), (*path, "anomaly"), {i.name for i in inds})
        return Service(svc["name"], labels, selector, tuple(slos), svc.get("description", ""), inds, anomaly)

    def indicator(
        self,
        name: str,
        ind: dict[str, Any],
        path: Path_,
        scope: tuple[promql.Matcher, ...],
        budget: Decimal | None = None,
        static: dict[str, str] | None = None,
    ) -> Indicator:
        kind, implied = builtin.NAMED.get(name, (None, {}))
        kind = ind.get("kind", kind)
        if "query" in ind:
            kind = kind or "custom"
        if kind is None:
            self.fail(
                path,
                f"{name!r} is not a built-in indicator ({', '.join(sorted(builtin.NAMED))}); "
                "give `kind` or `query`",
            )
            return Indicator(name, "invalid", "", "count", "higher_is_worse", "behaviour")
        if kind == "availability" and "metric" in ind:
            self.fail(
                (*path, "metric"),
                "availability is the success ratio of requests (give `errors` and `total`); "
                "for the share of scrape targets up use the `targets_up` indicator",
            )
        defaults = builtin.KINDS[kind]
        opts = {**implied, **ind}
        traffic = ""
        try:
            if "query" in ind:
                query = promql.check_query(ind["query"]).replace("{{window}}", builtin.RATE)
            else:
                query = builtin.default_query(kind, opts, scope)
            if "traffic" in ind:
                traffic = promql.check_query(ind["traffic"]).replace("{{window}}", builtin.RATE)
            elif "query" not in ind:
                traffic = builtin.traffic_query(kind, opts, scope)
        except promql.PromQLError as exc:
            self.fail(path, str(exc))
            query = ""
        regression = None
        if "regression" in ind:
            regression = _percent(ind["regression"])
            if regression <= 0:
                self.fail((*path, "regression"), "must be more than 0%")
        floor = Decimal(repr(ind["floor"])) if "floor" in ind else defaults.floor
        group_by, primary, group_query = self.indicator_group(ind, path, static), ind.get("primary"), ""
        key = "split_by" if "split_by" in ind and "group_by" not in ind else "group_by"
        if bool(group_by) != (primary is not None):
            if not group_by and key in ind:
                pass  # the group label was given but is invalid: indicator_group said why
            else:
                self.fail(
                    path, "group_by and primary go together (e.g. group_by: [region], primary: us-east-1)"
                )
            group_by, primary = (), None
        elif group_by:
            if "query" in ind:
                self.fail(
                    (*path, key),
                    "a custom query cannot be grouped automatically; group built-in kinds",
                )
            else:
                try:
                    group_query = builtin.default_query(kind, opts, scope, by=group_by[0])
                except promql.PromQLError as exc:
                    self.fail((*path, key), str(exc))
        unit = ind.get("unit", defaults.unit)
        min_change = self.min_change(kind, unit, ind, path, budget)
        min_requests = (
            Decimal(repr(ind["min_requests"]))
            if "min_requests" in ind
            else builtin.default_min_requests(kind, opts)
            if traffic
            else None
        )
        if "min_requests" in ind and not traffic:
            self.fail(
                (*path, "min_requests"),
                "needs traffic to count: give `traffic` (requests per second) with a custom query",
            )
        sources: tuple[tuple[str, promql.Selector], ...] = ()
        quantile = None
        if "query" not in ind and query:
            sources = builtin.default_sources(kind, opts, scope)
            if kind in ("latency_quantile", "db_latency"):
                quantile = builtin.quantile_of(kind, opts)
        annotations = self.annotations(ind.get("annotations"), (*path, "annotations"))
        if "runbook_url" in ind:
            annotations["runbook_url"] = promql.template_literal(ind["runbook_url"])
        return Indicator(
            name,
            kind,
            query,
            unit,
            ind.get("direction", defaults.direction),
            ind.get("category", defaults.category),
            regression,
            floor or None,
            group_by,
            primary,
            group_query,
            traffic,
            defaults.noise if traffic or defaults.noise in ("spread", "poisson") else "spread",
            min_change,
            min_requests,
            ind.get("page"),
            self.labels(ind.get("labels"), (*path, "labels")),
            annotations,
            sources,
            quantile,
        )

    def min_change(
        self, kind: str, unit: str, ind: dict[str, Any], path: Path_, budget: Decimal | None
    ) -> Decimal:
        """The absolute floor of an indicator: its own, the spec's default for its kind, or built in."""
        defaults = builtin.KINDS[kind]
        spec_floors = (self.doc.data.get("drift") or {}).get("min_change") or {}
        if "min_change" in ind:
            value, where = ind["min_change"], (*path, "min_change")
        elif defaults.floor_key in spec_floors:
            value, where = spec_floors[defaults.floor_key], ("drift", "min_change", defaults.floor_key)
            unit = builtin.FLOOR_UNITS[defaults.floor_key]
        elif defaults.floor_key == "error_ratio" and budget is not None:
            return budget * builtin.BUDGET_SHARE
        else:
            return defaults.min_change
        try:
            return parse_amount(value, unit, budget)
        except ValueError as exc:
            self.fail(where, str(exc))
            return defaults.min_change

    def indicator_group(
        self, ind: dict[str, Any], path: Path_, static: dict[str, str] | None
    ) -> tuple[str, ...]:
        """An indicator's group label: `group_by: [label]` (the name SLOs use), or the deprecated
        `split_by: label` with a warning. One label: each group is compared with one primary value."""
        if "split_by" in ind and "group_by" in ind:
            self.fail((*path, "split_by"), "give group_by only (split_by is its deprecated name), not both")
            return ()
        if "split_by" in ind:
            names, where = [ind["split_by"]], (*path, "split_by")
            self.warn(
                where,
                f"split_by is deprecated: write group_by: [{ind['split_by']}] (the name SLOs use for "
                "evaluating per value of a label)",
            )
        elif "group_by" in ind:
            names, where = list(ind["group_by"]), (*path, "group_by")
            if len(names) != 1:
                self.fail(
                    where,
                    f"an indicator is grouped by one label (got {len(names)}): each group is compared "
                    "with the one named by `primary`",
                )
                return ()
        else:
            return ()
        if where[-1] == "split_by":
            # group_by() names list items; a deprecated split_by is a plain string at its own path
            return self.group_by(names, path, static or {}, owner="this service (labels:)", at=where)
        return self.group_by(names, where, static or {}, owner="this service (labels:)")

    def anomaly(self, cfg: dict[str, Any] | None, path: Path_, known: set[str]) -> Anomaly | None:
        if not cfg:
            return None
        for i, name in enumerate(cfg["indicators"]):
            if name not in known:
                self.fail(
                    (*path, "indicators", i),
                    f"{name!r} is not an indicator of this service "
                    f"(known: {', '.join(sorted(known)) or 'none'})",
                )
        merged = {**DEFAULT_ANOMALY, **cfg}
        window = self.duration(merged["window"], (*path, "window"))
        if window < 3600:
            self.fail(
                (*path, "window"), "must be at least 1h: a shorter history gives no meaningful deviation"
            )
        period = {"daily": 86400, "weekly": 604800}.get(merged["seasonality"])
        if period is not None and (window < period or window % period):
            self.fail(
                (*path, "window"),
                f"with {merged['seasonality']} seasonality the window must be a whole number of "
                f"{'days' if period == 86400 else 'weeks'} (got {promql.format_duration(window)})",
            )
        return Anomaly(
            tuple(cfg["indicators"]),
            Decimal(repr(float(merged["z_threshold"]))),
            window,
            merged["seasonality"],
            self.duration(merged["for"], (*path, "for")),
        )

    def drift(self, cfg: dict[str, Any] | None) -> DriftSettings:
        cfg = cfg or {}
        thresholds = {}
        for category, default in DEFAULT_DRIFT.items():
            merged = {**default, **(cfg.get(category) or {})}
            parsed = {
                k: (None if merged[k] is None else _percent(merged[k])) for k in ("warning", "critical")
            }
            w, c = parsed["warning"], parsed["critical"]
            if w is not None and c is not None and w > c:
                self.fail(
                    ("drift", category),
                    f"warning ({merged['warning']}) is above critical ({merged['critical']})",
                )
            for k, v in parsed.items():
                if v is not None and v < 0:
                    self.fail(("drift", category, k), "must not be negative")
            thresholds[category] = DriftThresholds(category, w, c, bool(merged.get("page", False)))
        keep = cfg.get("keep_firing_for", DEFAULT_DRIFT_KEEP_FIRING_FOR)
        return DriftSettings(
            thresholds,
            self.drift_wait(cfg.get("for", DEFAULT_DRIFT_FOR), "for"),
            self.drift_wait(cfg.get("regression_for", DEFAULT_REGRESSION_FOR), "regression_for"),
            self.drift_wait(
                cfg.get("baseline_missing_for", DEFAULT_BASELINE_MISSING_FOR), "baseline_missing_for"
            ),
            Decimal(repr(float(cfg.get("z_threshold", DEFAULT_DRIFT_Z)))),
            0 if keep in ("0s", "0m", "0h", "0d") else self.drift_wait(keep, "keep_firing_for"),
        )

    def drift_wait(self, value: str, key: str) -> int:
        """A drift alert's wait: at most a day. A change that must last longer before anyone hears of it
        is a report's business, and the generated tests would replay the whole wait (days of promtool)."""
        seconds = self.duration(value, ("drift", key))
        if seconds > MAX_DRIFT_WAIT:
            self.fail(
                ("drift", key),
                f"{value} is longer than {promql.format_duration(MAX_DRIFT_WAIT)}, the most a drift alert waits",
            )
            return MAX_DRIFT_WAIT
        return seconds

    def sli(self, sli: dict[str, Any], path: Path_, selector: tuple[promql.Matcher, ...]) -> SLI:
        kinds = [
            k
            for k in (
                ("errors", "total"),
                ("error_query", "total_query"),
                ("latency",),
                ("error_ratio_query",),
            )
            if any(x in sli for x in k)
        ]
        if len(kinds) != 1:
            found = ", ".join(sorted(sli)) or "nothing"
            self.fail(
                path,
                "give exactly one SLI kind: errors+total, error_query+total_query, latency, or "
                f"error_ratio_query (found: {found})",
            )
            return SLI(kind="invalid")
        kind = kinds[0]
        missing = [k for k in kind if k not in sli]
        if missing:
            self.fail(path, f"{' and '.join(kind)} go together; missing {', '.join(missing)}")
            return SLI(kind="invalid")
        try:
            if kind == ("errors", "total"):
                parsed = {}
                for key in kind:
                    try:
                        parsed[key] = promql.parse_selector(sli[key]).with_matchers(selector)
                    except promql.PromQLError as exc:
                        self.fail((*path, key), str(exc))
                if len(parsed) < 2:
                    return SLI(kind="invalid")
                try:  # the generated tests feed raw series these selectors read: they must exist
                    labels_matching(parsed["errors"])
                    labels_matching(parsed["total"], avoid=parsed["errors"])
                except SynthesisError as exc:
                    self.fail(path, f"cannot build test series: {exc}")
                    return SLI(kind="invalid")
                return SLI(kind="events", errors=parsed["errors"], total=parsed["total"])
            if kind == ("error_query", "total_query"):
                return SLI(
                    kind="event_queries",
                    error_query=self.query(sli["error_query"], (*path, "error_query")),
                    total_query=self.query(sli["total_query"], (*path, "total_query")),
                )
            if kind == ("error_ratio_query",):
                return SLI(
                    kind="error_ratio",
                    error_ratio_query=self.query(sli["error_ratio_query"], (*path, "error_ratio_query")),
                )
            lat = sli["latency"]
            extra = promql.equality_matchers(lat.get("selector", {}))
            matchers = promql.Selector(lat["histogram"] + "_count", extra).with_matchers(selector).matchers
            return SLI(
                kind="latency",
                histogram=promql.check_metric_name(lat["histogram"]),
                threshold=Decimal(repr(lat["threshold"])),
                latency_matchers=matchers,
            )
        except promql.PromQLError as exc:
            self.fail(path, str(exc))
            return SLI(kind="invalid")

    def query(self, text: str, path: Path_) -> str:
        try:
            return promql.check_query(text, "{{window}}")
        except promql.PromQLError as exc:
            self.fail(path, str(exc))
            return text

    def slo(
        self,
        slo: dict[str, Any],
        path: Path_,
        selector: tuple[promql.Matcher, ...],
        service_labels: dict[str, str],
        default_window: int,
        default_alerting: dict[str, Any],
    ) -> SLO:
        objective = _percent(slo["objective"])
        window = self.duration(slo["window"], (*path, "window")) if "window" in slo else default_window
        if "window" in slo:
            self.check_window(window, (*path, "window"))
        labels = {**service_labels, **self.labels(slo.get("labels"), (*path, "labels"))}
        sli = self.sli(slo["sli"], (*path, "sli"), selector)
        group_by = self.group_by(
            slo.get("group_by", self.default_group_by),
            (*path, "group_by") if "group_by" in slo else ("defaults", "group_by"),
            labels,
        )
        self.check_query_grouping(sli, group_by, (*path, "sli"))
        alerting = _merge(default_alerting, slo.get("alerting"))
        apath = (*path, "alerting")
        common_labels = self.labels(alerting.get("labels"), (*apath, "labels"))
        common_annotations = self.annotations(alerting.get("annotations"), (*apath, "annotations"))
        tiers = []
        for name in ("page", "ticket"):
            tier = alerting.get(name)
            if tier is False or tier is None:
                continue
            tpath = (*apath, name)
            windows: list[BurnWindow] = []
            for k, w in enumerate(tier.get("windows", [])):
                pair = self.burn_window(w, (*tpath, "windows", k), window, objective)
                if pair is None:
                    continue
                same = next((p for p in windows if (p.long, p.short) == (pair.long, pair.short)), None)
                if same is None:
                    windows.append(pair)
                    continue
                if not w.get("_default"):
                    self.fail(
                        (*tpath, "windows", k),
                        f"the {name} tier has the window pair {promql.format_duration(pair.long)}/"
                        f"{promql.format_duration(pair.short)} twice; give each pair once",
                    )
                    continue
                # default pairs scaled to a short SLO window can land on the same windows: one alert
                # rule per pair would then record the same alert twice; the lower factor stays (it
                # fires whenever the higher one would)
                keep = min(same, pair, key=lambda p: p.factor)
                windows[windows.index(same)] = keep
                self.warn(
                    (*tpath, "windows"),
                    f"at a {promql.format_duration(window)} SLO window the default {name} pairs scale to the "
                    f"same windows ({promql.format_duration(pair.long)}/{promql.format_duration(pair.short)});"
                    f" one pair at {promql.number(keep.factor)}x is kept",
                )
            tiers.append(
                AlertTier(
                    name=name,
                    severity=tier.get("severity", DEFAULT_TIERS[name]["severity"]),
                    receiver=tier.get("receiver"),
                    for_seconds=self.duration(tier["for"], (*tpath, "for")) if tier.get("for") else 0,
                    windows=tuple(windows),
                    labels={**common_labels, **self.labels(tier.get("labels"), (*tpath, "labels"))},
                    annotations={
                        **common_annotations,
                        **self.annotations(tier.get("annotations"), (*tpath, "annotations")),
                    },
                )
            )
        nd = alerting.get("no_data")
        no_data = None
        if nd:
            no_data = NoDataAlert(
                self.duration(nd.get("for", DEFAULT_NO_DATA["for"]), (*apath, "no_data", "for")),
                nd.get("severity", DEFAULT_NO_DATA["severity"]),
            )
        min_rate = alerting.get("min_request_rate", DEFAULT_MIN_REQUEST_RATE)
        min_errors = alerting.get("min_error_events", DEFAULT_MIN_ERROR_EVENTS)
        return SLO(
            name=slo["name"],
            objective=objective,
            window=window,
            sli=sli,
            tiers=tuple(tiers),
            no_data=no_data,
            min_request_rate=_decimal(min_rate),
            labels=labels,
            annotations=common_annotations,
            description=slo.get("description", ""),
            group_by=group_by,
            max_groups=slo.get("max_groups", self.default_max_groups),
            min_error_events=_decimal(min_errors),
        )

    def check_query_grouping(self, sli: SLI, group_by: tuple[str, ...], path: Path_) -> None:
        """A query SLI whose result keeps labels the SLO is not grouped by: slodrift sums it `by` the
        group labels only, so say which groups are summed away rather than flatten them in silence."""
        queries = {
            "error_query": sli.error_query,
            "total_query": sli.total_query,
            "error_ratio_query": sli.error_ratio_query,
        }
        for key, query in queries.items():
            if not query:
                continue
            try:
                labels = grouping.result_labels(query)
            except grouping.GroupingUnknown:
                continue
            if isinstance(labels, tuple) and set(labels) - set(group_by):
                extra = ", ".join(label for label in labels if label not in group_by)
                self.warn(
                    (*path, key),
                    f"the query keeps the label(s) {extra}, which slodrift sums away (the SLO is "
                    f"grouped by {', '.join(group_by) or 'nothing'}); set group_by to evaluate the SLO "
                    "per value of them",
                )

    def group_by(
        self,
        names: list[str],
        path: Path_,
        static: dict[str, str],
        owner: str = "this SLO (labels:)",
        at: Path_ | None = None,
    ) -> tuple[str, ...]:
        """Group labels: label names of the raw series, none of them set by slodrift or the spec itself
        (a static label of the same name would overwrite every group's value). Issues are reported at
        `path` + index, or at `at` when given (a single label written as a string)."""
        out = []
        for i, name in enumerate(names):
            where = at if at is not None else (*path, i)
            try:
                promql.check_label_name(name)
            except promql.PromQLError as exc:
                self.fail(where, str(exc))
                continue
            if name in RESERVED_LABELS or name in ("event", "long_window", "short_window"):
                self.fail(where, f"label {name!r} is set by slodrift itself; it cannot be a group label")
            elif name in static:
                self.fail(
                    where,
                    f"label {name!r} is also a static label of {owner}, which would "
                    "overwrite every group's value; remove one of them",
                )
            else:
                out.append(name)
        return tuple(out)

    def burn_window(
        self, w: dict[str, Any], path: Path_, window: int, objective: Decimal
    ) -> BurnWindow | None:
        """One window pair of a tier, with its factor; default pairs scale with the SLO window and are
        adapted (with a warning) when they could never fire; a user's pair is taken as written."""
        default = bool(w.get("_default"))
        long_s = self.duration(w["long"], (*path, "long"))
        short_s = self.duration(w["short"], (*path, "short"))
        budget = 1 - objective
        if default and window != REFERENCE_WINDOW:
            unit = max(60, self.interval)
            long_s = max(2 * unit, self.scaled(long_s, window))
            short_s = min(self.scaled(short_s, window), long_s - unit)
        for key, secs in (("long", long_s), ("short", short_s)):
            if default:
                continue
            if secs % 60 and self.interval >= 60:
                # sub-minute windows only with a sub-minute evaluation interval: time compressed for a
                # demo or a test (`slodrift demo --fast`); at 1m and more a finer window adds nothing
                self.fail(
                    (*path, key),
                    f"alert windows are whole minutes (got {w[key]}): the "
                    "shortest SLI window is 5m, so a finer window adds nothing",
                )
            elif secs % self.interval:
                self.fail(
                    (*path, key),
                    f"alert window {w[key]} is not a whole number of evaluation "
                    f"intervals ({promql.format_duration(self.interval)})",
                )
        if short_s >= long_s:
            self.fail(
                (*path, "short"), f"short window {w['short']} must be shorter than long window {w['long']}"
            )
        if long_s > window:
            self.fail(
                (*path, "long"),
                f"alert window {promql.format_duration(long_s)} is longer than the SLO window "
                f"{promql.format_duration(window)}",
            )
        if ("factor" in w) == ("budget_consumed" in w):
            self.fail(path, "give exactly one of budget_consumed or factor")
            return None
        if "factor" in w:
            factor = _decimal(w["factor"])
        else:
            share = _percent(w["budget_consumed"])
            if not 0 < share <= 1:
                self.fail((*path, "budget_consumed"), "must be more than 0% and at most 100%")
                return None
            # Six decimals keep names and thresholds readable (28d/3d gives 0.933333...).
            factor = (share * window / long_s).quantize(Decimal("0.000001")).normalize()
            if factor < 1:
                self.warn(
                    path,
                    f"{promql.number(share * 100)}% of the budget in {w['long']} is a burn factor of "
                    f"{promql.number(factor)} (< 1) at a {promql.format_duration(window)} SLO window: this "
                    "alert fires while the SLO is on track to be met",
                )
        pair = f"{promql.format_duration(long_s)}/{promql.format_duration(short_s)}"
        if factor * budget >= 1:
            if not default:
                self.fail(
                    path,
                    f"burn factor {promql.number(factor)} x error budget {promql.number(budget)} "
                    f"= {promql.number(factor * budget)}: the error ratio can never exceed 1, so this "
                    "alert could never fire; lower the factor or raise the objective",
                )
                return None
            capped = (INFEASIBLE_CAP / budget).quantize(Decimal("0.000001")).normalize()
            self.warn(
                path,
                f"the default {promql.number(factor)}x burn over {pair} needs an error ratio of "
                f"{promql.number(factor * budget)} at objective {promql.number(objective * 100)}%, which can "
                f"never happen; this pair alerts at {promql.number(capped)}x ({promql.number(INFEASIBLE_CAP * 100)}% "
                "errors) instead",
            )
            factor = capped
        return BurnWindow(long_s, short_s, factor)

    def scaled(self, seconds: int, window: int) -> int:
        """A default alert window for an SLO window other than 30 days: proportional, rounded to whole
        evaluation intervals (and minutes), at least one."""
        unit = max(60, self.interval)
        return max(unit, round(Decimal(seconds) * window / REFERENCE_WINDOW / unit) * unit)


def load_spec_text(file: str, raw: bytes) -> Spec:
    """Validate and build a spec from bytes; `file` is only used in messages."""
    doc = _parse_yaml(file, raw)
    if not isinstance(doc.data, dict):
        raise SpecError([doc.issue((), f"a spec is a YAML mapping, not a {type(doc.data).__name__}")])
    issues = _schema_issues(doc)
    if issues:
        raise SpecError(issues)
    builder = _Builder(doc)
    spec = builder.build()
    if builder.issues:
        raise SpecError(builder.issues)
    return spec


def load_spec(path: str | Path) -> Spec:
    """Read and validate one spec file."""
    try:
        raw = read_bounded(path, MAX_BYTES)
    except ReadError as exc:
        raise SpecError([SpecIssue(str(path), "", None, str(exc))]) from None
    return load_spec_text(str(path), raw)


def load_specs(paths: list[str]) -> list[Spec]:
    """Load several specs, reporting every file's problems together; service names must be unique overall."""
    specs, issues = [], []
    for path in paths:
        try:
            specs.append(load_spec(path))
        except SpecError as exc:
            issues.extend(exc.issues)
    owners: dict[str, str] = {}
    for spec in specs:
        for i, svc in enumerate(spec.services):
            if svc.name in owners and owners[svc.name] != spec.path:
                issues.append(
                    SpecIssue(
                        spec.path,
                        f"services[{i}].name",
                        None,
                        f"service {svc.name!r} is also defined in {owners[svc.name]}",
                    )
                )
            owners.setdefault(svc.name, spec.path)
    if issues:
        raise SpecError(issues)
    return specs


def iter_slos(spec: Spec) -> Iterator[tuple[Service, SLO]]:
    """Every (service, SLO) pair, in spec order."""
    for svc in spec.services:
        for slo in svc.slos:
            yield svc, slo
