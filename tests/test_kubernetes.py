"""PrometheusRule objects carry exactly the rule files' groups, valid names, and pass promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from generator.kubernetes import DNS_1123, object_name
from generator.render import render
from generator.spec import load_spec
from tests.conftest import EXAMPLE, run_cli


def test_objects_match_the_rule_files(promtool, tmp_path: Path):
    files = render([load_spec(EXAMPLE)], k8s={"namespace": "monitoring", "labels": {"release": "prometheus"}})
    objs = {rel: yaml.safe_load(text) for rel, text in files.items() if rel.startswith("kubernetes/")}
    rules = {rel: yaml.safe_load(text) for rel, text in files.items() if rel.startswith("rules/")}
    assert len(objs) == len(rules) == 5
    for rel, obj in objs.items():
        stem = Path(rel).name.removesuffix(".prometheusrule.yml")
        assert obj["apiVersion"] == "monitoring.coreos.com/v1" and obj["kind"] == "PrometheusRule"
        meta = obj["metadata"]
        assert DNS_1123.match(meta["name"]) and meta["namespace"] == "monitoring"
        assert meta["labels"] == {"app.kubernetes.io/managed-by": "slodrift", "release": "prometheus"}
        assert obj["spec"] == rules[f"rules/{stem}.yml"]
        extracted = tmp_path / f"{stem}.yml"
        extracted.write_text(yaml.safe_dump(obj["spec"]))
        r = subprocess.run([promtool, "check", "rules", str(extracted)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(("stem", "name"), [("checkout.slo", "slodrift-checkout-slo"),
                                            ("My_Service.drift", "slodrift-my-service-drift")])
def test_names_are_dns_1123(stem, name):
    assert object_name(stem) == name


def test_cli_format_flag(tmp_path: Path):
    r = run_cli("generate", str(EXAMPLE), "--out", str(tmp_path), "--format", "prometheusrule", "--k8s-label", "a=b")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "kubernetes" / "checkout.slo.prometheusrule.yml").exists()
    assert run_cli("generate", str(EXAMPLE), "--out", str(tmp_path), "--format", "prometheusrule",
                   "--k8s-label", "nolabel").returncode == 2
