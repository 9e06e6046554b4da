"""The stability report of a grouped SLO (issue 13), against a real Prometheus: two routes, one bad for
longer than the other, recorded as slodrift's rules record them (per route: a compliance series and the
5m window's events; `slodrift:slo:info` naming the group label). The report must show each route's own
compliance, name the worst, and combine the routes as the README says: a 5-minute evaluation is
compliant only when every route met its objective, and availability is over both routes' requests.
Expected figures are counted here by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slodrift.report import signals
from slodrift.report.prometheus_api import QueryResult, Series

from tests.helpers import run_cli
from tests.history import backfill, write_openmetrics
from tests.servers import Prometheus, wait_until
from tests.test_report_html import Tree

START = 1763769600  # 2025-11-22T00:00:00Z
DAY = 86400
STEP = 300
SPEC = """\
version: 1
release: {name: shop, version: v3.1.0, watch_start: "2025-11-22T00:00:00Z", watch_days: 2}
defaults: {evaluation_interval: 5m}
services:
  - name: api
    labels: {team: payments}
    selector: {job: api}
    slos:
      - name: availability
        objective: 99.9
        group_by: [route]
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
      - name: latency
        objective: 99
        group_by: [route]
        sli: {latency: {histogram: http_request_duration_seconds, threshold: 0.5}}
