"""Seven days of synthetic history with a known bad day, backfilled into a real Prometheus (raw data
with `promtool tsdb create-blocks-from openmetrics`, recorded series with `... create-blocks-from
rules`); `slodrift report` must match a Python reference computed from the raw numbers, and the
exporter must publish the scores where Prometheus scrapes them."""

from __future__ import annotations

import json
import statistics
import urllib.parse

import jsonschema
import pytest
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec_text
from slodrift.generator.writer import write_tree

from tests import week
from tests.helpers import ROOT, run_cli
from tests.history import backfill, backfill_recorded, write_openmetrics
from tests.servers import Prometheus, free_port, process, slodrift_serve, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

END = week.WATCH_START + week.DAYS * week.DAY
AT = "2025-11-29T00:30:00Z"  # half an hour after the week ended


def reference() -> dict[str, dict[str, list[float]]]:
    """Daily compliance (%) from the raw synthetic numbers, with the SLOs' own budgets."""
    out = {}
    out["checkout"] = {
        "availability": [week.reference_compliance("checkout", d, 0.001) * 100 for d in range(1, 8)],
        "latency": [week.reference_compliance("checkout", d, 0.01, "0.5") * 100 for d in range(1, 8)],
    }
    out["catalog"] = {
        "availability": [week.reference_compliance("catalog", d, 0.005) * 100 for d in range(1, 8)],
        "latency": [100.0] * 7,  # no latency SLO: p99 (0.484 s by the buckets) under 0.5 s all week
    }
    return out


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory, promtool):
    tmp = tmp_path_factory.mktemp("week")
    spec = tmp / "week.yml"
    spec.write_text(week.SPEC)
    write_tree(tmp / "gen", render([load_spec_text(str(spec), week.SPEC.encode())]))
    om = tmp / "raw.om"
    write_openmetrics(om, week.series(), week.WATCH_START, END, 60)
    data = tmp / "data"
    backfill(promtool, om, data)
    counter = iter(range(100))

    def prometheus():
        d = tmp / f"backfill{next(counter)}"
        d.mkdir()
        return Prometheus(d, {"global": {"scrape_interval": "15s"}}, storage=data).running(
            "--storage.tsdb.retention.time=100y"
        )

    rules = [p for p in sorted((tmp / "gen" / "rules").glob("*.yml")) if "stability" not in p.name]
    backfill_recorded(promtool, prometheus, rules, data, week.WATCH_START, END, "5m", tmp)
    return tmp, spec, data


