"""Reading a baseline file: size cap, UTF-8, strict JSON, then the native format or the seed summary."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Mapping

from slodrift.report.baseline.ga_summary import from_ga_summary, is_ga_summary
from slodrift.report.baseline.model import MAX_BYTES, Baseline, BaselineError, BaselineIssue, Issues
from slodrift.report.baseline.strict_json import loads
from slodrift.report.baseline.validate import from_document

from slodrift.inputs import ReadError, TooLarge, read_bounded


def load_baseline(
    path: str | os.PathLike[str],
    known: Mapping[str, Collection[str]] | None = None,
    *,
    service: str | None = None,
) -> Baseline:
    """Load and check a baseline file; raise `BaselineError` listing every problem with its path.

    `known` (service → indicator names of the spec) turns a baseline for a service or indicator the
    spec does not have into an error: such a value is never compared with anything, which almost
    always means a typo or the wrong file. Indicators the spec has but the file lacks are fine: the
    rules alert on a missing baseline, with better context than a load failure.

    `service` names the service of a seed-format `ga_kpi_summary.json` (which has none); it is not
    used for the native format, which names its services.
    """
    file = os.fspath(path)
    try:
        data = read_bounded(file, MAX_BYTES)  # a regular file only: /dev/zero or a FIFO is refused at once
    except TooLarge:
        raise _fail(file, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; not a baseline") from None
    except ReadError as exc:
        raise _fail(file, str(exc)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(file, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        doc = loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(file, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise _fail(file, "not valid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        reason = "a number has too many digits" if "digits" in str(exc) else str(exc)
        raise _fail(file, f"not valid JSON: {reason}") from None
    sha256 = hashlib.sha256(data).hexdigest()
    issues = Issues(file)
    if is_ga_summary(doc):
        return from_ga_summary(doc, issues, known, service=service, sha256=sha256, file=file)
    return from_document(doc, issues, known, sha256=sha256, file=file)


def _fail(file: str, message: str) -> BaselineError:
    return BaselineError([BaselineIssue(file, "", None, message)])
