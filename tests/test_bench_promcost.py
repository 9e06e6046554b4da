"""bench/promcost.py: the samples a rule reads, computed from its selectors (the steady-state benchmark's
cross-check of Prometheus' own count), and the XXH64 behind a rule group's evaluation phase.

Expected values: XXH64's published test vectors; sample counts worked by hand from Prometheus 2.x's
range semantics (a `[10m]` range at t holds the samples in [t - 10m, t], both ends included: a 30 s
series read at one of its own sample times gives 21, as Prometheus 2.42's `totalQueryableSamples` did
for the same read)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("promcost", ROOT / "bench" / "promcost.py")
assert spec and spec.loader
pc = importlib.util.module_from_spec(spec)
sys.modules["promcost"] = pc  # dataclasses look their module up here
spec.loader.exec_module(pc)


@pytest.mark.parametrize(
    ("data", "digest"),
    [
        (b"", 0xEF46DB3751D8E999),
        (b"a", 0xD24EC4F1A98C6E5B),
        (b"abc", 0x44BC2CF5AD770999),
        # 39 bytes: the 32-byte stripe path and every tail (8, 4 and 1 byte)
        (b"Nobody inspects the spammish repetition", 0xFBCEA83C8A378BF1),
    ],
)
def test_xxh64_vectors(data, digest):
    assert pc.xxh64(data) == digest


def test_group_phase_is_within_the_interval_and_depends_on_file_and_name():
    a = pc.group_phase_ms("/x/rules.yml", "g", 60)
    assert 0 <= a < 60_000
    assert a != pc.group_phase_ms("/y/rules.yml", "g", 60)
    assert a != pc.group_phase_ms("/x/rules.yml", "h", 60)


def test_selectors_of_a_slice_rule():
    expr = (
        'sum by (route) (last_over_time(c{job="a",code=~"5.."}[5m]) - last_over_time(c{job="a"}[5m] offset 1m)'
        ' * (1 - (clamp_max(resets(c{job="a"}[1m]), 1) or 0 * c{job="a"})))'
        ' or on () 0 * sum by () (x:y:z{service="s", event="total"})'
        " and on () (floor(vector(time()) / 60) % 64 == 1)"
        ' + label_replace(w[30s] offset 1h1m, "part", "0", "", "")'
    )
    got = [(s.name, s.matchers, s.range_ms, s.offset_ms) for s in pc.selectors(expr)]
    assert got == [
        ("c", (("job", "=", "a"), ("code", "=~", "5..")), 300_000, 0),
        ("c", (("job", "=", "a"),), 300_000, 60_000),
        ("c", (("job", "=", "a"),), 60_000, 0),
        ("c", (("job", "=", "a"),), None, 0),
        ("x:y:z", (("service", "=", "s"), ("event", "=", "total")), None, 0),
        ("w", (), 30_000, 3_660_000),
    ]


def test_subqueries_are_refused():
    with pytest.raises(ValueError):
        pc.selectors("max_over_time(rate(c[5m])[1h:1m])")


def test_durations():
    assert pc.parse_duration_ms("29d23h59m30s") == ((29 * 24 + 23) * 60 + 59) * 60_000 + 30_000
    assert pc.parse_duration_ms("1h3m30s") == 3_810_000
    with pytest.raises(ValueError):
        pc.parse_duration_ms("5x")


def test_schedule_counts_both_ends():
    s = pc.Schedule(step_ms=30_000, phase_ms=0, first_ms=0)
    assert s.count(3_000_000, 3_600_000) == (21, 21, 21)  # on a sample at both ends
    assert s.count(3_000_001, 3_600_000) == (20, 20, 20)
    unknown = pc.Schedule(step_ms=30_000, phase_ms=None, first_ms=0)
    assert unknown.count(3_000_000, 3_600_000) == (20, 20, 21)


def test_sparse_schedule_counts_every_kth_evaluation():
    # a 64-slice block: a sample at n * 60 s + 7 s for n % 64 == 1; 30 days back from an evaluation
    s = pc.Schedule(step_ms=60_000, phase_ms=7_000, first_ms=0, every=64, residue=1)
    t = 30_000_000 * 60_000 + 7_000  # evaluation n = 30,000,000 (n % 64 == 0)
    # [t - 2m - (30d - 30s), t - 2m] holds n - 43201 .. n - 2: 43200 evaluations, 675 of them n % 64 == 1
    assert s.count(t - 120_000 - 2_591_970_000, t - 120_000) == (675, 675, 675)


def test_expr_cost_counts_every_selector_of_both_sides():
    cat = pc.Catalog()
    step = pc.Schedule(step_ms=30_000, phase_ms=0, first_ms=0)
    cat.add({"__name__": "m", "a": "1"}, step)
    cat.add({"__name__": "m", "a": "2"}, step)
    cat.add({"__name__": "g", "a": "1"}, pc.Schedule(step_ms=120_000, phase_ms=0, first_ms=0))
    t = 3_600_000
    costs = pc.expr_cost('sum_over_time(m{a="1"}[10m]) or count_over_time(g[30m]) or m', cat, t)
    assert [(x.series, x.expected) for x in costs] == [(1, 21.0), (1, 16.0), (2, 2.0)]
    assert pc.total(costs) == (39.0, 39.0, 39.0)
    # an offset moves the range back; before the series' first sample nothing is read
    late = pc.Catalog()
    late.add({"__name__": "m"}, pc.Schedule(step_ms=30_000, phase_ms=0, first_ms=3_300_000))
    assert pc.total(pc.expr_cost("m[10m] offset 6m", late, t)) == (0.0, 0.0, 0.0)
    assert pc.total(pc.expr_cost("m[10m]", late, t)) == (11.0, 11.0, 11.0)
