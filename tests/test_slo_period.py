"""The per-SLO figures over the SLO window (coverage, budget remaining, SLO-window burn) and the 5m
compliance, recorded for every SLO of a service by one rule per series name: values worked by hand from
window sums fed directly (30 days of slices would take 43,200 promtool steps; how the sums are built from
raw counters is the generated tests' job), for two SLOs with different budgets and SLI kinds, and an SLO
no longer in the spec whose sums linger."""

from __future__ import annotations

from pathlib import Path

import yaml
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec_text

from tests.test_slo_production import absent, promtool_passes, rendered, spec_text

SLOS = """\
- name: availability
  objective: 99.9
  sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
- name: latency
  objective: 99
  sli: {latency: {histogram: http_request_duration_seconds, threshold: 0.5}}
- name: checkout
  objective: 99.5
  sli: {errors: 'checkouts_total{code=~"5.."}', total: checkouts_total}
"""


def sums(slo: str, window: str, errors: float, total: float, intervals: float) -> list[dict[str, str]]:
    """A window's three sums for one SLO, held for 10 minutes."""
    out = []
    for event, v in (("error", errors), ("total", total), ("interval", intervals)):
        labels = f'team="payments",service="api",slo="{slo}",event="{event}"'
        out.append({"series": f"slodrift:sli_events:sum{window}{{{labels}}}", "values": f"{v}+0x10"})
    return out


def full(name: str, slo: str, window: str, **extra: str) -> str:
    labels = {"service": "api", "slo": slo, "team": "payments", "window": window, **extra}
    return "{" + ", ".join([f'__name__="{name}"'] + [f'{k}="{v}"' for k, v in labels.items()]) + "}"


def test_slo_window_figures_of_every_slo(promtool: str, tmp_path: Path):
    """availability (budget 0.001): 40 errors in 100,000 over 30d, 40,000 of 43,200 intervals covered
    (38,880 needed): ratio 0.0004, budget remaining 1 - 0.4 = 0.6, burn 0.4, coverage 40,000 / 43,200.
    latency (budget 0.01): 500 in 100,000 but 38,879 intervals, one short: coverage only. checkout
    (budget 0.005): 1,000 in 100,000, every interval: ratio 0.01, remaining 1 - 2 = -1, burn 2. 5m: 0 of
    100 (compliant, 1), 2 of 100 (0.02 > 0.01: 0) and 0 of 0 (idle: no compliance). `gone` (not in the
    spec): nothing at all."""
    rules = rendered(tmp_path, spec_text(SLOS))
    inputs = (
        sums("availability", "30d", 40, 100_000, 40_000)
        + sums("latency", "30d", 500, 100_000, 38_879)
        + sums("checkout", "30d", 1_000, 100_000, 43_200)
        + sums("gone", "30d", 40, 100_000, 40_000)
        + sums("availability", "5m", 0, 100, 5)
        + sums("latency", "5m", 2, 100, 5)
        + sums("checkout", "5m", 0, 0, 5)
        + sums("gone", "5m", 0, 100, 5)
    )
    remaining = "slodrift:slo_error_budget_remaining:ratio"
    burn = "slodrift:slo_burn:rate30d"
    coverage = "slodrift:slo_period_coverage:ratio"
    compliant = "slodrift:slo_compliant:bool5m"
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                {
                    "expr": remaining,
                    "eval_time": "5m",
                    "exp_samples": [
                        {"labels": full(remaining, "availability", "30d"), "value": 0.6},
                        {"labels": full(remaining, "checkout", "30d"), "value": -1},
                    ],
                },
                {
                    "expr": burn,
                    "eval_time": "5m",
                    "exp_samples": [
                        {"labels": full(burn, "availability", "30d"), "value": 0.4},
                        {"labels": full(burn, "checkout", "30d"), "value": 2},
                    ],
                },
                {
                    "expr": coverage,
                    "eval_time": "5m",
                    "exp_samples": [
                        {"labels": full(coverage, "availability", "30d"), "value": 40_000 / 43_200},
                        {"labels": full(coverage, "latency", "30d"), "value": 38_879 / 43_200},
                        {"labels": full(coverage, "checkout", "30d"), "value": 1},
                    ],
                },
                {
                    "expr": compliant,
                    "eval_time": "5m",
                    "exp_samples": [
                        {
                            "labels": full(compliant, "availability", "5m", compliance="availability"),
                            "value": 1,
                        },
                        {"labels": full(compliant, "latency", "5m", compliance="latency"), "value": 0},
                    ],
                },
                absent(f'{remaining}{{slo="latency"}}', "5m"),
                absent(f'{burn}{{slo="latency"}}', "5m"),
            ],
        },
    )


def _counts(spec: str) -> tuple[int, int]:
    files = render([load_spec_text("spec.yml", spec.encode())])
    records = [r["record"] for g in yaml.safe_load(files["rules/api.slo.yml"])["groups"] for r in g["rules"]]
    return records.count("slodrift:slo_compliant:bool5m"), records.count("slodrift:slo_period_coverage:ratio")


def test_one_rule_per_series_name_when_slos_share_their_parameters():
    """SLOs of one window and labels: one coverage rule, one compliance rule per SLI kind with two or
    more SLOs (a rule per SLO for a kind with one); an SLO with labels of its own gets a coverage rule of
    its own; a single SLO, a rule per SLO as before."""
    assert _counts(spec_text(SLOS)) == (2, 1)
    own = SLOS.replace("- name: latency", "- name: latency\n  labels: {owner: db}")
    assert _counts(spec_text(own)) == (2, 3)
    own = SLOS.replace("- name: checkout", "- name: checkout\n  labels: {owner: db}")
    assert _counts(spec_text(own)) == (3, 3)
    assert _counts(spec_text(SLOS[: SLOS.index("- name: latency")])) == (1, 1)
