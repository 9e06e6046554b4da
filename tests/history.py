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
    """Turn OpenMetrics text into TSDB blocks in `data_dir` (what Prometheus then serves)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(openmetrics), str(data_dir)],
                       capture_output=True, text=True, timeout=timeout, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"promtool create-blocks-from openmetrics failed:\n{r.stdout}\n{r.stderr}")
