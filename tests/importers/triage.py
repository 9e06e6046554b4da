"""Run every corpus spec through `slodrift import` -> `check` -> `generate` -> `test` and classify it.

    .venv/bin/python tests/importers/triage.py [--jobs 2] [--table triage.md] [--json triage.json] [FILE...]

Each spec is run as a user would run it, one `slodrift` process per step, and gets one outcome:

- `ok`: imported, checked, generated, and promtool checked and tested the rules, with no silent
  change of meaning found;
- `refused`: the importer refused it for a documented limit (a non-Prometheus source, time-slice
  budgeting, ...) or because the input is invalid on purpose (Sloth's own "bad" test inputs);
- `blocked`: refused for a reason another issue removes (objectives at or below ~93 %, #12.9);
- `bug`: anything else: a refusal that is not a documented limit, a later step that fails, or a
  conversion that changed meaning without a `warning:` (a `by (...)` grouping flattened, a plugin or
  a disabled alert dropped).

The reasons are matched from the error text by the table `LIMITS` below; a reason not in it is a bug
by definition, so a new kind of refusal has to be documented (README and here) before it counts as
one. Exit status: 0, or 1 when any spec is a bug.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FORMATS = ("sloth", "openslo", "pyrra")
SLODRIFT = [sys.executable, "-m", "slodrift"]

# Documented limits: (pattern in the error text, reason). Keep in step with the README's importer section.
LIMITS: list[tuple[str, str]] = [
    (r"source( type)? '[^']*' is not supported|only Prometheus", "non-Prometheus source"),
    (r"Timeslices is not supported|timeSliceTarget|timeSliceWindow", "time-slice budgeting"),
    (r"calendar windows are not supported|rolling months|months, quarters", "calendar window"),
    (r"thresholdMetric is not supported", "threshold metric (no event ratio)"),
    (r"Sloth SLI plugins are not supported|SLI plugin", "Sloth SLI plugin (Go code)"),
    (r"OpenSLO v2alpha is a draft", "OpenSLO v2alpha (a draft)"),
    (r"keeps every label of its series", "per-series query (no aggregation to group by)"),
    (
        r"unknown function with name '(histogram_share|share_le_over_time|share_gt_over_time)'|MetricsQL",
        "MetricsQL (VictoriaMetrics) query",
    ),
]
# Refusals that another issue removes: (pattern, reason). They count apart from bugs and limits.
BLOCKED: list[tuple[str, str]] = [
    (
        r"could never fire",
        "blocked on #12.9 (objective at or below ~93 %: a default window pair cannot fire)",
    ),
]
INVALID_NOTE = "INVALID on purpose"
INVALID_REASON = "invalid input (Sloth rejects it too)"
OUTCOMES = ("ok", "refused", "blocked", "bug")


@dataclass
class Result:
    file: str
    format: str
    outcome: str = "ok"  # ok | refused | blocked | bug
    stage: str = ""  # the step that failed: import | check | generate | test
    reason: str = ""
    warnings: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=1800)


def invalid_on_purpose() -> set[str]:
    sources = CORPUS / "SOURCES"
    out = set()
    for line in sources.read_text().splitlines():
        cols = line.split("\t")
        if not line.startswith("#") and len(cols) >= 6 and INVALID_NOTE in cols[5]:
            out.add(cols[0])
    return out


def error_lines(stderr: str) -> list[str]:
    return [line[len("error: ") :] for line in stderr.splitlines() if line.startswith("error: ")]


def limit_of(errors: list[str]) -> str | None:
    for err in errors:
        for pattern, reason in LIMITS:
            if re.search(pattern, err):
                return reason
    return None


def classify_refusal(rel: str, errors: list[str], invalid: set[str]) -> tuple[str, str]:
    """(outcome, reason) of an import that failed with `errors`: refused, blocked or bug."""
    limit = limit_of(errors)
    if rel in invalid:
        return "refused", INVALID_REASON
    if limit:
        return "refused", limit
    blocked = blocked_by(errors)
    if blocked:
        return "blocked", blocked
    return "bug", short(errors[0]) if errors else "failed without an error message"


def blocked_by(errors: list[str]) -> str | None:
    for err in errors:
        for pattern, reason in BLOCKED:
            if re.search(pattern, err):
                return reason
    return None


def short(err: str) -> str:
    """An error without its file and line, numbers collapsed: a reason that groups well in a table."""
    err = re.sub(r"^\S+?:(\d+:)? ", "", err)
    return re.sub(r"\[\d+\]", "[]", err)[:160]


def _queries(node: object) -> list[str]:
    """Every string under a key that holds a query in Sloth, OpenSLO or Pyrra."""
    keys = {
        "error_query",
        "total_query",
        "error_ratio_query",
        "errorQuery",
        "totalQuery",
        "errorRatioQuery",
        "query",
        "metric",
    }
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in keys and isinstance(v, str):
                out.append(v)
            else:
                out.extend(_queries(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_queries(v))
    return out


def _keys(node: object) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            out.add(str(k))
            out |= _keys(v)
    elif isinstance(node, list):
        for v in node:
            out |= _keys(v)
    return out


def _disabled_tiers(node: object) -> int:
    n = 0
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("page_alert", "ticket_alert", "pageAlert", "ticketAlert") and isinstance(v, dict):
                n += v.get("disable") is True
            else:
                n += _disabled_tiers(v)
    elif isinstance(node, list):
        n += sum(_disabled_tiers(v) for v in node)
    return n


def silent_changes(source: Path, spec_text: str, stderr: str) -> list[str]:
    """Changes of meaning the import made without a warning, found by comparing input and output."""
    try:
        docs = [d for d in yaml.safe_load_all(source.read_text()) if d is not None]
        spec = yaml.safe_load(spec_text)
    except yaml.YAMLError:
        return []
    # The messages only: the file's own name may well contain "plugin" or "group".
    warnings = [
        line.replace(str(source), "").lower() for line in stderr.splitlines() if line.startswith("warning: ")
    ]
    found = []
    grouped = any(re.search(r"\b(by|without)\s*\(", q) for q in _queries(docs)) or "grouping" in _keys(docs)
    if grouped and "group_by" not in spec_text and not any("group" in w for w in warnings):
        found.append("silent: grouping (by/without/grouping) flattened")
    if {"slo_plugins", "sloPlugins", "plugins"} & _keys(docs) and not any("plugin" in w for w in warnings):
        found.append("silent: SLO plugin dropped")
    disabled = _disabled_tiers(docs)
    if disabled and spec_text.count(": false") < disabled:
        found.append("silent: disabled alert tier enabled")
    del spec
    return found


def triage_one(path: Path, work: Path, invalid: set[str]) -> Result:
    rel = path.relative_to(CORPUS).as_posix() if path.is_relative_to(CORPUS) else str(path)
    fmt = rel.split("/")[0] if rel.split("/")[0] in FORMATS else "sloth"
    res = Result(rel, fmt)
    start = time.monotonic()
    out = work / re.sub(r"[^A-Za-z0-9_.-]", "_", rel)
    out.mkdir(parents=True)
    spec = out / "spec.yml"
    try:
        p = run([*SLODRIFT, "import", fmt, str(path), "--out", str(spec)])
        res.warnings = sum(line.startswith("warning: ") for line in p.stderr.splitlines())
        if p.returncode != 0:
            res.stage = "import"
            res.errors = error_lines(p.stderr) or p.stderr.strip().splitlines()[-3:]
            if "invalid choice" in p.stderr:
                res.outcome, res.reason = "bug", f"no `slodrift import {fmt}`"
            elif "Traceback" in p.stderr:
                res.outcome, res.reason = "bug", "traceback: " + p.stderr.strip().splitlines()[-1]
            else:
                res.outcome, res.reason = classify_refusal(rel, res.errors, invalid)
            return res
        if rel in invalid:
            res.errors.append("imported an input Sloth rejects (see its note in SOURCES)")
        silent = silent_changes(path, spec.read_text(), p.stderr)
        for stage, args in (
            ("check", [*SLODRIFT, "check", str(spec)]),
            ("generate", [*SLODRIFT, "generate", str(spec), "--out", str(out / "gen"), "--jobs", "1"]),
            ("test", [*SLODRIFT, "test", str(out / "gen")]),
        ):
            p = run(args)
            if p.returncode != 0:
                res.outcome, res.stage = "bug", stage
                text = p.stderr.strip() or p.stdout.strip()
                res.errors = error_lines(p.stderr) or text.splitlines()[-20:]
                res.reason = short(_first_failure(text))
                return res
        if silent:
            res.outcome, res.stage, res.reason = "bug", "import", silent[0]
            res.errors = silent
        return res
    finally:
        res.seconds = round(time.monotonic() - start, 1)
        shutil.rmtree(out, ignore_errors=True)


def _first_failure(text: str) -> str:
    for pattern in (r"^error: .*", r".*duplicate sample.*", r".*FAILED.*", r".*[Ee]rror.*"):
        m = re.search(pattern, text, re.M)
        if m:
            return m.group(0).strip()
    return text.splitlines()[0] if text else "failed"


def corpus_files() -> list[Path]:
    return sorted(p for fmt in FORMATS for p in (CORPUS / fmt).rglob("*") if p.is_file())


def table(results: list[Result]) -> str:
    counts = {o: sum(r.outcome == o for r in results) for o in OUTCOMES}
    lines = [
        f"{len(results)} specs: {counts['ok']} ok, {counts['refused']} refused (documented limits), "
        f"{counts['blocked']} blocked (another issue), {counts['bug']} bugs",
        "",
    ]
    for fmt in FORMATS:
        sub = [r for r in results if r.format == fmt]
        if sub:
            c = {o: sum(r.outcome == o for r in sub) for o in OUTCOMES}
            lines.append(
                f"- {fmt}: {len(sub)} specs, {c['ok']} ok, {c['refused']} refused, {c['blocked']} blocked, "
                f"{c['bug']} bugs"
            )
    reasons: dict[tuple[str, str], int] = {}
    for r in results:
        if r.outcome != "ok":
            key = (r.outcome, f"{r.stage}: {r.reason}")
            reasons[key] = reasons.get(key, 0) + 1
    lines += ["", "| count | outcome | reason |", "| ---: | --- | --- |"]
    lines += [
        f"| {n} | {o} | {why.replace('|', '/')} |"
        for (o, why), n in sorted(reasons.items(), key=lambda kv: (kv[0][0], -kv[1]))
    ]
    lines += ["", "| spec | outcome | stage | reason | warnings |", "| --- | --- | --- | --- | ---: |"]
    lines += [
        f"| {r.file} | {r.outcome} | {r.stage} | {r.reason.replace('|', '/')} | {r.warnings} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description="triage the importer corpus")
    ap.add_argument("files", nargs="*", type=Path, help="corpus files (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="specs run at once (default 2)")
    ap.add_argument("--table", type=Path, help="write the Markdown table here (default: stdout)")
    ap.add_argument("--json", type=Path, help="write every result as JSON here")
    args = ap.parse_args()
    files = [f.resolve() for f in args.files] or corpus_files()
    invalid = invalid_on_purpose()
    start = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="slodrift-triage-") as tmp,
        ThreadPoolExecutor(max_workers=args.jobs) as pool,
    ):
        results = list(pool.map(lambda f: triage_one(f, Path(tmp), invalid), files))
    text = (
        table(results)
        + f"\n{len(results)} specs in {time.monotonic() - start:.0f} s with {args.jobs} job(s)\n"
    )
    if args.table:
        args.table.write_text(text)
    else:
        sys.stdout.write(text)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    return 1 if any(r.outcome == "bug" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
