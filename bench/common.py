"""Shared helpers of the benchmarks: synthetic traffic, OpenMetrics backfill, a bounded Prometheus.

Nothing here is part of the test suite. Every process started here is started in its own session, bounded
in time and killed on exit; every temporary directory is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
ANCHORS = Path(
    os.environ.get(
        "SLODRIFT_ANCHORS",
        # next to the checkout (/work/main -> /work/shared) or to a worktree's parent (/work/wt/x)
        next(
            (p / "shared" / "anchors" for p in ROOT.parents if (p / "shared" / "anchors").is_dir()),
            ROOT.parent / "shared" / "anchors",
        ),
    )
)
SLODRIFT = ROOT / ".venv" / "bin" / "slodrift"
METRIC = "http_requests_total"
JOB = "myservice"
SCRAPE = 15  # seconds between raw samples (the default; a Traffic carries its own)
BLOCK = 7200  # promtool writes 2h blocks; one OpenMetrics file per block keeps the import linear


# ---------------------------------------------------------------- synthetic traffic


def hour_factor(hours: np.ndarray) -> np.ndarray:
    """Traffic shape over the UTC day: quiet night, ramp, busy day, evening."""
    f = np.full(hours.shape, 0.3)
    f[(hours >= 0) & (hours < 6)] = 0.05
    f[(hours >= 6) & (hours < 8)] = 0.4
    f[(hours >= 8) & (hours < 20)] = 1.0
    return f


def codes_for(r: int) -> tuple[int, list[str]]:
    """Instances x status codes giving `r` raw series (10 = 5x2, 100 = 25x4, 1000 = 200x5)."""
    codes = ["200", "500", "404", "503", "201"]
    k = 2 if r <= 10 else 4 if r <= 100 else 5
    if r % k:
        raise ValueError(f"{r} is not a multiple of {k} codes")
    return r // k, codes[:k]


@dataclass
class Traffic:
    """Counters of every raw series at every scrape: `counts[s, k]` at `t0 + scrape * k`."""

    t0: int
    labels: list[dict[str, str]]
    counts: np.ndarray  # int64, shape (series, steps)
    rates: np.ndarray  # float, per series, events/s at the end (for the live exporter)
    burst: tuple[int, int] = (0, 0)
    scrape: int = SCRAPE

    @property
    def t_end(self) -> int:
        return self.t0 + self.scrape * (self.counts.shape[1] - 1)

    def is_error(self) -> np.ndarray:
        return np.array([lab["code"].startswith("5") for lab in self.labels])

    def exact_ratio(self, t: int, window: int) -> float:
        """Errors / requests over (t - window, t] from the raw counters (t on the scrape grid)."""
        k = (t - self.t0) // self.scrape
        k0 = max(0, (t - window - self.t0) // self.scrape)
        inc = self.counts[:, k] - self.counts[:, k0]
        return float(inc[self.is_error()].sum() / inc.sum())


def make_traffic(
    r: int,
    t_end: int,
    history: int,
    seed: int = 1,
    burst: bool = True,
    base_rate: float = 2.0,
    error_ratio: float = 0.0005,
    burst_ratio: float = 0.25,
    burst_len: int = 1200,
    scrape: int = SCRAPE,
) -> Traffic:
    """Bursty traffic ending at `t_end`: Poisson counts per scrape around a diurnal shape.

    Errors are `error_ratio` of the traffic except in one burst of `burst_len` seconds at 03:00 UTC of the last
    night before `t_end` (a quiet hour), where they are `burst_ratio`.
    """
    instances, codes = codes_for(r)
    steps = history // scrape + 1
    t0 = t_end - scrape * (steps - 1)
    ts = t0 + scrape * np.arange(steps)
    hours = (ts % 86400) / 3600.0
    shape = hour_factor(hours)
    err = np.full(steps, error_ratio)
    b0 = b1 = 0
    if burst:
        day = (t_end - 4 * 3600) // 86400 * 86400
        b0 = day + 3 * 3600
        if b0 - t0 < 3600:
            b0 += 86400
        b1 = b0 + burst_len
        err[(ts > b0) & (ts <= b1)] = burst_ratio
    n_err = sum(c.startswith("5") for c in codes)
    n_ok = len(codes) - n_err
    rng = np.random.default_rng(seed)
    labels: list[dict[str, str]] = []
    rows = []
    rates = []
    for i in range(instances):
        base = base_rate * (0.5 + (i % 7) / 7)
        for c in codes:
            share = err / n_err if c.startswith("5") else (1 - err) / n_ok
            lam = base * shape * share * scrape
            inc = rng.poisson(lam[1:])
            rows.append(np.concatenate(([0], np.cumsum(inc))))
            rates.append(float(lam[-1] / scrape))
            labels.append({"job": JOB, "instance": f"i{i:04d}", "code": c})
    return Traffic(
        t0=t0,
        labels=labels,
        counts=np.vstack(rows).astype(np.int64),
        rates=np.array(rates),
        burst=(b0, b1),
        scrape=scrape,
    )


def series_name(lab: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in lab.items())
    return f"{METRIC}{{{inner}}}"


def write_blocks(
    tr: Traffic,
    out: Path,
    work: Path,
    extra: Callable[[int, int], Iterable[str]] | None = None,
) -> dict[str, float]:
    """Write one OpenMetrics file per 2h block (streamed) and turn each into a TSDB block with promtool.

    `extra(start, end)` gives more OpenMetrics sample lines for the block [start, end) (s), such as
    recorded series synthesized alongside the raw counters; its time also counts as writing time.
    """
    out.mkdir(parents=True, exist_ok=True)
    names = [series_name(lab) for lab in tr.labels]
    steps = tr.counts.shape[1]
    sc = tr.scrape
    ts = tr.t0 + sc * np.arange(steps)
    start = tr.t0 // BLOCK * BLOCK
    write_s = import_s = 0.0
    nbytes = 0
    for b in range(start, tr.t_end + 1, BLOCK):
        k0 = max(0, (b - tr.t0 + sc - 1) // sc)
        k1 = min(steps, (b + BLOCK - tr.t0 + sc - 1) // sc)
        if k0 >= k1:
            continue
        t = time.monotonic()
        path = work / "chunk.om"
        tss = [str(x) for x in ts[k0:k1].tolist()]
        with path.open("w") as f:
            f.write("# TYPE http_requests counter\n")
            for name, row in zip(names, tr.counts[:, k0:k1].tolist(), strict=True):
                f.write("".join(f"{name} {v} {tt}\n" for v, tt in zip(row, tss, strict=True)))
            if extra is not None:
                f.writelines(extra(b, b + BLOCK))
            f.write("# EOF\n")
        nbytes += path.stat().st_size
        write_s += time.monotonic() - t
        t = time.monotonic()
        run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(path), str(out)], timeout=600)
        import_s += time.monotonic() - t
        path.unlink()
    return {
        "write_s": write_s,
        "import_s": import_s,
        "openmetrics_mb": nbytes / 1e6,
        "samples": float(tr.counts.size),
    }


# ---------------------------------------------------------------- processes


def run(cmd: Sequence[str], timeout: float = 300, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command, bounded in time, raising with its output on failure."""
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)  # type: ignore[call-overload]
    if p.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
        )
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def tempdir(prefix: str) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@dataclass
class Prom:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    data: Path
    config: Path
    extra: dict[str, object] = field(default_factory=dict)

    def get(self, path: str, params: dict[str, str] | None = None, timeout: float = 120) -> bytes:
        q = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{q}", timeout=timeout) as r:
            return bytes(r.read())

    def query(self, expr: str, t: float | None = None) -> list[dict[str, object]]:
        params = {"query": expr}
        if t is not None:
            params["time"] = str(t)
        out = json.loads(self.get("/api/v1/query", params))
        if out.get("status") != "success":
            raise RuntimeError(f"query failed: {expr}: {out}")
        return list(out["data"]["result"])

    def scalar(self, expr: str, t: float | None = None) -> float | None:
        res = self.query(expr, t)
        if not res:
            return None
        return float(res[0]["value"][1])  # type: ignore[index]

    def metrics(self) -> str:
        return self.get("/metrics").decode()


