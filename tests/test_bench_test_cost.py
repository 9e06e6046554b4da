"""bench/test_cost.py's rule-evaluation count: promtool evaluates every rule of every file a test file
loads at every step of each test group, from time 0 to the group's last check. Expected values worked by
hand for a small test file."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.helpers import ROOT

RULES_A = """\
groups:
  - name: a
    rules:
      - {record: x, expr: vector(1)}
      - {record: y, expr: vector(2)}
"""
RULES_B = """\
groups:
  - name: b
    rules:
      - {alert: Z, expr: vector(1)}
"""
TEST = """\
rule_files: [../rules/a.yml, ../rules/b.yml]
evaluation_interval: 2m
tests:
  - interval: 1m
    input_series: []
    alert_rule_test:
      - {eval_time: 4m, alertname: Z, exp_alerts: []}
    promql_expr_test:
      - {expr: x, eval_time: 1h1m, exp_samples: []}
  - interval: 1m
    input_series: []
    promql_expr_test:
      - {expr: y, eval_time: 0s, exp_samples: []}
"""


def test_rule_evaluations_of_a_test_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    test_cost = importlib.import_module("test_cost")
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "rules" / "a.yml").write_text(RULES_A)
    (tmp_path / "rules" / "b.yml").write_text(RULES_B)
    test = tmp_path / "tests" / "t.test.yml"
    test.write_text(TEST)
    # 3 rules; the first group runs to 1h1m in 2m steps (0, 2m, ..., 1h: 31 steps; promtool's loop stops
    # at the last step not after 1h1m), the second at 0 only (1 step)
    assert test_cost.rule_evaluations(test) == 3 * 31 + 3 * 1
