"""What Sloth and OpenSLO users actually write (issue 16): each case imports as its author meant it,
or fails naming the input file and line, or says what changed in a `warning:`.

Inputs are corpus files (real public specs, see tests/importers/corpus/SOURCES) where one shows the
case, small specs written here otherwise.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from slodrift.generator.grouping import ALL, GroupingUnknown, result_labels
from slodrift.generator.importers.common import ImportFailed, dump_spec, parse_source
from slodrift.generator.importers.openslo import openslo_to_spec
from slodrift.generator.importers.sloth import sloth_to_spec
from slodrift.generator.spec import load_spec_text

from tests.helpers import run_cli

CORPUS = Path(__file__).resolve().parent / "importers" / "corpus"
SLOTH = CORPUS / "sloth" / "slok-sloth" / "examples"
GIANTSWARM = CORPUS / "sloth" / "giantswarm-sloth-rules" / "helm" / "sloth-rules" / "templates"
KUADRANT = CORPUS / "sloth" / "Kuadrant-kuadrant-operator" / "examples" / "alerts" / "sloth"
GOSDK = CORPUS / "openslo" / "OpenSLO-go-sdk" / "pkg" / "openslosdk" / "test_data"


def sloth(path_or_text: Path | str, name: str = "sloth.yml", **kw):
    if isinstance(path_or_text, Path):
        return sloth_to_spec(parse_source(str(path_or_text), path_or_text.read_bytes()), **kw)
    return sloth_to_spec(parse_source(name, path_or_text.encode()), **kw)


def openslo(path_or_text: Path | str, name: str = "openslo.yml"):
    if isinstance(path_or_text, Path):
        return openslo_to_spec(parse_source(str(path_or_text), path_or_text.read_bytes()))
    return openslo_to_spec(parse_source(name, path_or_text.encode()))


def failure(fn, *args, **kw) -> list[str]:
    with pytest.raises(ImportFailed) as exc:
        fn(*args, **kw)
    return [str(i) for i in exc.value.issues]


def warnings_of(result) -> list[str]:
    return [str(w) for w in result.warnings]


def valid(result) -> dict:
    load_spec_text("converted.yml", dump_spec(result.spec).encode())
    return result.spec


def only_slo(spec: dict) -> dict:
    (svc,) = spec["services"]
    (slo,) = svc["slos"]
    return slo


V1 = """\
version: prometheus/v1
service: shop
labels: {owner: team-a}
slos:
  - name: availability
    objective: 99.5
    sli:
      events:
        error_query: ERRORS
        total_query: TOTAL
"""


def v1(errors: str, total: str, extra: str = "") -> str:
    return V1.replace("ERRORS", repr(errors)).replace("TOTAL", repr(total)) + extra


# 1. Kubernetes objects spell their fields in camelCase -----------------------------------------------


def test_camel_case_prometheus_service_level():
    result = sloth(KUADRANT / "slo-availability.yaml")
    slo = only_slo(valid(result))
    assert slo["sli"]["error_query"].startswith("sum(rate(istio_requests_total{")
    assert slo["sli"]["total_query"].startswith("sum(rate(istio_requests_total{")
    assert slo["group_by"] == ["request_host"]  # `sum(...) by (request_host)`
    disabled = sloth(GIANTSWARM / "kaas-tenet-apiserver-availability.yaml")
    alerting = only_slo(valid(disabled))["alerting"]
    assert alerting["page"]["severity"] == "page" and alerting["ticket"]["severity"] == "notify"


def test_camel_case_disable_is_kept():
    text = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: x}
spec:
  service: shop
  slos:
    - name: availability
      objective: 99.9
      sli:
        raw:
          errorRatioQuery: sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))
      alerting:
        pageAlert: {disable: true}
        ticketAlert: {disable: false, labels: {team: a}}
"""
    slo = only_slo(valid(sloth(text)))
    assert slo["sli"] == {"error_ratio_query": "sum(rate(e[{{window}}])) / sum(rate(t[{{window}}]))"}
    assert slo["alerting"]["page"] is False
    assert slo["alerting"]["ticket"] == {"labels": {"team": "a"}}


def test_other_spelling_is_read_with_a_warning():
    text = v1("sum(rate(e[{{.window}}]))", "sum(rate(t[{{.window}}]))").replace("error_query", "errorQuery")
    result = sloth(text)
    assert "errorQuery" not in only_slo(valid(result))["sli"]
    assert any("spells it error_query" in w for w in warnings_of(result))


