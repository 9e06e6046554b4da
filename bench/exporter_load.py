"""Exporter under load and faults: concurrent scrapers, SIGHUP storms, baseline files replaced by bad,
truncated, deleted and half-written ones. Prints scrape latency, failures and memory.

    .venv/bin/python bench/exporter_load.py                   # the full matrix (a few minutes)
    .venv/bin/python bench/exporter_load.py --series 1000 --scrapers 50 --seconds 60 --faults

Every server binds 127.0.0.1 on a free port; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_inputs(folder: Path, series: int) -> tuple[Path, Path, dict]:
    """A spec and a baseline with `series` baseline values (10 indicators per service)."""
    services = max(1, series // 10)
    inds = [
        "availability",
        "error_ratio",
        "p50_latency",
        "p90_latency",
        "p95_latency",
        "p99_latency",
        "request_rate",
        "cpu",
        "memory",
        "cache_hit_ratio",
    ]
    per = min(10, series)
    spec = {
        "version": 1,
        "release": {"name": "bench", "version": "v1"},
        "services": [
            {"name": f"svc{i}", "selector": {"job": f"svc{i}"}, "indicators": {n: {} for n in inds[:per]}}
            for i in range(services)
        ],
    }
    units = {
        "availability": "ratio",
        "error_ratio": "ratio",
        "request_rate": "requests_per_second",
        "cpu": "cores",
        "memory": "bytes",
        "cache_hit_ratio": "ratio",
    }
    baseline = {
        "version": 1,
        "release": {"name": "bench", "version": "v1"},
        "captured_at": "2025-11-21T18:00:00Z",
        "services": {
            f"svc{i}": {
                "indicators": {
                    n: {"value": 0.25 + (i % 7) / 100, "unit": units.get(n, "seconds")} for n in inds[:per]
                }
            }
            for i in range(services)
        },
    }
    spec_path, base_path = folder / "spec.json.yml", folder / "baseline.json"
    spec_path.write_text(json.dumps(spec))
    base_path.write_text(json.dumps(baseline))
    return spec_path, base_path, baseline


def rss_mb(pid: int) -> float:
    """Resident memory of a process from /proc, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Result:
    """What one run measured."""

    series: int
    scrapers: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    missing_baseline: int = 0
    rss: list[float] = field(default_factory=list)
    sighups: int = 0
    fault_writes: int = 0
    reload_failures_seen: float = 0.0
    errors: list[str] = field(default_factory=list)

    def row(self) -> str:
        lat = sorted(self.latencies)
        med = statistics.median(lat) * 1000 if lat else float("nan")
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else float("nan")
        return (
            f"| {self.series:>6} | {self.scrapers:>3} | {len(lat):>7} | {self.failures:>4} | {self.missing_baseline:>4} | "
            f"{med:7.2f} | {p99:7.2f} | {min(self.rss):6.1f} | {max(self.rss):6.1f} | {self.sighups:>5} | "
            f"{self.fault_writes:>5} |"
        )


HEADER = (
    "| series | scr | scrapes | fail | miss | med ms  | p99 ms  | RSS min | RSS max | HUPs  | bad files |\n"
    "|-------:|----:|--------:|-----:|-----:|--------:|--------:|--------:|--------:|------:|----------:|"
)


def run(series: int, scrapers: int, seconds: float, faults: bool) -> Result:
    """Start an exporter, scrape it from `scrapers` threads for `seconds`, optionally with faults."""
    res = Result(series, scrapers, seconds)
    with tempfile.TemporaryDirectory(prefix="slodrift-load-") as tmp:
        folder = Path(tmp)
        spec, base, good = make_inputs(folder, series)
        good_text = json.dumps(good)
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "slodrift",
                "serve",
                f"--config.file={spec}",
                f"--baseline.file={base}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=error",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(url, timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("exporter did not start") from None
                    time.sleep(0.1)
            stop = time.monotonic() + seconds
            lock = threading.Lock()

            def scraper() -> None:
                while time.monotonic() < stop:
                    t0 = time.perf_counter()
                    try:
                        body = urllib.request.urlopen(url, timeout=10).read()
                        dt = time.perf_counter() - t0
                        ok = b"slodrift_baseline{" in body
                        with lock:
                            res.latencies.append(dt)
                            res.missing_baseline += not ok
                    except OSError as exc:
                        with lock:
                            res.failures += 1
                            res.errors.append(repr(exc))

            def sampler() -> None:
                while time.monotonic() < stop:
                    res.rss.append(rss_mb(proc.pid))
                    time.sleep(0.25)

            def saboteur() -> None:
                bad = [
                    "not json {",
                    good_text[: len(good_text) // 2],
                    "",
                    json.dumps({**good, "services": {"nosuch": {"indicators": {"cpu": {"value": 1}}}}}),
                ]
                i = 0
                while time.monotonic() < stop:
                    if i % 5 == 4:
                        base.unlink(missing_ok=True)
                    else:
                        with base.open("w") as fh:  # deliberately not atomic: a half-written file
                            fh.write(bad[i % len(bad)])
                    res.fault_writes += 1
                    for _ in range(20):  # a SIGHUP storm on top of the broken file
                        os.kill(proc.pid, signal.SIGHUP)
                        res.sighups += 1
                    time.sleep(0.05)
                    i += 1
                base.write_text(good_text)
                os.kill(proc.pid, signal.SIGHUP)
                res.sighups += 1

            threads = [threading.Thread(target=scraper) for _ in range(scrapers)] + [
                threading.Thread(target=sampler)
            ]
            if faults:
                threads.append(threading.Thread(target=saboteur))
            for t in threads:
                t.start()
            for t in threads:
                t.join(seconds + 60)
            time.sleep(1.0)
            body = urllib.request.urlopen(url, timeout=10).read().decode()
            for line in body.splitlines():
                if line.startswith("slodrift_config_reload_failures_total"):
                    res.reload_failures_seen = float(line.split()[1])
            if proc.poll() is not None:
                res.failures += 1
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, nargs="*", default=[100, 1000, 10000])
    ap.add_argument("--scrapers", type=int, nargs="*", default=[1, 20])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument(
        "--faults", action="store_true", help="also run 50 scrapers with faults and SIGHUP storms"
    )
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(HEADER)
    for n in args.series:
        for k in args.scrapers:
            print(run(n, k, args.seconds, faults=False).row(), flush=True)
    if args.faults:
        r = run(1000, 50, max(args.seconds, 60.0), faults=True)
        print(r.row())
        print(
            f"faults: {r.fault_writes} bad/truncated/deleted/half-written baseline files, {r.sighups} SIGHUPs, "
            f"{r.failures} failed scrapes, {r.missing_baseline} scrapes without the baseline, "
            f"reload failures counted by the exporter: {r.reload_failures_seen:g}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
