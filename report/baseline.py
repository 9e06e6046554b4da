"""Release baselines: the release-day values every drift is measured against.

A drift alert is only as trustworthy as its baseline, and a baseline is usually written once (by
`baseline capture` or by hand) and then read by the exporter for a week. So a file is checked hard at
load time, and every problem is reported with the file, the JSON path and what is wrong, all at once.

File format (JSON; `report/schema/baseline.schema.json` is the contract)::

    {"version": 1,
     "release": {"name": "checkout", "version": "v1.0.1"},
     "captured_at": "2025-11-21T18:00:00Z",
     "window": {"start": "2025-11-21T00:00:00Z", "end": "2025-11-22T00:00:00Z"},
     "source": "prometheus http://prometheus:9090",
     "services": {"checkout": {"indicators": {
         "p99_latency": {"value": 0.2458, "unit": "seconds", "stddev": 0.01, "samples": 288}}}}}

- `version` (1), `release.name` and `services` are required; `release.version`, `captured_at`,
  `window` and `source` are optional.
- Values are in base units, as the recorded indicator series are: seconds, ratios 0..1, bytes,
  cores, requests per second, counts. `unit` is optional; without it, well-known names imply one
  (`p99_latency` → seconds, `error_ratio` → ratio, `cpu` → cores, `memory` → bytes, ...).
- Seconds, ratios, bytes, cores and rates cannot be negative, a ratio cannot exceed 1, and NaN or
  Infinity (which Python's json would otherwise accept) are rejected: each is a unit or capture
  mistake that would turn every drift computed from it into noise.
- Unknown keys and duplicate keys are errors (a typo must not silently drop a baseline).

The seed's release-day summary (`ga_kpi_summary.json`: percentages and milliseconds, one service) is
accepted too and converted to base units; it has no service name, so the caller gives one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import statistics
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import jsonschema
from slodrift.report.prometheus_api import PrometheusError, PrometheusQueryError, QueryResult

__all__ = [
    "FORMAT_VERSION",
    "GA_KPI_FIELDS",
    "Baseline",
    "BaselineError",
    "BaselineIssue",
    "IndicatorBaseline",
    "Window",
    "capture_baseline",
    "dump_baseline",
    "load_baseline",
    "write_baseline",
]

FORMAT_VERSION = 1
MAX_BYTES = 16 * 1024 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
UNITS = ("seconds", "ratio", "bytes", "cores", "requests_per_second", "count")
NON_NEGATIVE_UNITS = frozenset({"seconds", "ratio", "bytes", "cores", "requests_per_second"})
GIB = 1073741824

# Names whose unit is known without being written (the built-in indicator kinds of the spec).
_IMPLIED_UNITS = {
    "availability": "ratio",
    "error_ratio": "ratio",
    "cache_hit_ratio": "ratio",
    "cpu": "cores",
    "memory": "bytes",
    "db_latency": "seconds",
    "request_rate": "requests_per_second",
}
_QUANTILE_LATENCY_RE = re.compile(r"^p[0-9]+(?:\.[0-9]+)?_latency$")
_PLAIN_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class _GaField:
    indicator: str
    unit: str
    source_unit: str  # "percent", "ms" or "percent_of_gib"
    required: bool


# Seed 000/004 `ga_kpi_summary.json` keys. The seed collector computed memory as
# bytes / 1 GiB * 100 and CPU as rate(process_cpu_seconds_total) * 100, so both invert exactly.
GA_KPI_FIELDS: dict[str, _GaField] = {
    "overall_availability": _GaField("availability", "ratio", "percent", True),
    "overall_error_rate": _GaField("error_ratio", "ratio", "percent", True),
    "avg_p95_latency_ms": _GaField("p95_latency", "seconds", "ms", False),
    "avg_p99_latency_ms": _GaField("p99_latency", "seconds", "ms", True),
    "avg_cpu_percent": _GaField("cpu", "cores", "percent", True),
    "avg_memory_percent": _GaField("memory", "bytes", "percent_of_gib", True),
    "avg_db_latency_ms": _GaField("db_latency", "seconds", "ms", False),
    "avg_redis_hit_rate": _GaField("cache_hit_ratio", "ratio", "percent", False),
}


# -- model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The time range a baseline summarises (start before end, both timezone-aware)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class IndicatorBaseline:
    """One indicator's release-day value, in base units."""

    value: float
    unit: str | None = None
    stddev: float | None = None
    samples: int | None = None