# 2. SLO plugins are named in warnings -------------------------------------------------------------


def test_every_slo_plugin_is_named():
    result = sloth(SLOTH / "slo-plugin-k8s-getting-started.yml")
    warned = [w for w in warnings_of(result) if "SLO plugin" in w]
    assert warned and all("sloth.dev/core/debug/v1" in w for w in warned)
    text = v1(
        "sum(rate(e[{{.window}}]))",
        "sum(rate(t[{{.window}}]))",
        "    plugins:\n      chain:\n        - id: sloth.dev/contrib/denominator_corrected_rules/v1\n"
        "        - id: acme/custom/v1\n",
    )
    ws = warnings_of(sloth(text))
    assert any("denominator_corrected_rules" in w and "weighs burn rates by traffic" in w for w in ws)
    assert any("acme/custom/v1" in w and "custom plugin" in w for w in ws)


# 3. Grouping becomes group_by, never a silent sum -------------------------------------------------


@pytest.mark.parametrize(
    ("query", "labels"),
    [
        ("sum(rate(x[5m])) by (cluster)", ("cluster",)),
        ("sum by (cluster, route) (rate(x[5m]))", ("cluster", "route")),
        ("sum(rate(x[5m]))", ()),
        ("rate(x[5m])", ALL),
        ("(sum(rate(x[5m])) by (a, b)) or (clamp_min(1 - sum(up) by (a, b), 0))", ("a", "b")),
        ("sum(rate(x[5m])) by (a) or on() vector(0)", ("a",)),
        ("sum_over_time((count(x < 0.5))[5m:])", ()),
        ("sum by (a) (x) / on (a) group_left (b) sum by (a, b) (y)", ("a", "b")),
        ("sum by (a, b) (x) / on (a) sum by (a) (y)", ("a",)),
        ('label_replace(sum by (a) (x), "c", "$1", "a", "(.*)")', ("a", "c")),
        ("histogram_quantile(0.9, sum by (le, route) (rate(x[5m])))", ("route",)),
        ("sum(x) by (a) * 60", ("a",)),
    ],
)
def test_result_labels(query, labels):
    assert result_labels(query) == labels


@pytest.mark.parametrize("query", ["sum without (pod) (rate(x[5m]))", "sum by (a) (x) or sum by (b) (y)"])
def test_result_labels_unknown(query):
    with pytest.raises(GroupingUnknown):
        result_labels(query)


def test_grouped_queries_and_fixed_labels():
    result = sloth(GIANTSWARM / "kaas-tenet-apiserver-availability.yaml")
    slo = only_slo(valid(result))
    # by (cluster_id, cluster_type, customer, installation, pipeline, provider, region); customer,
    # installation and pipeline are fixed service labels, whose value Sloth's rules overwrite them with
    assert slo["group_by"] == ["cluster_id", "cluster_type", "provider", "region"]
    assert any("customer, installation, pipeline are also fixed labels" in w for w in warnings_of(result))


def test_ungroupable_queries_are_errors_naming_the_line():
    errs = failure(sloth, GIANTSWARM / "kaas-tenet-containerd-disk-usage.yaml")
    assert (
        len(errs) == 1 and ":23: spec.slos[0].sli.events.errorQuery: the query keeps every label" in errs[0]
    )
    errs = failure(sloth, v1("sum(rate(e[{{.window}}])) by (a)", "sum(rate(t[{{.window}}])) by (b)"))
    assert errs == [
        "sloth.yml:9: slos[0].sli.events.error_query: the queries are grouped differently (error_query by (a), "
        "total_query by (b)): Sloth divides them label by label, so they must keep the same labels"
    ]


def test_group_label_slodrift_sets_itself_is_copied():
    result = sloth(v1("sum(rate(e[{{.window}}])) by (service)", "sum(rate(t[{{.window}}])) by (service)"))
    slo = only_slo(valid(result))
    assert slo["group_by"] == ["sloth_service"]
    assert slo["sli"]["error_query"] == (
        'label_replace(sum(rate(e[{{window}}])) by (service), "sloth_service", "$1", "service", "(.*)")'
    )


# 4. Alert templates ---------------------------------------------------------------------------------


