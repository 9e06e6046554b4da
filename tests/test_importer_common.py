"""The helpers the Sloth, OpenSLO and Pyrra importers share (generator/importers/common.py), called
directly; expected values are written out by hand from the formats' documentation."""

from __future__ import annotations

import pytest
from slodrift.generator.importers.common import (
    Context,
    description,
    grouped_differently,
    label_ref,
    other_tool,
    other_tool_hint,
    parse_source,
    source_objects,
)
from slodrift.generator.importers.pyrra import pyrra_to_spec

FILE = """\
kind: SLO
---
- {kind: SLO, n: 1}
- {kind: SLO, n: 2}
---
kind: List
items:
  - {kind: SLO, n: 3}
"""


def test_source_objects_reads_documents_lists_and_kubernetes_lists():
    source = parse_source("f.yaml", FILE.encode())
    assert [(n, path) for n, path, _ in source_objects(source, ("List",))] == [
        (0, ()),
        (1, (0,)),
        (1, (1,)),
        (2, ("items", 0)),
    ]
    # Without list kinds a Kubernetes List is one object, as OpenSLO reads it.
    assert [(n, path) for n, path, _ in source_objects(source)][-1] == (2, ())


@pytest.mark.parametrize(
    ("doc", "this", "tool"),
    [
        ({"version": "prometheus/v1", "slos": []}, "openslo", "sloth"),
        ({"apiVersion": "sloth.slok.dev/v1", "kind": "PrometheusServiceLevel"}, "pyrra", "sloth"),
        ({"apiVersion": "openslo/v1", "kind": "SLO"}, "sloth", "openslo"),
        ({"apiVersion": "pyrra.dev/v1alpha1", "kind": "ServiceLevelObjective"}, "openslo", "pyrra"),
        ({"apiVersion": "openslo/v1", "kind": "SLO"}, "openslo", None),  # its own input
        ({"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule"}, "sloth", None),
        ({}, "pyrra", None),
    ],
)
def test_other_tool_names_the_importer_a_document_belongs_to(doc, this, tool):
    assert other_tool(doc, this) == tool


def test_other_tool_hint():
    assert other_tool_hint({"slos": []}, "pyrra") == " (a Sloth spec: use `slodrift import sloth`)"
    assert (
        other_tool_hint({"apiVersion": "openslo/v1"}, "pyrra") == " (OpenSLO: use `slodrift import openslo`)"
    )
    assert other_tool_hint({"apiVersion": "pyrra.dev/v1"}, "sloth") == " (Pyrra: use `slodrift import pyrra`)"
    assert other_tool_hint({"apiVersion": "v1"}, "sloth") == ""


@pytest.mark.parametrize(
    ("action", "label"),
    [
        (" $labels.cluster ", "cluster"),
        ("$labels.a_1", "a_1"),
        (" .Labels.team", "team"),  # the other spelling Prometheus accepts
        ("$value", None),
        ("$labels.cluster | toUpper", None),
        (".Labels", None),
        ("$labels.1x", None),
    ],
)
def test_label_ref(action, label):
    assert label_ref(action) == label


def test_grouped_differently():
    assert grouped_differently({"error_query": ("a", "b"), "total_query": ("b", "a")}, "ungrouped") is None
    assert grouped_differently({"raw": ()}, "ungrouped") is None
    assert (
        grouped_differently({"error_query": ("a",), "total_query": ()}, "without grouping")
        == "error_query by (a), total_query without grouping"
    )


def test_description_keeps_at_most_1024_characters():
    assert description("x" * 2000) == "x" * 1024
    assert description(99.9) == "99.9"


def test_unknown_keys_are_each_ignored_with_a_warning_in_sorted_order():
    text = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: a}
spec:
  target: "99"
  window: 28d
  zeta: 1
  beta: 2
  indicator:
    ratio: {errors: {metric: a_total}, total: {metric: b_total}, extra: 1, another: 2}
    foo: 1
  alerting:
    bogus: 1
    severities: {fastBurn: page, nope: x}
"""
    warnings = [str(w) for w in pyrra_to_spec(parse_source("slo.yaml", text.encode())).warnings]
    assert [w for w in warnings if "ignored:" in w] == [
        "slo.yaml:8: spec.beta: ignored: beta is not a Pyrra ServiceLevelObjective field",
        "slo.yaml:7: spec.zeta: ignored: zeta is not a Pyrra ServiceLevelObjective field",
        "slo.yaml:11: spec.indicator.foo: ignored: foo is not a Pyrra indicator "
        "(one of ratio, latency, latencyNative, bool_gauge)",
        "slo.yaml:10: spec.indicator.ratio.another: ignored: another is not a field of ratio",
        "slo.yaml:10: spec.indicator.ratio.extra: ignored: extra is not a field of ratio",
        "slo.yaml:13: spec.alerting.bogus: ignored: bogus is not a Pyrra alerting field "
        "(absent, absentName, burnrates, disabled, name, severities)",
        "slo.yaml:14: spec.alerting.severities.nope: ignored: nope is not a Pyrra severity "
        "(absent, fastBurn, longTermBurn, mediumBurn, slowBurn)",
    ]


def test_ignore_unknown_directly():
    ctx = Context(parse_source("f.yaml", b"a: 1\nc: 2\nb: 3\n"), "x")
    ctx.ignore_unknown({"a": 1, "c": 2, "b": 3}, ("a",), (), "a field of f")
    assert [str(w) for w in ctx.warnings] == [
        "f.yaml:3: b: ignored: b is not a field of f",
        "f.yaml:2: c: ignored: c is not a field of f",
    ]
