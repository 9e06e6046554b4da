"""Checks of the native format: the JSON Schema, then what a schema cannot express (dates, ranges of
units implied by a name, services and indicators the spec does not have); every issue in one pass."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import jsonschema
from slodrift.report.baseline.model import (
    FORMAT_VERSION,
    NON_NEGATIVE_UNITS,
    UNITS,
    Baseline,
    IndicatorBaseline,
    Issues,
    IssueSink,
    ProfilePoint,
    Window,
    implied_unit,
)
from slodrift.report.baseline.strict_json import json_type, walk_literals

from slodrift.issues import Path_
from slodrift.schemas import validator


def _validator() -> jsonschema.Draft202012Validator:
    # The shared set-up: patterns read as JSON Schema means them (`$` is the end of the text, so a name
    # ending in a newline does not pass).
    return validator("slodrift.report", "baseline.schema.json")


def _schema_issues(doc: object, issue: IssueSink) -> None:
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
        return f"must be {article} {want}, got {json_type(inst)} {json.dumps(inst)[:60]}"
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


def _parse_time(text: str, path: Path_, issue: IssueSink) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        issue(path, f"{text!r} is not a valid date-time: {exc}")
        return None
    return value


def _check_value(indicator: str, unit: str | None, value: float, path: Path_, issue: IssueSink) -> None:
    unit = unit or implied_unit(indicator)
    if unit in NON_NEGATIVE_UNITS and value < 0:
        issue(path, f"a value in {unit} cannot be negative, got {value}")
    if unit == "ratio" and value > 1:
        issue(path, f"a ratio must be between 0 and 1, got {value} (divide percentages by 100)")


def _implied_unit_issues(doc: object, issue: IssueSink) -> None:
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


def _check_known(services: Mapping[str, Any], known: Mapping[str, Collection[str]], issue: IssueSink) -> None:
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


def _float(x: float | None) -> float | None:
    return None if x is None else float(x)


def _int(x: float | None) -> int | None:
    return None if x is None else int(x)


def _profile(
    indicator: str, raw: Mapping[str, Any], path: Path_, issue: IssueSink
) -> tuple[ProfilePoint, ...]:
    """The hourly profile: each hour once, values in range for the indicator's unit."""
    points = []
    seen: dict[int, int] = {}
    unit = raw.get("unit") or implied_unit(indicator)
    for n, p in enumerate(raw.get("profile", [])):
        where = (*path, "profile", n)
        if p["hour"] in seen:
            issue((*where, "hour"), f"hour {p['hour']} is given twice (first at profile[{seen[p['hour']]}])")
        seen.setdefault(p["hour"], n)
        _check_value(indicator, unit, float(p["value"]), (*where, "value"), issue)
        points.append(
            ProfilePoint(
                int(p["hour"]),
                float(p["value"]),
                _float(p.get("stddev")),
                _int(p.get("samples")),
                _float(p.get("requests")),
            )
        )
    return tuple(sorted(points, key=lambda p: p.hour))


def _build(
    doc: Mapping[str, Any], issue: Issues, known: Mapping[str, Collection[str]] | None
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
            path: Path_ = ("services", service, "indicators", indicator)
            values[(service, indicator)] = IndicatorBaseline(
                float(raw["value"]),
                raw.get("unit"),
                _float(raw.get("stddev")),
                _int(raw.get("samples")),
                _float(raw.get("requests")),
                _profile(indicator, raw, path, issue),
            )
    if known is not None:
        _check_known(doc["services"], known, issue)
    return captured_at, window, values


def from_document(
    doc: object,
    issues: Issues,
    known: Mapping[str, Collection[str]] | None,
    *,
    sha256: str,
    file: str | None,
    warnings: tuple[str, ...] = (),
) -> Baseline:
    walk_literals(doc, (), issues)
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
