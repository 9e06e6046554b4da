"""PrometheusRule objects carry exactly the rule files' groups, valid names, and pass promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from slodrift.generator.kubernetes import DNS_1123, object_name
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec, load_spec_text

from tests.helpers import EXAMPLE, run_cli


@pytest.mark.slow
def test_objects_match_the_rule_files(promtool, tmp_path: Path):
    files = render([load_spec(EXAMPLE)], k8s={"namespace": "monitoring", "labels": {"release": "prometheus"}})
    objs = {rel: yaml.safe_load(text) for rel, text in files.items() if rel.startswith("kubernetes/")}
    rules = {rel: yaml.safe_load(text) for rel, text in files.items() if rel.startswith("rules/")}
    assert len(objs) == len(rules) == 9  # per service: 3 SLO files and drift; the stability file
    for rel, obj in objs.items():
        stem = Path(rel).name.removesuffix(".prometheusrule.yml")
        assert obj["apiVersion"] == "monitoring.coreos.com/v1" and obj["kind"] == "PrometheusRule"
        meta = obj["metadata"]
        assert DNS_1123.match(meta["name"]) and meta["namespace"] == "monitoring"
        assert meta["labels"] == {"app.kubernetes.io/managed-by": "slodrift", "release": "prometheus"}
        assert obj["spec"] == rules[f"rules/{stem}.yml"]
        extracted = tmp_path / f"{stem}.yml"
        extracted.write_text(yaml.safe_dump(obj["spec"]))
        r = subprocess.run(
            [promtool, "check", "rules", str(extracted)], capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stdout + r.stderr


def test_one_object_per_rule_file_for_services_without_slos_or_indicators():
    """An indicator-only service has a drift file and no SLO files; an SLO-only one the reverse."""
    text = (
        "version: 1\nservices:\n  - name: api\n    selector: {job: api}\n    indicators: {p99_latency: {}}\n"
        "  - name: web\n    selector: {job: web}\n    slos:\n      - name: up\n        objective: 99\n"
        "        sli: {errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}\n"
    )
    files = render([load_spec_text("s.yml", text.encode())], k8s={})
    objs = {
        Path(rel).name.removesuffix(".prometheusrule.yml"): yaml.safe_load(t)["spec"]
        for rel, t in files.items()
        if rel.startswith("kubernetes/")
    }
    rules = {Path(rel).stem: yaml.safe_load(t) for rel, t in files.items() if rel.startswith("rules/")}
    assert objs == rules
    assert sorted(objs) == [
        "api.drift",
        "slodrift-stability",
        "web.slo",
        "web.slo-alerts",
        "web.slo-data",
    ]


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        ("checkout.slo", "slodrift-checkout-slo"),
        ("checkout.slo-alerts", "slodrift-checkout-slo-alerts"),
        ("checkout.slo-data", "slodrift-checkout-slo-data"),
        ("checkout.drift", "slodrift-checkout-drift"),
        ("My_Service.drift", "slodrift-my-service-drift-3296d28f"),
    ],
)
def test_names_are_dns_1123(stem, name):
    assert object_name(stem) == name


def test_names_never_collide():
    """Each of these would be `slodrift-a-b-slo` by plain lower-casing; one object would replace another."""
    stems = [
        "a-b.slo",
        "a.b.slo",
        "a_b.slo",
        "A-b.slo",
        "A.B.slo",
        "a-b.drift",
        "a-b.slo-alerts",
        "a.b.slo-alerts",
        "a-b.slo-data",
        "A-b.slo-data",
        "slodrift-stability",
        "x" * 300 + ".slo",
        "x" * 300 + ".drift",
    ]
    names = [object_name(s) for s in stems]
    assert len(set(names)) == len(stems)
    assert all(DNS_1123.match(n) and len(n) <= 253 for n in names)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("--format", "prometheusrule", "--namespace", "Monitoring"),
        ("--format", "prometheusrule", "--namespace", "a" * 64),
        ("--format", "prometheusrule", "--k8s-label", "release=has space"),
        ("--format", "prometheusrule", "--k8s-label=-bad=x"),
        ("--format", "prometheusrule", "--k8s-label", "Bad_Prefix/x=y"),
        ("--format", "prometheusrule", "--k8s-label", "k=" + "v" * 64),
        ("--namespace", "monitoring"),  # ignored silently otherwise
    ],
)
def test_cli_refuses_what_the_api_server_would(tmp_path: Path, args):
    r = run_cli("generate", str(EXAMPLE), "--out", str(tmp_path), *args)
    assert r.returncode == 2 and r.stderr.startswith("error: "), r.stderr
    assert not any(tmp_path.iterdir()), "nothing may be written"


@pytest.mark.slow
def test_cli_accepts_kubernetes_labels(tmp_path: Path):
    r = run_cli(
        "generate",
        str(EXAMPLE),
        "--out",
        str(tmp_path),
        "--format",
        "prometheusrule",
        "--namespace",
        "monitoring",
        "--k8s-label",
        "app.kubernetes.io/part-of=slodrift",
        "--k8s-label",
        "empty=",
    )
    assert r.returncode == 0, r.stderr
    obj = yaml.safe_load((tmp_path / "kubernetes" / "checkout.slo.prometheusrule.yml").read_text())
    assert obj["metadata"]["namespace"] == "monitoring"
    assert obj["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "slodrift",
        "app.kubernetes.io/part-of": "slodrift",
        "empty": "",
    }


@pytest.mark.slow
def test_cli_format_flag(tmp_path: Path):
    r = run_cli(
        "generate", str(EXAMPLE), "--out", str(tmp_path), "--format", "prometheusrule", "--k8s-label", "a=b"
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "kubernetes" / "checkout.slo.prometheusrule.yml").exists()
    assert (
        run_cli(
            "generate",
            str(EXAMPLE),
            "--out",
            str(tmp_path),
            "--format",
            "prometheusrule",
            "--k8s-label",
            "nolabel",
        ).returncode
        == 2
    )
