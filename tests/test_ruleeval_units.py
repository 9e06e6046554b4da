"""Unit tests of the rule engine's pure parts: names read by PromQL, dependency levels, the alert state
machine (Prometheus 2.42's `AlertingRule.Eval`, replayed), evaluation grids. Expected values are written
out by hand from the PromQL text and from Prometheus' documented behaviour."""

from __future__ import annotations

import pytest
from slodrift.report import levels
from slodrift.report.alertstate import AlertReplay, alert_labels
from slodrift.report.promql_names import Read, names_read, parse_duration_ms, reads, rename
from slodrift.report.ruleeval import _chunks, grid
from slodrift.report.rulefiles import RuleFileError, parse_groups

M = 60_000


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("5m", 300_000),
        ("1h30m", 5_400_000),
        ("2m0s", 120_000),
        ("100ms", 100),
        ("1d", 86_400_000),
        ("29d23h59m30s", 2_591_970_000),
    ],
)
def test_durations(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "5", "m5", "5x", "1h 5m"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration_ms(text)


def test_names_skip_functions_keywords_labels_and_strings():
    expr = (
        'sum by (code, slo) (rate(http_requests_total{code=~"5..",job="x:y"}[5m])) '
        "/ on (slo) group_left sum without (le) (rate(other_total[5m] offset 1m)) "
        'and bool vector(1) # a comment naming not_a_metric\n or label_replace(up, "a", "$1", "b", "(.*)")'
    )
    assert names_read(expr) == {"http_requests_total", "other_total", "up"}


def test_reads_report_ranges_offsets_and_subqueries():
    expr = (
        'sum_over_time(a:b:c{slo="x"}[59m30s]) / last_over_time(raw[5m] offset 1m) + inst '
        "+ max_over_time(rate(d[5m])[1h:1m]) + e[10m:1m]"
    )
    got = {r.name: r for r in reads(expr)}
    assert got["a:b:c"] == Read("a:b:c", 3_570_000, True, (("slo", "x"),))
    assert got["raw"] == Read("raw", 360_000, True)
    assert got["inst"] == Read("inst", 0, False)
    assert got["d"] == Read("d", 3_900_000, True)
    assert got["e"] == Read("e", 600_000, True)


def test_reads_keep_equality_matchers_only():
    expr = (
        """x{event="total", code=~"5..", job!="a", le='0.5', q="a\\"b"} + y{`k`="v"} + z"""
        ' + w{service="s",slo="a b"}[5m] offset 1m'
    )
    got = {r.name: r.matchers for r in reads(expr)}
    assert got == {
        "x": (("event", "total"), ("le", "0.5"), ("q", 'a"b')),
        "y": (),  # not a label name: no matcher
        "z": (),
        "w": (("service", "s"), ("slo", "a b")),
    }


def test_rename_touches_metric_names_only():
    expr = 'slo:x{slo="slo:x"} / on (slo) slo:x_other + sum by (slo:x) (slo:x[5m])'
    # `slo:x` as a label value and a (bogus) label name stays; both metric reads change
    assert rename(expr, {"slo:x": "bt:slo:x"}) == (
        'bt:slo:x{slo="slo:x"} / on (slo) slo:x_other + sum by (slo:x) (bt:slo:x[5m])'
    )


GROUPS = {
    "groups": [
        {
            "name": "raw",
            "interval": "1m",
            "rules": [
                {"record": "s:errors:increase1m", "expr": "sum(increase(e[1m]))", "labels": {"slo": "a"}},
                {"record": "s:requests:increase1m", "expr": "sum(increase(r[1m]))", "labels": {"slo": "a"}},
                {
                    "record": "s:ratio:1h",
                    "expr": "sum_over_time(s:errors:increase1m[59m30s]) / "
                    "sum_over_time(s:requests:increase1m[59m30s])",
                },
                {
                    "record": "s:ratio:3d",
                    "expr": "sum_over_time(s:errors:increase1m[2d23h59m30s]) / "
                    "sum_over_time(s:requests:increase1m[2d23h59m30s])",
                },
                {"record": "s:budget", "expr": "vector(0.001)"},
                {"record": "s:unused", "expr": "s:ratio:3d * 2"},
            ],
        },
        {
            "name": "alerts",
            "rules": [
                {
                    "alert": "Burn",
                    "expr": "s:ratio:1h > 14.4 * on() s:budget and avg_over_time(s:requests:increase1m[3h]) > 1",
                    "for": "2m",
                    "keep_firing_for": "5m",
                    "labels": {"severity": "critical"},
                },
                {"alert": "Absent", "expr": "absent(r)", "for": "10m"},
            ],
        },
    ]
}


def test_rule_files_parse_with_default_interval():
    groups = parse_groups(GROUPS, "g.yml")
    assert [g.interval_ms for g in groups] == [M, M]
    burn = groups[1].rules[0]
    assert (burn.kind, burn.for_ms, burn.keep_firing_for_ms) == ("alert", 2 * M, 5 * M)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"groups": [{"name": "g"}]},
        {"groups": [{"name": "g", "rules": [{"expr": "1"}]}]},
        {"groups": [{"name": "g", "rules": [{"record": "a", "expr": "1", "for": "x"}]}]},
    ],
)
def test_rule_files_refuse_what_prometheus_refuses(doc):
    with pytest.raises(RuleFileError, match="g.yml"):
        parse_groups(doc, "g.yml")


