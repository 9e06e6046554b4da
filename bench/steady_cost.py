"""Steady-state rule cost: samples read per evaluation and wall time, every window full (issues 19 and 13).

One SLO, 99.9 % over 30d, rules evaluated every 1m, raw counters scraped every 30 s. Per case, one real
Prometheus (127.0.0.1, free port, temp dir, killed on exit and after `--limit` s) holds a history longer
than every window of every tool, loads the tools' rule files and continues them live:

- **Raw counters** (`http_requests_total{job, instance, code}`, Poisson counts per scrape around a diurnal
  shape) for 30 days + 2 h, every 30 s, written as OpenMetrics one 2h block at a time and imported with
  `promtool tsdb create-blocks-from openmetrics` (Pyrra's 30d `increase` and Sloth's and Pyrra's 1d..4d
  `rate`s read them all). A small exporter continues them live (`honor_labels`), so the history and the
  scrapes join without a gap.
- **Recorded series, synthesized directly** (promtool cannot backfill rules that read other rules):
  the series the rules read over a range or with an offset, on the grid Prometheus evaluates each group
  on (`promcost.group_phase_ms`: n * 1m + a phase hashed from the rule file and group name, checked
  against the live evaluations), ending at the last evaluation before the live ones:
  - slodrift: the slices `slodrift:sli_events:increase1m{event=error|total|interval}`, the 2..64-slice
    blocks `block2m..block1h4m` (one sample every 2^j evaluations, on evaluations n % 2^j == 1), the open
    block `block_partial`, each with the value its rule gives over the slices (computed from prefix sums
    of the slices, as if every slice existed since 30 days + 2 h before), and `ratio_rate5m` and
    `slo:info` (read over 15m by the no-data alert);
  - Sloth: `slo:sli_error:ratio_rate5m` (its 30d rule averages it).
  In the grouped case (`--groups`), writing a month of slices for 1,000 groups would be 130 M samples, so
  the slices and open blocks are written only in the 2h TSDB blocks some rule reads during the measured
  evaluations (the last 3 h, and around every window's start), each such block complete; the 64-slice
  blocks over the whole 30 days. Every range the rules read is then as at steady state.
  Values are pseudo-random counts scaled per group (the same sequence for every group), so they compress
  less well than constants; the slices' values are not the raw counters' (the cost does not depend on
  them). Live-recorded sparse blocks have a staleness marker after every sample; synthesized ones do not
  (markers are not counted as samples, they are decoded).
- **Checks** before measuring: every group's first live evaluation is on the predicted grid; for
  slodrift the 30d window holds 43,200 intervals for every group (the blocks, open blocks and slices are
  where the rules expect them); for one SLO, every window's events equal the plain sum of the slices in
  it; every synthesized series is one series (the live rules continue it, no duplicate label set).

Measured, after `--skip` evaluations: Prometheus' per-group and per-rule `evaluationTime` over `--evals`
evaluations (wall), then every rule's expression as an instant query at its group's last evaluation
time with `stats=all`: `totalQueryableSamples` is the samples that evaluation read. With 1m evaluation,
samples per evaluation are samples per minute. Cross-check: `promcost.expr_cost` computes the same
from the rule's selectors (series x range / interval, from the catalog of what was written and is
scraped) without Prometheus; every rule's figure must lie within its computed bounds.

    .venv/bin/python bench/steady_cost.py                  # R = 12, 100, 1000, then groups 10, 100, 1000
    .venv/bin/python bench/steady_cost.py --series 12 --groups   # (no groups: --groups with no value)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import common as c
import numpy as np
import promcost as pc
import yaml

INTERVAL = 60  # s, rule evaluation (every group of every tool)
SCRAPE = 30  # s, raw counters
HISTORY = 30 * 86400 + 2 * 3600  # every window of every tool full, plus the offsets reaching past 30d
RECENT = 3 * 3600  # the grouped case writes every slice of the last 3 h
START_MARGIN_MS = 12_000  # history ends at least this long before each group's next evaluation
TOOLS = ("slodrift", "sloth", "pyrra")
WINDOW_EVENTS = ("error", "total", "interval")
ALERT_GROUPS = re.compile(r"^slodrift;slodrift-slo-(alerts|data)-")  # slodrift's SLO groups without windows
SLODRIFT_SYNTH = re.compile(
    r"^slodrift:sli_events:(increase\d+m|block\d+[hm]\d*m?|block_partial)$|^slodrift:sli_error:ratio_rate5m$|^slodrift:slo:info$"
)
GROUP_SPEC = """\
version: 1
release: {{name: bench, version: v1, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}}
defaults: {{slo_window: 30d, evaluation_interval: 1m}}
services:
{services}
"""
GROUP_SERVICE = """\
  - name: {name}
    selector: {{job: {name}}}
    slos:
      - name: availability
        objective: 99.9
        group_by: [route]
        max_groups: {groups}
        sli: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}
