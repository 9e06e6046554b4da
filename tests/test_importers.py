"""Importers: Sloth and OpenSLO specs become slodrift specs that validate, generate and pass promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from slodrift.generator.importers.common import ImportFailed, dump_spec, parse_source
from slodrift.generator.importers.openslo import openslo_to_spec
from slodrift.generator.importers.sloth import sloth_to_spec
from slodrift.generator.spec import load_spec_text

from tests.helpers import run_cli

SLOTH = Path("/work/shared/anchors/sloth/specs")
if not SLOTH.is_dir():
    SLOTH = Path(__file__).resolve().parent.parent.parent / "shared" / "anchors" / "sloth" / "specs"
CASES = [
    ("sloth", "getting-started.yml"),
    ("sloth", "kubernetes-apiserver.yml"),
    ("sloth", "raw-home-wifi.yml"),
    ("openslo", "openslo-getting-started.yml"),
]

OPENSLO_V1 = """\
apiVersion: openslo/v1
kind: Service
metadata: {name: checkout}
spec: {description: Checkout API}
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: checkout-errors}
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="checkout",code=~"5.."}'}}
    total:
      metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="checkout"}'}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: availability, displayName: Checkout availability}
spec:
  service: checkout
  indicatorRef: checkout-errors
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: good, target: 0.999}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: latency}
spec:
  service: checkout
  indicator:
    metadata: {name: fast}
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec: {query: 'sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.5"}[1m]))'}
        total:
          metricSource:
            type: Prometheus
            spec: {query: 'sum(rate(http_request_duration_seconds_count{job="checkout"}[1m]))'}
  timeWindow: [{duration: 1w, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{targetPercent: 99}]
"""


def _source(name: str):
    path = SLOTH / name
    return parse_source(str(path), path.read_bytes())


@pytest.mark.parametrize(("fmt", "name"), CASES)
def test_anchor_imports_validate(fmt: str, name: str):
    result = (sloth_to_spec if fmt == "sloth" else openslo_to_spec)(_source(name))
    text = dump_spec(result.spec)
    spec = load_spec_text(name, text.encode())
    assert spec.services and all(s.slos for s in spec.services)
    assert "{{.window}}" not in text and "{{window}}" in text


def test_sloth_mapping_details():
    spec = sloth_to_spec(_source("getting-started.yml")).spec
    svc = spec["services"][0]
    assert svc["name"] == "myservice" and svc["labels"]["sloth_tier"] == "2"
    slo = svc["slos"][0]
    assert slo["objective"] == 99.9 and slo["window"] == "30d"
    assert slo["sli"]["error_query"].endswith("[{{window}}]))")
    assert slo["alerting"]["labels"]["sloth_alert"] == "MyServiceHighErrorRate"
    assert slo["alerting"]["page"]["severity"] == "pageteam"
    assert slo["alerting"]["page"]["labels"] == {"routing_key": "myteam"}
    assert slo["alerting"]["ticket"]["labels"] == {"slack_channel": "#alerts-myteam"}
    wifi = sloth_to_spec(_source("raw-home-wifi.yml")).spec["services"][0]["slos"][0]
    assert "{{window}}" in wifi["sli"]["error_ratio_query"]


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "name"), CASES)
def test_anchor_import_generates_rules_that_pass_promtool(fmt: str, name: str, tmp_path: Path, promtool):
    spec = tmp_path / "spec.yml"
    r = run_cli("import", fmt, str(SLOTH / name), "--out", str(spec))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    r = run_cli("generate", str(spec), "--out", str(out))
    assert r.returncode == 0, r.stderr
    rules = sorted((out / "rules").glob("*.yml"))
    assert rules
    check = subprocess.run(
        [promtool, "check", "rules", *map(str, rules)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    r = run_cli("test", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "promtool test rules:  PASS" in r.stdout


@pytest.mark.slow
def test_sloth_annotations_and_labels_are_made_acceptable(tmp_path: Path):
    src = tmp_path / "s.yml"
    src.write_text("""\
version: prometheus/v1
service: svc
labels: {"bad-name": x, empty: "", slo: clash}
slos:
  - name: a
    objective: 99.5
    sli: {events: {error_query: 'sum(rate(e[{{ .window }}]))', total_query: 'sum(rate(t[{{.window}}]))'}}
    alerting:
      name: A
      annotations:
        summary: '{{$labels.sloth_service}}/{{$labels.sloth_slo}} burning at {{ $value | humanize }}'
        where: '{{ $labels.bad-name }} {{$labels.cluster}}'
      page_alert: {disable: true}
      ticket_alert: {labels: {severity: Not-Valid}}
""")
    r = run_cli("import", "sloth", str(src))
    assert r.returncode == 0, r.stderr
    spec = yaml.safe_load(r.stdout)
    load_spec_text("x.yml", r.stdout.encode())
    svc = spec["services"][0]
    assert svc["labels"] == {"bad_name": "x", "sloth_slo": "clash"}
    alerting = svc["slos"][0]["alerting"]
    assert alerting["page"] is False
    assert alerting["annotations"]["summary"] == "{{ $labels.service }}/{{ $labels.slo }} burning at"
    assert alerting["ticket"]["labels"] == {"sloth_severity": "Not-Valid"}
    assert "{{ $value | humanize }}" in r.stderr and "warning:" in r.stderr
    assert "labels.empty" in r.stderr and "'slo' renamed to 'sloth_slo'" in r.stderr


@pytest.mark.slow
def test_openslo_v1_documents(tmp_path: Path, promtool):
    src = tmp_path / "o.yml"
    src.write_text(OPENSLO_V1)
    r = run_cli("import", "openslo", str(src), "--out", str(tmp_path / "spec.yml"))
    assert r.returncode == 0, r.stderr
    assert "range [1m] replaced" in r.stderr
    spec = yaml.safe_load((tmp_path / "spec.yml").read_text())
    (svc,) = spec["services"]
    assert svc["name"] == "checkout" and svc["description"] == "Checkout API"
    avail, latency = svc["slos"]
    assert avail["objective"] == 99.9 and avail["window"] == "28d"
    assert avail["description"] == "Checkout availability"
    assert avail["sli"] == {
        "error_query": 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))',
        "total_query": 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))',
    }
    assert latency["objective"] == 99 and latency["window"] == "1w"
    assert (
        "[1m]" not in latency["sli"]["error_query"]
        and 'le="0.5"}[{{window}}]' in latency["sli"]["error_query"]
    )
    out = tmp_path / "out"
    assert run_cli("generate", str(tmp_path / "spec.yml"), "--out", str(out)).returncode == 0
    r = run_cli("test", str(out))
    assert r.returncode == 0, r.stdout + r.stderr


BAD = [
    (
        "sloth",
        "plugin.yml",
        """\
version: prometheus/v1
service: svc
slos:
  - name: avail
    objective: 99
    sli: {plugin: {id: sloth-common/kubernetes/apiserver/availability}}
""",
        ["plugin.yml", "slos[0].sli.plugin", "avail", "not supported"],
    ),
    (
        "sloth",
        "version.yml",
        "version: prometheus/v2\nservice: x\nslos: []\n",
        ["version.yml", "version", "unknown Sloth spec version"],
    ),
    (
        "sloth",
        "notyaml.yml",
        "version: prometheus/v1\nslos: [\n  {name: a\n",
        ["notyaml.yml", "invalid YAML"],
    ),
    (
        "openslo",
        "calendar.yml",
        OPENSLO_V1.replace(
            "timeWindow: [{duration: 28d, isRolling: true}]",
            "timeWindow: [{duration: 1M, calendar: {startTime: '2025-01-01 00:00:00', timeZone: UTC}}]",
        ),
        ["calendar.yml", "documents[2].spec.timeWindow[0]", "calendar windows are not supported"],
    ),
    (
        "openslo",
        "apiversion.yml",
        OPENSLO_V1.replace("openslo/v1\nkind: SLI", "openslo/v2\nkind: SLI"),
        ["apiversion.yml", "documents[1].apiVersion", "unknown apiVersion 'openslo/v2'"],
    ),
    (
        "openslo",
        "notyaml.yml",
        "apiVersion: openslo/v1\nkind: SLO\n  metadata: {name: x\n",
        ["notyaml.yml", "invalid YAML"],
    ),
    (
        "openslo",
        "timeslices.yml",
        OPENSLO_V1.replace("budgetingMethod: Occurrences", "budgetingMethod: Timeslices", 1),
        ["documents[2].spec.budgetingMethod", "Timeslices is not supported"],
    ),
    (
        "openslo",
        "threshold.yml",
        OPENSLO_V1.replace(
            "  ratioMetric:\n    counter: true\n    bad:", "  thresholdMetric: {}\n  ratioMetric:\n    bad:"
        ),
        ["documents[1].spec.thresholdMetric", "not supported"],
    ),
    (
        "openslo",
        "datadog.yml",
        OPENSLO_V1.replace(
            "{type: Prometheus, spec: {query: 'http_requests_total{job=\"checkout\"}'}}",
            "{type: Datadog, spec: {query: 'sum:requests{*}'}}",
        ),
        ["documents[1].spec.ratioMetric.total.metricSource", "'Datadog' is not supported"],
    ),
    (
        "openslo",
        "gauge.yml",
        OPENSLO_V1.replace("counter: true\n    bad", "counter: false\n    bad"),
        ["documents[1].spec.ratioMetric.bad.metricSource.spec.query", "counter: false"],
    ),
    (
        "openslo",
        "increase.yml",
        OPENSLO_V1.replace(
            "rate(http_request_duration_seconds_count", "increase(http_request_duration_seconds_count"
        ),
        ["documents[3].spec.indicator.spec.ratioMetric.total", "it uses increase"],
    ),
    (
        "openslo",
        "sloth.yml",
        "version: prometheus/v1\nservice: x\nslos: []\n",
        ["sloth.yml", "unknown apiVersion None", "slodrift import sloth"],
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "name", "text", "expected"), BAD, ids=[f"{b[0]}-{b[1]}" for b in BAD])
def test_bad_inputs_exit_2_with_file_and_path(
    fmt: str, name: str, text: str, expected: list[str], tmp_path: Path
):
    src = tmp_path / name
    src.write_text(text)
    out = tmp_path / "spec.yml"
    r = run_cli("import", fmt, str(src), "--out", str(out))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert r.stderr.startswith(f"error: {src}")
    for part in expected:
        assert part in r.stderr, r.stderr
    assert not out.exists()


def test_converted_spec_rejected_by_slodrift_is_an_error(tmp_path: Path):
    # A 1m window is valid OpenSLO, but slodrift's shortest default page window (scaled to it) is 2m.
    src = tmp_path / "short.yml"
    src.write_text(OPENSLO_V1.replace("duration: 28d", "duration: 1m"))
    with pytest.raises(ImportFailed) as exc:
        openslo_to_spec(parse_source(str(src), src.read_bytes()))
    assert "longer than the SLO window" in str(exc.value)


def test_missing_file_exits_2(tmp_path: Path):
    r = run_cli("import", "sloth", str(tmp_path / "nope.yml"))
    assert r.returncode == 2 and "nope.yml" in r.stderr and "cannot read" in r.stderr


def test_importer_shares_the_spec_parsers_defences(tmp_path):
    """One defensive YAML parser serves specs and imports: an alias bomb is refused here too."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    src = tmp_path / "bomb.yml"
    src.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFailed) as exc:
        parse_source(str(src), src.read_bytes())
    assert any("alias bomb" in str(i) and "bomb.yml" in str(i) for i in exc.value.issues)