def write_config(
    path: Path,
    rule_files: Sequence[Path],
    interval: str,
    scrape_port: int | None = None,
    scrape: int = SCRAPE,
) -> None:
    cfg: dict[str, object] = {
        "global": {"evaluation_interval": interval, "scrape_interval": f"{scrape}s"},
        "rule_files": [str(p) for p in rule_files],
    }
    if scrape_port is not None:
        cfg["scrape_configs"] = [
            {
                "job_name": "synthetic",
                "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{scrape_port}"]}],
            }
        ]
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def unwind_on_sigterm() -> None:
    """SIGTERM (a CI job's timeout, `kill`) exits through the `finally` blocks, as Ctrl-C does: the
    servers started here are stopped and temporary directories removed, not left running."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextlib.contextmanager
def prometheus(config: Path, data: Path, limit_s: float = 1800) -> Iterator[Prom]:
    """One real Prometheus on 127.0.0.1 (free port), killed on exit and after `limit_s` seconds at most."""
    port = free_port()
    log = data.parent / f"prometheus-{port}.log"
    with log.open("wb") as lf:
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=90d",
                # min = max block duration: no background compaction of the backfilled blocks while measuring
                "--storage.tsdb.min-block-duration=2h",
                "--storage.tsdb.max-block-duration=2h",
                "--log.level=warn",
                "--query.timeout=5m",
                "--query.max-samples=500000000",
            ],
            stdout=lf,
            stderr=lf,
            start_new_session=True,
        )
    killer = threading.Timer(limit_s, lambda: _kill(proc))
    killer.daemon = True
    killer.start()
    prom = Prom(url=f"http://127.0.0.1:{port}", proc=proc, log=log, data=data, config=config)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {log.read_text()[-3000:]}")
            try:
                if prom.get("/-/ready", timeout=2):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("prometheus not ready in 120s")
            time.sleep(0.3)
        yield prom
    finally:
        killer.cancel()
        _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def backfill_rules(prom: Prom, rules: Path, start: int, end: int, interval: str, out: Path) -> float:
    """`promtool tsdb create-blocks-from rules` over [start, end]; returns its wall time."""
    out.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "rules",
            f"--url={prom.url}",
            f"--start={start}",
            f"--end={end}",
            f"--eval-interval={interval}",
            f"--output-dir={out}",
            str(rules),
        ],
        timeout=1200,
    )
    return time.monotonic() - t


def move_blocks(src: Path, dst: Path) -> int:
    n = 0
    for b in sorted(src.iterdir()):
        if (b / "meta.json").exists():
            shutil.move(str(b), str(dst / b.name))
            n += 1
    return n


# ---------------------------------------------------------------- rule files of the three tools

SLO_SPEC = """\
version: 1
release: {{name: bench, version: v1, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}}
defaults: {{slo_window: 30d, evaluation_interval: {interval}}}
services:
  - name: myservice
    selector: {{job: myservice}}
    slos:
      - name: availability
        objective: 99.9
        sli: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}