"""


# ---------------------------------------------------------------- the raw series and their traffic


@dataclass
class Raw:
    """Raw counters: one row per series; `rate` events/s at the daily peak."""

    labels: list[dict[str, str]]
    rate: np.ndarray
    first: int  # s, first scrape
    last: int = 0  # s, last written scrape
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        self.counts = np.zeros(len(self.labels), dtype=np.int64)
        self.rng = np.random.default_rng(len(self.labels))

    def advance(self, ts: np.ndarray) -> np.ndarray:
        """Counter values at scrape times `ts` (s, increasing, after the previous call's)."""
        lam = self.rate[:, None] * SCRAPE * c.hour_factor((ts % 86400) / 3600.0)[None, :]
        inc = self.rng.poisson(lam)
        if ts[0] == self.first:
            inc[:, 0] = 0
        vals = self.counts[:, None] + np.cumsum(inc, axis=1)
        self.counts = vals[:, -1].copy()
        self.last = int(ts[-1])
        return vals


def availability_raw(r: int, first: int) -> Raw:
    instances, codes = c.codes_for(r)
    labels, rates = [], []
    for i in range(instances):
        base = 2.0 * (0.5 + (i % 7) / 7)
        n_err = sum(x.startswith("5") for x in codes)
        for code in codes:
            share = 0.0005 / n_err if code.startswith("5") else 0.9995 / (len(codes) - n_err)
            labels.append({"job": c.JOB, "instance": f"i{i:04d}", "code": code})
            rates.append(base * share)
    return Raw(labels, np.array(rates), first)


def grouped_raw(services: dict[str, int], first: int) -> Raw:
    labels, rates = [], []
    for svc, groups in services.items():
        for g in range(groups):
            for code, share in (("200", 0.999), ("500", 0.001)):
                # an instance label of their own: with honor_labels the scrapes continue these series
                # (without one, Prometheus adds the target's and the live series would be new ones)
                labels.append({"job": svc, "instance": "i0", "route": f"/r{g:04d}", "code": code})
                rates.append((0.2 + (g % 11) / 10) * share)
    return Raw(labels, np.array(rates), first)


def series_text(labels: dict[str, str], name: str = c.METRIC) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{inner}}}"


# ---------------------------------------------------------------- recorded series, synthesized


@dataclass
class Family:
    """One synthesized recorded series: its labels, the group that records it and which evaluations."""

    name: str
    labels: dict[str, str]
    phase_ms: int
    every: int  # a sample on evaluations n with n % every == residue
    residue: int
    value: Callable[[np.ndarray], np.ndarray]  # evaluation numbers -> values
    sparse: bool  # written only in the 2h blocks some rule reads (the grouped case)


