"""The SLO rules under production conditions (issue 12), each case fed raw counters as a scraped
service exposes them, with the expected outcome worked out by hand here, not by the generator.

Each test renders a small spec with the real generator, then runs promtool on a hand-written test
against the rendered rules. Times are minutes after the rules were loaded (promtool's time 0); rule
evaluations happen every minute, inputs are scraped every minute unless a test says otherwise.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from slodrift.generator.promql import parse_duration
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec_text

pytestmark = pytest.mark.slow  # every test runs promtool in a subprocess (0.3 to 3 s each)

AVAILABILITY = """\
- name: availability
  objective: 99.9
  sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
"""


def spec_text(slos: str, service_labels: str = "{team: payments}", defaults: str = "") -> str:
    """A one-service spec (`api`, selector job="api") with the given SLOs (YAML list items)."""
    return (
        "version: 1\n"
        "defaults:\n  evaluation_interval: 1m\n"
        + textwrap.indent(textwrap.dedent(defaults), "  ")
        + "services:\n"
        + f"  - name: api\n    labels: {service_labels}\n    selector: {{job: api}}\n    slos:\n"
        + textwrap.indent(textwrap.dedent(slos), "      ")
    )


def rendered(tmp: Path, text: str) -> Path:
    """Renders the spec under tmp (rules/, promtool-tests/); returns the SLO recordings' rule file."""
    spec = load_spec_text("spec.yml", text.encode())
    for rel, content in render([spec]).items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return tmp / "rules" / "api.slo.yml"


ORDER = ["slodrift-slo-api", "slodrift-slo-alerts-api", "slodrift-slo-data-api"]


def loaded(rules: Path) -> dict[str, Any]:
    """`rule_files` and `group_eval_order` of a test that loads every SLO rule file of the service
    (`rules` is the recordings' file; the burn alerts and the alerts on the SLI's data are beside it)."""
    files = sorted(rules.parent.glob("api.slo*.yml"))
    groups = {g["name"] for f in files for g in yaml.safe_load(f.read_text())["groups"]}
    return {"rule_files": [str(f) for f in files], "group_eval_order": [g for g in ORDER if g in groups]}


def promtool_passes(promtool: str, tmp: Path, rules: Path, group: dict[str, Any]) -> None:
    test = {
        **loaded(rules),
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", **group}],
    }
    path = tmp / "case.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    r = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=240, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr


def counter(per_minute: list[float], start: float = 0.0) -> str:
    """A counter sampled every minute: `start`, then the running sum of `per_minute`."""
    values, v = [start], start
    for x in per_minute:
        v += x
        values.append(v)
    return " ".join(repr(float(x)) for x in values)


def firing(alertname: str, at: str, count: int, **labels: str) -> dict[str, Any]:
    """`count` alerts named `alertname` with these labels firing at `at`."""
    matchers = ",".join(
        f'{k}="{v}"' for k, v in {"alertname": alertname, "alertstate": "firing", **labels}.items()
    )
    return {
        "expr": f"count(ALERTS{{{matchers}}}) or vector(0)",
        "eval_time": at,
        "exp_samples": [{"labels": "{}", "value": count}],
    }


def value(expr: str, at: str, labels: str, v: float) -> dict[str, Any]:
    return {"expr": expr, "eval_time": at, "exp_samples": [{"labels": labels, "value": v}]}


def absent(expr: str, at: str) -> dict[str, Any]:
    return {"expr": expr, "eval_time": at, "exp_samples": []}


BURN = "SlodriftErrorBudgetBurn"


def test_1_ratio_only_sli_pages_at_50_percent_errors(promtool: str, tmp_path: Path):
    """A ratio-only SLI at 50 % errors must page. Before, its traffic guard read the constant weight
    of 1 event per interval as 1/60 req/s, under the default 0.1, so it never fired."""
    slos = """\
    - name: ratio
      objective: 99
      sli:
        error_ratio_query: 'sum(rate(errs_total[{{window}}])) / sum(rate(reqs_total[{{window}}]))'
    """
    rules = rendered(tmp_path, spec_text(slos))
    minutes = 70
    inputs = [
        {"series": 'reqs_total{job="api"}', "values": counter([100] * minutes)},
        {"series": 'errs_total{job="api"}', "values": counter([50] * minutes)},
    ]
    # The ratio (0.5, 50x the 1 % budget) exists from minute 1 (rate needs two samples). The 1h window
    # counts as covered at 54 of its 60 intervals: firing from minute 54 (pages have no `for`).
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                firing(BURN, "50m", 0),
                firing(BURN, "60m", 1, slo="ratio", team="payments", long_window="1h", short_window="5m"),
            ],
        },
    )


