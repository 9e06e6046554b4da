"""`slodrift import pyrra`: Pyrra ServiceLevelObjectives become slodrift SLOs with Pyrra's meaning.

Expected alert windows, factors and `for` durations are Pyrra's own, copied from its generated-rules
test (pyrra-dev/pyrra slo/rules_test.go) and its expected output for the 4w ratio fixture, not
computed with the importer's formula.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from slodrift.generator.importers.common import ImportFailed, dump_spec, parse_source
from slodrift.generator.importers.pyrra import pyrra_to_spec
from slodrift.generator.spec import load_spec_text

from tests.helpers import run_cli

CORPUS = Path(__file__).resolve().parent / "importers" / "corpus" / "pyrra" / "pyrra-dev-pyrra" / "examples"

HEAD = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: api-errors
  namespace: shop
  labels: {pyrra.dev/team: payments, prometheus: k8s}
spec:
"""
RATIO = """\
  target: '99'
  window: 4w
  indicator:
    ratio:
      errors: {metric: 'http_requests_total{job="api",code=~"5.."}'}
      total: {metric: 'http_requests_total{job="api"}'}
"""


def convert(text: str, name: str = "slo.yaml"):
    return pyrra_to_spec(parse_source(name, text.encode()))


def the_slo(text: str) -> dict:
    (svc,) = convert(text).spec["services"]
    (slo,) = svc["slos"]
    return slo


def errors_of(text: str) -> list[str]:
    with pytest.raises(ImportFailed) as exc:
        convert(text)
    return [str(i) for i in exc.value.issues]


def test_ratio_target_window_labels_and_service():
    result = convert(HEAD + RATIO)
    (svc,) = result.spec["services"]
    assert svc["name"] == "shop"  # the namespace
    slo = svc["slos"][0]
    assert slo["name"] == "api-errors" and slo["objective"] == 99 and slo["window"] == "4w"
    assert slo["sli"] == {
        "errors": 'http_requests_total{job="api",code=~"5.."}',
        "total": 'http_requests_total{job="api"}',
    }
    assert slo["labels"] == {"team": "payments"}  # pyrra.dev/ labels propagate, as in Pyrra
    assert any("prometheus" in str(w) and "--k8s-label" in str(w) for w in result.warnings)
    load_spec_text("x.yml", dump_spec(result.spec).encode())


def test_alerting_windows_are_pyrras_at_28_days():
    # Pyrra's expected rules for a 4w, 99 % ratio SLO: 14x 1h/5m for 2m, 7x 6h/30m for 15m,
    # 2x 1d/2h for 1h, 1x 4d/6h for 3h; SLOMetricAbsent for 10m, critical.
    alerting = the_slo(HEAD + RATIO)["alerting"]
    assert alerting["page"]["windows"] == [
        {"long": "1h", "short": "5m", "factor": 14},
        {"long": "6h", "short": "30m", "factor": 7},
    ]
    assert alerting["ticket"]["windows"] == [
        {"long": "1d", "short": "2h", "factor": 2},
        {"long": "4d", "short": "6h", "factor": 1},
    ]
    assert (alerting["page"]["severity"], alerting["page"]["for"]) == ("critical", "2m")
    assert (alerting["ticket"]["severity"], alerting["ticket"]["for"]) == ("warning", "1h")
    assert alerting["no_data"] == {"for": "10m", "severity": "critical"}


def test_alerting_windows_are_pyrras_at_7_days():
    # pyrra slo/rules_test.go, 7d at 99.5 %: burnrate1m/15m 14x for 1m, 8m/1h30m 7x for 4m,
    # 30m/6h 2x for 15m, 1h30m/1d 1x for 45m.
    text = HEAD + RATIO.replace("'99'", "'99.5'").replace("4w", "7d")
    alerting = the_slo(text)["alerting"]
    assert alerting["page"]["windows"] == [
        {"long": "15m", "short": "1m", "factor": 14},
        {"long": "90m", "short": "8m", "factor": 7},
    ]
    assert alerting["ticket"]["windows"] == [
        {"long": "6h", "short": "30m", "factor": 2},
        {"long": "1d", "short": "90m", "factor": 1},
    ]
    assert alerting["page"]["for"] == "1m" and alerting["ticket"]["for"] == "15m"
    warnings = [str(w) for w in convert(text).warnings]
    assert any("4m before its mediumBurn" in w and "45m before its longTermBurn" in w for w in warnings)


def test_low_objective_drops_only_the_pair_that_can_never_fire():
    result = convert(HEAD + RATIO.replace("'99'", "'90'"))
    alerting = result.spec["services"][0]["slos"][0]["alerting"]
    assert alerting["page"]["windows"] == [{"long": "6h", "short": "30m", "factor": 7}]
    assert len(alerting["ticket"]["windows"]) == 2
    assert any("fastBurn" in str(w) and "never fire" in str(w) for w in result.warnings)
    load_spec_text("x.yml", dump_spec(result.spec).encode())


