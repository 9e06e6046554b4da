"""`slodrift backtest` against a real Prometheus holding raw counters, with firing intervals computed by hand.

The history: two pods, each serving 600 requests per minute, scraped every minute on the minute for four
days; from B0 (day 4, 02:00) for 20 minutes half of every pod's requests fail. Every counter sample at
B0 + 60 s * i (i = 1..20) therefore adds 600 errors out of 1,200 requests, and nothing else ever fails.

The SLO (99.9 %, budget 0.001) spells out its alerting so these numbers do not move with the defaults:
page = 14.4x over 1h and 5m, or 6x over 6h and 30m, for 2m; ticket = 3x over 1d and 2h, or 1x over 3d and
6h, for 15m; minimum traffic 0.1 req/s (1,200 per minute is 20 req/s: always met). Each window pair is its
own alert rule (label `long_window`), as README "The rules" says. A window of W minutes ending at an
evaluation holds the W per-minute slices ending there, so its error ratio is 600 * m / (1200 * W) = m / (2W),
m = burst minutes inside it; its error count is 600 * m (the 10-error guard holds once m >= 1) and every
window is covered (four days of history, three before the range). By hand (evaluations every minute):

- page 1h/5m: 1h needs m/120 > 0.0144, m >= 2, true from B0+2m; 5m needs m >= 1 (true while a burst minute
  is in the last 5: until B0+24m). Pending at 2m, firing at 4m (for 2m), resolved at 25m.
- page 6h/30m: 6h needs m/720 > 0.006, m >= 5 (from B0+5m); 30m needs m >= 1 (until B0+49m). Firing at 7m,
  resolved at 50m.
- ticket 1d/2h: 1d needs m/2880 > 0.003, m >= 9 (from B0+9m); 2h needs m >= 1 (until B0+139m). Firing at
  24m (for 15m), resolved at 140m.
- ticket 3d/6h: 3d needs m/8640 > 0.001, m >= 9; 6h needs m/720 > 0.001, m >= 1 (until B0+379m). Firing at
  24m, resolved at 380m.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import urllib.parse

import pytest
from slodrift.report.backtest import Deployment, replay
from slodrift.report.rulefiles import parse_groups

from tests.helpers import run_cli
from tests.history import backfill, write_openmetrics
from tests.servers import Prometheus

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = 86400
T0 = 1763769600  # 2025-11-22T00:00:00Z
B0 = T0 + 3 * DAY + 2 * 3600  # 2025-11-25T02:00:00Z
END = T0 + 3 * DAY + 12 * 3600
PER_POD = 600  # requests per minute


def _errors_so_far(t: int) -> int:
    """Errors one pod counted up to its sample at `t` (on the minute)."""
    return 300 * max(0, min(20, (t - B0) // 60))


def _series():
    out = []
    for pod in ("a", "b"):
        base = {"job": "shop", "instance": f"{pod}:80", "pod": pod}
        out.append(("http_requests_total", {**base, "code": "500"}, lambda t: float(_errors_so_far(t))))
        out.append(
            (
                "http_requests_total",
                {**base, "code": "200"},
                lambda t: float(PER_POD * (t - T0) // 60 - _errors_so_far(t)),
            )
        )
    return out


SPEC = """\
version: 1
release: {name: shop, version: v1, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}
defaults:
  slo_window: 30d
  evaluation_interval: 1m
  alerting:
    min_request_rate: 0.1
    page:
      receiver: pager
      for: 2m
      windows: [{long: 1h, short: 5m, factor: 14.4}, {long: 6h, short: 30m, factor: 6}]
    ticket:
      receiver: chat
      for: 15m
      windows: [{long: 1d, short: 2h, factor: 3}, {long: 3d, short: 6h, factor: 1}]
services:
  - name: shop
    labels: {team: web}
    selector: {job: shop}
    slos:
      - name: availability
        objective: 99.9
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory, promtool):
    tmp = tmp_path_factory.mktemp("backtest")
    om = tmp / "raw.om"
    write_openmetrics(om, _series(), T0, END + 3600, 60)
    backfill(promtool, om, tmp / "data")
    prom = Prometheus(tmp, {"global": {"scrape_interval": "1m"}}, storage=tmp / "data")
    with prom.running("--storage.tsdb.retention.time=100y") as p:
        yield tmp, p