def test_2_label_change_keeps_every_window_evaluating(promtool: str, tmp_path: Path):
    """A service label renamed (team: payments -> squad: payments) by a deploy of the rules: slices
    recorded under the old labels stay inside every window. Before, `sum_over_time` then returned two
    series that the rule's labels made identical, and every window rule failed for a whole window."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY, service_labels="{squad: payments}"))
    old = '{team="payments",service="api",slo="availability",event="%s"}'
    # First hour: slices the old rules recorded (fed as they were), 100 requests and 1 error a minute.
    old_slices = [
        {"series": "slodrift:sli_events:increase1m" + old % "total", "values": "_ " + " ".join(["100"] * 60)},
        {"series": "slodrift:sli_events:increase1m" + old % "error", "values": "_ " + " ".join(["1"] * 60)},
        {
            "series": "slodrift:sli_events:increase1m" + old % "interval",
            "values": "_ " + " ".join(["1"] * 60),
        },
    ]
    # From minute 60 the raw counters (scraped since then) feed the new rules: 200 a minute, 4 errors.
    gap = "_x60 "
    raw = [
        {"series": 'http_requests_total{job="api",code="200"}', "values": gap + counter([196] * 60)},
        {"series": 'http_requests_total{job="api",code="500"}', "values": gap + counter([4] * 60)},
    ]
    # At minute 120: the new slices are minutes 61..120 (the first raw sample is at 60, so minute 60
    # has no slice); the old ones 1..60. 2h window: 60 x 100 + 60 x 200 requests, 60 + 240 errors.
    new = '{squad="payments",service="api",slo="availability",event="%s"}'
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": old_slices + raw,
            "promql_expr_test": [
                value(
                    'slodrift:sli_events:sum2h{event="total"}',
                    "120m",
                    "slodrift:sli_events:sum2h" + new % "total",
                    18000,
                ),
                value(
                    'slodrift:sli_events:sum2h{event="error"}',
                    "120m",
                    "slodrift:sli_events:sum2h" + new % "error",
                    300,
                ),
                value(
                    'slodrift:sli_events:sum2h{event="interval"}',
                    "120m",
                    "slodrift:sli_events:sum2h" + new % "interval",
                    120,
                ),
                value(
                    "slodrift:sli_error:ratio_rate30m",
                    "120m",
                    'slodrift:sli_error:ratio_rate30m{squad="payments",service="api",slo="availability",window="30m"}',
                    4 / 200,
                ),
            ],
        },
    )


def test_3_total_outage_of_a_quiet_service_pages(promtool: str, tmp_path: Path):
    """100 % errors at 0.08 req/s: before, the default 0.1 req/s guard kept it silent for good. Now
    the guard asks for 5 errors in the long window: 4.8 a minute pass it within two minutes."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY))
    minutes = 70
    inputs = [{"series": 'http_requests_total{job="api",code="503"}', "values": counter([4.8] * minutes)}]
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                firing(BURN, "50m", 0),  # the 1h window is not covered yet
                firing(BURN, "60m", 1, long_window="1h", team="payments", severity="critical"),
            ],
        },
    )


def test_3_quiet_healthy_service_does_not_page(promtool: str, tmp_path: Path):
    """The other side of the guard: a service at 0.05 req/s with 3 failures in an hour (1.7 %, over the
    1.44 % page threshold of a 99.9 % SLO) is not an outage: fewer than 5 errors, no page."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY))
    minutes = 70
    errors = [1.0 if m in (55, 62, 66) else 0.0 for m in range(minutes)]
    inputs = [
        {"series": 'http_requests_total{job="api",code="200"}', "values": counter([3 - e for e in errors])},
        {"series": 'http_requests_total{job="api",code="500"}', "values": counter(errors)},
    ]
    promtool_passes(
        promtool, tmp_path, rules, {"input_series": inputs, "promql_expr_test": [firing(BURN, "68m", 0)]}
    )


def test_4_vanished_targets_page_within_ten_minutes(promtool: str, tmp_path: Path):
    """Every raw series of the SLI and the service's targets gone at minute 20 (Prometheus writes
    staleness markers): SlodriftSLIAbsent, critical, 5 minutes later. Before, only a warning after
    about 34 minutes. It carries the service's labels (team) for routing."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY))
    inputs = [
        {"series": 'http_requests_total{job="api",code="200"}', "values": counter([100] * 20) + " stale"},
        {"series": 'up{job="api"}', "values": " ".join(["1"] * 21) + " stale"},
    ]
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                firing("SlodriftSLIAbsent", "24m", 0),
                firing(
                    "SlodriftSLIAbsent", "28m", 1, team="payments", severity="critical", slo="availability"
                ),
                firing("SlodriftSLINoData", "28m", 0),
            ],
        },
    )


