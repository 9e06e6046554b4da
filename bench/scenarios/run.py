"""Run the alert-quality scenarios: each history into a real source Prometheus, then `slodrift backtest`'s
engine over it for slodrift's, Sloth's and Pyrra's rules for the same SLO, scored against the scenario's
declared truth. Results: bench/results/scenarios/<scenario>.<tool>.json and table.md (ALERTS.md quotes it).

    .venv/bin/python bench/scenarios/run.py                          # every scenario, every tool
    .venv/bin/python bench/scenarios/run.py fast_burn --tool slodrift  # one scenario, one tool
    .venv/bin/python bench/scenarios/run.py --quick                  # the `make test` subset
    .venv/bin/python bench/scenarios/run.py --table                  # the table from the saved results
    .venv/bin/python bench/scenarios/run.py fast_burn --serve        # its history in a Prometheus, to try the commands

Every Prometheus is bounded in time and stopped; temporary directories are removed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import catalog  # noqa: E402
import score  # noqa: E402
import synth  # noqa: E402
import tools  # noqa: E402
from slodrift.report.alert_tiers import AmtoolRouter, label_tier, owner_of  # noqa: E402
from slodrift.report.backtest import Deployment, replay  # noqa: E402
from slodrift.report.backtest_doc import document  # noqa: E402
from slodrift.report.rulefiles import Group, parse_groups  # noqa: E402
from slodrift.report.scratch import scratch_prometheus  # noqa: E402
from slodrift.report.spec_rules import spec_rules, tiers_by_receiver  # noqa: E402

RESULTS = HERE.parent / "results" / "scenarios"
ROOT = HERE.parent.parent


def _groups(tool: str, slo: tools.SLODef, work: Path) -> tuple[list[Group], Any]:
    """The tool's rule groups for `slo`, and how its alerts are tiered (amtool routing for slodrift)."""
    rules = tools.rules_for(tool, slo)
    if rules.spec_text is not None:
        spec = work / f"{slo.job}-{slo.team}.yml"
        spec.write_text(rules.spec_text)
        sr = spec_rules(spec)  # a spec slodrift refuses raises SpecError: reported as a failed run
        router = AmtoolRouter(sr.alertmanager_config or "", tiers_by_receiver(sr.spec))
        return sr.groups, router
    return parse_groups(rules.doc, f"{tool}.yml"), None


def _deployments(sc: catalog.Scenario, tool: str, work: Path) -> tuple[list[Deployment], list[Any]]:
    groups, router = _groups(tool, sc.slo, work)
    routers = [router]
    ms = None if sc.change_at is None else sc.change_at * 1000
    since = None if sc.rules_since is None else sc.rules_since * 1000
    if sc.mode == "steady":
        return [Deployment(groups, loaded_ms=since, name=tool)], routers
    if sc.mode in ("deploy", "deploy_backfill"):
        return [Deployment(groups, loaded_ms=ms, backfilled=sc.mode == "deploy_backfill", name=tool)], routers
    if sc.mode == "label_change":
        assert sc.slo_after is not None
        after, router_b = _groups(tool, sc.slo_after, work)
        routers.append(router_b)
        return [
            Deployment(groups, loaded_ms=since, until_ms=ms, name=f"{tool} before"),
            Deployment(after, loaded_ms=ms, name=f"{tool} after"),
        ], routers
    raise ValueError(sc.mode)


