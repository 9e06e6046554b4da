"""Writing a baseline: canonical JSON that always loads back, written atomically with a digest file."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slodrift.report.baseline.model import (
    FORMAT_VERSION,
    Baseline,
    BaselineError,
    BaselineIssue,
    Issues,
    ProfilePoint,
)
from slodrift.report.baseline.strict_json import object_pairs
from slodrift.report.baseline.validate import from_document

from slodrift.atomic import OutputError, write_files


def format_time(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value.isoformat()} has no timezone")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _to_document(baseline: Baseline) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": FORMAT_VERSION, "release": {"name": baseline.release_name}}
    if baseline.release_version is not None:
        doc["release"]["version"] = baseline.release_version
    if baseline.captured_at is not None:
        doc["captured_at"] = format_time(baseline.captured_at)
    if baseline.window is not None:
        doc["window"] = {
            "start": format_time(baseline.window.start),
            "end": format_time(baseline.window.end),
        }
    if baseline.source is not None:
        doc["source"] = baseline.source
    services: dict[str, Any] = {}
    for (service, indicator), b in sorted(baseline.values.items()):
        entry: dict[str, Any] = {"value": b.value}
        if b.unit is not None:
            entry["unit"] = b.unit
        if b.stddev is not None:
            entry["stddev"] = b.stddev
        if b.samples is not None:
            entry["samples"] = b.samples
        if b.requests is not None:
            entry["requests"] = b.requests
        if b.profile:
            entry["profile"] = [_point(p) for p in b.profile]
        services.setdefault(service, {"indicators": {}})["indicators"][indicator] = entry
    doc["services"] = services
    return doc


def _point(p: ProfilePoint) -> dict[str, Any]:
    out: dict[str, Any] = {"hour": p.hour, "value": p.value}
    for key in ("stddev", "samples", "requests"):
        if getattr(p, key) is not None:
            out[key] = getattr(p, key)
    return out


def dump_baseline(baseline: Baseline) -> str:
    """Canonical JSON (sorted keys, UTC times, trailing newline): equal baselines give equal bytes,
    so hashes and diffs of baseline files mean something. Refuses to produce a file it would not load.
    """
    try:
        doc = _to_document(baseline)
        text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:
        raise BaselineError([BaselineIssue(baseline.file or "(baseline)", "", None, str(exc))]) from None
    # Same checks as loading, so a written file always loads.
    from_document(
        json.loads(text, object_pairs_hook=object_pairs),
        Issues(baseline.file or "(baseline)"),
        None,
        sha256="",
        file=None,
    )
    return text


def write_baseline(path: str | os.PathLike[str], baseline: Baseline) -> str:
    """Write `baseline` atomically plus `PATH.sha256` (`sha256sum -c` format); return the digest.

    The digest file is written after the data, so a crash in between leaves a stale digest that
    `sha256sum -c` reports, never a digest that vouches for a half-written file.
    """
    target = Path(path)
    data = dump_baseline(baseline).encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    try:
        # One atomic set through the shared writer; the data is renamed into place before its digest.
        write_files(target.parent, {target.name: data, target.name + ".sha256": f"{digest}  {target.name}\n"})
    except OutputError as exc:
        raise BaselineError([BaselineIssue(str(target), "", None, str(exc))]) from None
    return digest