def test_label_templates_resolved_or_dropped_with_a_warning():
    result = sloth(GIANTSWARM / "kaas-tenet-apiserver-availability.yaml")
    alerting = only_slo(result.spec)["alerting"]
    assert "cluster_id" not in alerting["labels"]  # `{{ .Labels.cluster_id }}`: a group label already
    assert "team" not in alerting["labels"] and "cluster_type" not in alerting["labels"]
    ws = warnings_of(result)
    assert any("label team dropped" in w and "{{ if or" in w for w in ws)
    assert any("label cluster_type dropped" in w for w in ws)
    text = v1(
        "sum(rate(e[{{.window}}]))",
        "sum(rate(t[{{.window}}]))",
        "    alerting:\n      labels: {owner_copy: '{{ .Labels.owner }}', slo_id: '{{ $labels.sloth_id }}'}\n"
        "      annotations: {summary: '{{ .Labels.sloth_service }} on {{ .Labels.instance }}'}\n",
    )
    alerting = only_slo(valid(sloth(text)))["alerting"]
    assert alerting["labels"] == {"owner_copy": "team-a", "slo_id": "shop-availability"}
    assert alerting["annotations"] == {"summary": "{{ $labels.service }} on {{ $labels.instance }}"}


# 5. The same service in several documents -----------------------------------------------------------


def test_same_service_in_two_documents_is_one_service():
    second = V1.replace("labels: {owner: team-a}", "labels: {owner: team-b}").replace(
        "availability", "latency"
    )
    text = v1("sum(rate(e[{{.window}}]))", "sum(rate(t[{{.window}}]))") + "---\n"
    text += second.replace("ERRORS", "'sum(rate(e[{{.window}}]))'").replace(
        "TOTAL", "'sum(rate(t[{{.window}}]))'"
    )
    (svc,) = valid(sloth(text))["services"]
    assert svc["name"] == "shop" and "labels" not in svc
    assert [(s["name"], s["labels"]) for s in svc["slos"]] == [
        ("availability", {"owner": "team-a"}),
        ("latency", {"owner": "team-b"}),
    ]
    errs = failure(sloth, text.replace("latency", "availability"))
    assert (
        errs
        and "sloth.yml:16: documents[1].slos[0].name: SLO 'availability' of service 'shop' is defined twice"
        in errs[0]
    )


# 6. Errors slodrift finds in the converted spec name the input ---------------------------------------


def test_converted_spec_errors_point_at_the_input():
    text = v1("sum(rate(e[{{.window}}]))", "sum(rate(t[{{.window}}]))").replace(
        "99.5", "99.5\n    labels: {x: ''}"
    )
    text += "    alerting: {page_alert: {labels: {severity: page}}}\n"
    result = sloth(text)  # fine: an empty label is dropped with a warning
    assert any("empty label value dropped" in w for w in warnings_of(result))
    # a low objective with Sloth's 28d windows written out: the 13.44x page over 1h can never fire
    result = sloth(
        v1("sum(rate(e[{{.window}}]))", "sum(rate(t[{{.window}}]))").replace("99.5", "90"), period="28d"
    )
    slo = only_slo(valid(result))
    assert slo["window"] == "28d"
    assert [w["long"] for w in slo["alerting"]["page"]["windows"]] == ["6h"]
    assert any("13.4x burn) can never fire at objective 90%" in w for w in warnings_of(result))


# 7. `or vector(0)` ----------------------------------------------------------------------------------


def test_or_vector_zero_fallback_is_dropped_with_a_warning():
    result = sloth(SLOTH / "home-wifi.yml")
    slos = valid(result)["services"][0]["slos"]
    assert all("vector(0)" not in s["sli"]["error_query"] for s in slos)
    assert sum("'OR on() vector(0)' dropped" in w for w in warnings_of(result)) == 2


# 8-10. OpenSLO lists, default windows, op on ratio objectives ---------------------------------------


def test_openslo_yaml_list_and_missing_time_window():
    result = openslo(GOSDK / "decode" / "v1_slos.yaml")
    slo = only_slo(valid(result))
    assert slo["name"] == "foo-slo" and slo["window"] == "30d" and slo["objective"] == 98
    ws = warnings_of(result)
    assert any(":7: [0].spec: no timeWindow: 30d" in w for w in ws)
    assert any("dimensions" in w and "ignored" in w for w in ws)