@dataclass(frozen=True)
class Baseline:
    """A loaded or captured baseline.

    `sha256` is of the bytes it was loaded from (or, for a captured one, of its canonical dump), so
    the exporter can publish which file it serves and a reload can tell whether anything changed.
    `warnings` are Prometheus' warnings from a capture (possibly partial data); they are not saved.
    """

    release_name: str
    release_version: str | None
    captured_at: datetime | None
    window: Window | None
    source: str | None
    values: dict[tuple[str, str], IndicatorBaseline] = field(hash=False)
    sha256: str = ""
    file: str | None = None
    format: str = "slodrift"
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def services(self) -> list[str]:
        """Service names, sorted."""
        return sorted({service for service, _ in self.values})

    def indicators(self, service: str) -> dict[str, IndicatorBaseline]:
        """The indicators of one service (empty if it has none)."""
        return {ind: b for (svc, ind), b in sorted(self.values.items()) if svc == service}


@dataclass(frozen=True)
class BaselineIssue:
    """One problem, precise enough to fix without reading the code."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(document)'}: {self.message}"


class BaselineError(Exception):
    """A baseline could not be loaded, captured or written; `issues` lists every problem found."""

    def __init__(self, issues: list[BaselineIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


Path_ = tuple[str | int, ...]


def format_path(path: Path_) -> str:
    """`services.checkout.indicators.p99_latency.value`; keys with dots are quoted: `services["a.b"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY_RE.match(part):
            out += ("." if out else "") + part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def implied_unit(indicator: str) -> str | None:
    """The unit a well-known indicator name implies, so hand-written files need not repeat it."""
    if indicator in _IMPLIED_UNITS:
        return _IMPLIED_UNITS[indicator]
    if _QUANTILE_LATENCY_RE.match(indicator):
        return "seconds"
    return None


# -- JSON parsing that refuses what JSON does not have --------------------------------------------


class _NonFinite:
    """Placeholder for NaN / Infinity / 1e999 so the walker can report where it was."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Object(dict):
    """A JSON object that remembers keys given twice (json keeps the last one silently)."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _walk_literals(value: object, path: Path_, issue: _IssueSink) -> None:
    if isinstance(value, _NonFinite):
        issue(path, f"{value.text} is not a finite number (NaN and Infinity are not JSON numbers)")
    elif isinstance(value, dict):
        for dup in getattr(value, "duplicates", []):
            issue((*path, dup), "key given more than once (JSON readers would silently keep the last)")
        for key, item in value.items():
            _walk_literals(item, (*path, key), issue)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_literals(item, (*path, i), issue)
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            issue(path, "number is too large to be a float")


class _IssueSink(Protocol):
    def __call__(self, path: Path_, message: str) -> None: ...


class _Issues:
    """Collects issues for one file so all are reported in one go."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[BaselineIssue] = []

    def __call__(self, path: Path_, message: str) -> None:
        self.items.append(BaselineIssue(self.file, format_path(path), message))

    def raise_if_any(self) -> None:
        if self.items:
            raise BaselineError(self.items)


# -- schema ----------------------------------------------------------------------------------------


@cache
def _validator() -> jsonschema.Draft202012Validator:
    text = (
        resources.files("slodrift.report").joinpath("schema/baseline.schema.json").read_text(encoding="utf-8")
    )
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _schema_issues(doc: object, issue: _IssueSink) -> None:
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    for err in errors:
        path: Path_ = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = ", ".join(sorted(err.schema.get("properties", {})))
            for key in sorted(set(err.instance) - set(err.schema.get("properties", {}))):
                issue((*path, key), f"unknown key (allowed here: {allowed})")
        elif "propertyNames" in err.relative_schema_path:
            issue(
                (*path, str(err.instance)),
                "invalid name: use letters, digits, `_`, `.` or `-`, starting "
                "with a letter or digit, at most 63 characters",
            )
        else:
            issue(path, _schema_message(err, doc))


def _unit_at(doc: object, path: Path_) -> str | None:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    return node.get("unit") if isinstance(node, dict) else None


def _schema_message(err: jsonschema.ValidationError, doc: object) -> str:
    """jsonschema's wording, rephrased so a person editing a baseline knows what to change."""
    v, inst = err.validator, err.instance
    path = tuple(err.absolute_path)
    if v == "type":
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        article = "an" if str(want)[0] in "aeiou" else "a"
        return f"must be {article} {want}, got {_json_type(inst)} {json.dumps(inst)[:60]}"
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"missing required key {missing!r}"
    if v == "const" and path == ("version",):
        return f"unsupported format version {json.dumps(inst)}; this slodrift reads version {FORMAT_VERSION}"
    if v == "enum" and path and path[-1] == "unit":
        hint = ""
        if isinstance(inst, str) and inst.lower() in ("ms", "milliseconds", "percent", "%", "mb", "gb"):
            hint = " (convert the value to the base unit: ms → seconds, percent → ratio, MB/GB → bytes)"
        return f"unknown unit {json.dumps(inst)}; use one of {', '.join(UNITS)}{hint}"
    if v in ("minimum", "maximum") and path and path[-1] == "value":
        unit = _unit_at(doc, path)
        if unit == "ratio":
            return f"a ratio must be between 0 and 1, got {inst} (divide percentages by 100)"
        return f"a value in {unit} cannot be negative, got {inst}"
    if v == "minimum":
        return f"must not be negative, got {inst}"
    if v == "pattern" and path and path[-1] in ("captured_at", "start", "end"):
        return f"{json.dumps(inst)} is not an RFC 3339 date-time with a timezone (e.g. 2025-11-21T18:00:00Z)"
    if v == "pattern":
        return f"{json.dumps(inst)} must be a non-empty string without whitespace"
    if v == "minProperties":
        return "must not be empty"
    return err.message


# -- semantic checks the schema cannot express -------------------------------------------------------


def _parse_time(text: str, path: Path_, issue: _IssueSink) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        issue(path, f"{text!r} is not a valid date-time: {exc}")
        return None
    return value


def _check_value(indicator: str, unit: str | None, value: float, path: Path_, issue: _IssueSink) -> None:
    unit = unit or implied_unit(indicator)
    if unit in NON_NEGATIVE_UNITS and value < 0:
        issue(path, f"a value in {unit} cannot be negative, got {value}")
    if unit == "ratio" and value > 1:
        issue(path, f"a ratio must be between 0 and 1, got {value} (divide percentages by 100)")


def _implied_unit_issues(doc: object, issue: _IssueSink) -> None:
    """Range checks for values whose unit is implied by the name; defensive, so they run alongside the
    schema's checks and a file's problems are all reported in one pass."""
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return
    for service, body in services.items():
        indicators = body.get("indicators") if isinstance(body, dict) else None
        if not isinstance(indicators, dict):
            continue
        for indicator, raw in indicators.items():
            if not isinstance(raw, dict) or "unit" in raw:
                continue  # a declared unit is checked by the schema
            value = raw.get("value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                path = ("services", service, "indicators", indicator, "value")
                _check_value(indicator, None, float(value), path, issue)


def _check_known(
    services: Mapping[str, Any], known: Mapping[str, Collection[str]], issue: _IssueSink
) -> None:
    for service, body in services.items():
        if service not in known:
            issue(
                ("services", service),
                f"service {service!r} is not in the spec (known: {', '.join(sorted(known)) or 'none'})",
            )
            continue
        for indicator in body["indicators"]:
            if indicator not in known[service]:
                issue(
                    ("services", service, "indicators", indicator),
                    f"indicator {indicator!r} is not in the spec for service {service!r} "
                    f"(known: {', '.join(sorted(known[service])) or 'none'})",
                )


def _build(
    doc: Mapping[str, Any], issue: _Issues, known: Mapping[str, Collection[str]] | None
) -> tuple[datetime | None, Window | None, dict[tuple[str, str], IndicatorBaseline]]:
    """Checks and converts schema-valid data; collects issues instead of stopping at the first."""
    captured_at = None
    if "captured_at" in doc:
        captured_at = _parse_time(doc["captured_at"], ("captured_at",), issue)
    window = None
    if "window" in doc:
        start = _parse_time(doc["window"]["start"], ("window", "start"), issue)
        end = _parse_time(doc["window"]["end"], ("window", "end"), issue)
        if start is not None and end is not None:
            if start >= end:
                issue(
                    ("window",), f"start {doc['window']['start']} must be before end {doc['window']['end']}"
                )
            window = Window(start, end)
    values: dict[tuple[str, str], IndicatorBaseline] = {}
    for service, body in doc["services"].items():
        for indicator, raw in body["indicators"].items():
            value = float(raw["value"])
            stddev = float(raw["stddev"]) if "stddev" in raw else None
            samples = int(raw["samples"]) if "samples" in raw else None
            values[(service, indicator)] = IndicatorBaseline(value, raw.get("unit"), stddev, samples)
    if known is not None:
        _check_known(doc["services"], known, issue)
    return captured_at, window, values


def _from_document(
    doc: object,
    issues: _Issues,
    known: Mapping[str, Collection[str]] | None,
    *,
    sha256: str,
    file: str | None,
    warnings: tuple[str, ...] = (),
) -> Baseline:
    _walk_literals(doc, (), issues)
    issues.raise_if_any()
    _schema_issues(doc, issues)
    _implied_unit_issues(doc, issues)
    issues.raise_if_any()
    assert isinstance(doc, dict)
    captured_at, window, values = _build(doc, issues, known)
    issues.raise_if_any()
    release = doc["release"]
    return Baseline(
        release_name=release["name"],
        release_version=release.get("version"),
        captured_at=captured_at,
        window=window,
        source=doc.get("source"),
        values=values,
        sha256=sha256,
        file=file,
        format="slodrift",
        warnings=warnings,
    )


# -- the seed's ga_kpi_summary.json ------------------------------------------------------------------


def _is_ga_summary(doc: object) -> bool:
    return (
        isinstance(doc, dict)
        and "version" not in doc
        and "services" not in doc
        and any(key in doc for key in GA_KPI_FIELDS)
    )


def _convert_ga(raw: float, spec: _GaField) -> float:
    # Decimal of the shortest repr, so 245.8 ms is 0.2458 s exactly as a person would write it.
    exact = Decimal(repr(float(raw)))
    if spec.source_unit == "ms":
        exact /= 1000
    elif spec.source_unit == "percent":
        exact /= 100
    else:
        exact = exact / 100 * GIB
    return float(exact)


def _from_ga_summary(
    doc: Mapping[str, Any],
    issues: _Issues,
    known: Mapping[str, Collection[str]] | None,
    *,
    service: str | None,
    sha256: str,
    file: str,
) -> Baseline:
    """Converts the seed summary; other keys in it (request counts, timestamps, ...) are ignored."""
    if service is None:
        issues(
            (),
            "this is a ga_kpi_summary.json (percentages and milliseconds of one service), which "
            "names no service: give the service it describes",
        )
        issues.raise_if_any()
    assert service is not None
    if not NAME_RE.match(service):
        issues((), f"service name {service!r} is invalid: use letters, digits, `_`, `.` or `-`")
    if known is not None and service not in known:
        issues((), f"service {service!r} is not in the spec (known: {', '.join(sorted(known)) or 'none'})")
    _walk_literals(doc, (), issues)
    issues.raise_if_any()
    values: dict[tuple[str, str], IndicatorBaseline] = {}
    for key, spec in GA_KPI_FIELDS.items():
        if key not in doc:
            if spec.required:
                issues((key,), f"missing required key {key!r}")
            continue
        raw = doc[key]
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            issues((key,), f"must be a number, got {_json_type(raw)} {json.dumps(raw)[:60]}")
            continue
        if raw < 0:
            issues((key,), f"cannot be negative, got {raw}")
            continue
        if spec.unit == "ratio" and raw > 100:
            issues((key,), f"a percentage cannot exceed 100, got {raw}")
            continue
        # The summary always carries every KPI; the spec decides which ones are watched.
        if known is not None and spec.indicator not in known.get(service, ()):
            continue
        values[(service, spec.indicator)] = IndicatorBaseline(_convert_ga(raw, spec), spec.unit)
    issues.raise_if_any()
    if not values:
        issues((), f"none of the summary's indicators is in the spec for service {service!r}")
        issues.raise_if_any()
    return Baseline(
        release_name=service,
        release_version=None,
        captured_at=None,
        window=None,
        source=f"{Path(file).name} (ga_kpi_summary format)",
        values=values,
        sha256=sha256,
        file=file,
        format="ga_kpi_summary",
    )


# -- public API ----------------------------------------------------------------------------------------


def load_baseline(
    path: str | os.PathLike[str],
    known: Mapping[str, Collection[str]] | None = None,
    *,
    service: str | None = None,
) -> Baseline:
    """Load and check a baseline file; raise `BaselineError` listing every problem with its path.

    `known` (service → indicator names of the spec) turns a baseline for a service or indicator the
    spec does not have into an error: such a value is never compared with anything, which almost
    always means a typo or the wrong file. Indicators the spec has but the file lacks are fine: the
    rules alert on a missing baseline, with better context than a load failure.

    `service` names the service of a seed-format `ga_kpi_summary.json` (which has none); it is not
    used for the native format, which names its services.
    """
    file = os.fspath(path)
    try:
        with open(file, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fail(file, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _fail(file, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; not a baseline")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(file, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        doc = json.loads(
            text, object_pairs_hook=_object_pairs, parse_constant=_NonFinite, parse_float=_parse_float
        )
    except json.JSONDecodeError as exc:
        raise _fail(file, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise _fail(file, f"not valid JSON: {exc}") from None
    sha256 = hashlib.sha256(data).hexdigest()
    issues = _Issues(file)
    if _is_ga_summary(doc):
        return _from_ga_summary(doc, issues, known, service=service, sha256=sha256, file=file)
    return _from_document(doc, issues, known, sha256=sha256, file=file)


def _fail(file: str, message: str) -> BaselineError:
    return BaselineError([BaselineIssue(file, "", message)])


def _format_time(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value.isoformat()} has no timezone")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _to_document(baseline: Baseline) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": FORMAT_VERSION, "release": {"name": baseline.release_name}}
    if baseline.release_version is not None:
        doc["release"]["version"] = baseline.release_version
    if baseline.captured_at is not None:
        doc["captured_at"] = _format_time(baseline.captured_at)
    if baseline.window is not None:
        doc["window"] = {
            "start": _format_time(baseline.window.start),
            "end": _format_time(baseline.window.end),
        }
    if baseline.source is not None:
        doc["source"] = baseline.source
    services: dict[str, Any] = {}
    for (service, indicator), b in sorted(baseline.values.items()):
        entry: dict[str, Any] = {"value": b.value}
        if b.unit is not None:
            entry["unit"] = b.unit
        if b.stddev is not None:
            entry["stddev"] = b.stddev
        if b.samples is not None:
            entry["samples"] = b.samples
        services.setdefault(service, {"indicators": {}})["indicators"][indicator] = entry
    doc["services"] = services
    return doc


def dump_baseline(baseline: Baseline) -> str:
    """Canonical JSON (sorted keys, UTC times, trailing newline): equal baselines give equal bytes,
    so hashes and diffs of baseline files mean something. Refuses to produce a file it would not load.
    """
    try:
        doc = _to_document(baseline)
        text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:
        raise BaselineError([BaselineIssue(baseline.file or "(baseline)", "", str(exc))]) from None
    # Same checks as loading, so a written file always loads.
    _from_document(
        json.loads(text, object_pairs_hook=_object_pairs),
        _Issues(baseline.file or "(baseline)"),
        None,
        sha256="",
        file=None,
    )
    return text


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename, fsync the directory: a reader (the exporter
    reloading on SIGHUP) sees the old file or the new one, never half of one, even after a crash."""
    mode = (path.stat().st_mode & 0o777) if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return  # platforms without directory fds; the rename itself is still atomic
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_baseline(path: str | os.PathLike[str], baseline: Baseline) -> str:
    """Write `baseline` atomically plus `PATH.sha256` (`sha256sum -c` format); return the digest.

    The digest file is written after the data, so a crash in between leaves a stale digest that
    `sha256sum -c` reports, never a digest that vouches for a half-written file.
    """
    target = Path(path)
    data = dump_baseline(baseline).encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(target, data)
    _write_atomic(target.with_name(target.name + ".sha256"), f"{digest}  {target.name}\n".encode())
    return digest


class RangeQuerier(Protocol):
    """What capture needs of a Prometheus client (PrometheusClient, or a test double)."""

    def query_range(
        self, expr: str, start: datetime, end: datetime, step: timedelta | float | str
    ) -> QueryResult: ...


def capture_baseline(
    client: RangeQuerier,
    queries: Mapping[tuple[str, str], str],
    start: datetime,
    end: datetime,
    step: timedelta | float | str,
    *,
    release_name: str,
    release_version: str | None = None,
    units: Mapping[tuple[str, str], str] | None = None,
    known: Mapping[str, Collection[str]] | None = None,
    captured_at: datetime | None = None,
    source: str | None = None,
) -> Baseline:
    """Summarise each indicator's query over [start, end]: mean, population stddev and sample count.

    Takes plain mappings (PromQL per (service, indicator), built from the spec elsewhere) so capture
    does not depend on the spec model. Each query must yield one series: several would be averaged
    with unknown weights, so the query should aggregate instead. NaN and ±Inf samples (an error ratio
    with no traffic at night) are skipped, not averaged. All problems are collected before raising;
    a Prometheus that is down stops the capture at once.
    """
    base_url = getattr(client, "base_url", None)
    source = source if source is not None else (f"prometheus {base_url}" if base_url else "prometheus")
    issues = _Issues(source)
    for when, name in ((start, "start"), (end, "end")):
        if when.tzinfo is None or when.utcoffset() is None:
            issues(("window", name), f"{when.isoformat()} has no timezone; use an aware datetime (UTC)")
    issues.raise_if_any()
    if start >= end:
        issues(("window",), f"start {_format_time(start)} must be before end {_format_time(end)}")
        issues.raise_if_any()
    units = units or {}
    services: dict[str, Any] = {}
    warnings: list[str] = []
    for (service, indicator), expr in sorted(queries.items()):
        path = ("services", service, "indicators", indicator)
        if not NAME_RE.match(service) or not NAME_RE.match(indicator):
            issues(path, "invalid service or indicator name: use letters, digits, `_`, `.` or `-`")
            continue
        where = f"query {expr!r} between {_format_time(start)} and {_format_time(end)}"
        try:
            result = client.query_range(expr, start, end, step)
        except PrometheusQueryError as exc:
            issues(path, f"Prometheus rejected the query: {exc.prometheus_message} (query {expr!r})")
            continue
        except PrometheusError as exc:
            issues(path, str(exc))
            raise BaselineError(issues.items) from exc
        warnings.extend(f"{service}/{indicator}: {w}" for w in result.warnings)
        series = [s for s in result.series if s.samples]
        if not series:
            issues(path, f"no data: {where} returned no samples")
            continue
        if len(series) > 1:
            shown = "; ".join(str(s.labels) for s in series[:3])
            issues(
                path,
                f"{where} returned {len(series)} series ({shown}); aggregate it to one series, "
                "e.g. avg(...) or sum(...)",
            )
            continue
        finite = [v for _, v in series[0].samples if math.isfinite(v)]
        if not finite:
            issues(path, f"no data: {where} returned only NaN or infinite samples ({len(series[0].samples)})")
            continue
        entry: dict[str, Any] = {
            "value": statistics.fmean(finite),
            "stddev": statistics.pstdev(finite),
            "samples": len(finite),
        }
        unit = units.get((service, indicator))
        if unit is not None:
            entry["unit"] = unit
        services.setdefault(service, {"indicators": {}})["indicators"][indicator] = entry
    issues.raise_if_any()
    if not services:
        issues((), "no queries given")
        issues.raise_if_any()
    release: dict[str, Any] = {"name": release_name}
    if release_version is not None:
        release["version"] = release_version
    doc = {
        "version": FORMAT_VERSION,
        "release": release,
        "captured_at": _format_time(captured_at or datetime.now(UTC)),
        "window": {"start": _format_time(start), "end": _format_time(end)},
        "source": source,
        "services": services,
    }
    # Validate exactly what will be written (e.g. a "ratio" query that returns 1.3 is caught here).
    provisional = _from_document(doc, issues, known, sha256="", file=None)
    text = dump_baseline(provisional)
    return Baseline(
        release_name=provisional.release_name,
        release_version=provisional.release_version,
        captured_at=provisional.captured_at,
        window=provisional.window,
        source=provisional.source,
        values=provisional.values,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        file=None,
        format="slodrift",
        warnings=tuple(warnings),
    )