def test_4_idle_service_with_targets_up_does_not_page(promtool: str, tmp_path: Path):
    """A service whose counters do not exist (no request since it started: client libraries create a
    labelled counter on first use) but whose targets are up is idle, not gone: no page, a warning."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY))
    inputs = [{"series": 'up{job="api"}', "values": " ".join(["1"] * 41)}]
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                firing("SlodriftSLIAbsent", "40m", 0),
                firing("SlodriftSLINoData", "40m", 1, team="payments", severity="warning"),
            ],
        },
    )


def test_5_restarted_counter_passing_its_old_value_counts_every_event(promtool: str, tmp_path: Path):
    """A pod restarts within an interval and its error counter passes its old value (3) before the next
    evaluation: 5 errors, counted as 5 (as increase() counts them), not as 5 - 3 = 2. Scraped every 20s."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY))
    # Samples every 20 s. Errors: 0 until 2m, 3 at 2m (3 errors in the interval), then the pod restarts:
    # 1 at 2m20s, 4 at 2m40s, 5 at 3m: 5 errors in the interval (2m, 3m], all after the restart.
    errors = "0 0 0 0 0 0 3 1 4 5 5 5 5 5 5 5"
    ok = " ".join(str(100 * k) for k in range(16))
    test = {
        **loaded(rules),
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "20s",
                "input_series": [
                    {"series": 'http_requests_total{job="api",code="500"}', "values": errors},
                    {"series": 'http_requests_total{job="api",code="200"}', "values": ok},
                ],
                "promql_expr_test": [
                    value(
                        'slodrift:sli_events:increase1m{event="error"}',
                        at,
                        'slodrift:sli_events:increase1m{team="payments",service="api",slo="availability",event="error"}',
                        v,
                    )
                    for at, v in (("2m", 3), ("3m", 5), ("4m", 0))
                ],
            }
        ],
    }
    path = tmp_path / "case.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    r = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=240, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_7_warm_up_no_page_from_a_partial_window(promtool: str, tmp_path: Path):
    """Rules loaded onto a service with long history; a 2 % error burst two minutes later. Before, the
    page fired after six minutes: the "6h" window held eight slices. Now no window acts complete
    before 90 % of it is covered; budget remaining is absent (coverage says how far along it is)."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY))
    minutes = 40
    errors = [0.0, 0.0] + [2.0] * (minutes - 2)  # 2 of 100 a minute from minute 2
    inputs = [
        {
            "series": 'http_requests_total{job="api",code="200"}',
            "values": counter([100 - e for e in errors], 5e6),
        },
        {"series": 'http_requests_total{job="api",code="500"}', "values": counter(errors, 1234)},
    ]
    ids = '{team="payments",service="api",slo="availability",window="30d"}'
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                firing(BURN, "6m", 0),
                firing(BURN, "30m", 0),
                absent("slodrift:slo_error_budget_remaining:ratio", "30m"),
                absent("slodrift:slo_burn:rate30d", "30m"),
                value(
                    "slodrift:slo_period_coverage:ratio",
                    "30m",
                    "slodrift:slo_period_coverage:ratio" + ids,
                    30 / 43200,
                ),
            ],
        },
    )


def test_10_11_alert_shows_current_burn_and_service_labels(promtool: str, tmp_path: Path):
    """The page's description carries the burn rate of the pair that fired, its labels say which pair,
    and an annotation using a service label renders on the burn and the no-data alerts alike."""
    slos = """\
    - name: availability
      objective: 99.9
      sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
      alerting:
        annotations: {team_page: 'https://wiki.example.com/{{ $labels.team }}', now: '{{ $value | printf "%.1f" }}x'}
    """
    rules = rendered(tmp_path, spec_text(slos))
    minutes = 62
    inputs = [
        {"series": 'http_requests_total{job="api",code="200"}', "values": counter([95] * minutes)},
        {"series": 'http_requests_total{job="api",code="500"}', "values": counter([5] * minutes)},
    ]
    doc = yaml.safe_load(rules.with_name("api.slo-alerts.yml").read_text())
    burn = next(r for g in doc["groups"] for r in g["rules"] if r.get("alert") == BURN)
    labels = {
        "team": "payments",
        "service": "api",
        "slo": "availability",
        "severity": "critical",
        "tier": "page",
        "long_window": "1h",
        "short_window": "5m",
    }
    annotations = {k: v for k, v in burn["annotations"].items()}
    # 5 % errors = 50x the 0.1 % budget: the value is 50.0 and the team renders.
    expected = {
        **{k: v for k, v in annotations.items() if "{{" not in v},
        "team_page": "https://wiki.example.com/payments",
        "now": "50.0x",
        "summary": "api availability: error budget burning too fast (page, 1h/5m)",
        "description": (
            "The availability SLO of api (99.9% over 30d) is burning its error budget at 50.0x over the "
            "last 1h, and faster than 14.4x over the last 5m too (alert threshold 14.4x: 1.44% errors)."
        ),
    }
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "alert_rule_test": [
                {
                    "eval_time": "60m",
                    "alertname": BURN,
                    "exp_alerts": [{"exp_labels": labels, "exp_annotations": expected}],
                }
            ],
        },
    )


def test_8_seven_day_window_scales_windows_not_factors(promtool: str, tmp_path: Path):
    """At 7d, the default pairs keep the workbook's factors (14.4, 6, 3, 1) and their windows scale
    with the SLO window (1h -> 14m at 7/30), so each pair fires at the same share of the budget and a
    service on track to meet its SLO (0.9x burn everywhere) never gets a ticket; at 1.1x it does."""
    slos = """\
    - name: weekly
      objective: 99.9
      window: 7d
      sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
    """
    text = spec_text(slos)
    spec = load_spec_text("spec.yml", text.encode())
    (slo,) = spec.services[0].slos
    pairs = {(t.name, bw.long, bw.short, float(bw.factor)) for t in slo.tiers for bw in t.windows}
    assert pairs == {
        ("page", 14 * 60, 60, 14.4),
        ("page", 84 * 60, 7 * 60, 6.0),
        ("ticket", 336 * 60, 28 * 60, 3.0),
        ("ticket", 1008 * 60, 84 * 60, 1.0),
    }
    assert spec.warnings == ()
    rules = rendered(tmp_path, text)
    # Window sums fed directly (how they come from counters is shown above): fully covered windows at
    # a given burn, for 20 minutes (beyond any tier's `for`).
    inputs = []
    for case, burn in (("on-track", 0.9), ("slow-burn", 1.1)):
        for w in ("1m", "7m", "14m", "28m", "1h24m", "5h36m", "16h48m", "7d"):
            slices = parse_duration(w) // 60
            ids = f'service="api",slo="weekly",case="{case}",team="payments"'
            total = 1000.0 * slices
            for event, v in (("total", total), ("error", total * 0.001 * burn), ("interval", float(slices))):
                inputs.append(
                    {
                        "series": f'slodrift:sli_events:sum{w}{{{ids},event="{event}"}}',
                        "values": f"{v!r}+0x20",
                    }
                )
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                firing(BURN, "18m", 0, case="on-track"),
                firing(BURN, "18m", 1, case="slow-burn", tier="ticket", long_window="16h48m"),
            ],
        },
    )


def test_9_ninety_percent_objective_adapts_defaults_and_pages(promtool: str, tmp_path: Path, capsys):
    """A 90 % objective: the default 14.4x pair would need 144 % errors. It is capped at 9x (90 %
    errors) with a warning, not refused; a 95 %-errors outage pages on it."""
    slos = """\
    - name: latency
      objective: 90
      sli: {latency: {histogram: http_request_duration_seconds, threshold: 0.3}}
    """
    text = spec_text(slos)
    spec = load_spec_text("spec.yml", text.encode())
    assert (
        len(spec.warnings) == 1 and "14.4x burn over 1h/5m" in spec.warnings[0] and "9x" in spec.warnings[0]
    )
    assert "spec.yml:" in spec.warnings[0] and "alerting.page.windows[0]" in spec.warnings[0]
    rules = rendered(tmp_path, text)
    minutes = 62
    inputs = [
        {"series": 'http_request_duration_seconds_count{job="api"}', "values": counter([100] * minutes)},
        {
            "series": 'http_request_duration_seconds_bucket{job="api",le="0.3"}',
            "values": counter([5] * minutes),
        },
    ]
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [firing(BURN, "60m", 1, long_window="1h", slo="latency")],
        },
    )
    # ... and everything generated for it passes its own generated tests
    r = subprocess.run(
        [promtool, "test", "rules", *map(str, sorted((tmp_path / "promtool-tests").glob("api.slo*.yml")))],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert r.returncode == 0, r.stdout


GROUPED = """\
- name: availability
  objective: 99.9
  group_by: [route]
  sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
