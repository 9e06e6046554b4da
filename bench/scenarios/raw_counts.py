"""Errors and requests of a scenario's history over windows ending at given times, counted from the raw
counters the history exposes (every pod's `http_requests_total` increments), never from a rule engine: the
evidence behind a row of ALERTS.md.

    .venv/bin/python bench/scenarios/raw_counts.py low_traffic_outage 2025-11-09T14:49 --window 30m --window 6h
    .venv/bin/python bench/scenarios/raw_counts.py low_traffic_outage 2025-11-09T16:04 --quick

A window (t - W, t] counts the increments of samples scraped in it. Each series counts from 0 at its first
sample (prometheus_client creates a `code` series with its first request); a restart's lost scrape is not
counted, as in the history.
"""

from __future__ import annotations

import argparse
import calendar
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import catalog  # noqa: E402
import synth  # noqa: E402

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int:
    return int(text[:-1]) * UNITS[text[-1]]


def _time(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M"))


def events(sc: catalog.Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample times, requests, errors) of every raw sample, in time order: what each sample added."""
    ts, req, err = [], [], []
    k = 0
    for svc in sc.services():
        for pod in svc.pods:
            k += 1  # the seed write_history gives this pod (seed 1)
            for name, labels, t, v in synth.pod_samples(svc, pod, sc.t0, sc.end + catalog.HOUR, 1000 + k):
                if name != "http_requests_total":
                    continue
                inc = np.diff(np.concatenate([[0.0], v]))
                inc[inc < 0] = v[inc < 0]  # a reset: the value counts from 0
                ts.append(t)
                req.append(inc)
                err.append(inc if labels["code"].startswith("5") else np.zeros_like(inc))
    t_all = np.concatenate(ts)
    order = np.argsort(t_all, kind="stable")
    return t_all[order], np.concatenate(req)[order], np.concatenate(err)[order]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("times", nargs="+", help="window ends, UTC, YYYY-MM-DDTHH:MM")
    ap.add_argument("--window", action="append", help="window lengths (default 5m 30m 1h 6h)")
    ap.add_argument("--quick", action="store_true", help="the quick variant's history (`make test`)")
    a = ap.parse_args(argv)
    by_name = {s.name: s for s in catalog.all_scenarios()}
    if a.scenario not in by_name:
        ap.error(f"unknown scenario {a.scenario} (see run.py --list)")
    sc = catalog.quick_variant(by_name[a.scenario]) if a.quick else by_name[a.scenario]
    t, req, err = events(sc)
    windows = a.window or ["5m", "30m", "1h", "6h"]
    for text in a.times:
        end = _time(text)
        parts = []
        for w in windows:
            m = (t > end - _seconds(w)) & (t <= end)
            e, n = err[m].sum(), req[m].sum()
            parts.append(f"{w}: {e:.0f}/{n:.0f}" + (f" = {e / n:.5f}" if n else ""))
        print(f"{text}  " + "  ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