def test_alerting_switches_name_and_severities():
    off = the_slo(HEAD + RATIO + "  alerting: {disabled: true}\n")["alerting"]
    assert off["page"] is False and off["ticket"] is False and off["no_data"] is False
    no_burn = the_slo(HEAD + RATIO + "  alerting: {burnrates: false, name: ApiBurn}\n")["alerting"]
    assert no_burn["page"] is False and no_burn["ticket"] is False and no_burn["no_data"]
    assert no_burn["labels"] == {"pyrra_alert": "ApiBurn"}
    no_absent = the_slo(HEAD + RATIO + "  alerting: {absent: false}\n")["alerting"]
    assert no_absent["no_data"] is False and no_absent["page"]["windows"]
    sev = the_slo(
        HEAD + RATIO + "  alerting: {severities: {fastBurn: p1, mediumBurn: p1, slowBurn: p3, absent: p2}}\n"
    )
    assert sev["alerting"]["page"]["severity"] == "p1" and sev["alerting"]["ticket"]["severity"] == "p3"
    assert sev["alerting"]["no_data"]["severity"] == "p2"
    typo = convert(HEAD + RATIO + "  alerting: {disable: true}\n")
    assert any("disable is not a Pyrra alerting field" in str(w) for w in typo.warnings)


def test_latency_with_equality_matchers_is_the_histogram_kind():
    text = HEAD + RATIO.replace(
        """    ratio:
      errors: {metric: 'http_requests_total{job="api",code=~"5.."}'}
      total: {metric: 'http_requests_total{job="api"}'}""",
        """    latency:
      success: {metric: 'http_request_duration_seconds_bucket{job="api",le="0.5"}'}
      total: {metric: 'http_request_duration_seconds_count{job="api"}'}""",
    )
    assert the_slo(text)["sli"] == {
        "latency": {
            "histogram": "http_request_duration_seconds",
            "threshold": 0.5,
            "selector": {"job": "api"},
        }
    }


def test_latency_with_regex_matchers_is_total_minus_success():
    sli = the_slo((CORPUS / "caddy-response-latency.yaml").read_text())["sli"]
    count = 'caddy_http_response_duration_seconds_count{job="caddy",handler="subroute",code!~"5.."}'
    bucket = (
        'caddy_http_response_duration_seconds_bucket{job="caddy",handler="subroute",code!~"5..",le="0.05"}'
    )
    assert sli == {
        "error_query": f"sum (rate({count}[{{{{window}}}}])) - sum (rate({bucket}[{{{{window}}}}]))",
        "total_query": f"sum (rate({count}[{{{{window}}}}]))",
    }


def test_native_latency_grouping_and_bool_gauge():
    native = the_slo((CORPUS / "pyrra-connect-latency.yaml").read_text())
    assert "histogram_fraction(0, 0.2, " in native["sli"]["error_query"]
    assert native["sli"]["total_query"].startswith(
        "label_replace(histogram_count(sum by (service, method) (rate("
    )
    assert native["group_by"] == ["pyrra_service", "method"]  # `service` is slodrift's own label
    probe = the_slo((CORPUS / "prometheus-probe-success.yaml").read_text())
    assert probe["group_by"] == ["target"]
    assert probe["sli"] == {
        "error_ratio_query": "1 - sum by (target) (sum_over_time(probe_success[{{window}}])) "
        "/ sum by (target) (count_over_time(probe_success[{{window}}]))"
    }
    grouped = the_slo((CORPUS / "prometheus-http.yaml").read_text())
    assert grouped["group_by"] == ["handler"] and set(grouped["sli"]) == {"errors", "total"}


def test_several_objects_documents_and_lists():
    two = convert((CORPUS / "nginx.yaml").read_text()).spec
    assert [s["name"] for s in two["services"][0]["slos"]] == ["nginx-api-errors", "nginx-api-latency"]
    items = "".join("  " + line + "\n" for line in (HEAD + RATIO).splitlines())
    as_list = convert("- " + items.lstrip()).spec
    assert as_list["services"][0]["slos"][0]["name"] == "api-errors"
    k8s_list = convert("apiVersion: v1\nkind: List\nitems:\n" + "- " + items.lstrip()).spec
    assert k8s_list == as_list


def test_errors_name_the_input_file_and_line():
    errs = errors_of(HEAD + RATIO.replace("  target: '99'\n", "  target: high\n"))
    assert errs == [
        "slo.yaml:8: spec.target: target 'high' is not a number (Pyrra's target is a percentage such as '99.5')"
    ]
    errs = errors_of(HEAD + RATIO.replace("'http_requests_total{job=\"api\"}'", "'sum(http_requests_total)'"))
    assert len(errs) == 1 and errs[0].startswith("slo.yaml:13: spec.indicator.ratio.total.metric: ")
    errs = errors_of(HEAD + RATIO + "    bool_gauge: {metric: up}\n")
    assert errs == [
        "slo.yaml:11: spec.indicator: give exactly one of ratio, latency, latencyNative, bool_gauge "
        "(found: ratio, bool_gauge)"
    ]
    errs = errors_of(HEAD + RATIO.replace("4w", "a month"))
    assert errs == ["slo.yaml:9: spec.window: window 'a month' must be a duration such as 28d, 4w or 7d"]
    errs = errors_of("version: prometheus/v1\nservice: x\nslos: []\n")
    assert "use `slodrift import sloth`" in errs[0]


@pytest.mark.slow
def test_cli_import_pyrra(tmp_path: Path):
    out = tmp_path / "spec.yml"
    r = run_cli("import", "pyrra", str(CORPUS / "thanos-http.yaml"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    r = run_cli("check", str(out))
    assert r.returncode == 0, r.stderr