def test_levels_and_leads():
    groups = parse_groups(GROUPS, "g.yml")
    p = levels.plan(groups, alert_warmup_ms=10 * M)
    assert p.levels == {
        "s:errors:increase1m": 1,
        "s:requests:increase1m": 1,
        "s:ratio:1h": 2,
        "s:ratio:3d": 2,
        "s:budget": 1,
        "s:unused": 3,
    }
    burn, absent = groups[1].rules
    assert p.alert_levels[id(burn)] == 3 and p.alert_levels[id(absent)] == 1
    # the alert reads the 1h ratio at its evaluations (from 10m early) and the slices over 3h; nothing reads
    # the 3d ratio but `s:unused`, which nothing reads: no lead beyond their own
    assert p.lead_ms["s:ratio:1h"] == 10 * M
    assert p.lead_ms["s:requests:increase1m"] == max(
        10 * M + 3 * 60 * M, 10 * M + 3_570_000, 3 * 86_400_000 - 30_000
    )
    assert p.lead_ms["s:errors:increase1m"] == 3 * 86_400_000 - 30_000
    assert levels.read_by_alerts(groups) == {
        "s:ratio:1h",
        "s:budget",
        "s:errors:increase1m",
        "s:requests:increase1m",
    }


def test_backfill_set_is_what_windows_read_with_ranges():
    groups = parse_groups(GROUPS, "g.yml")
    assert levels.range_read_closure(groups) == {"s:errors:increase1m", "s:requests:increase1m"}


# slodrift's shape: one name recorded per event, a rule reading the series an earlier rule of its group
# recorded in the same evaluation (under the same name), sparse blocks read with an offset only
SAME_NAME = {
    "groups": [
        {
            "name": "g",
            "interval": "1m",
            "rules": [
                {"record": "ev", "expr": "sum(increase(r[1m]))", "labels": {"event": "total"}},
                {
                    "record": "ev",
                    "expr": 'sum(increase(e[1m])) or 0 * ev{event="total"}',
                    "labels": {"event": "error"},
                },
                {"record": "ev", "expr": '0 * ev{event="total"} + 1', "labels": {"event": "interval"}},
                {"record": "blk", "expr": "sum by (event) (sum_over_time(ev[1m30s] offset 1m))"},
                {"record": "part", "expr": "last_over_time(blk[30s] offset 1m)"},
                {"record": "win", "expr": "sum_over_time(blk[59m30s]) + part - part offset 1h"},
                {"record": "ratio", "expr": 'win{event="error"} / ignoring (event) win{event="total"}'},
                {"record": "info", "expr": "vector(1)"},
            ],
        },
        {"name": "a", "rules": [{"alert": "A", "expr": "ratio > 0.1 and info offset 15m"}]},
    ]
}


def test_a_rule_reading_its_own_name_waits_for_the_rules_its_matchers_select():
    groups = parse_groups(SAME_NAME, "g.yml")
    total, error, interval, blk, part, win, ratio, info = groups[0].rules
    p = levels.plan(groups)
    assert [p.rule_levels[id(r)] for r in groups[0].rules] == [1, 2, 2, 3, 4, 5, 6, 1]
    assert p.levels["ev"] == 2  # its readers wait for every rule recording it
    assert p.alert_levels[id(groups[1].rules[0])] == 7
    # the open block is read one hour back (`part offset 1h`), the blocks 1m30s before that (`[30s] offset
    # 1m`, more than the window's 59m30s), the slices 2m30s before the blocks (`[1m30s] offset 1m`)
    assert p.lead_ms["part"] == 3_600_000
    assert p.lead_ms["blk"] == 3_600_000 + 90_000
    assert p.lead_ms["ev"] == 3_600_000 + 90_000 + 150_000