class Slices:
    """Per-evaluation events of one identity: `scale x` a shared pseudo-random sequence, with prefix sums,
    so that every block and open block is the sum its rule gives, from evaluation `n0` on."""

    def __init__(self, n0: int, n1: int, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.n0, self.n1 = n0, n1
        size = n1 - n0 + 2
        total = rng.poisson(60.0, size).astype(np.int64) + 1
        error = rng.binomial(total, 0.0008).astype(np.int64)
        self.seq = {"total": total, "error": error, "interval": np.ones(size, dtype=np.int64)}
        self.prefix = {k: np.concatenate(([0], np.cumsum(v))) for k, v in self.seq.items()}

    def sum(self, event: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sum of slices lo..hi (evaluation numbers, inclusive); slices before n0 do not exist."""
        p = self.prefix[event]
        a = np.clip(lo - self.n0, 0, len(p) - 1)
        b = np.clip(hi + 1 - self.n0, 0, len(p) - 1)
        return p[b] - p[a]

    def ratio(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Errors / total over slices lo..hi (0 where there are none: before the history)."""
        tot = self.sum("total", lo, hi)
        return np.where(tot > 0, self.sum("error", lo, hi) / np.maximum(tot, 1), 0.0)

    def block(self, event: str, n: np.ndarray, size: int) -> np.ndarray:
        """The `size`-slice block recorded at evaluation n: slices n-size .. n-1."""
        return self.sum(event, n - size, n - 1)

    def partial(self, event: str, n: np.ndarray, levels: int) -> np.ndarray:
        """The open block at evaluation n, as its rule builds it: slice n-2 times bit 0 of m = n-2, plus
        for each level j the newest 2^j block of the last 2^j evaluations times bit j of m."""
        m = n - 2
        out = self.sum(event, n - 2, n - 2) * (m & 1)
        for j in range(1, levels + 1):
            k = n - 1 - ((n - 2) % (1 << j))
            out = out + self.block(event, k, 1 << j) * ((m >> j) & 1)
        return out


def slodrift_families(
    doc: dict[str, object],
    phases: dict[str, int],
    groups: dict[str, list[dict[str, str]]],
    n0: int,
    n1: int,
    sparse: bool,
) -> list[Family]:
    """The recorded series of slodrift's rules that rules read back in time, per identity."""
    out: list[Family] = []
    for g in doc["groups"]:  # type: ignore[attr-defined]
        recs = {r.get("record"): r for r in g["rules"]}
        slices_name = next(
            (k for k in recs if k and re.match(r"^slodrift:sli_events:increase\d+m$", k)), None
        )
        if slices_name is None:
            continue
        service = str(next(r for r in g["rules"] if r.get("record") == slices_name)["labels"]["service"])
        info = recs["slodrift:slo:info"]["labels"]
        block_sizes = sorted(
            int(re.search(r"% (\d+) == 1", str(r["expr"])).group(1))  # type: ignore[union-attr]
            for k, r in recs.items()
            if k and k.startswith("slodrift:sli_events:block") and k != "slodrift:sli_events:block_partial"
        )
        block_names = {
            int(re.search(r"% (\d+) == 1", str(r["expr"])).group(1)): k  # type: ignore[union-attr]
            for k, r in recs.items()
            if k and k.startswith("slodrift:sli_events:block") and k != "slodrift:sli_events:block_partial"
        }
        levels = len(block_sizes) - 1  # the open block is built from the levels below the largest
        phase = phases[g["name"]]
        for gi, glabels in enumerate(groups[service]):
            sl = Slices(n0, n1, seed=1)
            scale = 1 + gi % 13
            ident = {"service": service, "slo": str(info["slo"]), **glabels}
            for ev in WINDOW_EVENTS:
                k = 1 if ev == "interval" else scale
                lab = {**ident, "event": ev}

                def vals(
                    fn: Callable[[np.ndarray], np.ndarray], k: int = k
                ) -> Callable[[np.ndarray], np.ndarray]:
                    return lambda n: fn(n) * k

                out.append(
                    Family(
                        slices_name, lab, phase, 1, 0, vals(lambda n, ev=ev, sl=sl: sl.sum(ev, n, n)), sparse
                    )
                )
                for size in block_sizes:
                    out.append(
                        Family(
                            block_names[size],
                            lab,
                            phase,
                            size,
                            1,
                            vals(lambda n, ev=ev, sl=sl, size=size: sl.block(ev, n, size)),
                            sparse and size < block_sizes[-1],
                        )
                    )
                out.append(
                    Family(
                        "slodrift:sli_events:block_partial",
                        lab,
                        phase,
                        1,
                        0,
                        vals(lambda n, ev=ev, sl=sl, lv=levels: sl.partial(ev, n, lv)),
                        sparse,
                    )
                )
            r5 = {**ident, "window": "5m"}

            def ratio5m(n: np.ndarray, sl: Slices = sl) -> np.ndarray:
                return sl.ratio(n - 4, n)

            out.append(Family("slodrift:sli_error:ratio_rate5m", r5, phase, 1, 0, ratio5m, sparse))
        out.append(
            Family(
                "slodrift:slo:info",
                {str(k): str(v) for k, v in info.items()},
                phase,
                1,
                0,
                lambda n: np.ones(len(n)),
                sparse,
            )
        )
    return out


def sloth_families(doc: dict[str, object], phases: dict[str, int], n0: int, n1: int) -> list[Family]:
    out = []
    for g in doc["groups"]:  # type: ignore[attr-defined]
        for r in g["rules"]:
            if r.get("record") == "slo:sli_error:ratio_rate5m":
                sl = Slices(n0, n1, seed=2)
                out.append(
                    Family(
                        "slo:sli_error:ratio_rate5m",
                        {str(k): str(v) for k, v in r["labels"].items()},
                        phases[g["name"]],
                        1,
                        0,
                        lambda n, sl=sl: sl.ratio(n - 4, n),
                        False,
                    )
                )
    return out


def needed_blocks(
    docs: dict[str, dict[str, object]], families: list[Family], t_end: int, span: int
) -> set[int]:
    """2h block starts (s) that some rule reads a sparse family in, for evaluations in [t_end, t_end + span]."""
    names = {f.name for f in families if f.sparse}
    out = set(range((t_end - RECENT) // c.BLOCK * c.BLOCK, t_end + 1, c.BLOCK))
    for doc in docs.values():
        for g in doc["groups"]:  # type: ignore[attr-defined]
            for r in g["rules"]:
                for s in pc.selectors(str(r["expr"])):
                    if s.name not in names:
                        continue
                    back = (s.offset_ms + (s.range_ms or pc.LOOKBACK_MS)) // 1000
                    lo = t_end - back - 600
                    hi = t_end + span - s.offset_ms // 1000
                    out.update(range(lo // c.BLOCK * c.BLOCK, hi + 1, c.BLOCK))
    return out


# ---------------------------------------------------------------- writing the history


def _ts(ms: np.ndarray) -> list[str]:
    # promtool truncates seconds * 1000 to an integer: +0.5 ms keeps the intended millisecond
    return [f" {x // 1000}.{x % 1000:03d}5\n" for x in ms.tolist()]


def om_chunk(
    path: Path,
    raw: Raw | None,
    raw_ts: np.ndarray,
    families: list[Family],
    lo_ms: int,
    hi_ms: int,
    sparse_ok: bool,
) -> int:
    """Write one OpenMetrics file: raw scrapes `raw_ts` and the families' samples in [lo_ms, hi_ms)."""
    n = 0
    with path.open("w") as f:
        if raw is not None and len(raw_ts):
            f.write("# TYPE http_requests counter\n")
            vals = raw.advance(raw_ts)
            tss = [f" {int(x)}\n" for x in raw_ts.tolist()]
            for lab, row in zip(raw.labels, vals.tolist(), strict=True):
                p = series_text(lab)
                f.write("".join(f"{p} {v}{t}" for v, t in zip(row, tss, strict=True)))
            n += vals.size
        by_name: dict[str, list[Family]] = {}
        for fam in families:
            if fam.sparse and not sparse_ok:
                continue
            by_name.setdefault(fam.name, []).append(fam)
        for name, fams in by_name.items():
            for fam in fams:
                step = INTERVAL * 1000
                n_lo = -((fam.phase_ms - lo_ms) // step)
                n_hi = (hi_ms - 1 - fam.phase_ms) // step
                ns = np.arange(n_lo, n_hi + 1, dtype=np.int64)
                ns = ns[ns % fam.every == fam.residue]
                if not len(ns):
                    continue
                vals = fam.value(ns)
                p = series_text(fam.labels, name)
                ts = _ts(ns * step + fam.phase_ms)
                f.write("".join(f"{p} {float(v)!r}{t}" for v, t in zip(vals.tolist(), ts, strict=True)))
                n += len(ns)
        f.write("# EOF\n")
    return n


class Importer:
    """Writes 2h OpenMetrics files and imports each with promtool while the next one is written."""

    def __init__(self, work: Path, data: Path) -> None:
        self.work, self.data = work, data
        self.proc: subprocess.Popen[bytes] | None = None
        self.k = 0
        self.import_s = 0.0
        self.write_s = 0.0
        self.samples = 0
        self.bytes = 0
        self._t = 0.0

    def add(self, write: Callable[[Path], int]) -> None:
        t = time.monotonic()
        path = self.work / f"chunk{self.k % 2}.om"
        self.k += 1
        n = write(path)
        self.write_s += time.monotonic() - t
        self.samples += n
        self.bytes += path.stat().st_size
        self.wait()
        self._t = time.monotonic()
        self.proc = subprocess.Popen(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(path), str(self.data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait(self) -> None:
        if self.proc is None:
            return
        _, err = self.proc.communicate(timeout=900)
        self.import_s += time.monotonic() - self._t
        if self.proc.returncode != 0:
            raise RuntimeError(f"promtool create-blocks-from openmetrics failed: {err.decode()[-2000:]}")
        self.proc = None


def write_history(
    imp: Importer,
    raw: Raw,
    raw_from: int,
    families: list[Family],
    hist_from: int,
    lo: int,
    hi: int,
    blocks: set[int] | None,
) -> None:
    """Raw scrapes from `raw_from` and synthesized samples from `hist_from`, in [lo, hi] (s), per 2h block.

    2h blocks that hold only the sparse 64-slice blocks (the grouped case, away from the ranges the rules
    read) go 24 to a file: promtool reads a file once per 2h block in it, which costs nothing for these."""
    pending: list[tuple[int, int]] = []  # (lo_ms, hi_ms) of consecutive sparse-only blocks

    def flush() -> None:
        if not pending:
            return
        lo_ms, hi_ms = pending[0][0], pending[-1][1]
        pending.clear()
        imp.add(lambda path: om_chunk(path, None, np.zeros(0, dtype=np.int64), families, lo_ms, hi_ms, False))

    for b in range(lo // c.BLOCK * c.BLOCK, hi + 1, c.BLOCK):
        a, z = max(b, lo), min(b + c.BLOCK - 1, hi)
        if z < a:
            continue
        first = max(a, raw_from, raw.last + 1)
        ts = np.arange(-(-(first - raw.first) // SCRAPE) * SCRAPE + raw.first, z + 1, SCRAPE, dtype=np.int64)
        lo_ms = max(a, hist_from) * 1000
        hi_ms = (z + 1) * 1000
        ok = blocks is None or b in blocks
        if not len(ts) and lo_ms >= hi_ms:
            continue
        if not len(ts) and not ok:
            pending.append((lo_ms, hi_ms))
            if len(pending) >= 24:
                flush()
            continue
        flush()

        def write(
            path: Path, ts: np.ndarray = ts, lo_ms: int = lo_ms, hi_ms: int = hi_ms, ok: bool = ok
        ) -> int:
            return om_chunk(path, raw, ts, families if lo_ms < hi_ms else [], lo_ms, hi_ms, ok)

        imp.add(write)
    flush()


# ---------------------------------------------------------------- live counters


class Live:
    """Continues the raw counters at their rates after the history; `?job=` selects one job's series."""

    def __init__(self, raw: Raw) -> None:
        self.names = [series_text(lab) for lab in raw.labels]
        self.jobs = [lab["job"] for lab in raw.labels]
        self.base = raw.counts.astype(float)
        self.rate = raw.rate * c.hour_factor(np.array([(raw.last % 86400) / 3600.0]))[0]
        self.t0 = raw.last
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                job = q.get("job", [None])[0]
                vals = np.floor(outer.base + outer.rate * max(0.0, time.time() - outer.t0)).astype(np.int64)
                body = "".join(
                    f"{n} {v}\n"
                    for n, j, v in zip(outer.names, outer.jobs, vals.tolist(), strict=True)
                    if job is None or j == job
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Live:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_config(path: Path, rule_files: list[Path], jobs: Iterable[str], port: int) -> None:
    cfg = {
        "global": {"evaluation_interval": f"{INTERVAL}s", "scrape_interval": f"{SCRAPE}s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {
                "job_name": job,
                "honor_labels": True,
                "params": {"job": [job]},
                "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
            }
            for job in jobs
        ],
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


# ---------------------------------------------------------------- measuring


def parse_ts_ms(text: str) -> int:
    """RFC 3339 with nanoseconds (the rules API) -> Unix milliseconds, truncated as Prometheus stores it."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise ValueError(f"timestamp {text!r}")
    base = datetime.fromisoformat(m.group(1) + (m.group(3) if m.group(3) != "Z" else "+00:00"))
    frac = (m.group(2) or "").ljust(3, "0")[:3]
    return int(base.timestamp()) * 1000 + int(frac)


def rules_api(prom: c.Prom) -> list[dict[str, object]]:
    return list(json.loads(prom.get("/api/v1/rules"))["data"]["groups"])


def query_stats(prom: c.Prom, expr: str, t_ms: int) -> tuple[int, float, int]:
    """(totalQueryableSamples, eval seconds, result series) of an instant query at t_ms."""
    params = {"query": expr, "time": f"{t_ms // 1000}.{t_ms % 1000:03d}", "stats": "all"}
    out = json.loads(prom.get("/api/v1/query", params, timeout=600))
    if out.get("status") != "success":
        raise RuntimeError(f"query failed: {expr}: {out}")
    st = out["data"]["stats"]
    return (
        int(st["samples"]["totalQueryableSamples"]),
        float(st["timings"]["evalTotalTime"]),
        len(out["data"]["result"]),
    )


def wait_evals(prom: c.Prom, skip: int, evals: int, timeout: float) -> dict[str, dict[str, object]]:
    """Per group (tool;name): the evaluations after `skip`, each (ts ms, seconds), and per rule seconds."""
    seen: dict[str, dict[int, dict[str, object]]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for g in rules_api(prom):
            key = f"{Path(str(g['file'])).stem};{g['name']}"
            le = str(g.get("lastEvaluation", ""))
            if le.startswith("0001-"):
                continue
            ts = parse_ts_ms(le)
            seen.setdefault(key, {})[ts] = {
                "s": float(g["evaluationTime"]),  # type: ignore[arg-type]
                "rules": {
                    f"{r.get('name')}#{i}": float(r.get("evaluationTime", 0.0))
                    for i, r in enumerate(g["rules"])  # type: ignore[attr-defined]
                },
            }
        if seen and all(len(v) >= skip + evals for v in seen.values()):
            break
        time.sleep(2)
    # a group slower than the interval (Pyrra's 30d increase at R = 1000 on 2 busy cores) misses
    # evaluations: it keeps its last ones, at least one
    return {
        k: {
            "evals": (
                [[ts, v[ts]] for ts in sorted(v)][skip : skip + evals]
                or [[ts, v[ts]] for ts in sorted(v)][-1:]
            ),
            "first_ms": min(v),
            "first_raw_ms": min(v),
            "seen": len(v),
        }
        for k, v in seen.items()
    }


# ---------------------------------------------------------------- one case


@dataclass
class Case:
    name: str
    docs: dict[str, dict[str, object]]
    raw: Raw
    raw_from: int  # s: raw counters written from here (history start, or a few hours back)
    identities: dict[str, list[dict[str, str]]]  # slodrift service -> group label sets
    sparse: bool
    jobs: list[str]
    meta: dict[str, object] = field(default_factory=dict)


def run_case(case: Case, work: Path, skip: int, evals: int, limit_s: float) -> dict[str, object]:
    rules_dir = work / "rules"
    rules_dir.mkdir()
    files = {tool: (rules_dir / f"{tool}.yml").resolve() for tool in case.docs}
    for tool, doc in case.docs.items():
        c.dump(doc, files[tool])
    phases = {
        str(g["name"]): pc.group_phase_ms(str(files[tool]), str(g["name"]), INTERVAL)
        for tool, doc in case.docs.items()
        for g in doc["groups"]  # type: ignore[attr-defined]
    }
    now = int(time.time())
    hist_from = now - HISTORY
    step = INTERVAL * 1000
    n0 = hist_from // INTERVAL + 1
    n1 = now // INTERVAL + 60
    families: list[Family] = []
    if "slodrift" in case.docs:
        families += slodrift_families(case.docs["slodrift"], phases, case.identities, n0, n1, case.sparse)
    if "sloth" in case.docs:
        families += sloth_families(case.docs["sloth"], phases, n0, n1)
    synth_groups = {g for g in phases if any(f.phase_ms == phases[g] for f in families)}
    blocks = needed_blocks(case.docs, families, now, 1800) if case.sparse else None
    data = work / "data"
    data.mkdir()
    imp = Importer(work, data)
    t_write = time.monotonic()
    cutoff = now // c.BLOCK * c.BLOCK - 1  # the long part: every whole 2h block before now
    write_history(
        imp, case.raw, case.raw_from, families, hist_from, min(case.raw_from, hist_from), cutoff, blocks
    )
    imp.wait()
    long_s = time.monotonic() - t_write

    # the end of the history: a moment at least START_MARGIN_MS before every synthesized group's next
    # evaluation, a few seconds ahead (the last chunk is written, then Prometheus starts right after it)
    def next_gap(t_ms: int) -> int:
        return min(((phases[g] - t_ms) % step) or step for g in synth_groups) if synth_groups else step

    t_ms = int(time.time() * 1000) + 6000
    while next_gap(t_ms) < START_MARGIN_MS:
        t_ms += 250
    t_end = t_ms // 1000
    write_history(imp, case.raw, case.raw_from, families, hist_from, cutoff + 1, t_end, blocks)
    imp.wait()
    total_write_s = time.monotonic() - t_write
    while time.time() < t_end + 0.5:
        time.sleep(0.05)
    expect_first = {g: t_ms + next_gap_for(phases[g], t_ms, step) for g in synth_groups}
    cfg = work / "prometheus.yml"
    res: dict[str, object] = {
        "case": case.name,
        **case.meta,
        "history_s": HISTORY,
        "raw_series": len(case.raw.labels),
        "samples_written": imp.samples,
        "openmetrics_mb": imp.bytes / 1e6,
        "write_s": imp.write_s,
        "import_s": imp.import_s,
        "history_wall_s": total_write_s,
        "long_part_s": long_s,
        "sparse": case.sparse,
        "blocks_written": imp.k,
    }
    with Live(case.raw) as live:
        write_config(cfg, list(files.values()), case.jobs, live.port)
        t_start = time.time()
        with c.prometheus(cfg, data, limit_s=limit_s) as prom:
            res["prometheus_ready_s"] = time.time() - t_start
            got = wait_evals(prom, skip, evals, timeout=INTERVAL * (skip + evals + 2) + 120)
            # lastEvaluation is the wall time the evaluation started, a little after its timestamp
            # (n * interval + phase): each group's evaluations are put on its predicted grid, and the
            # delay must be small, or the phase (and the history written on it) is wrong
            delays = {}
            for k, v in got.items():
                ph = phases[k.split(";", 1)[1]]
                for e in v["evals"]:  # type: ignore[attr-defined]
                    d = (int(e[0]) - ph) % step
                    delays[k] = max(delays.get(k, 0), d)
                    e[0] = int(e[0]) - d
                v["first_ms"] = int(v["first_ms"]) - (int(v["first_ms"]) - ph) % step  # type: ignore[call-overload]
            res["start_delay_ms"] = delays
            # a group slower than its interval starts later evaluations late (on the latest slot): the
            # phase is checked on the first evaluation of each group, which starts on time
            bad = {
                k: (int(v["first_raw_ms"]) - phases[k.split(";", 1)[1]]) % step  # type: ignore[call-overload]
                for k, v in got.items()
                if (int(v["first_raw_ms"]) - phases[k.split(";", 1)[1]]) % step > 5000  # type: ignore[call-overload]
            }
            if bad:
                raise RuntimeError(f"first evaluations off the predicted grid (ms after it): {bad}")
            first = {k.split(";", 1)[1]: v["first_ms"] for k, v in got.items()}
            res["phase_check"] = {
                g: {"predicted_first_ms": expect_first[g], "first_ms": first.get(g)} for g in synth_groups
            }
            res["seamless"] = all(first.get(g) == expect_first[g] for g in synth_groups)
            res["groups"] = {k: v["evals"] for k, v in got.items()}
            res["rules"], res["checks"] = stats_and_checks(
                prom, case, files, families, phases, got, hist_from
            )
    return res


def next_gap_for(phase: int, t_ms: int, step: int) -> int:
    return ((phase - t_ms) % step) or step


def catalog_for(
    prom: c.Prom,
    case: Case,
    families: list[Family],
    phases: dict[str, int],
    docs: dict[str, dict[str, object]],
    t_ms: int,
    live_from_ms: int,
    hist_from: int,
) -> pc.Catalog:
    cat = pc.Catalog()
    step = INTERVAL * 1000
    known: set[frozenset[tuple[str, str]]] = set()
    for lab in case.raw.labels:
        full = {"__name__": c.METRIC, **lab}
        cat.add(full, pc.Schedule(SCRAPE * 1000, None, case.raw_from * 1000))
        known.add(frozenset(full.items()))
    for fam in families:
        full = {"__name__": fam.name, **fam.labels}
        # sparse families are written where the rules read them: as if every sample existed
        cat.add(full, pc.Schedule(step, fam.phase_ms, hist_from * 1000, fam.every, fam.residue))
        known.add(frozenset(full.items()))
    group_of = {
        str(r["record"]): str(g["name"])
        for doc in docs.values()
        for g in doc["groups"]  # type: ignore[attr-defined]
        for r in g["rules"]
        if r.get("record")
    }
    params = {"match[]": '{__name__=~".+"}', "start": str((t_ms - 900_000) / 1000), "end": str(t_ms / 1000)}
    for lab in json.loads(prom.get("/api/v1/series", params))["data"]:
        key = frozenset(lab.items())
        if key in known:
            continue
        name = lab["__name__"]
        if name == "up" or name.startswith("scrape_"):
            cat.add(lab, pc.Schedule(SCRAPE * 1000, None, live_from_ms))
        elif name in group_of:
            cat.add(lab, pc.Schedule(step, phases[group_of[name]], live_from_ms))
        else:
            cat.add(lab, pc.Schedule(step, None, live_from_ms))
    return cat


def stats_and_checks(
    prom: c.Prom,
    case: Case,
    files: dict[str, Path],
    families: list[Family],
    phases: dict[str, int],
    got: dict[str, dict[str, object]],
    hist_from: int,
) -> tuple[list[dict[str, object]], dict[str, object]]:
    rows: list[dict[str, object]] = []
    live_from = min(int(v["first_ms"]) for v in got.values()) - SCRAPE * 1000  # type: ignore[call-overload]
    checks: dict[str, object] = {}
    for tool, doc in case.docs.items():
        for g in doc["groups"]:  # type: ignore[attr-defined]
            key = f"{tool};{g['name']}"
            evs = got[key]["evals"]  # type: ignore[index]
            t_ms = int(evs[-1][0])  # type: ignore[index]
            cat = catalog_for(prom, case, families, phases, case.docs, t_ms, live_from, hist_from)
            for i, r in enumerate(g["rules"]):
                name = str(r.get("record") or r.get("alert"))
                samples, secs, nres = query_stats(prom, str(r["expr"]), t_ms)
                costs = pc.expr_cost(str(r["expr"]), cat, t_ms)
                lo, ex, hi = pc.total(costs)
                walls = [float(e[1]["rules"][f"{name}#{i}"]) for e in evs]  # type: ignore[index]
                rows.append(
                    {
                        "tool": tool,
                        "group": g["name"],
                        "rule": name,
                        "index": i,
                        "t_ms": t_ms,
                        "samples": samples,
                        "computed": ex,
                        "computed_low": lo,
                        "computed_high": hi,
                        "within": lo <= samples <= hi,
                        "query_s": secs,
                        "result_series": nres,
                        "wall_s": walls,
                        "selectors": [
                            {
                                "name": x.selector.name,
                                "range_ms": x.selector.range_ms,
                                "offset_ms": x.selector.offset_ms,
                                "series": x.series,
                                "expected": x.expected,
                            }
                            for x in costs
                        ],
                    }
                )
    # the history is where the rules read it
    if "slodrift" in case.docs:
        # the recording group's own last evaluation (the alert groups have other phases)
        rec = [k for k in got if k.startswith("slodrift;slodrift-slo-") and not ALERT_GROUPS.match(k)]
        t = max(int(got[k]["evals"][-1][0]) for k in rec)  # type: ignore[index]
        tq = f"{t // 1000}.{t % 1000:03d}"
        cov = prom.query('slodrift:sli_events:sum30d{event="interval"}', float(tq))
        vals = [float(x["value"][1]) for x in cov]  # type: ignore[index]
        checks["sum30d_intervals"] = {"series": len(vals), "min": min(vals), "max": max(vals)}
        if not case.sparse:
            diffs = {}
            for w, rng in (
                ("5m", "4m30s"),
                ("1h", "59m30s"),
                ("1d", "23h59m30s"),
                ("3d", "2d23h59m30s"),
                ("30d", "29d23h59m30s"),
            ):
                for ev in WINDOW_EVENTS:
                    a = prom.scalar(f'sum(slodrift:sli_events:sum{w}{{event="{ev}"}})', float(tq))
                    b = prom.scalar(
                        f'sum(sum_over_time(slodrift:sli_events:increase{INTERVAL // 60}m{{event="{ev}"}}[{rng}]))',
                        float(tq),
                    )
                    diffs[f"{w} {ev}"] = [a, b]
            checks["windows_vs_slices"] = diffs
        dup = {}
        for fam_name in sorted({f.name for f in families}):
            expect = sum(1 for f in families if f.name == fam_name)
            n = prom.scalar(f'count(count_over_time({{__name__="{fam_name}"}}[2h]))', float(tq))
            dup[fam_name] = [expect, n]
        checks["series_per_family"] = dup
    return rows, checks


# ---------------------------------------------------------------- cases


def availability_case(r: int, work: Path) -> Case:
    interval = f"{INTERVAL // 60}m"
    docs = {
        "slodrift": c.slodrift_rules(interval, work),
        "sloth": c.sloth_rules(interval),
        "pyrra": c.pyrra_rules(interval),
    }
    first = int(time.time()) - HISTORY - 600
    first = first // SCRAPE * SCRAPE
    return Case(
        name=f"R={r}",
        docs=docs,
        raw=availability_raw(r, first),
        raw_from=first,
        identities={"myservice": [{}]},
        sparse=False,
        jobs=[c.JOB],
        meta={"r": r},
    )


def grouped_case(groups: list[int], work: Path) -> Case:
    services = {f"g{n}": n for n in groups}
    spec = work / "spec.yml"
    spec.write_text(
        GROUP_SPEC.format(
            services="".join(GROUP_SERVICE.format(name=s, groups=n) for s, n in services.items())
        )
    )
    out = work / "slodrift-out"
    c.run([str(c.SLODRIFT), "generate", str(spec), "--out", str(out)])
    gs: list[object] = []
    for f in sorted((out / "rules").glob("*.yml")):
        gs += yaml.safe_load(f.read_text())["groups"]
    first = (int(time.time()) - 3600) // SCRAPE * SCRAPE
    return Case(
        name="groups " + "/".join(map(str, groups)),
        docs={"slodrift": {"groups": gs}},
        raw=grouped_raw(services, first),
        raw_from=first,
        identities={s: [{"route": f"/r{g:04d}"} for g in range(n)] for s, n in services.items()},
        sparse=True,
        jobs=list(services),
        meta={"group_counts": services},
    )


# ---------------------------------------------------------------- summary


def seam_slack(res: dict[str, object], row: dict[str, object]) -> float:
    """Raw series a rule reads over a range holding the seam between the history and the live scrapes.

    The last written scrape and the first live one are not one scrape interval apart (the live scrapes
    run at Prometheus' own phase and start up to one interval after it does), so such a range holds one
    sample per series more or fewer than range / interval. The seam lies within [first live evaluation
    - 1 interval, first + 1 scrape]."""
    firsts = [int(v["first_ms"]) for v in res.get("phase_check", {}).values() if v.get("first_ms")]  # type: ignore[union-attr]
    if not firsts:
        return 0.0
    lo, hi = min(firsts) - INTERVAL * 1000, min(firsts) + SCRAPE * 1000
    t = int(row["t_ms"])  # type: ignore[call-overload]
    out = 0.0
    for sel in row["selectors"]:  # type: ignore[attr-defined]
        if sel["name"] != c.METRIC or sel["range_ms"] is None:
            continue
        end = t - int(sel["offset_ms"])
        if end - int(sel["range_ms"]) <= hi and end >= lo:
            out += int(sel["series"])
    return out


def summarize(res: dict[str, object]) -> dict[str, dict[str, object]]:
    """Per tool (per service in the grouped case): samples per evaluation, computed, wall per evaluation."""
    out: dict[str, dict[str, object]] = {}
    rows: list[dict[str, object]] = res["rules"]  # type: ignore[assignment]
    groups: dict[str, list[list[object]]] = res["groups"]  # type: ignore[assignment]

    def owner(tool: str, group: str) -> str:
        if "r" not in res:  # the grouped case: per service (one per number of groups)
            return group.rsplit("-", 1)[-1]
        return tool

    for row in rows:
        k = owner(str(row["tool"]), str(row["group"]))
        o = out.setdefault(k, {"samples": 0, "computed": 0.0, "within": True, "rules": 0, "off": 0.0})
        o["samples"] = int(o["samples"]) + int(row["samples"])  # type: ignore[call-overload]
        o["computed"] = float(o["computed"]) + float(row["computed"])  # type: ignore[arg-type]
        slack = seam_slack(res, row)
        ok = float(row["computed_low"]) - slack <= int(row["samples"]) <= float(row["computed_high"]) + slack  # type: ignore[arg-type, call-overload]
        o["within"] = bool(o["within"]) and ok
        o["off"] = float(o["off"]) + abs(int(row["samples"]) - float(row["computed"]))  # type: ignore[arg-type, call-overload]
        o["rules"] = int(o["rules"]) + 1  # type: ignore[call-overload]
    per_owner: dict[str, list[list[float]]] = {}
    for key, evs in groups.items():
        tool, name = key.split(";", 1)
        if tool == "slodrift" and name == "slodrift-stability":
            continue
        per_owner.setdefault(owner(tool, name), []).append([float(e[1]["s"]) for e in evs])  # type: ignore[index]
    for k, lists in per_owner.items():
        n = min(len(x) for x in lists)
        totals = [sum(x[i] for x in lists) for i in range(n)]
        lo, med, hi = c.mmm(totals)
        out.setdefault(k, {}).update({"wall_ms": [lo * 1e3, med * 1e3, hi * 1e3], "evals": n})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, nargs="*", default=[12, 100, 1000])
    ap.add_argument("--groups", type=int, nargs="*", default=[10, 100, 1000])
    ap.add_argument(
        "--skip",
        type=int,
        default=4,
        help="live evaluations not measured: the 5m raw reads then hold live scrapes only",
    )
    ap.add_argument("--evals", type=int, default=3)
    ap.add_argument("--limit", type=float, default=1500, help="seconds each Prometheus may live")
    ap.add_argument("--out", type=Path, default=c.BENCH / "results" / "steady_cost.json")
    a = ap.parse_args()
    c.unwind_on_sigterm()
    results = []
    cases: list[Callable[[Path], Case]] = [lambda w, r=r: availability_case(r, w) for r in a.series]
    if a.groups:
        cases.append(lambda w: grouped_case(a.groups, w))
    for make in cases:
        t = time.monotonic()
        with c.tempdir("slodrift-bench-steady-") as work:
            case = make(work)
            res = run_case(case, work, a.skip, a.evals, a.limit)
        res["summary"] = summarize(res)
        res["wall_s"] = time.monotonic() - t
        results.append(res)
        print(
            f"{case.name}: {json.dumps(res['summary'])} checks {json.dumps(res['checks'])} ({res['wall_s']:.0f}s)",
            flush=True,
        )
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
