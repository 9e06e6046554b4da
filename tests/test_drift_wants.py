"""The drift tests' expectations come from the spec, not from the rules they test.

`drift_wants` says, from the spec alone, which labels and wait each drift alert must have; these tests
check it against hand-written values, and then mutate the rule *builders* (not the rendered text): the
rules and the generated tests are both rendered from the mutated builder, and promtool must fail. When
the tests took their labels and `for` from the rules, each of these mutations passed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from slodrift.generator.render import render
from slodrift.generator.rules import drift_alerts
from slodrift.generator.rules.types import Alerting
from slodrift.generator.spec import load_spec_text
from slodrift.generator.testgen import drift_wants
from slodrift.generator.writer import write_tree

SPEC = """\
version: 1
services:
  - name: shop
    labels: {team: 'pay{{ments'}
    selector: {job: shop}
    indicators:
      p99_latency: {labels: {component: api}}
      cpu: {regression: 20%}
      request_rate: {page: false}
drift:
  performance: {page: true}
  behaviour: {warning: null, page: true}
  for: 5m
"""


def _spec():
    spec = load_spec_text("s.yml", SPEC.encode())
    return spec, spec.services[0], spec.drift


def test_levels_from_the_spec():
    _, svc, drift = _spec()
    wants = drift_wants.levels(svc, drift)
    assert sorted(wants) == [
        ("cpu", "critical"),
        ("cpu", "warning"),
        ("p99_latency", "critical"),
        ("p99_latency", "warning"),
        ("request_rate", "critical"),  # behaviour has no warning level here
    ]
    p99 = wants[("p99_latency", "critical")]
    assert p99.alert == "SlodriftIndicatorDrift" and p99.for_seconds == 300
    assert p99.labels == {  # the label text as delivered: `{{` is text, not a template
        "team": "pay{{ments",
        "service": "shop",
        "indicator": "p99_latency",
        "category": "performance",
        "severity": "critical",
        "tier": "page",  # performance pages on critical
        "component": "api",
    }
    assert wants[("p99_latency", "warning")].labels["tier"] == "ticket"  # only critical pages
    cpu = wants[("cpu", "critical")]
    assert cpu.alert == "SlodriftResourceRegression" and cpu.for_seconds == 1800  # regression_for: 30m
    assert cpu.labels["tier"] == "ticket" and cpu.labels["category"] == "resource"
    assert wants[("cpu", "warning")].alert == "SlodriftIndicatorDrift"
    assert wants[("cpu", "warning")].for_seconds == 300
    # the category pages, the indicator says no
    assert wants[("request_rate", "critical")].labels["tier"] == "ticket"


def test_service_alerts_from_the_spec():
    _, svc, drift = _spec()
    missing, nodata = drift_wants.baseline_missing(svc, drift), drift_wants.no_data(svc, drift)
    for want in (missing, nodata):
        assert want.labels == {"team": "pay{{ments", "service": "shop", "severity": "warning"}
        assert want.for_seconds == 600  # baseline_missing_for: 10m
    assert drift_wants.anomaly(svc) is None


# Each mutation: the builder function it wraps, and what it does to each rule that function returns.
Change = Callable[[Alerting], Alerting]


def _labels(rule: Alerting, **changes: str | None) -> Alerting:
    labels = {**rule.labels, **changes}
    return replace(rule, labels={k: v for k, v in labels.items() if v is not None})


def _at(severity: str, change: Change) -> Change:
    return lambda r: change(r) if r.labels.get("severity") == severity else r


MUTATIONS = [
    pytest.param(
        "indicator_alerts",
        _at("critical", lambda r: _labels(r, tier="ticket")),
        "critical threshold: drift 2% over",
        id="critical drift does not page",
    ),
    pytest.param(
        "indicator_alerts",
        _at("warning", lambda r: _labels(r, severity="info")),
        "warning threshold: drift 2% over",
        id="wrong severity",
    ),
    pytest.param(
        "indicator_alerts",
        lambda r: _labels(r, team="pay"),  # a lost label would come back from the expression's
        "warning threshold: drift 2% over",
        id="service label wrong",
    ),
    pytest.param(
        "indicator_alerts",
        _at("warning", lambda r: _labels(r, component=None)),
        "warning threshold: drift 2% over",
        id="indicator label lost",
    ),
    pytest.param(
        "indicator_alerts",
        _at("warning", lambda r: replace(r, for_seconds=r.for_seconds + 900)),
        "warning threshold: drift 2% over",
        id="drift for 15m longer",
    ),
    pytest.param(
        "indicator_alerts",
        lambda r: (
            replace(r, for_seconds=r.for_seconds + 900) if r.alert == "SlodriftResourceRegression" else r
        ),
        "critical threshold: drift 2% over",
        id="regression_for 15m longer",
    ),
    pytest.param(
        "indicator_alerts",
        _at("warning", lambda r: replace(r, for_seconds=r.for_seconds - 120)),
        "warning threshold: drift 2% over",
        id="drift for 2m shorter",
    ),
    pytest.param(
        "indicator_alerts",
        lambda r: (
            replace(r, for_seconds=r.for_seconds - 120) if r.alert == "SlodriftResourceRegression" else r
        ),
        "critical threshold: drift 2% over",
        id="regression_for 2m shorter",
    ),
    pytest.param(
        "baseline_alerts",
        lambda r: replace(r, for_seconds=r.for_seconds - 120) if r.alert == "SlodriftBaselineMissing" else r,
        "values but no baseline",
        id="baseline_missing_for 2m shorter",
    ),
    pytest.param(
        "baseline_alerts",
        lambda r: replace(r, for_seconds=r.for_seconds - 120) if r.alert == "SlodriftIndicatorNoData" else r,
        "baseline but no current values",
        id="no-data for 2m shorter",
    ),
    pytest.param(
        "baseline_alerts",
        lambda r: _labels(r, severity="critical") if r.alert == "SlodriftBaselineMissing" else r,
        "values but no baseline",
        id="baseline missing severity",
    ),
]


def _parts(files: dict[str, str]) -> dict[str, str]:
    """The drift test file, one test group per file (name -> file text)."""
    test = yaml.safe_load(files["promtool-tests/shop.drift.test.yml"])
    return {g["name"]: yaml.safe_dump({**test, "tests": [g]}, sort_keys=False) for g in test["tests"]}


def _passes(promtool: str, files: dict[str, str], group: str, out: Path) -> bool:
    """Whether the generated test group named like `group` passes promtool."""
    parts = _parts(files)
    (name,) = [n for n in parts if group in n]
    write_tree(out, {**files, "promtool-tests/part.yml": parts[name]})
    r = subprocess.run(
        [promtool, "test", "rules", "promtool-tests/part.yml"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return r.returncode == 0


@pytest.mark.slow
def test_correct_rules_pass_the_groups_the_mutations_use(promtool, tmp_path):
    files = render([_spec()[0]])
    for k, group in enumerate(sorted({p.values[2] for p in MUTATIONS})):
        assert _passes(promtool, files, group, tmp_path / str(k)), group


@pytest.mark.parametrize(("builder", "change", "group"), MUTATIONS)
def test_a_wrong_label_or_wait_in_the_builder_fails_the_generated_tests(
    promtool, tmp_path, monkeypatch, builder, change, group
):
    spec = _spec()[0]
    clean = render([spec])["rules/shop.drift.yml"]
    original = getattr(drift_alerts, builder)
    monkeypatch.setattr(drift_alerts, builder, lambda *a: [change(r) for r in original(*a)])
    files = render([spec])
    assert files["rules/shop.drift.yml"] != clean, "the mutation changed nothing"
    assert not _passes(promtool, files, group, tmp_path), "the generated tests copied the wrong rule"