def test_backfill_set_counts_offsets_as_reads_of_the_past():
    groups = parse_groups(SAME_NAME, "g.yml")
    # blocks (range + offset), the open block (offset), the slices they are built from; not the window sums
    # (read at present), nor `info` (only an alert reads it back)
    assert levels.range_read_closure(groups) == {"ev", "blk", "part"}


def test_cycles_are_refused():
    doc = {
        "groups": [
            {
                "name": "g",
                "rules": [
                    {"record": "a", "expr": "b + 1"},
                    {"record": "b", "expr": "a"},
                    {"record": "c", "expr": "c offset 1m"},
                ],
            }
        ]
    }
    with pytest.raises(ValueError, match="cycle"):
        levels.plan(parse_groups(doc, "g.yml"))


def _replay(for_ms, keep_ms, present_at, times):
    r = AlertReplay(for_ms, keep_ms)
    ls = (("alertname", "A"),)
    for t in times:
        r.step(t, [ls] if t in present_at else [])
    return [(i.start_ms, i.end_ms) for i in r.finish()]


def test_for_needs_the_condition_for_the_whole_duration():
    t = list(range(0, 20 * M, M))
    # true at 2..9m: pending at 2m, firing at 4m (for 2m), resolved at 10m, the first false evaluation
    assert _replay(2 * M, 0, set(t[2:10]), t) == [(4 * M, 10 * M)]
    # true 2..3m only: pending, never firing
    assert _replay(2 * M, 0, set(t[2:4]), t) == []
    # a gap resets pending: true 2..3m and 5..6m with for 2m never fires
    assert _replay(2 * M, 0, set(t[2:4] + t[5:7]), t) == []
    # for 0 fires at the first true evaluation
    assert _replay(0, 0, {5 * M}, t) == [(5 * M, 6 * M)]


def test_keep_firing_for_holds_and_resets():
    t = list(range(0, 30 * M, M))
    # firing at 2m, false from 4m: keeps firing while t - 4m < 5m, i.e. until 9m resolves it
    assert _replay(0, 5 * M, {2 * M, 3 * M}, t) == [(2 * M, 9 * M)]
    # true again at 7m resets the keep: false from 8m again, resolved at 13m; one interval throughout
    assert _replay(0, 5 * M, {2 * M, 3 * M, 7 * M}, t) == [(2 * M, 13 * M)]
    # a pending alert is not kept
    assert _replay(2 * M, 5 * M, {2 * M}, t) == []


def test_still_firing_at_the_end_is_open_and_labels_are_per_instance():
    r = AlertReplay(0, 0)
    a, b = (("alertname", "A"), ("x", "1")), (("alertname", "A"), ("x", "2"))
    r.step(0, [a])
    r.step(M, [a, b])
    r.step(2 * M, [b])
    got = [(i.labels["x"], i.start_ms, i.end_ms) for i in r.finish()]
    assert got == [("1", 0, 2 * M), ("2", M, None)]


def test_duplicate_labels_are_an_error_and_change_nothing():
    r = AlertReplay(2 * M, 0)
    a = (("alertname", "A"),)
    r.step(0, [a])
    r.step(M, [a, a])  # error: state unchanged, still pending since 0
    r.step(2 * M, [a])  # 2m since active: fires
    assert r.errors == [M]
    assert [(i.start_ms, i.end_ms) for i in r.finish()] == [(2 * M, None)]


def test_alert_labels_rule_labels_win_and_templates_expand():
    got = dict(
        alert_labels(
            {"__name__": "x", "slo": "a", "severity": "low"},
            {"severity": "critical", "summary_slo": "{{ $labels.slo }}"},
            "Burn",
        )
    )
    assert got == {"slo": "a", "severity": "critical", "summary_slo": "a", "alertname": "Burn"}


def test_grid_and_chunks():
    assert grid(1_000, 10 * M, M) == (M, 10 * M)
    assert grid(0, 10 * M, M, phase_ms=7_000) == (7_000, 9 * M + 7_000)
    pieces = _chunks(0, 2 * 86_400_000, M)
    assert list(pieces.values())[0] == (0, 86_400_000 - M)
    assert sum((b - a) // M + 1 for a, b in pieces.values()) == 2 * 1440 + 1
    # 5s steps: a day is more than 10,000 points, so pieces are 12h
    assert max((b - a) // 5_000 + 1 for a, b in _chunks(0, 86_400_000, 5_000).values()) == 8640
