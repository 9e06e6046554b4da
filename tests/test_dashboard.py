"""The Grafana dashboard: structurally sound, thresholds from the spec, and every query parsed by a real
Prometheus (the JSON is also type-checked against Grafana's published schema: tests/test_dashboard_schema.py)."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator

import pytest
from slodrift.generator import dashboard as dash
from slodrift.generator.dashboard import SCHEMA_VERSION
from slodrift.generator.spec import load_spec_text

from tests.helpers import EXAMPLE, ROOT
from tests.servers import Prometheus, http_get

GROUPED = """\
version: 1
release: {name: shop, version: v1}
services:
  - name: api
    selector: {job: api}
    slos:
      - name: availability
        objective: 99.9
        group_by: [route, cluster]
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
    indicators:
      p99_latency: {}
"""


def example():
    return load_spec_text(str(EXAMPLE), EXAMPLE.read_bytes())


def dashboard(spec_text: str | None = None) -> dict:
    spec = load_spec_text("grouped.yml", spec_text.encode()) if spec_text else example()
    return dash.dashboard([spec])


def all_panels(d: dict) -> list[dict]:
    """Every panel, those inside collapsed rows too."""
    return [q for p in d["panels"] for q in [p, *p.get("panels", [])]]


def targets(d: dict) -> list[dict]:
    return [t for p in all_panels(d) for t in p.get("targets", [])]


def test_structure():
    d = dashboard()
    assert d["schemaVersion"] == SCHEMA_VERSION and d["uid"]
    names = [v["name"] for v in d["templating"]["list"]]
    assert names == ["datasource", "service", "slo", "indicator"]
    assert (
        d["templating"]["list"][0]["type"] == "datasource"
        and d["templating"]["list"][0]["query"] == "prometheus"
    )
    ids = [p["id"] for p in all_panels(d)]
    assert len(ids) == len(set(ids))
    boxes = []
    for p in all_panels(d):
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
        boxes.append((g["x"], g["y"], g["w"], g["h"], p["title"]))
        if p["type"] == "row":
            continue
        assert p["datasource"]["uid"] == "${datasource}"
        assert p["fieldConfig"]["defaults"]["unit"], f"{p['title']}: no unit"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)) and all(t["expr"] for t in p["targets"])
    for i, (x, y, w, h, t) in enumerate(boxes):  # no two panels overlap
        for x2, y2, w2, h2, t2 in boxes[i + 1 :]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, (t, t2)
    titles = {p["title"] for p in d["panels"]}
    assert {
        "SLI vs objective",
        "Error budget remaining",
        "Burn rate: page (56m, 1h)",
        "Drift from the baseline: performance",
        "Stability score",
        "Rollback recommended",
        "Days degraded",
        "Firing alerts",
    } <= titles
    golden = json.loads((ROOT / "dashboards" / "slodrift.json").read_text())
    assert golden == d, "run `make golden`"


# What Grafana puts in place of its variables before a query leaves it: one value, a multi-value or
# All selection (a regex alternation), and the built-in intervals.
GRAFANA_VARS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600"}
SERVICE_VALUES = [
    "checkout",
    "(checkout|catalog)",
    ".*",
    "Cat.log-1_x",
]  # service names: [A-Za-z0-9][A-Za-z0-9_.-]*
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")


def substitute(expr: str, service: str) -> str:
    """Replace every Grafana variable form ($x, ${x}, ${x:fmt}, [[x]]); an unknown variable fails the test."""
    values = {**GRAFANA_VARS, "service": service, "slo": service, "indicator": service, "route": service}
    values["cluster"] = service

    def one(m: re.Match[str]) -> str:
        name = next(g for g in m.groups() if g)
        assert name in values, f"unknown Grafana variable ${name} in {expr}"
        return values[name]

    return VARIABLE.sub(one, expr)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """A real Prometheus on 127.0.0.1 (free port, temporary storage); stopped by the finaliser whatever happens."""
    prom = Prometheus(tmp_path_factory.mktemp("prom"), {"global": {"scrape_interval": "15s"}})
    with prom.running(timeout=60):
        yield prom


def queries(spec_text: str | None = None) -> list[str]:
    d = dashboard(spec_text)
    exprs = [t["expr"] for t in targets(d)]
    # label_values() is Grafana's, not PromQL: the series it reads must parse as a selector.
    for var in d["templating"]["list"]:
        if var["type"] == "query":
            m = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"]["query"])
            assert m, var
            exprs.append(f"group by ({m.group(2)}) ({m.group(1)})")
    return exprs


@pytest.mark.integration
@pytest.mark.timeout(120)
@pytest.mark.parametrize("spec_text", [None, GROUPED], ids=["example", "group_by"])
@pytest.mark.parametrize("service", SERVICE_VALUES)
def test_every_query_parses_in_prometheus(prometheus: Prometheus, service: str, spec_text: str | None):
    for expr in queries(spec_text):
        concrete = substitute(expr, service)
        assert "$" not in concrete, concrete
        status, body = http_get(
            f"{prometheus.url}/api/v1/query?" + urllib.parse.urlencode({"query": concrete}), timeout=10
        )
        doc = json.loads(body)
        assert doc.get("errorType") != "bad_data", f"{expr} -> {concrete}: {doc}"
        assert status == 200 and doc["status"] == "success", f"{expr} -> {concrete}: {doc}"


@pytest.mark.integration
def test_a_broken_query_would_be_caught(prometheus: Prometheus):
    """The check above is only worth something if Prometheus does refuse bad PromQL with bad_data."""
    status, body = http_get(
        f"{prometheus.url}/api/v1/query?" + urllib.parse.urlencode({"query": "sum(rate(x[5m])"})
    )
    assert status == 400 and json.loads(body)["errorType"] == "bad_data"


def test_every_target_uses_the_datasource_variable_and_firing_alerts_is_an_instant_table():
    d = dashboard()
    for t in targets(d):
        assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"} and t["refId"]
    (alerts,) = [p for p in all_panels(d) if p["title"] == "Firing alerts"]
    assert alerts["targets"][0]["instant"] and alerts["targets"][0]["format"] == "table"
    assert 'alertname=~"Slodrift.*"' in alerts["targets"][0]["expr"]


def by_title(d: dict) -> dict[str, dict]:
    return {p["title"]: p for p in d["panels"]}


def steps(p: dict) -> list[float]:
    return [s["value"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"] if s["value"] is not None]


def test_burn_thresholds_are_the_spec_factors_per_tier_and_window_and_are_drawn():
    # The SRE workbook's factors at every SLO window; catalog's 28d windows scale (x 28/30), its factors do not
    expected = {
        "Burn rate: page (56m, 1h)": [14.4],
        "Burn rate: page (5h36m, 6h)": [6.0],
        "Burn rate: ticket (22h24m, 1d)": [3.0],
        "Burn rate: ticket (2d19h12m, 3d)": [1.0],
    }
    panels = by_title(dashboard())
    for title, factors in expected.items():
        p = panels[title]
        assert steps(p) == pytest.approx(factors), title
        assert p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
        assert p["fieldConfig"]["defaults"]["unit"] == "suffix:×"
    assert (
        "14.4x over 1h: checkout availability, checkout latency"
        in panels["Burn rate: page (56m, 1h)"]["description"]
    )
    # a spec with other factors gets other lines
    faster = EXAMPLE.read_text().replace(
        "  alerting:\n",
        "  alerting:\n    page: {receiver: pager, windows: [{long: 1h, short: 5m, factor: 10}]}\n",
        1,
    )
    faster = faster.replace("    page: {receiver: pager}\n", "", 1)
    got = by_title(dashboard(faster))
    assert steps(got["Burn rate: page (1h)"]) == [10.0]  # a user's windows are not scaled


def test_drift_thresholds_per_category_come_from_the_spec():
    panels = by_title(dashboard())
    perf, res = panels["Drift from the baseline: performance"], panels["Drift from the baseline: resource"]
    assert steps(perf) == [0.05, 0.10] and steps(res) == [0.10, 0.20]  # examples/checkout.yml `drift:`
    for p in (perf, res):
        assert p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
        assert p["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert 'indicator=~"cpu|memory"' in res["targets"][0]["expr"]
    changed = EXAMPLE.read_text().replace(
        "resource: {warning: 10%, critical: 20%}", "resource: {warning: 3%, critical: 7%}"
    )
    assert steps(by_title(dashboard(changed))["Drift from the baseline: resource"]) == [0.03, 0.07]


def test_stats_gauges_mappings_and_units():
    panels = by_title(dashboard())
    budget = panels["Error budget remaining"]["fieldConfig"]["defaults"]
    assert (budget["min"], budget["max"], budget["unit"]) == (0, 1, "percentunit")
    rollback = panels["Rollback recommended"]["fieldConfig"]["defaults"]
    (mapping,) = rollback["mappings"]
    assert mapping["type"] == "value"
    assert {k: v["text"] for k, v in mapping["options"].items()} == {"0": "No", "1": "Yes"}
    assert mapping["options"]["1"]["color"] == "red" and mapping["options"]["0"]["color"] == "green"
    for p in all_panels(dashboard()):
        if p["type"] == "timeseries" and len(steps(p)) == 0:
            assert p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "off", p["title"]


def test_a_row_per_service_with_each_slo_at_a_glance():
    d = dashboard()
    rows = [p for p in d["panels"] if p["type"] == "row"]
    assert [r["title"].split(":")[0] for r in rows] == ["checkout", "catalog"]
    panels = d["panels"]
    start = panels.index(rows[1])
    catalog = panels[start + 1 :]
    titles = [p["title"] for p in catalog]
    assert titles == [
        "availability SLI (4w)",
        "availability budget left",
        "availability burn",
        "latency SLI (4w)",
        "latency budget left",
        "latency burn",
    ]
    sli, budget, burn = catalog[:3]
    assert (
        steps(sli) == [0.995] and 'slo="availability"' in sli["targets"][0]["expr"]
    )  # the objective, 99.5 %
    assert sli["targets"][0]["expr"].startswith('1 - slodrift:sli_error:ratio_rate4w{service="catalog"')
    assert (budget["fieldConfig"]["defaults"]["min"], budget["fieldConfig"]["defaults"]["max"]) == (0, 1)
    # burn per tier: page over 56m at 14.4, ticket over 22h24m at 3, each its own threshold
    assert [t["legendFormat"] for t in burn["targets"]] == ["page 56m", "ticket 22h24m"]
    per_ref = {
        o["matcher"]["options"]: [
            s["value"] for s in o["properties"][0]["value"]["steps"] if s["value"] is not None
        ]
        for o in burn["fieldConfig"]["overrides"]
    }
    assert per_ref == {"A": [14.4], "B": [3.0]}
    # links: the example's runbook_url with {{ $labels.service }} filled in
    assert {lk["url"] for lk in sli["links"]} == {"https://runbooks.example.com/slo/catalog"}
    assert sli["links"][0]["targetBlank"] is True


def test_many_services_start_collapsed():
    text = EXAMPLE.read_text()
    head, services = text.split("services:\n", 1)
    services, drift = services.split("drift:\n", 1)
    many = (
        head
        + "services:\n"
        + "".join(
            services.replace("- name: checkout", f"- name: checkout{i}").replace(
                "- name: catalog", f"- name: catalog{i}"
            )
            for i in range(4)
        )
        + "drift:\n"
        + drift
    )
    d = dashboard(many)
    rows = [p for p in d["panels"] if p["type"] == "row"]
    assert len(rows) == 8 and all(r["collapsed"] and len(r["panels"]) == 6 for r in rows)
    ids = [p["id"] for p in all_panels(d)]
    assert len(ids) == len(set(ids))


def test_group_labels_get_variables_and_matchers():
    d = dashboard(GROUPED)
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert list(variables) == ["datasource", "service", "slo", "indicator", "cluster", "route"]
    assert variables["route"]["allValue"] == ".*"  # All also matches series without the label
    assert (
        variables["route"]["query"]["query"]
        == 'label_values(slodrift:slo:info{service=~"$service", slo=~"$slo"}, route)'
    )
    exprs = [t["expr"] for t in targets(d) if "slodrift:sli_error" in t["expr"]]
    assert exprs and all('route=~"$route"' in e and 'cluster=~"$cluster"' in e for e in exprs)
    legends = [t["legendFormat"] for t in targets(d) if "slodrift:sli_error" in t["expr"]]
    assert legends and all("{{route}}" in lg and "{{cluster}}" in lg for lg in legends)  # one line per group
    assert dash.group_variable("service") == "group_service" and dash.group_variable("route") == "route"


def test_constants_agree_with_the_scoring_and_the_exporter():
    from slodrift.report.scoring import GRADES
    from slodrift.report.scoring_day import Thresholds

    grade_limits = sorted(limit / 100 for limit, _, _ in GRADES if limit > 0)
    assert [v for v, _ in dash.GRADE_STEPS if v is not None] == grade_limits
    assert dash.ROLLBACK_DAYS_DEGRADED == Thresholds().rollback_days_degraded
    scorer = (ROOT / "exporter" / "scorer.py").read_text()
    assert f'"{dash.SCORE}"' in scorer and f'"{dash.DAYS_DEGRADED}"' in scorer