def _baseline_gauges(sc: catalog.Scenario, source: str, work: Path) -> list[tuple[str, dict[str, str], Any]]:
    """`slodrift baseline capture` over the day before the release, then the gauges the real exporter
    publishes for it (its collector, rendered as a scrape would see them)."""
    import subprocess

    import numpy as np
    from prometheus_client import CollectorRegistry, generate_latest
    from slodrift.exporter.collector import SlodriftCollector
    from slodrift.exporter.state import StateHolder

    spec = work / "drift-spec.yml"
    spec.write_text(tools.slodrift_spec(sc.slo))
    baseline = work / "baseline.json"
    p = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "slodrift"),
            "baseline",
            "capture",
            str(spec),
            "--prometheus-url",
            source,
            "--from",
            str(sc.start - catalog.DAY),
            "--to",
            str(sc.start),
            "--out",
            str(baseline),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if p.returncode:
        raise RuntimeError(f"baseline capture failed: {p.stderr}")
    state = StateHolder(spec, baseline)
    if not state.reload():
        raise RuntimeError(f"exporter refused the baseline: {state.status.last_error}")
    registry = CollectorRegistry()
    registry.register(SlodriftCollector(state))
    out = []
    for line in generate_latest(registry).decode().splitlines():
        m = re.match(r"^(slodrift_baseline\w*)\{(.*)\} (\S+)$", line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            labels.update({"job": "slodrift", "instance": "exporter:9877"})
            value = float(m.group(3))
            out.append((m.group(1), labels, lambda t, v=value: np.full(t.shape, v)))
    (work / "baseline.used.json").write_text(baseline.read_text())
    return out


def run_scenario(
    sc: catalog.Scenario, tools_: list[str], work: Path, out_dir: Path, log: Any = print
) -> list[dict[str, Any]]:
    started = time.monotonic()
    data = work / "data"
    n = synth.write_history(sc.services(), sc.t0, sc.end + catalog.HOUR, data, work)
    log(f"{sc.name}: {n} raw samples written in {time.monotonic() - started:.0f}s")
    results = []
    blocks = [data]
    if sc.drift:  # the baseline is captured from the raw history, then served next to it
        with scratch_prometheus(work / "source", [data], None, 300_000, limit_s=6 * 3600) as src:
            extra = work / "baseline-data"
            synth.write_history(
                [],
                sc.start - 2 * catalog.HOUR,
                sc.end + catalog.HOUR,
                extra,
                work,
                gauges=_baseline_gauges(sc, src.url, work),
            )
            blocks.append(extra)
    with scratch_prometheus(work / "source2", blocks, None, 300_000, limit_s=6 * 3600) as src:
        for tool in [t for t in tools_ if t in sc.tools]:
            t0 = time.monotonic()
            res: dict[str, Any] = {
                "scenario": sc.name,
                "kind": sc.kind,
                "tool": tool,
                "summary": sc.summary,
                "mode": sc.mode,
                "from": sc.start,
                "to": sc.end,
                "days": sc.days,
            }
            routers: list[Any] = []
            try:
                deps, routers = _deployments(sc, tool, work)
                rep = replay(deps, src.url, sc.start * 1000, sc.end * 1000, work / f"eval-{tool}")
                router = routers[0]
                doc = document(
                    rep,
                    deps,
                    sc.start * 1000,
                    sc.end * 1000,
                    router.tier if router else label_tier,
                    owner_of,
                    source="scenario",
                    seconds=time.monotonic() - t0,
                )
                res.update(score.score(doc, sc))
                res["evaluation"] = doc["evaluation"]
                res["rule_errors"] = doc["rule_errors"]
                res["warnings"] = doc["warnings"]
                res["alerts"] = [
                    {k: a[k] for k in ("alertname", "tier", "start", "end", "labels")} for a in doc["alerts"]
                ]
            except Exception as exc:  # noqa: BLE001 - a tool that cannot even load its rules is a result too
                res.update(score.failed(sc, f"{type(exc).__name__}: {exc}"))
            finally:
                for r in routers:
                    if r:
                        r.close()
            res["seconds"] = round(time.monotonic() - t0, 1)
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / f"{sc.name}.{tool}.json").write_text(json.dumps(res, indent=1) + "\n")
            log(f"{sc.name} / {tool}: {score.one_line(res)} ({res['seconds']:.0f}s)")
            results.append(res)
    return results