"""


def sloth_rules(interval: str) -> dict[str, object]:
    """Sloth's getting-started example relabelled to the synthetic metric (text substitution)."""
    text = (ANCHORS / "sloth" / "getting-started.yml").read_text()
    text = text.replace("http_request_duration_seconds_count", METRIC).replace(
        'code=~"(5..|429)"', 'code=~"5.."'
    )
    return _with_interval(yaml.safe_load(text), interval)


def pyrra_rules(interval: str) -> dict[str, object]:
    """Pyrra's ratio rules relabelled to the same SLO: job, 99.9 %, 30d (its burn windows stay as generated)."""
    text = (ANCHORS / "pyrra" / "ratio_http_errors.rules.yaml").read_text()
    text = (
        text.replace("thanos-receive-default", JOB)
        .replace("(1-0.99)", "(1-0.999)")
        .replace("'0.99'", "'0.999'")
        .replace("[4w]", "[30d]")
        .replace("'2419200'", "'2592000'")
    )
    return _with_interval(yaml.safe_load(text), interval)


def slodrift_rules(interval: str, work: Path) -> dict[str, object]:
    """slodrift's rules generated from bench's spec (the same SLO)."""
    spec = work / "spec.yml"
    spec.write_text(SLO_SPEC.format(interval=interval))
    out = work / "slodrift-out"
    run([str(SLODRIFT), "generate", str(spec), "--out", str(out)])
    groups: list[object] = []
    for f in sorted((out / "rules").glob("*.yml")):
        groups += yaml.safe_load(f.read_text())["groups"]
    return _with_interval({"groups": groups}, interval)


def _with_interval(doc: dict[str, object], interval: str) -> dict[str, object]:
    for g in doc["groups"]:  # type: ignore[attr-defined]
        g["interval"] = interval
    return doc


def only_rules(doc: dict[str, object], names: set[str], group: str) -> dict[str, object]:
    """One group with only the named recording rules (what promtool backfills: raw reads only)."""
    rules = [r for g in doc["groups"] for r in g["rules"] if r.get("record") in names]  # type: ignore[attr-defined]
    return {"groups": [{"name": group, "rules": rules}]}


def rule_expr(doc: dict[str, object], record: str) -> str:
    for g in doc["groups"]:  # type: ignore[attr-defined]
        for r in g["rules"]:
            if r.get("record") == record:
                return str(r["expr"])
    raise KeyError(record)


def dump(doc: dict[str, object], path: Path) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))
    return path


# ---------------------------------------------------------------- metrics text and stats

_LINE = re.compile(r"^(\w+)\{([^}]*)\} (\S+)$")


def parse_metrics(text: str, names: set[str]) -> list[tuple[str, dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and m.group(1) in names:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def mmm(xs: Sequence[float]) -> tuple[float, float, float]:
    return (min(xs), statistics.median(xs), max(xs)) if xs else (float("nan"),) * 3


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "| " + " | ".join("-" * w for w in widths) + " |"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    return "\n".join([line, sep, *body])
