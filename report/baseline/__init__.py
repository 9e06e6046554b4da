"""Release baselines: the release-day values every drift is measured against.

A drift alert is only as trustworthy as its baseline, and a baseline is usually written once (by
`baseline capture` or by hand) and then read by the exporter for a week. So a file is checked hard at
load time, and every problem is reported with the file, the JSON path and what is wrong, all at once.

File format (JSON; `report/schema/baseline.schema.json` is the contract)::

    {"version": 1,
     "release": {"name": "checkout", "version": "v1.0.1"},
     "captured_at": "2025-11-21T18:00:00Z",
     "window": {"start": "2025-11-21T00:00:00Z", "end": "2025-11-22T00:00:00Z"},
     "source": "prometheus http://prometheus:9090",
     "services": {"checkout": {"indicators": {
         "p99_latency": {"value": 0.2458, "unit": "seconds", "stddev": 0.01, "samples": 288,
                         "requests": 182.4,
                         "profile": [{"hour": 0, "value": 0.21, "stddev": 0.006, "samples": 12,
                                      "requests": 73.0}, ...]}}}}}

- `version` (1), `release.name` and `services` are required; `release.version`, `captured_at`,
  `window` and `source` are optional.
- Values are in base units, as the recorded indicator series are: seconds, ratios 0..1, bytes,
  cores, requests per second, counts. `unit` is optional; without it, well-known names imply one
  (`p99_latency` → seconds, `error_ratio` → ratio, `cpu` → cores, `memory` → bytes, ...).
- Seconds, ratios, bytes, cores and rates cannot be negative, a ratio cannot exceed 1, and NaN or
  Infinity (which Python's json would otherwise accept) are rejected: each is a unit or capture
  mistake that would turn every drift computed from it into noise.
- Unknown keys and duplicate keys are errors (a typo must not silently drop a baseline).
- `stddev`, `samples` and `requests` (the traffic behind a ratio or latency) let the drift rules tell a
  real change from noise; `profile` gives them per UTC hour of day (each hour at most once), so night
  traffic is compared with the night. All are optional: without a profile the flat value is used at
  every hour, without a spread the live series' own.

The seed's release-day summary (`ga_kpi_summary.json`: percentages and milliseconds, one service) is
accepted too and converted to base units; it has no service name, so the caller gives one.

The package splits along the seams of that job: `model` (the data and its issues), `strict_json` and
`validate` (parsing and checking the native format), `ga_summary` (the seed format), `load` and
`serialize` (files in and out). Capture from Prometheus is `slodrift.report.capture`.
"""

from slodrift.report.baseline.ga_summary import GA_KPI_FIELDS
from slodrift.report.baseline.load import load_baseline
from slodrift.report.baseline.model import (
    FORMAT_VERSION,
    Baseline,
    BaselineError,
    BaselineIssue,
    IndicatorBaseline,
    ProfilePoint,
    Window,
)
from slodrift.report.baseline.serialize import dump_baseline, write_baseline

__all__ = [
    "FORMAT_VERSION",
    "GA_KPI_FIELDS",
    "Baseline",
    "BaselineError",
    "BaselineIssue",
    "IndicatorBaseline",
    "ProfilePoint",
    "Window",
    "dump_baseline",
    "load_baseline",
    "write_baseline",
]
