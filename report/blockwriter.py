"""Samples -> OpenMetrics text -> TSDB blocks, with `promtool tsdb create-blocks-from openmetrics`.

Samples are grouped per metric family (OpenMetrics wants a family's samples together) and per series in
time order. Each call writes one text file and imports it. The engine writes one file per day (or less) of
evaluations; `--max-block-duration=24h` (a flag promtool 2.42 takes without listing it) makes that one
block per file instead of twelve 2h blocks, each a pass over the file.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["BlockWriteError", "format_series", "write_blocks"]

PROMTOOL_TIMEOUT_S = 900.0


class BlockWriteError(RuntimeError):
    """promtool refused the samples or could not write the blocks."""


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_series(name: str, labels: Mapping[str, str]) -> str:
    """`name{a="x",b="y"}` with values escaped as the text format wants them."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def write_blocks(
    series: Iterable[tuple[str, Mapping[str, str], list[tuple[int, float]]]],
    text_file: Path,
    out_dir: Path,
    promtool: str | None = None,
    max_block: str = "24h",
) -> int:
    """Write `(name, labels, [(t_ms, value)])` series as TSDB blocks into `out_dir`; returns samples written.

    Nothing is imported when there are no samples.
    """
    by_name: dict[str, list[tuple[str, list[tuple[int, float]]]]] = {}
    for name, labels, samples in series:
        if samples:
            by_name.setdefault(name, []).append((format_series(name, labels), samples))
    if not by_name:
        return 0
    n = 0
    with text_file.open("w") as f:
        for name in sorted(by_name):
            f.write(f"# TYPE {name} gauge\n")
            for text, samples in sorted(by_name[name]):
                f.writelines(f"{text} {_value(v)} {t / 1000:.3f}\n" for t, v in sorted(samples))
                n += len(samples)
        f.write("# EOF\n")
    tool = promtool or shutil.which("promtool")
    if not tool:
        raise BlockWriteError("promtool is not installed (Debian: apt-get install prometheus)")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        p = subprocess.run(
            [
                tool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                f"--max-block-duration={max_block}",
                str(text_file),
                str(out_dir),
            ],
            capture_output=True,
            text=True,
            timeout=PROMTOOL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BlockWriteError(
            f"promtool create-blocks-from openmetrics took over {PROMTOOL_TIMEOUT_S:g}s"
        ) from None
    finally:
        text_file.unlink(missing_ok=True)
    if p.returncode != 0:
        raise BlockWriteError(
            f"promtool create-blocks-from openmetrics failed: {(p.stderr or p.stdout)[-1500:]}"
        )
    return n
