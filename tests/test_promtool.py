"""The real promtool accepts every generated rule file and passes every generated test."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from slodrift.generator import promtool as promtool_lib
from slodrift.generator.render import render
from slodrift.generator.rules.slo import BURN_ALERT, NO_DATA_ALERT
from slodrift.generator.spec import load_spec, load_spec_text
from slodrift.generator.writer import write_tree

from tests.helpers import EXAMPLE, ROOT
from tests.mutation import assert_all_caught, caught

pytestmark = pytest.mark.slow

HOSTILE = [
    'quo"te',
    "back\\slash",
    "brace}",
    "new\nline",
    "{{ $value }}",
    "ünï ✓",
    "'single'",
    'a=~"b"} or vector(1)',
]


def promtool_run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def generate(spec_files, out: Path) -> dict[str, str]:
    files = render(spec_files)
    write_tree(out, files)
    return files


def assert_promtool_passes(promtool: str, out: Path) -> None:
    rules = sorted(str(p) for p in (out / "rules").glob("*.yml"))
    tests = sorted(str(p) for p in (out / "promtool-tests").glob("*.yml"))
    checked = promtool_run(promtool, "check", "rules", *rules, cwd=out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool_lib.test_rules([Path(t) for t in tests])  # one promtool per file, in parallel
    assert tested.ok, tested.output


def test_checked_in_golden_files_pass_promtool(promtool):
    assert_promtool_passes(promtool, ROOT)


def test_example_generated_elsewhere_passes_promtool(promtool, tmp_path):
    generate([load_spec(EXAMPLE)], tmp_path)
    assert_promtool_passes(promtool, tmp_path)


@pytest.mark.parametrize("interval", ["1s", "15s", "5m"])
def test_other_evaluation_intervals_pass_promtool(promtool, tmp_path, interval):
    """Slices of another interval: ranges, guard divisor and expected values all follow it."""
    text = EXAMPLE.read_text().replace("evaluation_interval: 1m", f"evaluation_interval: {interval}")
    assert f"evaluation_interval: {interval}" in text
    files = generate([load_spec_text("example.yml", text.encode())], tmp_path)
    rules = files["rules/checkout.slo.yml"]
    assert f"slodrift:sli_errors:increase{interval}" in rules
    checked = promtool_run(
        promtool, "check", "rules", *sorted(str(p) for p in (tmp_path / "rules").glob("*.yml")), cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # one service's SLO tests: the other files do not depend on the interval's slices
    tested = promtool_run(promtool, "test", "rules", "promtool-tests/checkout.slo.test.yml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_firing_and_a_quiet_test(tmp_path):
    files = render([load_spec(EXAMPLE)])
    for rel, text in files.items():
        if not rel.endswith(".slo.test.yml"):
            continue
        tests = yaml.safe_load(text)["tests"]
        rule_file = yaml.safe_load(
            files[rel.replace("promtool-tests/", "rules/").replace(".test.yml", ".yml")]
        )
        alerts = {
            (r["alert"], r["labels"]["slo"], r["labels"].get("tier"))
            for g in rule_file["groups"]
            for r in g["rules"]
            if "alert" in r
        }
        fired, quiet = set(), set()
        for group in tests:
            for at in group.get("alert_rule_test", []):
                seen = {
                    (at["alertname"], a["exp_labels"]["slo"], a["exp_labels"].get("tier"))
                    for a in at["exp_alerts"]
                }
                fired |= seen
                quiet |= {a for a in alerts if a[0] == at["alertname"]} - seen
        assert alerts - fired == set(), f"{rel}: alerts never shown firing: {alerts - fired}"
        assert alerts - quiet == set(), f"{rel}: alerts never shown quiet: {alerts - quiet}"
        assert {a[0] for a in alerts} == {BURN_ALERT, NO_DATA_ALERT}


def test_hostile_label_values_arrive_intact(promtool, tmp_path):
    labels = {f"l{i}": v for i, v in enumerate(HOSTILE)}
    spec_text = yaml.safe_dump(
        {
            "version": 1,
            "services": [
                {
                    "name": "svc",
                    "labels": labels,
                    "selector": {"job": 'we"ird}\\'},
                    "slos": [
                        {
                            "name": "avail",
                            "objective": 99.5,
                            "sli": {
                                "errors": 'http_requests_total{code=~"5..",path!="/x\\"}"}',
                                "total": "http_requests_total",
                            },
                            "alerting": {"labels": {"owner": '{{ $labels.slo }}"}'}},
                        },
                        {
                            "name": "lat",
                            "objective": 99,
                            "sli": {"latency": {"histogram": "h_seconds", "threshold": 2}},
                        },
                    ],
                }
            ],
        },
        allow_unicode=True,
    )
    files = generate([load_spec_text("hostile.yml", spec_text.encode())], tmp_path)
    assert_promtool_passes(promtool, tmp_path)
    rules = yaml.safe_load(files["rules/svc.slo.yml"])
    recorded = [r for g in rules["groups"] for r in g["rules"] if "record" in r]
    assert all(r["labels"][k] == v for r in recorded for k, v in labels.items())
    # the generated tests assert alerts carry the exact raw value, so promtool passing proves it arrives intact
    tests = yaml.safe_load(files["promtool-tests/svc.slo.test.yml"])["tests"]
    alert = next(
        a
        for g in tests
        for t in g.get("alert_rule_test", [])
        for a in t["exp_alerts"]
        if a["exp_labels"].get("tier") == "page"
    )
    assert (
        alert["exp_labels"]["owner"] == '{{ $labels.slo }}"}' and alert["exp_labels"]["l1"] == "back\\slash"
    )


AVAILABILITY = '{service="checkout",slo="availability"}'
# Every comparison of the checkout availability burn alerts: (window, limit) of each ratio, and the
# traffic guard's window per pair (its limit is the spec's min_request_rate, 0.1).
RATIO_COMPARISONS = [
    ("1h", "0.0144"),
    ("5m", "0.0144"),
    ("6h", "0.006"),
    ("30m", "0.006"),
    ("1d", "0.003"),
    ("2h", "0.003"),
    ("3d", "0.001"),
    ("6h", "0.001"),
]
# The ranges the guard reads: each long window less half the 1m evaluation interval (see slo_rules.range_seconds).
GUARD_WINDOWS = ["59m30s", "5h59m30s", "23h59m30s", "2d23h59m30s"]


def _scaled(value: str, by: str) -> str:
    return format(Decimal(value) * Decimal(by), "f").rstrip("0")


def every_comparison_mutated() -> list:
    """Each comparison 5 % stricter and 5 % looser: the generated tests pin every one from both sides."""
    cases = []
    for by in ("1.05", "0.95"):
        for window, limit in RATIO_COMPARISONS:
            cases.append(
                pytest.param(
                    re.escape(f"slodrift:sli_error:ratio_rate{window}{AVAILABILITY} > {limit}\n"),
                    f"slodrift:sli_error:ratio_rate{window}{AVAILABILITY} > {_scaled(limit, by)}\n",
                    id=f"ratio {window} > {limit} x{by}",
                )
            )
        for window in GUARD_WINDOWS:
            guard = f"avg_over_time(slodrift:sli_requests:increase1m{AVAILABILITY}[{window}]) / 60 >= "
            cases.append(
                pytest.param(
                    re.escape(f"{guard}0.1\n"), f"{guard}{_scaled('0.1', by)}\n", id=f"guard {window} x{by}"
                )
            )
    for window in ("20m", "10m"):  # the no-data window is 15m
        cases.append(
            pytest.param(
                re.escape(f"absent_over_time(slodrift:sli_error:ratio_rate5m{AVAILABILITY}[15m])"),
                f"absent_over_time(slodrift:sli_error:ratio_rate5m{AVAILABILITY}[{window}])",
                id=f"no-data window {window}",
            )
        )
    return cases


MUTATIONS = [
    pytest.param(
        r"> 0\.006\n(\s*)and ignoring \(window\)\n(\s*)(\S+) > 0\.006",
        r"> 0.0058\n\1and ignoring (window)\n\2\3 > 0.0058",
        id="6x pair threshold",
    ),
    pytest.param(
        r"> 0\.001\n(\s*)and ignoring \(window\)\n(\s*)(\S+) > 0\.001",
        r"> 0.00097\n\1and ignoring (window)\n\2\3 > 0.00097",
        id="1x pair threshold",
    ),
    pytest.param(r">= 0\.1\n", ">= 0.01\n", id="minimum-traffic guard 10x too low"),
    pytest.param(r"for: 15m", "for: 1h", id="ticket for"),
    pytest.param(
        r"sum_over_time\(slodrift:sli_errors:increase1m\{service=\"checkout\",slo=\"availability\"\}\[59m30s\]\)",
        'avg_over_time(slodrift:sli_errors:increase1m{service="checkout",slo="availability"}[59m30s])',
        id="average of slices instead of their sum",
    ),
    # a range of the full window: one slice too many on Prometheus 2 (closed ranges)
    pytest.param(r"\[59m30s\]\)\n(\s*)or", r"[1h])\n\1or", id="1h range one slice too long"),
    pytest.param(r"\[29d23h59m30s\]\)\n(\s*)or", r"[4h59m30s])\n\1or", id="wrong period window"),
    pytest.param(
        r"\(last_over_time\((http_requests_total\{code=~\"5..\",job=\"checkout\"\})\[5m\]\) and [^\n]*\)",
        r"last_over_time(\1[5m])",
        id="a new counter's whole value counted",
    ),
    pytest.param(
        r"\n\s*or\n\s*\(last_over_time\(http_requests_total\{job=\"checkout\"\}\[5m\]\) and [^\n]*\)",
        "",
        id="a counter reset no longer counted",
    ),
    pytest.param(r"vector\(0\.001\)", "vector(0.002)", id="budget"),
    *every_comparison_mutated(),
]


def test_generated_tests_catch_every_wrong_rule(promtool, tmp_path):
    """Every mutation of checkout's SLO rules fails the generated tests."""
    results = caught(
        promtool,
        render([load_spec(EXAMPLE)]),
        "rules/checkout.slo.yml",
        "promtool-tests/checkout.slo.test.yml",
        MUTATIONS,
        tmp_path,
    )
    assert len(MUTATIONS) > 30
    assert_all_caught(results, len(MUTATIONS))