"""


def test_13_grouped_slo_pages_for_the_failing_route_only(promtool: str, tmp_path: Path):
    """Issue 13: two routes, /a at 50 % errors and /b healthy, 100 requests a minute each. Per route,
    the 1h window holds minutes 1..60 at minute 60: /a's error ratio is exactly 50/100 = 0.5 (500x the
    budget), /b's 0. Only /a pages (1h/5m, covered from minute 54), with `route` on the
    alert; before, `sum(...)` flattened both routes into 0.25."""
    rules = rendered(tmp_path, spec_text(GROUPED))
    minutes = 70
    inputs = [
        {"series": 'http_requests_total{job="api",route="/a",code="200"}', "values": counter([50] * minutes)},
        {"series": 'http_requests_total{job="api",route="/a",code="500"}', "values": counter([50] * minutes)},
        {
            "series": 'http_requests_total{job="api",route="/b",code="200"}',
            "values": counter([100] * minutes),
        },
    ]
    ratio = 'slodrift:sli_error:ratio_rate1h{service="api",slo="availability",route="%s"}'
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                value(ratio % "/a", "60m", _labels(ratio % "/a"), 0.5),
                value(ratio % "/b", "60m", _labels(ratio % "/b"), 0.0),
                firing(BURN, "60m", 1, route="/a", long_window="1h", team="payments"),
                firing(BURN, "60m", 0, route="/b"),
                firing(BURN, "60m", 1),
            ],
        },
    )


def test_13_max_groups_keeps_the_limit_and_says_so(promtool: str, tmp_path: Path):
    """`max_groups: 2` with three routes: two groups are recorded (topk by traffic: /a and /b, 300 and
    200 requests a minute, not /c at 100), and SlodriftSLOGroupLimit fires after its 15 minutes."""
    rules = rendered(
        tmp_path, spec_text(GROUPED.replace("group_by: [route]", "group_by: [route]\n  max_groups: 2"))
    )
    minutes = 30
    inputs = [
        {
            "series": f'http_requests_total{{job="api",route="{r}",code="200"}}',
            "values": counter([n] * minutes),
        }
        for r, n in (("/a", 300), ("/b", 200), ("/c", 100))
    ]
    total = 'slodrift:sli_events:increase1m{service="api",slo="availability",event="total"}'
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                {
                    "expr": f"count({total})",
                    "eval_time": "20m",
                    "exp_samples": [{"labels": "{}", "value": 2}],
                },
                {"expr": f'count({total[:-1]},route="/c"}})', "eval_time": "20m", "exp_samples": []},
                firing("SlodriftSLOGroupLimit", "25m", 1, slo="availability"),
                firing("SlodriftSLOGroupLimit", "10m", 0),
            ],
        },
    )


def route_counter(
    route: str, code: str, per_minute: list[float], first: int = 0, stale: bool = False
) -> dict:
    """The raw request counter of one route and status code: no sample before minute `first`, then
    `counter(per_minute)`, then (with `stale`) the staleness marker Prometheus writes when the series
    goes away (target gone, or the route no longer exported)."""
    values = (f"_x{first} " if first else "") + counter(per_minute) + (" stale" if stale else "")
    return {"series": f'http_requests_total{{job="api",route="{route}",code="{code}"}}', "values": values}


def ids(name: str, route: str, **extra: str) -> str:
    """A recorded series' full label set (promtool's exp_samples form) for one route of the grouped SLO."""
    labels = {"service": "api", "slo": "availability", "team": "payments", "route": route, **extra}
    return "{" + ", ".join([f'__name__="{name}"'] + [f'{k}="{v}"' for k, v in labels.items()]) + "}"


def test_13_group_appearing_mid_window_gets_its_own_ratio_at_once(promtool: str, tmp_path: Path):
    """A route first seen 90 minutes after the rules were loaded (route /a has traffic from the start):
    its counters' first samples are at minute 90, so its first slice is minute 91 (a new series adds
    nothing until its second sample). From then on it has its own exact ratio (50 errors of 100 a
    minute: 0.5 in every window), compliance (0, while /a's is 1) and coverage (30 of the 30d window's
    43,200 intervals at minute 120, /a 120). Its alert windows' coverage is the SLO's (the rules have run
    since minute 0), not its own: its events before minute 91 are known to be none. So at 50 % errors
    its 1h/5m page fires at its first slice (minute 91: 50 errors, over min_error_events; pages have no
    `for`), with `route`. Nothing fires for /a, and no no-data or absent alert for the SLO at any time."""
    rules = rendered(tmp_path, spec_text(GROUPED))
    minutes, appear = 150, 90
    inputs = [
        route_counter("/a", "200", [100] * minutes),
        route_counter("/new", "200", [50] * (minutes - appear), first=appear),
        route_counter("/new", "500", [50] * (minutes - appear), first=appear),
        {"series": 'up{job="api"}', "values": f"1+0x{minutes}"},
    ]
    ratio = "slodrift:sli_error:ratio_rate%s"
    coverage = "slodrift:slo_period_coverage:ratio"
    compliant = "slodrift:slo_compliant:bool5m"
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                absent('slodrift:sli_events:increase1m{route="/new"}', "90m"),
                absent(f'{ratio % "1h"}{{route="/new"}}', "90m"),
                value(f'{ratio % "1h"}{{route="/new"}}', "91m", ids(ratio % "1h", "/new", window="1h"), 0.5),
                value(f'{ratio % "5m"}{{route="/new"}}', "91m", ids(ratio % "5m", "/new", window="5m"), 0.5),
                value(
                    'slodrift:sli_events:sum1h{route="/new",event="interval"}',
                    "91m",
                    ids("slodrift:sli_events:sum1h", "/new", event="interval"),
                    1,
                ),
                value(
                    f'{compliant}{{route="/new"}}',
                    "95m",
                    ids(compliant, "/new", window="5m", compliance="availability"),
                    0,
                ),
                value(
                    f'{compliant}{{route="/a"}}',
                    "95m",
                    ids(compliant, "/a", window="5m", compliance="availability"),
                    1,
                ),
                value(f'{coverage}{{route="/new"}}', "120m", ids(coverage, "/new", window="30d"), 30 / 43200),
                value(f'{coverage}{{route="/a"}}', "120m", ids(coverage, "/a", window="30d"), 120 / 43200),
                firing(BURN, "90m", 0),
                firing(BURN, "91m", 1, route="/new", long_window="1h", short_window="5m", team="payments"),
                firing(BURN, "91m", 1),
                *(
                    firing(name, at, 0)
                    for name in ("SlodriftSLINoData", "SlodriftSLIAbsent")
                    for at in ("100m", "145m")
                ),
            ],
        },
    )


def test_13_group_appearing_with_an_outage_pages_once_it_has_enough_errors(promtool: str, tmp_path: Path):
    """The rules have run 90 minutes (route /a, healthy: every window of the SLO is covered); route /new
    appears at minute 90 failing half of its 100 requests a minute. Its 1h window is all of its events
    (none before minute 90): 50 % errors, 500x the budget, with 50 errors from its first slice (over
    the 5 of min_error_events). A fast burn as plain as this should page within minutes, as it
    would for a route that had existed, idle, all along; 10 minutes is a wide margin."""
    rules = rendered(tmp_path, spec_text(GROUPED))
    minutes, appear = 100, 90
    inputs = [
        route_counter("/a", "200", [100] * minutes),
        route_counter("/new", "200", [50] * (minutes - appear), first=appear),
        route_counter("/new", "500", [50] * (minutes - appear), first=appear),
        {"series": 'up{job="api"}', "values": f"1+0x{minutes}"},
    ]
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [firing(BURN, "100m", 1, route="/new", long_window="1h")],
        },
    )


def test_13_group_disappearing_does_not_page_the_slo(promtool: str, tmp_path: Path):
    """Four routes, 100 requests a minute each, all scraped until minute 70. /a goes on, healthy.
    /b (50 % errors) and /c (healthy) go away at minute 70 (staleness markers at 71: their target is
    gone or the routes are no longer exported); /d (50 % errors) stays exported with no more requests.
    /b and /d page at minute 60 (the windows covered). After minute 70 neither pages for long: /b's
    slices stop, so its 5m window is empty (no ratio) from minute 76; /d's 5m window holds no request
    from minute 75 (0/0, no ratio). Their 1h windows keep their past: at minute 100 both hold
    slices 41..70, 1,500 errors of 3,000 requests (0.5). No alert of any kind at minute 100: no page,
    and no absent or no-data alert for the SLO while /a reports."""
    rules = rendered(tmp_path, spec_text(GROUPED))
    minutes, stop = 100, 70
    inputs = [
        route_counter("/a", "200", [100] * minutes),
        route_counter("/b", "200", [50] * stop, stale=True),
        route_counter("/b", "500", [50] * stop, stale=True),
        route_counter("/c", "200", [100] * stop, stale=True),
        route_counter("/d", "200", [50] * stop + [0] * (minutes - stop)),
        route_counter("/d", "500", [50] * stop + [0] * (minutes - stop)),
        {"series": 'up{job="api"}', "values": f"1+0x{minutes}"},
    ]
    ratio1h = "slodrift:sli_error:ratio_rate1h"
    compliant = "slodrift:slo_compliant:bool5m"
    errors1h = 'slodrift:sli_events:sum1h{route="%s",event="error"}'
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                firing(BURN, "60m", 1, route="/b", long_window="1h"),
                firing(BURN, "60m", 1, route="/d", long_window="1h"),
                firing(BURN, "60m", 2),
                firing(BURN, "70m", 2),
                firing(BURN, "76m", 0),
                absent('slodrift:sli_events:increase1m{route="/b"}', "76m"),
                absent('slodrift:sli_error:ratio_rate5m{route=~"/b|/c"}', "76m"),
                value(f'{ratio1h}{{route="/b"}}', "100m", ids(ratio1h, "/b", window="1h"), 0.5),
                value(f'{ratio1h}{{route="/d"}}', "100m", ids(ratio1h, "/d", window="1h"), 0.5),
                value(errors1h % "/b", "100m", ids("slodrift:sli_events:sum1h", "/b", event="error"), 1500),
                value(errors1h % "/d", "100m", ids("slodrift:sli_events:sum1h", "/d", event="error"), 1500),
                # only /a still has a 5m ratio that counts for compliance
                value(compliant, "100m", ids(compliant, "/a", window="5m", compliance="availability"), 1),
                {
                    "expr": "count(ALERTS) or vector(0)",
                    "eval_time": "100m",
                    "exp_samples": [{"labels": "{}", "value": 0}],
                },
            ],
        },
    )


def test_13_quiet_group_does_not_hide_a_busy_outage(promtool: str, tmp_path: Path):
    """Route /busy serves 1,000 requests a minute, 50 failing (5 %, 50x the 0.1 % budget); route /quiet
    one request every 15 minutes, each failing. At minute 60 (1h window: slices 1..60): /busy's ratio
    is 3,000 / 60,000 = 0.05, burn 50x, and it pages with `route="/busy"`; /quiet's ratio is 4 / 4 = 1,
    over both page thresholds, but 4 errors are under min_error_events (5): the guard counts each
    route's own errors, so /busy's 3,000 do not lift /quiet over it, and /quiet's few requests do not
    hold /busy under it. One page, for /busy."""
    rules = rendered(tmp_path, spec_text(GROUPED))
    minutes = 62
    quiet = [1.0 if m % 15 == 0 else 0.0 for m in range(1, minutes + 1)]  # at minutes 15, 30, 45, 60
    inputs = [
        route_counter("/busy", "200", [950] * minutes),
        route_counter("/busy", "500", [50] * minutes),
        route_counter("/quiet", "500", quiet),
        {"series": 'up{job="api"}', "values": f"1+0x{minutes}"},
    ]
    ratio1h = "slodrift:sli_error:ratio_rate1h"
    burn = "slodrift:slo_burn:rate1h"
    errors1h = 'slodrift:sli_events:sum1h{route="%s",event="error"}'
    promtool_passes(
        promtool,
        tmp_path,
        rules,
        {
            "input_series": inputs,
            "promql_expr_test": [
                value(f'{ratio1h}{{route="/busy"}}', "60m", ids(ratio1h, "/busy", window="1h"), 0.05),
                value(f'{burn}{{route="/busy"}}', "60m", ids(burn, "/busy", window="1h"), 50),
                value(f'{ratio1h}{{route="/quiet"}}', "60m", ids(ratio1h, "/quiet", window="1h"), 1),
                value(
                    errors1h % "/quiet", "60m", ids("slodrift:sli_events:sum1h", "/quiet", event="error"), 4
                ),
                firing(BURN, "60m", 1, route="/busy", long_window="1h", short_window="5m", team="payments"),
                firing(BURN, "60m", 1),
            ],
        },
    )


def _labels(selector: str) -> str:
    """A recorded ratio's label set as promtool prints it: the selector's matchers plus the service's
    static label and the ratio's window, in promtool's order."""
    inner = selector[selector.index("{") + 1 : -1]
    name = selector[: selector.index("{")]
    pairs = dict(p.split("=", 1) for p in inner.split(","))
    pairs["team"] = '"payments"'
    pairs["window"] = f'"{name.rsplit("ratio_rate", 1)[1]}"'
    body = ", ".join(f"{k}={v}" for k, v in sorted(pairs.items()))
    return f'{{__name__="{name}", {body}}}'


SLICE = 'slodrift:sli_events:increase1m{{event="{event}"}}'
SLICE_LABELS = (
    'slodrift:sli_events:increase1m{{team="payments",service="api",slo="availability",event="{event}"}}'
)
SUM5M = 'slodrift:sli_events:sum5m{{event="{event}"}}'
SUM5M_LABELS = 'slodrift:sli_events:sum5m{{team="payments",service="api",slo="availability",event="{event}"}}'


def events_at(expr: str, labels: str, at: str, **events: float) -> list[dict[str, Any]]:
    return [value(expr.format(event=e), at, labels.format(event=e), v) for e, v in events.items()]


SEPARATE_ERRORS = """\
- name: availability
  objective: 99.9
  sli: {errors: 'http_failures_total', total: http_requests_total}
