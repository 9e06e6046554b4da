"""Drift, regression and anomaly: the spec model, the rendered rules, and promtool on them."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from slodrift.generator.render import render
from slodrift.generator.rules.drift import drift_expr, drift_groups
from slodrift.generator.spec import SpecError, load_spec, load_spec_text
from slodrift.generator.writer import write_tree

from tests.helpers import EXAMPLE
from tests.mutation import assert_all_caught, caught

SPEC = """\
version: 1
services:
  - name: api
    selector: {job: api}
    indicators:
      availability: {}
      p99_latency: {}
      cpu: {regression: 25%}
      cache_hit_ratio: {}
      replicas: {query: 'count(up{job="api"})', category: configuration, direction: either, unit: count}
    anomaly: {indicators: [p99_latency], z_threshold: 2.5}
"""


def test_indicator_defaults_and_thresholds_from_the_seeds():
    spec = load_spec_text("s.yml", SPEC.encode())
    svc = spec.services[0]
    by = {i.name: i for i in svc.indicators}
    assert (
        by["availability"].query == 'avg(up{job="api"})' and by["availability"].direction == "lower_is_worse"
    )
    assert by["p99_latency"].query == (
        'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))'
    )
    assert (
        by["cpu"].category == "resource"
        and by["cpu"].regression == Decimal("0.25")
        and by["cpu"].unit == "cores"
    )
    assert by["cache_hit_ratio"].category == "behaviour"
    assert by["replicas"].kind == "custom" and by["replicas"].direction == "either"
    th = spec.drift.thresholds
    assert (th["performance"].warning, th["performance"].critical) == (Decimal("0.05"), Decimal("0.1"))
    assert (th["resource"].warning, th["resource"].critical) == (Decimal("0.1"), Decimal("0.2"))
    assert (th["behaviour"].warning, th["behaviour"].critical) == (Decimal("0.1"), Decimal("0.2"))
    assert (th["configuration"].warning, th["configuration"].critical) == (None, Decimal("0"))
    assert svc.anomaly.z_threshold == Decimal("2.5") and svc.anomaly.window == 7 * 86400


def test_drift_is_signed_so_positive_is_worse():
    svc = load_spec_text("s.yml", SPEC.encode()).services[0]
    by = {i.name: i for i in svc.indicators}
    assert drift_expr(svc, by["p99_latency"]).startswith("(\n  slodrift:indicator:value")
    assert drift_expr(svc, by["availability"]).startswith("-(")
    assert drift_expr(svc, by["replicas"]).startswith("abs(")
    assert 'slodrift_baseline{service="api",indicator="cpu"} != 0' in drift_expr(svc, by["cpu"])


def test_groups_are_in_dependency_order():
    spec = load_spec_text("s.yml", SPEC.encode())
    rec, alerts = drift_groups(spec.services[0], spec.drift, 60)
    names = [r["record"] for r in rec["rules"]]
    # each value is recorded before its drift; anomaly statistics after the values they read
    assert names.index("slodrift:indicator:value") < names.index("slodrift:indicator:drift_ratio")
    assert names.index("slodrift:indicator_value:avg_over_time1w") < names.index("slodrift:indicator:zscore")
    kinds = {r["alert"] for r in alerts["rules"]}
    assert kinds == {
        "SlodriftIndicatorDrift",
        "SlodriftResourceRegression",
        "SlodriftBaselineMissing",
        "SlodriftIndicatorNoData",
        "SlodriftIndicatorAnomaly",
    }
    anomaly = next(r for r in alerts["rules"] if r["alert"] == "SlodriftIndicatorAnomaly")
    assert anomaly["labels"]["severity"] == "warning"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SPEC.replace("cpu: {regression: 25%}", "gpu: {}"), "'gpu' is not a built-in indicator"),
        (SPEC.replace("regression: 25%", "regression: 0%"), "regression: must be more than 0%"),
        (SPEC.replace("regression: 25%", "regression: lots"), "services[0].indicators.cpu.regression"),
        (SPEC.replace("[p99_latency]", "[p42_latency]"), "'p42_latency' is not an indicator of this service"),
        (SPEC.replace("z_threshold: 2.5", "z_threshold: 2.5, window: 10m"), "must be at least 1h"),
        (
            SPEC + "drift: {performance: {warning: 20%, critical: 10%}}\n",
            "drift.performance: warning (20%) is above",
        ),
        (SPEC + "drift: {latency: {warning: 5%}}\n", "drift: unknown key(s) 'latency'"),
        (SPEC.replace("category: configuration", "category: vibes"), "'vibes' is not one of"),
        (SPEC.replace("'count(up{job=\"api\"})'", "'count(up{job=\"api\"}'"), "unclosed"),
        (
            SPEC.replace("    selector: {job: api}\n", "    selector: {job: api}\n    slos: []\n").replace(
                "    indicators:", "    x_indicators:"
            ),
            "unknown key(s) 'x_indicators'",
        ),
    ],
)
def test_bad_drift_specs(text, expected):
    with pytest.raises(SpecError) as exc:
        load_spec_text("s.yml", text.encode())
    assert any(expected in str(i) for i in exc.value.issues), [str(i) for i in exc.value.issues]


def test_service_needs_an_slo_or_an_indicator():
    with pytest.raises(SpecError, match="at least one SLO or one indicator"):
        load_spec_text("s.yml", b"version: 1\nservices: [{name: a}]\n")


@pytest.mark.slow
def test_indicator_only_spec_passes_promtool(promtool, tmp_path: Path):
    files = render([load_spec_text("s.yml", SPEC.encode())])
    assert {f for f in files if f.startswith(("rules/", "promtool-tests/"))} == {
        "rules/api.drift.yml",
        "promtool-tests/api.drift.test.yml",
        "rules/slodrift-stability.yml",
        "promtool-tests/slodrift-stability.test.yml",
    }
    write_tree(tmp_path, files)
    for args in (
        ["check", "rules", "rules/api.drift.yml"],
        ["test", "rules", "promtool-tests/api.drift.test.yml"],
    ):
        r = subprocess.run([promtool, *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr


DRIFT_MUTATIONS = [
    pytest.param(r"> 0\.05\n", "> 0.055\n", id="performance warning 10 % too high"),
    pytest.param(r"> 0\.1\n", "> 0.09\n", id="performance critical 10 % too low"),
    pytest.param(r"> 0\.2\n", "> 0.21\n", id="regression threshold"),
    pytest.param(
        r"unless on \(service, indicator\)", "and on (service, indicator)", id="baseline-missing logic"
    ),
    pytest.param(
        r"stddev_over_time\((\S+)\[1w\]\)", r"stddev_over_time(\1[1w]) * 2", id="anomaly band twice as wide"
    ),
    pytest.param(r"\n(\s*)-\(\n", r"\n\1(\n", id="lower-is-worse sign lost"),
    pytest.param(r"for: 10m", "for: 1h", id="drift for"),
    pytest.param(
        r"clamp_min\((max by \(service, indicator\) \(\S+\)), 0\.0001\)", r"(\1 != 0)", id="floor lost"
    ),
]


@pytest.mark.slow
def test_generated_drift_tests_catch_every_wrong_rule(promtool, tmp_path):
    results = caught(
        promtool,
        render([load_spec(EXAMPLE)]),
        "rules/checkout.drift.yml",
        "promtool-tests/checkout.drift.test.yml",
        DRIFT_MUTATIONS,
        tmp_path,
    )
    assert_all_caught(results, len(DRIFT_MUTATIONS))


@pytest.mark.slow
def test_example_drift_alerts_all_have_firing_tests():
    files = render([load_spec(EXAMPLE)])
    for svc in ("checkout", "catalog"):
        rules = yaml.safe_load(files[f"rules/{svc}.drift.yml"])
        tests = yaml.safe_load(files[f"promtool-tests/{svc}.drift.test.yml"])["tests"]
        alerts = {
            (r["alert"], r["labels"].get("category"), r["labels"]["severity"], r["labels"].get("indicator"))
            for g in rules["groups"]
            for r in g["rules"]
            if "alert" in r
        }
        fired = {
            (
                a["exp_labels"]["alertname"] if "alertname" in a["exp_labels"] else t["alertname"],
                a["exp_labels"].get("category") if t["alertname"] == "SlodriftIndicatorDrift" else None,
                a["exp_labels"]["severity"],
                a["exp_labels"].get("indicator") if t["alertname"] == "SlodriftResourceRegression" else None,
            )
            for g in tests
            for t in g.get("alert_rule_test", [])
            for a in t["exp_alerts"]
        }
        normalized = {
            (
                a,
                c if a == "SlodriftIndicatorDrift" else None,
                s,
                i if a == "SlodriftResourceRegression" else None,
            )
            for a, c, s, i in alerts
        }
        assert normalized <= fired, normalized - fired


REGIONS = """\
version: 1
services:
  - name: api
    labels: {team: 'x"y'}
    selector: {job: 'avg(x'}
    indicators:
      p99_latency: {split_by: region, primary: us-east-1}
      error_ratio: {split_by: region, primary: us-east-1}
      availability: {split_by: region, primary: us-east-1}
      cpu: {split_by: cluster, primary: c1}
