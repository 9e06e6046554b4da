"""The spec's JSON Schema check, with messages a spec author can act on."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
from slodrift.generator.spec.document import Document, SpecIssue

from slodrift.schemas import validator

# What YAML 1.1 (PyYAML) leaves as text although it reads as a number: an exponent without a dot or sign.
_PERCENT_PATTERN = json.dumps("^[0-9]+(\\.[0-9]+)?%$")  # the schema's percent strings, as dumped
_NUMBER_AS_TEXT = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")


def schema_message(err: jsonschema.ValidationError) -> str:
    """Turn jsonschema's wording into something a spec author can act on."""
    schema: Mapping[str, Any] = err.schema if isinstance(err.schema, Mapping) else {}
    if err.validator == "oneOf" and _PERCENT_PATTERN in json.dumps(schema.get("oneOf")):
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
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = sorted(set(err.instance) - set(schema.get("properties", {})))
        if schema.get("properties"):
            allowed = ", ".join(sorted(schema["properties"]))
            return f"unknown key(s) {', '.join(map(repr, extra))}; allowed: {allowed}"
        return f"unknown key(s) {', '.join(map(repr, extra))}"
    if err.validator == "oneOf" and err.context:
        best = jsonschema.exceptions.best_match(err.context)
        return str(best.message)
    if err.validator == "pattern" and "duration" in json.dumps(err.schema):
        return f"{err.instance!r} is not a duration like '5m', '1h30m' or '30d'"
    if err.validator == "propertyNames":
        return f"invalid name: {err.message}"
    if err.validator in ("maxItems", "maxProperties") and isinstance(err.instance, list | dict):
        return f"has {len(err.instance)} entries; the limit is {err.validator_value}"
    if err.validator == "maxLength" and isinstance(err.instance, str):
        return f"is {len(err.instance)} characters long; the limit is {err.validator_value}"
    return err.message


def schema_issues(doc: Document) -> list[SpecIssue]:
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
            issues.append(doc.issue(path, f"invalid label name {bad!r}" if bad else schema_message(err)))
            continue
        issues.append(doc.issue(path, schema_message(err)))
    return issues
