"""The generated Alertmanager configuration, checked by the real amtool: it loads, and every alert the
example's rules can fire is routed to the receiver its tier or severity names."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from slodrift.generator.alertmanager import alertmanager_config, matcher
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec, load_spec_text

from tests.helpers import EXAMPLE, ROOT


@pytest.fixture(scope="module")
def amtool() -> str:
    path = shutil.which("amtool")
    if not path:
        pytest.fail("amtool is not installed: run scripts/install.sh")
    return path


def alerts_of(files: dict[str, str], spec) -> list[dict[str, str]]:
    """Every alert the rules can raise, with the labels it will carry (series labels included)."""
    team = {s.name: s.labels for s in spec.services}
    out = []
    for rel, text in files.items():
        if not rel.startswith("rules/"):
            continue
        for group in yaml.safe_load(text)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    labels = {"alertname": rule["alert"], **{k: str(v) for k, v in rule["labels"].items()}}
                    for svc in [labels["service"]] if "service" in labels else list(team):
                        out.append({**team[svc], **labels, "service": svc})
    return out


def expected_receiver(labels: dict[str, str]) -> str:
    if "receiver" in labels:
        return labels["receiver"]
    if "tier" in labels:  # drift: a release regression tickets unless the spec says page: true
        return "pager" if labels["tier"] == "page" else "chat"
    return "pager" if labels["severity"] == "critical" else "chat"


def test_config_passes_amtool_check(amtool, tmp_path: Path):
    r = subprocess.run(
        [amtool, "check-config", str(ROOT / "alertmanager" / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 inhibit rules" in r.stdout and "3 receivers" in r.stdout


@pytest.mark.slow
def test_every_alert_reaches_its_receiver(amtool):
    spec = load_spec(EXAMPLE)
    files = render([spec])
    alerts = alerts_of(files, spec)
    assert len(alerts) >= 20
    kinds = {a["alertname"] for a in alerts}
    assert {
        "SlodriftErrorBudgetBurn",
        "SlodriftSLINoData",
        "SlodriftIndicatorDrift",
        "SlodriftBaselineMissing",
        "SlodriftRollbackRecommended",
        "SlodriftResourceRegression",
    } <= kinds
    for labels in alerts:
        args = [f"{k}={v}" for k, v in labels.items()]
        r = subprocess.run(
            [
                amtool,
                "config",
                "routes",
                "test",
                f"--config.file={ROOT / 'alertmanager' / 'alertmanager.yml'}",
                f"--verify.receivers={expected_receiver(labels)}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, f"{labels}: {r.stdout}{r.stderr}"


def test_inhibition_is_scoped_to_the_same_slo_or_indicator():
    cfg = alertmanager_config([load_spec(EXAMPLE)])
    burn, drift = cfg["inhibit_rules"]
    assert (
        burn["equal"] == ["service", "slo"]
        and 'alertname="SlodriftErrorBudgetBurn"' in burn["target_matchers"]
    )
    assert drift["equal"] == ["service", "indicator"] and 'severity="warning"' in drift["target_matchers"]
    assert "match" not in yaml.safe_dump(cfg).replace("matchers", "")  # never the deprecated match/match_re


def test_hostile_values_are_quoted_in_matchers(amtool, tmp_path: Path):
    assert matcher("team", 'a"b\\c}') == 'team="a\\"b\\\\c}"'
    spec = load_spec_text(
        "s.yml",
        b"""version: 1
services:
  - name: svc
    labels: {team: "pay\\"ments} {x}"}
    selector: {job: svc}
    slos:
      - name: a
        objective: 99.9
        sli: {errors: 'x{code="5"}', total: x}
        alerting: {page: {receiver: on-call.team_1}}
""",
    )
    path = tmp_path / "am.yml"
    path.write_text(yaml.safe_dump(alertmanager_config([spec])))
    assert (
        subprocess.run([amtool, "check-config", str(path)], capture_output=True, timeout=60).returncode == 0
    )
    r = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={path}",
            "--verify.receivers=on-call.team_1",
            "alertname=SlodriftErrorBudgetBurn",
            matcher("team", 'pay"ments} {x}'),
            "receiver=on-call.team_1",
            "severity=critical",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr


HOSTILE_TEAMS = [
    "a\tb",
    "ctl\x01\x7f",
    "multi\nline",
    'q"uote',
    "back\\slash",
    "literal \\n and \\t",
    "é ✓ 日本",
    "a,b}{=~!",
    " padded ",
    "trailing\\",
]


def test_hostile_values_survive_alertmanagers_own_parser(amtool, tmp_path: Path):
    """amtool parses both sides of `routes test` alike, so it cannot see a value changed in parsing; the
    routing tree it prints re-escapes what Alertmanager parsed, which must give back exactly our text."""
    from slodrift.generator import yaml_out
    from slodrift.generator.alertmanager import quote

    services = [
        {
            "name": f"svc{i}",
            "labels": {"team": team},
            "selector": {"job": f"svc{i}"},
            "slos": [{"name": "a", "objective": 99.9, "sli": {"errors": 'x{code="5"}', "total": "x"}}],
        }
        for i, team in enumerate(HOSTILE_TEAMS)
    ]
    spec = load_spec_text(
        "s.yml", yaml.safe_dump({"version": 1, "services": services}, allow_unicode=True).encode()
    )
    assert [s.labels["team"] for s in spec.services] == HOSTILE_TEAMS
    path = tmp_path / "am.yml"
    path.write_text(yaml_out.dump(alertmanager_config([spec])), encoding="utf-8")  # the real writer
    r = subprocess.run(
        [amtool, "config", "routes", f"--config.file={path}"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout + r.stderr
    for team in HOSTILE_TEAMS:
        assert "{team=" + quote(team) + "}" in r.stdout, f"{team!r} changed in parsing:\n{r.stdout}"
    assert quote("a\tb") == '"a\tb"' and quote("x\\n\n") == '"x\\\\n\\n"'  # no JSON escapes
