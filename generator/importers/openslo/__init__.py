"""OpenSLO (`openslo/v1`, and Sloth's `openslo/v1alpha`) → a slodrift spec.

What is read: `SLO` documents (one slodrift SLO each, grouped into services by `spec.service`), `SLI`
documents referenced by `indicatorRef`, `Service` documents (their description), `DataSource`
documents (to resolve `metricSourceRef`). Several documents may share a file.

Supported, because slodrift can compute it exactly: a `ratioMetric` (v1alpha: `ratioMetrics`) over a
Prometheus source, a rolling `timeWindow` of minutes, hours, days or weeks, `budgetingMethod:
Occurrences`, and exactly one objective (`target` 0.999 → objective 99.9, or `targetPercent`).

Refused with an error naming the file and path: calendar windows and rolling months, quarters or
years (no fixed length, so no exact burn rate), `Timeslices`/`RatioTimeslices` budgeting, a
`thresholdMetric`, non-Prometheus sources, and SLOs with several objectives: slodrift has one
objective per SLO, and silently picking one would drop the others, so write one SLO per objective.
`alertPolicies` are ignored with a warning: slodrift's multi-window burn-rate alerts apply.

Queries are mapped as `openslo/queries.py` describes, ratios as `openslo/indicators.py` does.
"""

from __future__ import annotations

from slodrift.generator.importers.common import Imported, Source
from slodrift.generator.importers.openslo.convert import Converter

__all__ = ["openslo_to_spec"]


def openslo_to_spec(source: Source) -> Imported:
    """Convert the OpenSLO documents of `source` into one slodrift spec.

    Raises ImportFailed listing every problem; the result always passes slodrift's own validation.
    """
    return Converter(source).convert()
