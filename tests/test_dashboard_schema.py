"""The dashboard checked against Grafana's published dashboard schema: the `@grafana/schema` package's
TypeScript types (the dashboard model, and each panel plugin's options and field config), compiled with
`tsc --strict`. The JSON is written into a TypeScript file as object literals, so an unknown key, a
wrong type or a value outside an enum (`thresholdsStyle.mode`, `ThresholdsMode`, a value mapping's
type) is a compile error. Enums are compared by their wire values (`Wire<T>` below).

The package and the compiler are pinned in tests/grafana_schema/package*.json and installed by
scripts/install.sh; a missing install fails (like a missing promtool), it does not skip."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.test_dashboard import GROUPED, all_panels, dashboard

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

TOOLS = ROOT / "tests" / "grafana_schema"
TSC = TOOLS / "node_modules" / ".bin" / "tsc"
PANEL_TYPES = {
    "timeseries": "TimeSeries",
    "stat": "Stat",
    "bargauge": "BarGauge",
    "gauge": "Gauge",
    "table": "Table",
}
WIRE = (
    "type Wire<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T : "
    "T extends Array<infer U> ? Array<Wire<U>> : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;"
)


def typescript(d: dict) -> str:
    """The dashboard as a typed TypeScript module: the whole model, then each panel's options and
    field config against its plugin's types."""
    lines = ['import type { Dashboard } from "@grafana/schema";', WIRE]
    for plugin, name in PANEL_TYPES.items():
        lines.append(
            f'import type * as {name} from "@grafana/schema/dist/esm/raw/composable/{plugin}/panelcfg/x/'
            f'{name}PanelCfg_types.gen";'
        )
    lines.append(f"export const dashboard: Wire<Dashboard> = {json.dumps(d)};")
    for p in all_panels(d):
        if p["type"] == "row":
            continue
        assert p["type"] in PANEL_TYPES, f"no schema check for panel type {p['type']}"
        t = PANEL_TYPES[p["type"]]
        lines.append(
            f"export const options{p['id']}: Partial<Wire<{t}.Options>> = {json.dumps(p['options'])};"
        )
        if "custom" in p["fieldConfig"]["defaults"]:
            custom = json.dumps(p["fieldConfig"]["defaults"]["custom"])
            lines.append(f"export const custom{p['id']}: Partial<Wire<{t}.FieldConfig>> = {custom};")
    return "\n".join(lines) + "\n"


def tsc(tmp: Path, dashboards: dict[str, dict]) -> subprocess.CompletedProcess[str]:
    """Compile one module per dashboard (no output files); node_modules is the pinned install."""
    if not TSC.exists():
        pytest.fail("Grafana's schema package is not installed: run scripts/install.sh")
    (tmp / "node_modules").symlink_to(TOOLS / "node_modules", target_is_directory=True)
    for name, d in dashboards.items():
        (tmp / f"{name}.ts").write_text(typescript(d))
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "module": "esnext",
            "moduleResolution": "bundler",
            "target": "es2020",
            "skipLibCheck": True,
        },
        "files": [f"{name}.ts" for name in dashboards],
    }
    (tmp / "tsconfig.json").write_text(json.dumps(config))
    return subprocess.run(
        [str(TSC), "-p", str(tmp), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_the_dashboards_type_check_against_grafanas_schema(tmp_path: Path):
    golden = json.loads((ROOT / "dashboards" / "slodrift.json").read_text())
    r = tsc(tmp_path, {"golden": golden, "grouped": dashboard(GROUPED)})
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_check_refuses_what_grafanas_schema_does_not_allow(tmp_path: Path):
    """Three mistakes, each a compile error: an unknown panel key, an enum value Grafana does not
    have, and a wrong type."""
    golden = json.loads((ROOT / "dashboards" / "slodrift.json").read_text())
    bad_key, bad_enum, bad_type = (copy.deepcopy(golden) for _ in range(3))
    bad_key["panels"][0]["gridPosition"] = bad_key["panels"][0].pop("gridPos")
    ts = next(
        p
        for p in all_panels(bad_enum)
        if p["type"] == "timeseries" and "custom" in p["fieldConfig"]["defaults"]
    )
    ts["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] = "dotted"
    bad_type["schemaVersion"] = "39"
    r = tsc(tmp_path, {"bad_key": bad_key, "bad_enum": bad_enum, "bad_type": bad_type})
    assert r.returncode != 0
    for name, what in (("bad_key", "gridPosition"), ("bad_enum", '"dotted"'), ("bad_type", "string")):
        errors = [
            line for line in r.stdout.splitlines() if f"/{name}.ts(" in line or line.startswith(f"{name}.ts(")
        ]
        assert errors and any(what in e for e in errors), (name, r.stdout)
