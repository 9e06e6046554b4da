"""The demo's pieces that need no server: traffic, the bundled specs, the webhook payload, alert
transitions, the Alertmanager timings. (tests/test_demo.py runs the whole demo.)"""

from __future__ import annotations

import io
import json
import random
import shutil
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from slodrift.demo import scenario as sc
from slodrift.demo.service import daily_factor, poisson
from slodrift.demo.stack import alertmanager_config, alertmanager_config_text, shorten_timings
from slodrift.demo.watch import Alert, Alerts, Snapshot
from slodrift.demo.webhook import parse
from slodrift.generator.spec import load_spec_text


@pytest.mark.parametrize("mean", [0.5, 4.0, 12.0])
def test_poisson_arrivals_have_the_mean_and_variance_of_a_poisson_process(mean):
    rng = random.Random(1)
    draws = [poisson(rng, mean) for _ in range(20000)]
    # a Poisson count has variance equal to its mean; 20,000 draws put both within a few percent
    assert statistics.fmean(draws) == pytest.approx(mean, rel=0.05)
    assert statistics.pvariance(draws) == pytest.approx(mean, rel=0.08)
    assert poisson(rng, 0.0) == 0


def test_daily_cycle_is_quiet_at_the_start_of_the_day_and_busy_half_a_day_later():
    assert daily_factor(0, 240) == pytest.approx(0.7)
    assert daily_factor(120, 240) == pytest.approx(1.3)
    assert daily_factor(240, 240) == pytest.approx(0.7)
    assert statistics.fmean(daily_factor(t, 240) for t in range(240)) == pytest.approx(1.0)


@pytest.mark.parametrize("timing", [sc.NORMAL, sc.FAST])
def test_bundled_specs_load_with_the_watch_starting_when_the_demo_starts(timing):
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    spec = load_spec_text(timing.spec, sc.spec_text(timing.spec, start).encode())
    assert spec.release.watch_start == start
    assert spec.evaluation_interval == 1
    checkout = next(s for s in spec.services if s.name == sc.RELEASED)
    availability = next(slo for slo in checkout.slos if slo.name == sc.PAGE["slo"])
    page = next(t for t in availability.tiers if t.name == "page")
    # the regression (6 % errors against a 0.1 % budget: a burn of 60) pages within a window
    assert sc.REGRESSED.error_ratio / (1 - float(availability.objective)) > float(page.windows[0].factor)
    assert [i.name for i in checkout.indicators] == [sc.DRIFT["indicator"]]


def test_fast_mode_fits_its_windows_in_seconds():
    start = datetime(2026, 1, 2, tzinfo=UTC)
    spec = load_spec_text(sc.FAST.spec, sc.spec_text(sc.FAST.spec, start).encode())
    longs = [w.long for s in spec.services for slo in s.slos for t in slo.tiers for w in t.windows]
    assert max(longs) <= 60


@pytest.mark.parametrize("timing", [sc.NORMAL, sc.FAST])
def test_regressed_version_is_far_past_the_critical_drift_threshold(timing):
    spec = load_spec_text(timing.spec, sc.spec_text(timing.spec, datetime(2026, 1, 2, tzinfo=UTC)).encode())
    critical = float(spec.drift.thresholds["performance"].critical or 0)
    normal = next(s.normal for s in sc.SERVICES if s.job == sc.RELEASED)
    # the true p99 of the log-normal latencies: the release's drift is several times the threshold
    assert sc.REGRESSED.p99() / normal.p99() - 1 > 3 * critical
    assert normal.p99() < 0.5 < sc.REGRESSED.p99()  # the latency SLO's threshold


def test_webhook_payload_gives_one_notification_per_alert():
    body = json.dumps(
        {
            "version": "4",
            "status": "firing",
            "receiver": "pager",
            "alerts": [
                {"status": "firing", "labels": {"alertname": "A", "service": "checkout"}},
                {"status": "resolved", "labels": {"alertname": "B"}},
            ],
        }
    ).encode()
    got = parse("pager", body, 12.5)
    assert [(n.receiver, n.status, n.alertname, n.received) for n in got] == [
        ("pager", "firing", "A", 12.5),
        ("pager", "resolved", "B", 12.5),
    ]
    with pytest.raises(ValueError):
        parse("pager", b"not json", 0)


def test_alert_transitions_pending_firing_resolved_and_cleared():
    a = Alert("SlodriftIndicatorDrift", "pending", (("indicator", "p99_latency"), ("service", "checkout")))
    b = Alert("SlodriftErrorBudgetBurn", "pending", (("service", "catalog"),))
    firing = Alert(a.name, "firing", a.labels)
    alerts = Alerts()
    seen = [
        [(t.alert.name, t.old, t.new) for t in alerts.update(snap)]
        for snap in (
            Snapshot(1, alerts=[a, b]),
            Snapshot(2, alerts=[firing]),
            Snapshot(3, error="down"),  # Prometheus did not answer: nothing changes
            Snapshot(4, alerts=[]),
        )
    ]
    assert seen == [
        [(a.name, "", "pending"), (b.name, "", "pending")],
        [(a.name, "pending", "firing"), (b.name, "pending", "cleared")],
        [],
        [(a.name, "firing", "resolved")],
    ]
    assert alerts.first(a.name, "resolved", 0, service="checkout") == 4
    assert alerts.first(a.name, "firing", 3, service="checkout") is None
    assert alerts.first(a.name, "firing", 0, service="catalog") is None


def test_alertmanager_timings_are_shortened_on_every_route():
    route = {"group_wait": "30s", "repeat_interval": "4h", "routes": [{"receiver": "x", "routes": [{}]}]}
    shorten_timings(route)
    assert route["group_wait"] == "1s" and route["group_interval"] == "2s"
    child = route["routes"][0]
    assert child["group_wait"] == "1s" and "repeat_interval" not in child
    assert child["routes"][0]["group_interval"] == "2s"


def test_demo_alertmanager_config_is_written_by_yaml_out_and_amtool_accepts_it(tmp_path):
    """The demo's Alertmanager file (the generated one, timings shortened) loads back as the data it was
    written from, and the real amtool accepts it."""
    root = Path(__file__).resolve().parent.parent
    generated = tmp_path / "generated"
    (generated / "alertmanager").mkdir(parents=True)
    shutil.copy(root / "alertmanager" / "alertmanager.yml", generated / "alertmanager" / "alertmanager.yml")
    text = alertmanager_config_text(generated)
    doc = yaml.safe_load(text)
    assert doc == alertmanager_config(generated)
    assert doc["route"]["group_wait"] == "1s" and doc["route"]["receiver"]
    amtool = shutil.which("amtool")
    assert amtool, "amtool is not installed: run scripts/install.sh"
    config = tmp_path / "alertmanager.yml"
    config.write_text(text)
    r = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_a_workdir_that_is_not_empty_is_bad_input_and_nothing_starts(tmp_path, capsys):
    from slodrift.demo.run import run

    (tmp_path / "old.txt").write_text("from another run")
    assert run(io.StringIO(), False, True, tmp_path, None) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]
    assert f"--workdir {tmp_path}: must be a new or empty directory" in capsys.readouterr().err
