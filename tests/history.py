"""Synthetic history for real Prometheus servers: OpenMetrics text → `promtool tsdb create-blocks-from
openmetrics` → a data directory Prometheus opens. Days of samples are made in seconds."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

# One series: metric name, labels, and a function of the Unix time giving its value (None = no sample).
Series = tuple[str, dict[str, str], Callable[[int], float | None]]


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    esc = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for v in labels.values())
    return "{" + ",".join(f'{k}="{v}"' for k, v in zip(labels, esc, strict=True)) + "}"


def write_openmetrics(path: Path, series: Iterable[Series], start: int, end: int, step: int) -> int:
    """Write every series from `start` to `end` (inclusive) every `step` seconds; returns samples written."""
    n = 0
    with path.open("w") as out:
        by_name: dict[str, list[Series]] = {}
        for s in series:
            by_name.setdefault(s[0], []).append(s)
        for name, group in by_name.items():
            out.write(f"# TYPE {name} gauge\n")  # raw samples; rate() does not need the type
            for _, labels, fn in group:
                text = _labels(labels)
                for t in range(start, end + 1, step):
                    v = fn(t)
                    if v is not None:
                        out.write(f"{name}{text} {v!r} {t}\n")
                        n += 1
        out.write("# EOF\n")
    return n


def backfill(promtool: str, openmetrics: Path, data_dir: Path, timeout: float = 300) -> None:
    """Turn OpenMetrics text into TSDB blocks in `data_dir` (what Prometheus then serves).

    Blocks of up to 20 days (promtool picks the largest of its 2h * 3^k ranges under the maximum):
    promtool's default 2h blocks made a week of a few dozen series take 24 s to import, against
    1.4 s for the same samples in blocks of a week."""
    data_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
            str(openmetrics),
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(f"promtool create-blocks-from openmetrics failed:\n{r.stdout}\n{r.stderr}")


def rule_levels(rule_files: Iterable[Path], interval: str) -> list[dict]:
    """Split the recording rules into dependency levels: level 1 reads only raw series, level N reads
    level N-1. `promtool tsdb create-blocks-from rules` evaluates every rule against what Prometheus
    already has, so each level must be backfilled after the one it reads."""
    import re

    import yaml

    rules = []
    for f in rule_files:
        for group in yaml.safe_load(Path(f).read_text())["groups"]:
            rules += [r for r in group["rules"] if "record" in r]
    names = {r["record"] for r in rules}
    level: dict[int, int] = {}

    def level_of(i: int) -> int:
        if i not in level:
            refs = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", rules[i]["expr"])) & names
            deps = [j for j, r in enumerate(rules) if r["record"] in refs and j != i]
            level[i] = 1 + max((level_of(j) for j in deps if j < i), default=0)
        return level[i]

    out: dict[int, list[dict]] = {}
    for i, r in enumerate(rules):
        out.setdefault(level_of(i), []).append(r)
    return [
        {"groups": [{"name": f"backfill-level-{n}", "interval": interval, "rules": out[n]}]}
        for n in sorted(out)
    ]


def _number(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def backfill_recorded(
    promtool: str,
    prometheus_factory: Callable[[], object],
    rule_files: Iterable[Path],
    data_dir: Path,
    start: int,
    end: int,
    interval: str,
    work: Path,
) -> None:
    """Backfill every recording rule over [start, end], level by level, into `data_dir`.

    Each level's rules are evaluated by a real Prometheus on the data so far, with one `query_range`
    per rule stepping by the rules' interval from `start` (what `promtool tsdb create-blocks-from rules`
    does, on a grid of its own: promtool offsets evaluations by a hash of the group's name and file, and
    when that offset falls in the last second of the interval it drops the last evaluation of every
    2h block), then imported like the raw data with `create-blocks-from openmetrics`. Each level is
    labelled as Prometheus labels a recorded series: the result's labels, the rule's, the record name.
    `prometheus_factory()` returns a context manager running Prometheus on `data_dir` with an `api()`.
    """
    import shutil
    import urllib.parse

    import yaml

    step = _seconds(interval)
    for n, level in enumerate(rule_levels(rule_files, interval), start=1):
        rules = level["groups"][0]["rules"]
        lines: dict[str, list[str]] = {}
        with prometheus_factory() as prom:  # type: ignore[attr-defined]
            for rule in rules:
                q = urllib.parse.urlencode({"query": rule["expr"], "start": start, "end": end, "step": step})
                for s in prom.api(f"/api/v1/query_range?{q}")["result"]:
                    labels = {k: v for k, v in s["metric"].items() if k != "__name__"}
                    labels.update({k: str(v) for k, v in (rule.get("labels") or {}).items()})
                    text = _labels(labels)
                    lines.setdefault(rule["record"], []).extend(
                        f"{rule['record']}{text} {_number(float(v))} {int(float(t))}\n"
                        for t, v in s["values"]
                    )
        om = work / f"level{n}.om"
        with om.open("w") as out:
            for name, samples in lines.items():
                out.write(f"# TYPE {name} gauge\n")
                out.writelines(samples)
            out.write("# EOF\n")
        (work / f"level{n}.yml").write_text(yaml.safe_dump(level, sort_keys=False))  # for whoever debugs it
        blocks = work / f"blocks{n}"
        backfill(promtool, om, blocks)
        for block in blocks.iterdir():
            if block.is_dir():
                shutil.move(str(block), data_dir / block.name)


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(duration[:-1]) * units[duration[-1]]
