"""The Grafana dashboard: structurally sound, and every query parsed by a real Prometheus."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from generator.dashboard import SCHEMA_VERSION, dashboard
from tests.conftest import ROOT
from tests.servers import Prometheus, http_get


def targets(d: dict) -> list[dict]:
    return [t for p in d["panels"] for t in p["targets"]]


def test_structure():
    d = dashboard()
    assert d["schemaVersion"] == SCHEMA_VERSION and d["uid"]
    names = [v["name"] for v in d["templating"]["list"]]
    assert names == ["datasource", "service"]
    assert d["templating"]["list"][0]["type"] == "datasource" and d["templating"]["list"][0]["query"] == "prometheus"
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
        assert p["datasource"]["uid"] == "${datasource}"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)) and all(t["expr"] for t in p["targets"])
    titles = {p["title"] for p in d["panels"]}
    assert {"SLI vs objective", "Error budget remaining", "Burn rate", "Drift from the release baseline",
            "Stability score", "Firing alerts"} <= titles
    golden = json.loads((ROOT / "dashboards" / "slodrift.json").read_text())
    assert golden == d, "run `make golden`"


@pytest.mark.timeout(120)
def test_every_query_parses_in_prometheus(tmp_path: Path):
    prom = Prometheus(tmp_path, {"global": {"scrape_interval": "15s"}})
    exprs = [t["expr"] for t in targets(dashboard())]
    exprs.append(dashboard()["templating"]["list"][1]["query"]["query"].replace("label_values(", "group by (service) (")
                 .replace(", service)", ")"))
    with prom.running():
        for expr in exprs:
            concrete = expr.replace("$service", ".*").replace("$__rate_interval", "5m")
            status, body = http_get(f"{prom.url}/api/v1/query?" + urllib.parse.urlencode({"query": concrete}))
            doc = json.loads(body)
            assert status == 200 and doc["status"] == "success", f"{expr}: {doc}"