def _iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def serve(sc: catalog.Scenario, seconds: float) -> None:
    """The scenario's history in a Prometheus on 127.0.0.1 until Ctrl-C or `seconds`, with commands to try."""
    work = Path(tempfile.mkdtemp(prefix=f"slodrift-demo-{sc.name}-"))
    try:
        data = work / "data"
        synth.write_history(sc.services(), sc.t0, sc.end + catalog.HOUR, data, work)
        spec = work / f"{sc.slo.job}.yml"
        spec.write_text(tools.slodrift_spec(sc.slo))
        with scratch_prometheus(work / "source", [data], None, 300_000, limit_s=seconds + 120) as src:
            inc = "".join(f" --incident {_iso(i.start)}..{_iso(i.end)}" for i in sc.incidents)
            print(
                f"{sc.name}: {sc.summary}\nPrometheus with its raw history: {src.url}\nspec: {spec}\n\ntry:\n"
                f"  .venv/bin/slodrift backtest {spec} --prometheus-url {src.url} --from {_iso(sc.start)} "
                f"--to {_iso(sc.end)} --out backtest-{sc.name}{inc}\n"
                f"  .venv/bin/slodrift backfill {spec} --prometheus-url {src.url} --from {_iso(sc.start - 3 * catalog.DAY)} "
                f"--to {_iso(sc.start)} --out blocks-{sc.name}\n\n(Ctrl-C or {seconds:g} s to stop)",
                flush=True,
            )
            try:
                time.sleep(seconds)
            except KeyboardInterrupt:
                pass
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--tool", action="append", choices=catalog.TOOLS, help="tools (default: all three)")
    ap.add_argument(
        "--quick", action="store_true", help="the short variants `make test` runs (slodrift only)"
    )
    ap.add_argument(
        "--out", type=Path, default=None, help=f"results directory (default {RESULTS.relative_to(ROOT)})"
    )
    ap.add_argument("--table", action="store_true", help="only print the table from saved results")
    ap.add_argument(
        "--rescore",
        action="store_true",
        help="score the saved firing intervals again against the catalog's truth (no evaluation)",
    )
    ap.add_argument("--list", action="store_true", help="list the scenarios")
    ap.add_argument(
        "--serve",
        type=float,
        nargs="?",
        const=3600.0,
        default=None,
        metavar="SECONDS",
        help="serve one scenario's history from a Prometheus on 127.0.0.1 (default 3600 s) to try the commands",
    )
    a = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: Prometheus stopped
    scenarios = catalog.all_scenarios()
    if a.list:
        for sc in scenarios:
            print(f"{sc.name:<28} {sc.kind:<13} {'quick ' if sc.quick else '      '}{sc.summary}")
        return 0
    if a.serve is not None:
        if len(a.scenarios) != 1:
            ap.error("--serve takes one scenario")
        serve(next(s for s in scenarios if s.name == a.scenarios[0]), a.serve)
        return 0
    out = a.out or (RESULTS / "quick" if a.quick else RESULTS)
    if not a.table:
        names = set(a.scenarios) or {s.name for s in scenarios}
        unknown = names - {s.name for s in scenarios}
        if unknown:
            ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))} (see --list)")
        chosen = [s for s in scenarios if s.name in names and (s.quick or not a.quick or a.scenarios)]
        if a.quick:
            chosen = [catalog.quick_variant(s) for s in chosen]
        for sc in chosen:
            work = Path(tempfile.mkdtemp(prefix=f"slodrift-scenario-{sc.name}-"))
            try:
                run_scenario(sc, a.tool or list(catalog.TOOLS), work, out)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    results = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    if a.rescore:
        by_name = {s.name: s for s in scenarios}
        for r, path in zip(results, sorted(out.glob("*.json")), strict=True):
            sc = by_name[r["scenario"]]
            if r.get("error") is None and sc.start == r["from"]:
                r.update(
                    score.score(
                        {
                            "alerts": [
                                {"counted": sc.start * 1000 <= score.ms(a["start"]) < sc.end * 1000, **a}
                                for a in r["alerts"]
                            ]
                        },
                        sc,
                    )
                )
                path.write_text(json.dumps(r, indent=1) + "\n")
    table = score.table(results, [s.name for s in scenarios])
    if not a.quick and not a.out:
        (out / "table.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
