"""Synthetic raw history as a scraped service exposes it, written as OpenMetrics and imported with promtool.

A service runs on pods; every pod is scraped every 30 s (each pod at its own phase) and exposes
`http_requests_total{code}` and the histogram `http_request_duration_seconds` (`_bucket{le}`, `_count`,
`_sum`, prometheus_client's default buckets), plus `up`. Between two scrapes a pod serves a Poisson number
of requests around a diurnal rate; each fails with the error ratio in force then, and takes a latency
drawn from a log-normal whose median is in force then. Counters restart from 0 when a pod restarts (the
scrape at the restart fails: `up` 0, no other sample); a `code` series exists from the first request with
that code since the pod (re)started, as prometheus_client creates label children on first use.

Everything is a function of (time, seed): the suite's truth (incidents, expected verdicts) is declared
next to the scenario, never read back from a rule engine.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SCRAPE_S = 30
BLOCK_S = 7 * 86400  # one OpenMetrics file, one pass and one TSDB block per week (aligned as promtool aligns)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # prometheus_client's defaults
SIGMA = 0.6  # log-normal spread of latencies
OK_CODES = (("200", 0.97), ("404", 0.03))
ERR_CODES = (("500", 0.8), ("503", 0.2))


def diurnal(t: np.ndarray) -> np.ndarray:
    """Traffic shape over the UTC day: 0.25 at 04:00, 1.0 at 16:00, a smooth cosine between."""
    h = (t % 86400) / 3600.0
    return 0.25 + 0.75 * (0.5 - 0.5 * np.cos(2 * np.pi * (h - 4) / 24))


def median_for_slow_share(share: float, threshold: float = 0.5) -> float:
    """Median latency (s) for which `share` of requests are slower than `threshold` (log-normal, SIGMA)."""
    # P(X > thr) = 1 - Phi((ln thr - ln m) / SIGMA)  =>  ln m = ln thr - SIGMA * Phi^-1(1 - share)
    lo, hi = -10.0, 10.0
    for _ in range(100):  # Phi^-1 by bisection: no scipy needed
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < 1 - share:
            lo = mid
        else:
            hi = mid
    return float(math.exp(math.log(threshold) - SIGMA * lo))


@dataclass(frozen=True)
class Pod:
    name: str
    start: int
    end: int
    restarts: tuple[int, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # extra raw labels (a label change: version="v2")


@dataclass
class Service:
    """Rates as functions of time (numpy arrays of Unix seconds in, arrays out)."""

    job: str
    peak_rps: float  # whole service, at the diurnal peak
    pods: list[Pod]
    error_ratio: Callable[[np.ndarray], np.ndarray]
    median_latency: Callable[[np.ndarray], np.ndarray]
    diurnal: bool = True
    extra_gauges: list[tuple[str, dict[str, str], float]] = field(default_factory=list)  # constant gauges


def constant(v: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda t: np.full(t.shape, v, dtype=float)


def with_windows(base: float, windows: list[tuple[int, int, float]]) -> Callable[[np.ndarray], np.ndarray]:
    """`base`, except `value` in each [start, end) window."""

    def f(t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, base, dtype=float)
        for s, e, v in windows:
            out[(t >= s) & (t < e)] = v
        return out

    return f


def _lognormal_shares(median: np.ndarray) -> np.ndarray:
    """Per time: the share of requests in each bucket (len(BUCKETS) + 1 columns, +Inf last)."""
    z = (np.log(np.array(BUCKETS))[None, :] - np.log(median)[:, None]) / SIGMA
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    cdf = np.concatenate([cdf, np.ones((median.size, 1))], axis=1)
    return np.diff(np.concatenate([np.zeros((median.size, 1)), cdf], axis=1), axis=1)


def pod_samples(
    svc: Service, pod: Pod, t0: int, t1: int, seed: int
) -> Iterator[tuple[str, dict[str, str], np.ndarray, np.ndarray]]:
    """(metric, labels, times, values) of every series one pod exposes between t0 and t1."""
    phase = (sum(map(ord, pod.name)) * 7) % SCRAPE_S
    start = max(pod.start, t0)
    first = start + (phase - start) % SCRAPE_S
    ts = np.arange(first, min(pod.end, t1) + 1, SCRAPE_S, dtype=np.int64)
    if ts.size < 2:
        return
    rng = np.random.default_rng(seed)
    n_pods = lambda t: sum(1 for p in svc.pods if p.start <= t < p.end)  # noqa: E731
    live = np.array([n_pods(int(t)) for t in ts[:: max(1, ts.size // 500)]], dtype=float)
    live = np.interp(ts, ts[:: max(1, ts.size // 500)], live).clip(1)
    shape = diurnal(ts.astype(float)) if svc.diurnal else np.ones(ts.size)
    lam = svc.peak_rps * shape / live * SCRAPE_S
    n = rng.poisson(lam)
    n[0] = 0
    err = rng.binomial(n, np.clip(svc.error_ratio(ts.astype(float)), 0, 1))
    ok = n - err
    shares = _lognormal_shares(np.maximum(1e-4, svc.median_latency(ts.astype(float))))
    bins = rng.multinomial(n, shares)
    mids = np.array([*BUCKETS, 20.0]) * 0.75
    lat_sum = (bins * mids[None, :]).sum(axis=1)
    # restarts: the scrape at a restart fails; counters start again from 0 after it
    down = np.zeros(ts.size, dtype=bool)
    epoch = np.zeros(ts.size, dtype=np.int64)
    for r in pod.restarts:
        k = int(np.searchsorted(ts, r))
        if k < ts.size:
            down[k] = True
            epoch[k:] += 1

    def cum(x: np.ndarray) -> np.ndarray:
        """Counter values: the events since the pod (re)started; a failed scrape's events are lost."""
        out = np.zeros(x.size, dtype=np.float64)
        for e in np.unique(epoch):
            m = epoch == e
            out[m] = np.cumsum(np.where(down[m], 0, x[m]))
        return out

    base = {"job": svc.job, "instance": f"{pod.name}:8080", "pod": pod.name, **dict(pod.labels)}
    up = ~down
    yield "up", dict(base), ts, up.astype(float)
    ok_split = rng.multinomial(ok, [share for _, share in OK_CODES])
    err_split = rng.multinomial(err, [share for _, share in ERR_CODES])
    codes = [(c, ok_split[:, i]) for i, (c, _) in enumerate(OK_CODES)]
    codes += [(c, err_split[:, i]) for i, (c, _) in enumerate(ERR_CODES)]
    for code, inc in codes:
        c = cum(inc)
        # the series exists from the first event of its code in each epoch
        seen = np.zeros(ts.size, dtype=bool)
        for e in np.unique(epoch):
            m = epoch == e
            seen[m] = np.cumsum(np.where(down[m], 0, inc[m])) > 0
        keep = seen & up
        if keep.any():
            yield "http_requests_total", {**base, "code": code}, ts[keep], c[keep]
    cbins = np.cumsum(bins, axis=1)
    for i, le in enumerate([*(repr(b) for b in BUCKETS), "+Inf"]):
        yield "http_request_duration_seconds_bucket", {**base, "le": le}, ts[up], cum(cbins[:, i])[up]
    yield "http_request_duration_seconds_count", dict(base), ts[up], cum(n)[up]
    yield "http_request_duration_seconds_sum", dict(base), ts[up], cum(lat_sum)[up]


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_history(
    services: list[Service],
    t0: int,
    t1: int,
    data_dir: Path,
    work: Path,
    seed: int = 1,
    gauges: list[tuple[str, dict[str, str], Callable[[np.ndarray], np.ndarray]]] = (),
) -> int:
    """Import every series of every pod from t0 to t1 into `data_dir` (one promtool run per week).

    `gauges` are extra series scraped every SCRAPE_S from t0 (an exporter's gauges): (name, labels, f(t)).
    Returns the number of samples written.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    series: list[tuple[str, dict[str, str], np.ndarray, np.ndarray]] = []
    k = 0
    for svc in services:
        for pod in svc.pods:
            k += 1
            series += list(pod_samples(svc, pod, t0, t1, seed * 1000 + k))
    for name, labels, f in gauges:
        ts = np.arange(t0, t1 + 1, SCRAPE_S, dtype=np.int64)
        series.append((name, labels, ts, f(ts.astype(float))))
    by_name: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for name, labels, ts, vs in series:
        text = name + "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"
        by_name.setdefault(name, []).append((text, ts, vs))
    total = 0
    for b in range(t0 - t0 % BLOCK_S, t1 + 1, BLOCK_S):
        path = work / "block.om"
        n = 0
        with path.open("w") as f:
            for name in sorted(by_name):
                if name == "http_request_duration_seconds_bucket":
                    f.write("# TYPE http_request_duration_seconds histogram\n")
                elif name.endswith("_total"):
                    f.write(f"# TYPE {name[: -len('_total')]} counter\n")
                elif not name.startswith("http_request_duration_seconds"):
                    f.write(f"# TYPE {name} gauge\n")
                for text, ts, vs in by_name[name]:
                    lo, hi = np.searchsorted(ts, b), np.searchsorted(ts, b + BLOCK_S)
                    if hi > lo:
                        f.write(
                            "".join(
                                f"{text} {v:.17g} {t}\n"
                                for t, v in zip(ts[lo:hi].tolist(), vs[lo:hi].tolist(), strict=True)
                            )
                        )
                        n += hi - lo
            f.write("# EOF\n")
        if n:
            p = subprocess.run(
                [
                    "promtool",
                    "tsdb",
                    "create-blocks-from",
                    "openmetrics",
                    "-q",
                    f"--max-block-duration={BLOCK_S}s",
                    str(path),
                    str(data_dir),
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if p.returncode:
                raise RuntimeError(f"promtool import failed: {p.stderr[-2000:]}")
        total += n
        path.unlink(missing_ok=True)
    return total
