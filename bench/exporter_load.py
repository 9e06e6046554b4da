"""Exporter under load and faults: concurrent scrapers, SIGHUP storms, baseline files replaced by bad,
truncated, deleted and half-written ones. Prints scrape latency, failures and memory.

    .venv/bin/python bench/exporter_load.py                   # the full matrix (a few minutes)
    .venv/bin/python bench/exporter_load.py --series 1000 --scrapers 50 --seconds 60 --faults

Scrapers scrape as Prometheus does: kept-alive connections, Prometheus 2's `Accept` header and gzip. They
run in separate processes (`--procs`), so the latency measured is the exporter's, not the load generator
waiting for its own interpreter lock. Every server binds 127.0.0.1 on a free port; every loop is bounded
in count and time.
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
    """Resident memory of a process from /proc, in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def children(pid: int) -> list[int]:
    """Direct children of a process (the exporter's validating process)."""
    kids = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():  # a child belongs to the thread that started it
            kids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return kids


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
    rss_children: list[float] = field(default_factory=list)
    sighups: int = 0
    fault_writes: int = 0
    reload_failures_seen: float = 0.0
    errors: list[str] = field(default_factory=list)

    def row(self) -> str:
        lat = sorted(self.latencies)
        med = statistics.median(lat) * 1000 if lat else float("nan")
        return (
            f"| {self.series:>6} | {self.scrapers:>3} | {len(lat):>7} | {self.failures:>4} | {self.missing_baseline:>4} | "
            f"{med:7.2f} | {self.p99 * 1000:7.2f} | {self.max_latency * 1000:8.1f} | {min(self.rss):6.1f} | "
            f"{max(self.rss):6.1f} | {max(self.rss_children, default=0):6.1f} | {self.sighups:>5} | "
            f"{self.fault_writes:>5} |"
        )

    @property
    def p99(self) -> float:
        """The 99th percentile of scrape latency, in seconds."""
        lat = sorted(self.latencies)
        return lat[max(0, int(len(lat) * 0.99) - 1)] if lat else float("nan")

    @property
    def max_latency(self) -> float:
        """The slowest scrape, in seconds."""
        return max(self.latencies, default=float("nan"))


HEADER = (
    "| series | scr | scrapes | fail | miss | med ms  | p99 ms  | max ms   | RSS min | RSS max | child  | HUPs  | bad files |\n"
    "|-------:|----:|--------:|-----:|-----:|--------:|--------:|---------:|--------:|--------:|-------:|------:|----------:|"
)


def run(series: int, scrapers: int, seconds: float, faults: bool, procs: int = 5) -> Result:
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
            workers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--scrape-worker",
                        url,
                        str(len(range(i, scrapers, procs))),
                        str(seconds),
                    ],
                    stdout=subprocess.PIPE,
                    cwd=ROOT,
                )
                for i in range(min(procs, scrapers))
            ]

            def sampler() -> None:
                while time.monotonic() < stop:
                    res.rss.append(rss_mb(proc.pid))
                    res.rss_children.append(sum(rss_mb(c) for c in children(proc.pid)))
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

            threads = [threading.Thread(target=sampler)]
            if faults:
                threads.append(threading.Thread(target=saboteur))
            for t in threads:
                t.start()
            for t in threads:
                t.join(seconds + 60)
            for w in workers:
                out, _ = w.communicate(timeout=seconds + 120)
                part = json.loads(out)
                res.latencies += part["latencies"]
                res.failures += part["failures"]
                res.missing_baseline += part["missing"]
                res.errors += part["errors"]
            time.sleep(1.0)
            body = urllib.request.urlopen(url, timeout=10).read().decode()  # plain text: no Accept
            for line in body.splitlines():
                if line.startswith("slodrift_config_reload_failures_total"):
                    res.reload_failures_seen = float(line.split()[1])
            if proc.poll() is not None:
                res.failures += 1
        finally:
            for w in locals().get("workers", []):
                if w.poll() is None:
                    w.kill()
                    w.wait(10)
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    return res


PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def scrape_worker(url: str, threads: int, seconds: float) -> dict:
    """`threads` scrapers on kept-alive connections until `seconds` pass; what they measured."""
    import gzip
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    out: dict = {"latencies": [], "failures": 0, "missing": 0, "errors": []}

    def scraper() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                conn.request("GET", parts.path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                if resp.getheader("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                ok = resp.status == 200 and b"slodrift_baseline{" in body
                with lock:
                    out["latencies"].append(dt)
                    out["missing"] += not ok
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with lock:
                    out["failures"] += 1
                    out["errors"].append(repr(exc))
        conn.close()

    pool = [threading.Thread(target=scraper) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + 60)
    return out


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--scrape-worker":
        print(json.dumps(scrape_worker(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, nargs="*", default=[100, 1000, 10000])
    ap.add_argument("--scrapers", type=int, nargs="*", default=[1, 20])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument(
        "--faults", action="store_true", help="also run 50 scrapers with faults and SIGHUP storms"
    )
    ap.add_argument("--procs", type=int, default=5, help="processes the scrapers are spread over")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the exporter stopped
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(HEADER)
    for n in args.series:
        for k in args.scrapers:
            print(run(n, k, args.seconds, faults=False, procs=args.procs).row(), flush=True)
    if args.faults:
        r = run(1000, 50, max(args.seconds, 60.0), faults=True, procs=args.procs)
        print(r.row())
        print(
            f"faults: {r.fault_writes} bad/truncated/deleted/half-written baseline files, {r.sighups} SIGHUPs, "
            f"{r.failures} failed scrapes, {r.missing_baseline} scrapes without the baseline, "
            f"reload failures counted by the exporter: {r.reload_failures_seen:g}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
