"""Pyrra `ServiceLevelObjective` resources (`pyrra.dev/v1alpha1`) → a slodrift spec.

Pyrra (github.com/pyrra-dev/pyrra) has no services: an SLO is a Kubernetes object named by its
`metadata.name` in its `metadata.namespace`. Each becomes a slodrift SLO of that name in a service
named after the namespace (`default` without one, as Kubernetes would). One file may hold several
objects: YAML documents, a YAML list, or a `List` with `items`.

- `target` (a string such as `'99.5'`) is the objective in percent; `window` the SLO window;
  `description` the description. Labels `pyrra.dev/<name>` of the object become SLO labels `<name>`,
  as Pyrra propagates them to its rules; its other labels (`prometheus: k8s`, `role: alert-rules`)
  select the PrometheusRule object, so a warning points to `slodrift generate --k8s-label`.
- `indicator.ratio`: `errors` and `total` are plain selectors, so they become slodrift's exact
  `errors`/`total` events.
- `indicator.latency`: a `<h>_bucket{..., le="T"}` success selector and a `<h>_count{...}` total with
  the same equality matchers become the latency kind (`histogram: <h>`, `threshold: T`); any other pair
  (regex matchers, matchers that differ between the two) becomes errors = total - success as event
  queries over `rate()`, exactly what Pyrra computes.
- `indicator.latencyNative`: a native histogram; errors are the requests slower than `latency`,
  `histogram_count(...) * (1 - histogram_fraction(0, latency, ...))`, as Pyrra computes them.
- `indicator.bool_gauge`: a 0/1 gauge such as `probe_success`; the error ratio is
  `1 - sum(sum_over_time(g)) / sum(count_over_time(g))`, Pyrra's ratio, as `error_ratio_query`.
- `grouping` (any kind) becomes `group_by`: one objective per value of those labels.
- Alerting: Pyrra's four burn-rate alerts scale with the SLO window (for 28d: 14x over 1h/5m and
  7x over 6h/30m, critical; 2x over 1d/2h and 1x over 4d/6h, warning). They are converted exactly to
  slodrift's `page` (the two critical ones) and `ticket` (the two warning ones) tiers with explicit
  windows and factors. A pair that can never fire (factor x error budget >= 1, at low objectives) is
  dropped with a warning, as it never fires in Pyrra either. Pyrra waits `for` a different time per
  pair; a slodrift tier has one `for`, the shorter one, so a warning says which pair now waits less.
  `disabled: true` or `burnrates: false` turn both tiers off, `absent: false` the no-data alert;
  the absent alert's `for` and severity are Pyrra's; `severities` set the tiers' severities;
  `name` becomes the label `pyrra_alert` (slodrift names its alerts itself).
"""

from __future__ import annotations

from slodrift.generator.importers.common import Imported, Source
from slodrift.generator.importers.pyrra.convert import Converter

__all__ = ["pyrra_to_spec"]


def pyrra_to_spec(source: Source) -> Imported:
    """Convert the Pyrra `ServiceLevelObjective` objects of `source` into one slodrift spec.

    Raises ImportFailed listing every problem; the result always passes slodrift's own validation.
    """
    return Converter(source).convert()
