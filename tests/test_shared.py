"""The small modules every package shares: issues and their paths, exit codes, shipped schemas."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from slodrift.generator.alert_templates import LABEL_REF_RE, TEMPLATE_ACTION_RE

from slodrift import exitcodes
from slodrift.issues import InputError, Issue, format_path, print_issues
from slodrift.schemas import validator

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = sorted([*ROOT.glob("generator/schema/*.json"), *ROOT.glob("report/schema/*.json")])


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("services", 0, "slos", 1, "objective"), "services[0].slos[1].objective"),
        (("services", "checkout", "indicators", "p99_latency"), "services.checkout.indicators.p99_latency"),
        (("services", "a.b", "indicators"), 'services["a.b"].indicators'),
        (("labels", "with space"), 'labels["with space"]'),
        (("labels", 'quote"d'), 'labels["quote\\"d"]'),
        (("x", 1.5), 'x["1.5"]'),
        ((3,), "[3]"),
    ],
)
def test_format_path(path, text):
    assert format_path(path) == text


def test_issue_text_names_file_line_and_path():
    assert str(Issue("spec.yml", "services[0].name", 7, "bad")) == "spec.yml:7: services[0].name: bad"
    assert str(Issue("b.json", "", None, "not JSON")) == "b.json: (document): not JSON"


def test_input_error_lists_every_issue_and_print_issues_counts_them():
    issues = [Issue("f", "a", 1, "one"), Issue("f", "b", None, "two")]
    err = InputError(issues)
    assert err.issues == issues
    assert str(err) == "f:1: a: one\nf: b: two"
    out = io.StringIO()
    print_issues(err.issues, out)
    assert out.getvalue() == "error: f:1: a: one\nerror: f: b: two\n2 error(s); nothing written\n"


def test_exit_codes_are_the_documented_contract():
    assert (exitcodes.EXIT_OK, exitcodes.EXIT_FAILED, exitcodes.EXIT_BAD_INPUT) == (0, 1, 2)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda p: p.name)
def test_shipped_schemas_are_valid_draft_2020_12(schema):
    jsonschema.Draft202012Validator.check_schema(json.loads(schema.read_text(encoding="utf-8")))


def test_validator_reads_the_shipped_file():
    v = validator("slodrift.report", "baseline.schema.json")
    assert not v.is_valid({})
    assert v.is_valid({"version": 1, "release": {"name": "r"}, "services": {}}) is False  # minProperties
    assert v.is_valid(
        {"version": 1, "release": {"name": "r"}, "services": {"s": {"indicators": {"cpu": {"value": 1}}}}}
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [("{{ $labels.service }}", "service"), ("{{$labels.slo}}", "slo"), ("{{\n $labels.a_1 \n}}", "a_1")],
)
def test_label_reference_actions(text, label):
    action = TEMPLATE_ACTION_RE.fullmatch(text)
    assert action is not None
    ref = LABEL_REF_RE.match(action.group(1))
    assert ref is not None and ref.group(1) == label


@pytest.mark.parametrize(
    "text", ["{{ $value }}", "{{ .Labels.x }}", "{{ $labels.x | title }}", "{{ $labels.1x }}"]
)
def test_other_actions_are_not_label_references(text):
    action = TEMPLATE_ACTION_RE.fullmatch(text)
    assert action is not None and LABEL_REF_RE.match(action.group(1)) is None