"""


def test_cross_region_queries_keep_the_split_label_and_values_intact():
    svc = load_spec_text("s.yml", REGIONS.encode()).services[0]
    by = {i.name: i for i in svc.indicators}
    assert by["p99_latency"].split_query == (
        'histogram_quantile(0.99, sum by (le, region) (rate(http_request_duration_seconds_bucket{job="avg(x"}[5m])))'
    )
    assert by["availability"].split_query == 'avg by (region) (up{job="avg(x"})'
    assert by["cpu"].split_by == "cluster" and by["cpu"].primary == "c1"
    assert by["p99_latency"].query.startswith(
        "histogram_quantile(0.99, sum by (le) ("
    )  # unsplit query unchanged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            REGIONS.replace("split_by: region, primary: us-east-1}", "split_by: region}", 1),
            "split_by and primary go together",
        ),
        (REGIONS.replace("split_by: cluster", "split_by: service"), "is set by slodrift itself"),
        (REGIONS.replace("split_by: cluster", "split_by: 'bad-label'"), "split_by"),
        (
            REGIONS.replace(
                "cpu: {split_by: cluster, primary: c1}", "q: {query: 'sum(x)', split_by: region, primary: a}"
            ),
            "cannot be split automatically",
        ),
    ],
)
def test_bad_cross_region_specs(text, expected):
    with pytest.raises(SpecError) as exc:
        load_spec_text("s.yml", text.encode())
    assert any(expected in str(i) for i in exc.value.issues), [str(i) for i in exc.value.issues]


@pytest.mark.slow
def test_cross_region_rules_pass_promtool_and_catch_a_wrong_threshold(promtool, tmp_path: Path):
    files = render([load_spec_text("s.yml", REGIONS.encode())])
    write_tree(tmp_path, files)
    run = lambda *a: subprocess.run([promtool, *a], cwd=tmp_path, capture_output=True, text=True, timeout=300)  # noqa: E731
    assert run("check", "rules", "rules/api.drift.yml").returncode == 0
    r = run("test", "rules", "promtool-tests/api.drift.test.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    tests = yaml.safe_load(files["promtool-tests/api.drift.test.yml"])["tests"]
    region = next(g for g in tests if "cross-region" in g["name"])
    fired = region["alert_rule_test"][0]["exp_alerts"]
    assert {a["exp_labels"].get("region") or a["exp_labels"].get("cluster") for a in fired} == {"over-region"}
    assert len(fired) == 4
    rule = tmp_path / "rules" / "api.drift.yml"
    rule.write_text(
        rule.read_text().replace('indicator="p99_latency"} > 0.05', 'indicator="p99_latency"} > 0.056')
    )
    assert run("test", "rules", "promtool-tests/api.drift.test.yml").returncode != 0