@pytest.mark.timeout(600)
def test_weekly_report_matches_the_reference_and_the_exporter_publishes_it(backfilled):
    tmp, spec, data = backfilled
    exporter_port = free_port()
    prom_dir = tmp / "final"
    prom_dir.mkdir()
    prom = Prometheus(
        prom_dir,
        {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [
                {"job_name": "slodrift", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}
            ],
        },
        storage=data,
    )
    out = tmp / "report"
    with prom.running("--storage.tsdb.retention.time=100y"):
        # Prometheus merges the overlapping backfilled blocks after start-up; until it has, a query can
        # miss an hour. Wait until every day of the recorded compliance is there.
        def complete() -> bool:
            for day in range(2, 8):
                q = urllib.parse.urlencode(
                    {
                        "query": "count_over_time(slodrift:slo_compliant:bool5m"
                        '{service="checkout",slo="availability"}[1d])',
                        "time": week.WATCH_START + day * week.DAY,
                    }
                )
                result = prom.api(f"/api/v1/query?{q}")["result"]
                if not result or float(result[0]["value"][1]) < 288:
                    return False
            return True

        wait_until(complete, 120, "the backfilled week to be fully visible")
        r = run_cli("report", str(spec), "--prometheus-url", prom.url, "--at", AT, "--out", str(out))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "checkout: score" in r.stdout

        # files: one per finished day, the week, valid against the shipped schemas
        names = sorted(p.name for p in out.iterdir())
        assert names == [f"day_{d:02d}_summary.json" for d in range(1, 8)] + [
            "weekly_summary.html",
            "weekly_summary.json",
            "weekly_summary.md",
        ]
        daily_schema = json.loads((ROOT / "report" / "schema" / "daily_summary.schema.json").read_text())
        weekly_schema = json.loads((ROOT / "report" / "schema" / "weekly_summary.schema.json").read_text())
        days = [json.loads((out / f"day_{d:02d}_summary.json").read_text()) for d in range(1, 8)]
        for doc in days:
            jsonschema.validate(doc, daily_schema)
        weekly = json.loads((out / "weekly_summary.json").read_text())
        jsonschema.validate(weekly, weekly_schema)
        assert weekly["_metadata"]["queries"] <= 11, "queries must not grow with services"

        ref = reference()
        for svc in ("checkout", "catalog"):
            got_a = [d["services"][svc]["slo_compliance_percent"] for d in days]
            got_l = [d["services"][svc]["latency_slo_compliance_percent"] for d in days]
            # one 5-minute evaluation of 288 may differ at each edge of the bad window
            assert got_a == pytest.approx(ref[svc]["availability"], abs=100 / 288 + 1e-9), svc
            assert got_l == pytest.approx(ref[svc]["latency"], abs=100 / 288 + 1e-9), svc
            # the counters were scraped from the watch start, so the first evaluation after it already
            # has a slice (the events since the start): every day is complete, day 1 included
            for d in days:
                assert d["services"][svc]["data_completeness"] == "complete"
                assert d["services"][svc]["actual_samples"] == 288

        # the bad day is flagged, and only it
        flags = [d["services"]["checkout"]["degraded"] for d in days]
        assert flags == [d == week.BAD_DAY for d in range(1, 8)]
        assert not any(d["services"]["catalog"]["degraded"] for d in days)
        co, ca = weekly["services"]["checkout"], weekly["services"]["catalog"]
        assert co["degraded_days"] == [week.BAD_DAY]

        # weekly scores: the seed's formula on the reference, to 0.1 %
        drift_penalty = min(co["avg_drift_percent"], 20.0)
        assert drift_penalty == 20.0  # the bad day's error ratio is 100x its baseline
        ref_score = (
            0.4 * statistics.fmean(ref["checkout"]["availability"])
            + 0.4 * statistics.fmean(ref["checkout"]["latency"])
            + 0.2 * (100 - drift_penalty)
        )
        assert co["stability_score"] == pytest.approx(ref_score, rel=1e-3)
        assert ca["stability_score"] == pytest.approx(100.0, rel=1e-3)
        # rollback: availability below 99.9 % over the week and drift past 15 %; catalog is fine
        assert co["rollback_recommended"] is True
        assert any("availability" in r for r in co["rollback_reasons"])
        assert any("drift" in r for r in co["rollback_reasons"])
        assert ca["rollback_recommended"] is False
        assert co["resource_trend"] == "degrading"  # memory grows 2 % a day
        md = (out / "weekly_summary.md").read_text()
        for section in (
            "## checkout",
            "### Executive Summary",
            "### Key Metrics",
            "### Trends",
            "### Daily Breakdown",
            "### Recommendations",
            "### Action Items",
            "## Method",
        ):
            assert section in md
        assert "UTC" in md and "data:image/png;base64," in (out / "weekly_summary.html").read_text()

        # the exporter scores the same week on its own schedule; Prometheus scrapes the result
        baseline = tmp / "baseline.json"
        baseline.write_text(
            json.dumps(
                {
                    "version": 1,
                    "release": {"name": "shop", "version": "v2.0.0"},
                    "services": {"checkout": {"indicators": {"cpu": {"value": 0.3}}}},
                }
            )
        )
        args = slodrift_serve(
            spec, baseline, exporter_port, f"--scoring.prometheus-url={prom.url}", "--scoring.interval=600"
        )
        with process(args, tmp / "exporter.log", f"http://127.0.0.1:{exporter_port}/-/healthy"):

            def scraped() -> list:
                q = urllib.parse.urlencode({"query": 'slodrift_stability_score_ratio{window="7d"}'})
                return prom.api(f"/api/v1/query?{q}")["result"]

            result = wait_until(scraped, 90, "Prometheus to scrape the exporter's scores")
            by = {s["metric"]["service"]: float(s["value"][1]) for s in result}
            assert by["checkout"] == pytest.approx(co["stability_score"] / 100, rel=1e-6)
            rb = prom.query('slodrift_rollback_recommended{service="checkout"}')
            assert float(rb[0]["value"][1]) == 1.0
            assert float(prom.query('slodrift_days_degraded{service="checkout"}')[0]["value"][1]) == 1.0