def test_openslo_v1alpha_without_time_windows_and_op():
    text = """\
apiVersion: openslo/v1alpha
kind: SLO
metadata: {name: availability}
spec:
  service: shop
  budgetingMethod: Occurrences
  objectives:
    - op: gte
      target: 0.99
      ratioMetrics:
        good: {source: prometheus, queryType: promql, query: 'sum(rate(ok[{{.window}}])) by (route)'}
        total: {source: prometheus, queryType: promql, query: 'sum(rate(all[{{.window}}])) by (route)'}
"""
    result = openslo(text)
    slo = only_slo(valid(result))
    assert slo["window"] == "30d" and slo["group_by"] == ["route"]
    assert slo["sli"]["error_query"].startswith("sum by (route) (sum(rate(all[{{window}}])) by (route))")
    assert not any("op " in w for w in warnings_of(result))
    lte = openslo(text.replace("op: gte", "op: lte"))
    assert any("op 'lte' ignored" in w for w in warnings_of(lte))


def test_openslo_several_objectives_are_several_slos():
    result = openslo(CORPUS / "openslo" / "slok-sloth" / "examples" / "openslo-kubernetes-apiserver.yml")
    (svc,) = valid(result)["services"]
    latency = [s for s in svc["slos"] if s["name"].startswith("requests-latency")]
    assert [(s["name"], s["objective"]) for s in latency] == [
        ("requests-latency-openslo-0", 99),
        ("requests-latency-openslo-1", 99.9),
    ]
    assert any("2 objectives: one slodrift SLO each" in w for w in warnings_of(result))


# 11. Invalid PromQL ---------------------------------------------------------------------------------


def test_invalid_promql_fails_the_import_naming_the_line():
    errs = failure(sloth, v1("sum(rate(e[{{.window}}]) by (a)", "sum(rate(t[{{.window}}]))"))
    assert errs[0].startswith("sloth.yml:9: slos[0].sli.events.error_query: not valid PromQL")


# 12. Unknown keys -----------------------------------------------------------------------------------


def test_unknown_keys_in_alert_blocks_are_warnings():
    text = v1(
        "sum(rate(e[{{.window}}]))",
        "sum(rate(t[{{.window}}]))",
        "    alerting:\n      name: A\n      page_alert: {disabled: true}\n      ticket_alert: {disable: true}\n",
    )
    result = sloth(text)
    alerting = only_slo(valid(result))["alerting"]
    assert "page" not in alerting and alerting["ticket"] is False
    assert any(
        "sloth.yml:13: slos[0].alerting.page_alert.disabled: ignored: disabled is not a field of page_alert "
        "(did you mean disable?)" in w
        for w in warnings_of(result)
    )


# 13. --out writes regular files only (slodrift.atomic, shared by every writer) ------------------------


@pytest.mark.slow
def test_out_refuses_what_is_not_a_regular_file(tmp_path: Path):
    spec = SLOTH / "getting-started.yml"
    link = tmp_path / "link.yml"
    target = tmp_path / "target.yml"
    target.write_text("keep\n")
    link.symlink_to(target)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for out, kind in (
        (link, "a symbolic link"),
        (fifo, "a FIFO"),
        (tmp_path, "a directory"),
        (Path("/dev/null"), "a character device"),
    ):
        r = run_cli("import", "sloth", str(spec), "--out", str(out))
        assert r.returncode == 2, (out, r.stderr)
        assert f"it is {kind}" in r.stderr and "Traceback" not in r.stderr
    assert target.read_text() == "keep\n" and link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    regular = tmp_path / "spec.yml"
    regular.write_text("old\n")
    r = run_cli("import", "sloth", str(spec), "--out", str(regular))
    assert r.returncode == 0, r.stderr
    assert regular.read_text().startswith("# Imported by `slodrift import sloth`")


@pytest.mark.slow
def test_out_refuses_the_input_file_itself(tmp_path: Path):
    """`--out` naming the input (found by a new-user review) replaced the Sloth spec with its
    conversion: the source was lost."""
    spec = tmp_path / "sloth.yml"
    original = (SLOTH / "getting-started.yml").read_text()
    spec.write_text(original)
    r = run_cli("import", "sloth", str(spec), "--out", str(tmp_path / "." / "sloth.yml"))
    assert r.returncode == 2 and "is the input file" in r.stderr and "Traceback" not in r.stderr
    assert spec.read_text() == original