def _iso(t: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.timeout(600)
def test_backtest_reports_the_hand_computed_firing_intervals(source):
    tmp, prom = source
    spec = tmp / "shop.yml"
    spec.write_text(SPEC)
    out = tmp / "out"
    r = run_cli(
        "backtest",
        str(spec),
        "--prometheus-url",
        prom.url,
        "--from",
        _iso(T0 + 3 * DAY),
        "--to",
        _iso(END),
        "--out",
        str(out),
        "--incident",
        f"{_iso(B0)}..{_iso(B0 + 1200)}",
    )
    assert r.returncode == 0, r.stderr
    umask = os.umask(0o022)
    os.umask(umask)
    # written by the shared writer: the directory and files get the umask's modes (mkdtemp's 0700 hid them)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((out / "backtest.json").stat().st_mode) == 0o666 & ~umask
    doc = json.loads((out / "backtest.json").read_text())
    burns = [
        (a["tier"], a["labels"]["long_window"], a["start"], a["end"])
        for a in doc["alerts"]
        if a["alertname"] == "SlodriftErrorBudgetBurn"
    ]
    assert sorted(burns, key=lambda b: (b[2], b[1])) == [
        ("page", "1h", _iso(B0 + 4 * 60), _iso(B0 + 25 * 60)),
        ("page", "6h", _iso(B0 + 7 * 60), _iso(B0 + 50 * 60)),
        ("ticket", "1d", _iso(B0 + 24 * 60), _iso(B0 + 140 * 60)),
        ("ticket", "3d", _iso(B0 + 24 * 60), _iso(B0 + 380 * 60)),
    ]
    page = next(a for a in doc["alerts"] if a["tier"] == "page")
    assert page["labels"]["service"] == "shop" and page["labels"]["severity"] == "critical"
    assert {a["alertname"] for a in doc["alerts"]} == {"SlodriftErrorBudgetBurn"}  # nothing else fired
    # every firing alert instance counts (two rules per tier, as Pyrra's)
    assert doc["totals"]["pages"] == 2 and doc["totals"]["tickets"] == 2
    assert doc["per_day"] == [{"date": "2025-11-25", "pages": 2, "tickets": 2, "other": 0}]
    (det,) = doc["incidents"][0]["detections"]
    assert (det["owner"], det["page_latency_seconds"], det["ticket_latency_seconds"]) == (
        "shop/availability",
        240,
        1440,
    )
    assert doc["rule_errors"] == []
    html = (out / "backtest.html").read_text()
    assert "data:image/png;base64," in html and "<script" not in html and "<link" not in html
    assert 'src="http' not in html and "url(" not in html  # self-contained: nothing fetched when opened
    assert 'class="tier-page">page<' in html and "shop/availability" in html
    md = (out / "backtest.md").read_text()
    assert "| shop/availability | 2 | 2 | 0 |" in md


RULES = {
    "groups": [
        {
            "name": "slices",
            "interval": "1m",
            "rules": [
                # raw counters -> per-minute increments (samples are exactly on the minute, as are evaluations)
                {
                    "record": "t:errors:delta1m",
                    "expr": 'sum(http_requests_total{code="500"} - http_requests_total{code="500"} offset 1m)',
                },
                {
                    "record": "t:requests:delta1m",
                    "expr": "sum(http_requests_total - http_requests_total offset 1m)",
                },
            ],
        },
        {
            "name": "windows",
            "interval": "1m",
            "rules": [
                {
                    "record": "t:ratio:1h",
                    "expr": "sum_over_time(t:errors:delta1m[59m30s]) / sum_over_time(t:requests:delta1m[59m30s])",
                },
            ],
        },
        {
            "name": "alerts",
            "interval": "1m",
            "rules": [
                # m/120 > 0.1 needs m >= 13 burst minutes in the hour: from B0+13m to B0+72m (the 20th burst minute
                # leaves the hour after B0+79m... m >= 13 holds while at least 13 of the 20 are inside: until B0+66m)
                {
                    "alert": "Kept",
                    "expr": "t:ratio:1h > 0.1",
                    "for": "3m",
                    "keep_firing_for": "10m",
                    "labels": {"severity": "critical"},
                },
                {
                    "alert": "Raw",
                    "expr": 'sum(http_requests_total{code="500"}) > 6000',
                    "labels": {"severity": "warning"},
                },
            ],
        },
    ]
}


@pytest.mark.timeout(600)
def test_replay_applies_for_and_keep_firing_for_over_three_levels(source, tmp_path):
    """A hand-written rule file (any generator's rules go through the same engine): 1h ratio > 0.1 needs
    m/120 > 0.1, m >= 13 burst minutes in the last hour: true from B0+13m; the hour holds 13 or more of the
    20 burst minutes while its oldest slice is at most burst minute 8: until B0+67m (the window at B0+68m
    starts after B0+8m). Pending at 13m, firing at 16m (for 3m); false from 68m, kept 10m: resolved at 78m.
    The raw alert (no `for`): both pods together pass 6,000 errors after 10 burst minutes (600 per minute),
    firing from B0+11m on, never resolved."""
    _, prom = source
    groups = parse_groups(RULES, "hand.yml")
    rep = replay([Deployment(groups)], prom.url, (T0 + 3 * DAY) * 1000, END * 1000, tmp_path / "work")
    got = [
        (f.alertname, f.start_ms // 1000 - B0, None if f.end_ms is None else f.end_ms // 1000 - B0)
        for f in rep.firings
    ]
    assert got == [("Raw", 11 * 60, None), ("Kept", 16 * 60, 78 * 60)]
    assert rep.errors == []
    assert not list((tmp_path / "work").glob("scratch-*/data/*.tmp"))


@pytest.mark.timeout(300)
def test_bad_input_and_unreachable_prometheus(source, tmp_path):
    tmp, prom = source
    spec = tmp / "shop.yml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    r = run_cli(
        "backtest",
        str(spec),
        "--prometheus-url",
        prom.url,
        "--from",
        _iso(END),
        "--to",
        _iso(B0),
        "--out",
        str(out),
    )
    assert r.returncode == 2 and "is not after" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(
        "backtest",
        str(spec),
        "--prometheus-url",
        prom.url,
        "--from",
        _iso(B0),
        "--to",
        _iso(END),
        "--out",
        str(out),
        "--incident",
        "yesterday",
    )
    assert r.returncode == 2 and "START..END" in r.stderr
    common = ["backtest", str(spec), "--prometheus-url", prom.url, "--from", _iso(B0), "--to", _iso(END)]
    # rules deployed after the range would evaluate nothing: not a clean "no pages" result
    r = run_cli(*common, "--out", str(out), "--deployed-at", _iso(END + 3600))
    assert r.returncode == 2 and "is not before --to" in r.stderr
    # an incident of an SLO the spec does not have, or outside the range, cannot be measured
    r = run_cli(*common, "--out", str(out), "--incident", f"{_iso(B0)}..{_iso(B0 + 600)}@nosuch/slo")
    assert r.returncode == 2 and "has no SLO 'nosuch/slo'" in r.stderr
    r = run_cli(*common, "--out", str(out), "--incident", f"{_iso(B0 - 86400)}..{_iso(B0 - 86000)}")
    assert r.returncode == 2 and "outside the backtest's range" in r.stderr
    assert not out.exists()
    bad = tmp_path / "bad.yml"
    bad.write_text(SPEC.replace("objective: 99.9", "objective: 150"))
    r = run_cli(
        "backtest",
        str(bad),
        "--prometheus-url",
        prom.url,
        "--from",
        _iso(B0),
        "--to",
        _iso(END),
        "--out",
        str(out),
    )
    assert r.returncode == 2 and "bad.yml:" in r.stderr and "objective" in r.stderr
    r = run_cli(
        "backtest",
        str(spec),
        "--prometheus-url",
        "http://127.0.0.1:9",
        "--from",
        _iso(B0),
        "--to",
        _iso(END),
        "--out",
        str(out),
    )
    assert r.returncode == 1 and "unavailable" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))
    # a range reaching before the data: a warning saying what is missing, and the result
    r = run_cli(
        "backtest",
        str(spec),
        "--prometheus-url",
        prom.url,
        "--from",
        _iso(T0 + DAY),
        "--to",
        _iso(T0 + DAY + 3600),
        "--out",
        str(out),
        "--no-html",
    )
    assert r.returncode == 0, r.stderr
    assert "warning: no samples of http_requests_total before 2025-11-22T00:00:00Z" in r.stderr
    shutil.rmtree(out)
    q = urllib.parse.urlencode({"query": "count(http_requests_total)", "time": str(END)})
    assert prom.api(f"/api/v1/query?{q}")["result"][0]["value"][1] == "4"