"""


@pytest.mark.parametrize("slo", ["errors from the total's read", "errors read on their own"])
def test_19_scrapes_slower_than_evaluations_count_every_interval(promtool: str, tmp_path: Path, slo: str):
    """Counters scraped every 3 minutes, at 30 s past the minute (1m30s, 4m30s, 7m30s, ...), rules
    evaluated every minute: every interval has a slice (one without a new sample counted nothing: 0,
    not missing), so windows count as covered, and the events are exact: 300 requests and 15 errors
    per scrape. Both ways of reading errors: from the total's counters (`code=~"5.."`), and from a
    counter of their own."""
    separate = slo == "errors read on their own"
    rules = rendered(tmp_path, spec_text(SEPARATE_ERRORS if separate else AVAILABILITY))

    def scraped(per: int) -> str:
        return " ".join(str(per * (k // 6)) if k % 6 == 3 else "_" for k in range(40))

    inputs = [
        {"series": 'http_requests_total{job="api",code="200"}', "values": scraped(285)},
        {"series": 'http_requests_total{job="api",code="500"}', "values": scraped(15)},
    ]
    if separate:
        inputs.append({"series": 'http_failures_total{job="api"}', "values": scraped(15)})
    # The slice at 8m holds the scrape at 7m30s, the one at 9m none; the 5m window at 14m holds the
    # slices 10m..14m: the scrapes at 10m30s and 13m30s.
    checks = [
        *events_at(SLICE, SLICE_LABELS, "8m", total=300, error=15, interval=1),
        *events_at(SLICE, SLICE_LABELS, "9m", total=0, error=0, interval=1),
        *events_at(SUM5M, SUM5M_LABELS, "14m", total=600, error=30, interval=5),
    ]
    promtool_passes(
        promtool, tmp_path, rules, {"interval": "30s", "input_series": inputs, "promql_expr_test": checks}
    )


def test_19_a_failed_scrape_gap_is_counted_when_scraping_resumes(promtool: str, tmp_path: Path):
    """Scraped every 30 s; the scrapes from 5m30s to 9m fail (a staleness marker, then nothing: an
    overloaded target timing out during an incident), so the counter has no sample between 5m and
    9m30s. The events of the gap are counted at 10m, when scraping has resumed, from the last good
    sample: nothing is lost. The intervals ending at 7m, 8m and 9m, with no sample and the counter
    stale, have no slice. 100 requests and 2 errors per 30 s."""
    rules = rendered(tmp_path, spec_text(AVAILABILITY))

    def scraped(per: int) -> str:
        values = [str(per * k) for k in range(11)] + ["stale"] + ["_"] * 7
        return " ".join(values + [str(per * k) for k in range(19, 30)])

    inputs = [
        {"series": 'http_requests_total{job="api",code="200"}', "values": scraped(98)},
        {"series": 'http_requests_total{job="api",code="500"}', "values": scraped(2)},
    ]
    checks = [
        *events_at(SLICE, SLICE_LABELS, "6m", total=0, error=0, interval=1),
        absent(SLICE.format(event="total"), "8m"),
        *events_at(SLICE, SLICE_LABELS, "10m", total=1000, error=20, interval=1),
        # 6m..10m: 0 at 6m, none at 7m..9m, 10 scrapes' worth at 10m
        *events_at(SUM5M, SUM5M_LABELS, "10m", total=1000, error=20, interval=2),
    ]
    promtool_passes(
        promtool, tmp_path, rules, {"interval": "30s", "input_series": inputs, "promql_expr_test": checks}
    )


def test_19_errors_taken_from_the_total_read_match_every_error_matcher(promtool: str, tmp_path: Path):
    """Errors given as the total's counters plus two matchers (5xx, and not the health check): the
    counters are read once, by whether they match each matcher (never by `handler` itself: at most
    4 series), and only the series matching both count as errors.
    Per minute: 100 good /api, 5 failed /api, 7 failed /health (the health check's 500s are not errors)."""
    slos = """\
    - name: availability
      objective: 99.9
      sli:
        errors: 'http_requests_total{code=~"5..",handler!="/health"}'
        total: http_requests_total
    """
    rules = rendered(tmp_path, spec_text(slos))
    assert "slodrift:sli_events_raw:increase1m" in rules.read_text()
    inputs = [
        {"series": 'http_requests_total{job="api",code="200",handler="/api"}', "values": counter([100] * 10)},
        {"series": 'http_requests_total{job="api",code="500",handler="/api"}', "values": counter([5] * 10)},
        {
            "series": 'http_requests_total{job="api",code="500",handler="/health"}',
            "values": counter([7] * 10),
        },
    ]
    checks = [
        *events_at(SLICE, SLICE_LABELS, "6m", total=112, error=5, interval=1),
        {
            "expr": "count(slodrift:sli_events_raw:increase1m)",
            "eval_time": "6m",
            "exp_samples": [{"labels": "{}", "value": 3}],
        },
    ]
    promtool_passes(promtool, tmp_path, rules, {"input_series": inputs, "promql_expr_test": checks})