"""

# Bad 5-minute evaluations, as (day, first hour, last hour): a sample stamped t is bad when
# first < hours into the day <= last. /a: 6 hours of day 1 (72 of 288); /b: 1 hour of day 1 (12) and
# 2 hours of day 2 (24), at other times than /a's.
BAD = {"/a": [(1, 6, 12)], "/b": [(1, 18, 19), (2, 0, 2)]}
REQUESTS = {"/a": 1000.0, "/b": 100.0}  # per 5 minutes: /b is the quiet route
ERRORS_WHEN_BAD = {"/a": 20.0, "/b": 1.0}  # 2 % and 1 % of the route's requests


def bad(route: str, t: int) -> bool:
    day, into = (t - START - 1) // DAY + 1, (t - START) % DAY or DAY
    return any(d == day and lo * 3600 < into <= hi * 3600 for d, lo, hi in BAD[route])


def recorded() -> list:
    ids = {"team": "payments", "service": "api"}
    out: list = []
    for slo in ("availability", "latency"):
        info = {**ids, "slo": slo, "window": "30d", "group_by": "route"}
        out.append(("slodrift:slo:info", info, lambda t: 1.0))
    for route in BAD:
        avail = {**ids, "slo": "availability", "route": route}
        out.append(
            (
                "slodrift:slo_compliant:bool5m",
                {**avail, "window": "5m", "compliance": "availability"},
                lambda t, r=route: 0.0 if bad(r, t) else 1.0,
            )
        )
        events = {
            "error": lambda t, r=route: ERRORS_WHEN_BAD[r] if bad(r, t) else 0.0,
            "total": lambda t, r=route: REQUESTS[r],
            "interval": lambda t: 5.0,
        }
        out += [("slodrift:sli_events:sum5m", {**avail, "event": e}, fn) for e, fn in events.items()]
        lat = {**ids, "slo": "latency", "route": route, "window": "5m", "compliance": "latency"}
        out.append(("slodrift:slo_compliant:bool5m", lat, lambda t: 1.0))
    return out


# By hand, per route and day: compliance = good evaluations / 288.
A = [(288 - 72) / 288 * 100, 100.0]  # 75.0, 100.0
B = [(288 - 12) / 288 * 100, (288 - 24) / 288 * 100]  # 95.833, 91.667
# The service: an evaluation is met only when both routes met the objective (their bad hours differ).
SERVICE = [(288 - 72 - 12) / 288 * 100, (288 - 24) / 288 * 100]  # 70.833, 91.667


@pytest.fixture(scope="module")
def reported(tmp_path_factory, promtool) -> tuple[Path, str]:
    """The report's directory and the command's standard output."""
    tmp = tmp_path_factory.mktemp("groups")
    om = tmp / "recorded.om"
    write_openmetrics(om, recorded(), START, START + 2 * DAY, STEP)
    data = tmp / "data"
    backfill(promtool, om, data)
    spec = tmp / "spec.yml"
    spec.write_text(SPEC)
    out = tmp / "report"
    with Prometheus(tmp, {"global": {"scrape_interval": "15s"}}, storage=data).running(
        "--storage.tsdb.retention.time=100y"
    ) as prom:
        wait_until(
            lambda: prom.query(f"count_over_time(slodrift:slo_compliant:bool5m[2d] @ {START + 2 * DAY})"),
            60,
            "the backfilled blocks to be visible",
        )
        r = run_cli(
            "report",
            str(spec),
            "--prometheus-url",
            prom.url,
            "--at",
            "2025-11-24T00:30:00Z",
            "--out",
            str(out),
        )
    assert r.returncode == 0, r.stdout + r.stderr
    return out, r.stdout


def group(slo: str, route: str, percent: float, samples: int = 288) -> dict:
    kind = "latency" if slo == "latency" else "availability"
    return {
        "slo": slo,
        "compliance": kind,
        "labels": {"route": route},
        "compliance_percent": percent,
        "samples": samples,
    }


@pytest.mark.integration
def test_report_shows_each_group_and_combines_them_by_the_worst_at_each_step(reported):
    out, stdout = reported
    weekly = json.loads((out / "weekly_summary.json").read_text())
    days = [json.loads((out / f"day_{d:02d}_summary.json").read_text()) for d in (1, 2)]
    api = weekly["services"]["api"]

    # the service: an evaluation is met only when every route met the objective (not the worst
    # route's share: that would be 75.0 % on day 1, not 70.8 %)
    assert [d["services"]["api"]["slo_compliance_percent"] for d in days] == pytest.approx(SERVICE)
    assert api["availability_compliance_percent"] == pytest.approx(sum(SERVICE) / 2)  # 81.25
    assert api["latency_compliance_percent"] == 100.0
    # availability and error rate: over both routes' 1,100 requests of each evaluation. Day 1: 72
    # evaluations with /a's 20 errors, 12 with /b's 1, 204 without; day 2: 24 with /b's 1. (The worst
    # route's at each evaluation would put the quiet /b's one failed request at 99 %: 99.458 % on day 1.)
    err1 = (72 * 20 / 1100 + 12 * 1 / 1100) / 288 * 100
    err2 = 24 * 1 / 1100 / 288 * 100
    assert [d["services"]["api"]["avg_error_rate"] for d in days] == pytest.approx([err1, err2])
    assert [d["services"]["api"]["avg_availability"] for d in days] == pytest.approx([100 - err1, 100 - err2])

    # each route's own figures, worst first: per day, and for the week weighted by evaluations
    assert days[0]["services"]["api"]["groups"] == [
        group("availability", "/a", pytest.approx(A[0])),
        group("availability", "/b", pytest.approx(B[0])),
        group("latency", "/a", 100.0),
        group("latency", "/b", 100.0),
    ]
    assert days[1]["services"]["api"]["groups"] == [
        group("availability", "/b", pytest.approx(B[1])),
        group("availability", "/a", 100.0),
        group("latency", "/a", 100.0),
        group("latency", "/b", 100.0),
    ]
    assert api["groups"] == [
        group("availability", "/a", pytest.approx(sum(A) / 2), 576),  # 87.5
        group("availability", "/b", pytest.approx(sum(B) / 2), 576),  # 93.75
        group("latency", "/a", 100.0, 576),
        group("latency", "/b", 100.0, 576),
    ]
    assert "every group" in weekly["method"]["groups"] and "worst group" in weekly["method"]["groups"]
    assert 'worst group route="/a" of availability: 87.5% compliant' in stdout

    # the Markdown says how the routes are combined, names the worst, and lists each route
    md = (out / "weekly_summary.md").read_text()
    section = md[md.index("### Groups") : md.index("### Daily Breakdown")]
    assert "only when every group" in section and "worst group" in section
    assert (
        'Worst group: route="/a" of SLO availability, which met its objective in 87.5% of its 576' in section
    )
    assert '| availability | route="/a" | 87.5% | 75.0% | 100.0% |' in section
    assert '| availability | route="/b" | 93.8% | 95.8% | 91.7% |' in section
    assert '| latency | route="/b" | 100.0% | 100.0% | 100.0% |' in section
    assert "- Groups: " in md

    # the HTML page: the same table, in the same order
    tree = Tree((out / "weekly_summary.html").read_text())
    (table,) = tree.find("table", class_="groups")
    rows = [" ".join("".join(c[2]).split()) for c in tree.find("tr") if c[2] and "route=" in "".join(c[2])]
    assert rows[:2] == [
        'availability route="/a" 87.5% 75.0% 100.0%',
        'availability route="/b" 93.8% 95.8% 91.7%',
    ]
    assert any("worst group" in "".join(e[2]) for e in tree.find("p", class_="groups-method"))


def test_a_group_recorded_under_two_label_sets_is_one_group_and_odd_samples_are_named():
    """A service label renamed mid-week (team -> squad) records a group under two label sets: one group,
    the lower value winning where both have a sample. A sample neither 0 nor 1 is not a compliance
    sample: ignored and named in the warnings. An SLO the spec does not group is left out."""
    base = {"service": "api", "slo": "availability", "compliance": "availability", "route": "/a"}

    class Client:
        def query_range(self, expr, start, end, step):
            if expr != signals.GROUP_COMPLIANCE:
                return QueryResult(expr, "matrix", [])
            return QueryResult(
                expr,
                "matrix",
                [
                    Series({**base, "team": "payments"}, [(300.0, 1.0), (600.0, 1.0), (900.0, 7.0)]),
                    Series({**base, "squad": "payments"}, [(600.0, 0.0), (1200.0, 1.0)]),
                    Series({**base, "slo": "other", "route": "/b"}, [(300.0, 1.0)]),
                ],
            )

    got = signals.fetch(
        Client(),
        ["api"],
        datetime.fromtimestamp(0, UTC),
        datetime.fromtimestamp(1200, UTC),
        300,
        group_labels={("api", "availability"): ("route",)},
    )
    assert got.groups == {
        "api": {
            ("availability", "availability", (("route", "/a"),)): [(300.0, 1.0), (600.0, 0.0), (1200.0, 1.0)]
        }
    }
    assert "compliance per group: 1 sample(s) neither 0 nor 1 ignored" in got.warnings
    assert (
        got.queries == len(signals.SIGNALS) + 1
    )  # the signals and compliance per group (no day ended: no alerts)
