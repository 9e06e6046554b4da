"""The Grafana dashboard: structurally sound, and every query parsed by a real Prometheus."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator

import pytest
from slodrift.generator.dashboard import SCHEMA_VERSION, dashboard

from tests.conftest import ROOT
from tests.servers import Prometheus, http_get


def targets(d: dict) -> list[dict]:
    return [t for p in d["panels"] for t in p["targets"]]


def test_structure():
    d = dashboard()
    assert d["schemaVersion"] == SCHEMA_VERSION and d["uid"]
    names = [v["name"] for v in d["templating"]["list"]]
    assert names == ["datasource", "service"]
    assert (
        d["templating"]["list"][0]["type"] == "datasource"
        and d["templating"]["list"][0]["query"] == "prometheus"
    )
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
        assert p["datasource"]["uid"] == "${datasource}"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)) and all(t["expr"] for t in p["targets"])
    titles = {p["title"] for p in d["panels"]}
    assert {
        "SLI vs objective",
        "Error budget remaining",
        "Burn rate",
        "Drift from the release baseline",
        "Stability score",
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
    values = {**GRAFANA_VARS, "service": service}

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


def queries() -> list[str]:
    d = dashboard()
    exprs = [t["expr"] for t in targets(d)]
    # label_values() is Grafana's, not PromQL: the series it reads must parse as a selector.
    for var in d["templating"]["list"]:
        if var["type"] == "query":
            m = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"]["query"])
            assert m, var
            exprs.append(f"group by ({m.group(2)}) ({m.group(1)})")
    return exprs


@pytest.mark.timeout(120)
@pytest.mark.parametrize("service", SERVICE_VALUES)
def test_every_query_parses_in_prometheus(prometheus: Prometheus, service: str):
    for expr in queries():
        concrete = substitute(expr, service)
        assert "$" not in concrete, concrete
        status, body = http_get(
            f"{prometheus.url}/api/v1/query?" + urllib.parse.urlencode({"query": concrete}), timeout=10
        )
        doc = json.loads(body)
        assert doc.get("errorType") != "bad_data", f"{expr} -> {concrete}: {doc}"
        assert status == 200 and doc["status"] == "success", f"{expr} -> {concrete}: {doc}"


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
    (alerts,) = [p for p in d["panels"] if p["title"] == "Firing alerts"]
    assert alerts["targets"][0]["instant"] and alerts["targets"][0]["format"] == "table"
    assert 'alertname=~"Slodrift.*"' in alerts["targets"][0]["expr"]
