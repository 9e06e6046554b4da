"""Sloth `prometheus/v1` specs and `PrometheusServiceLevel` objects → a slodrift spec.

Sloth (github.com/slok/sloth) and slodrift describe the same thing, SLOs over Prometheus, so most of
the mapping is one to one:

- `service` and `labels` become one slodrift service with those labels; each of `slos[]` an SLO with
  its `objective` (percent in both) and `description`; the window is Sloth's default period, 30d
  (`--default-slo-period 28d` as with Sloth). Several documents of the same service are one service,
  as in Sloth; labels that differ between them move to their SLOs.
- `sli.events.error_query`/`total_query` become slodrift's `error_query`/`total_query` and
  `sli.raw.error_ratio_query` becomes `error_ratio_query`; Sloth's `{{.window}}` is slodrift's
  `{{window}}`. Every query must parse as PromQL. Sloth SLI plugins are Go code that slodrift cannot
  run: an error names the SLO.
- Grouping: Sloth divides the error query by the total query label by label, so a query grouped
  `by (cluster)` is one SLO per cluster. That becomes `group_by: [cluster]` (see `grouping.py`); a
  query whose result keeps every label of its series, or two queries grouped differently, cannot be
  mapped and are errors naming the query's line. A group label slodrift sets itself (`service`...) is
  copied to `sloth_<name>`; one that is also a fixed label of the service or SLO is not a group (the
  fixed value overwrites it, in Sloth too), with a warning.
- Alerting: Sloth's page and ticket alerts use the same windows and budget shares as slodrift's
  defaults (2 % and 5 % of the budget in 1h/5m and 6h/30m; 10 % in 1d/2h and 3d/6h), so only routing
  is carried over: `alerting.labels`/`annotations` apply to both tiers, `page_alert`/`ticket_alert`
  to one, `disable` turns a tier off, a `severity` label becomes the tier's `severity`. slodrift names
  its alerts itself (`SlodriftErrorBudgetBurn`), so `alerting.name` is kept as the label
  `sloth_alert`: route on it where Alertmanager matched `alertname`. slodrift's defaults add what Sloth
  lacks: a `for`, the minimum-traffic guard and a no-data alert. An unknown key in an alert block
  (`disabled` for `disable`) is a warning.
- Alert templates: `{{ .Labels.x }}` and `{{ $labels.x }}` in annotations stay references to the
  alert's labels. slodrift's label values are fixed text, so a label template is resolved where its
  value is known (a fixed label, the service or SLO name, the group label itself) and dropped with a
  warning where it is not.
- SLO plugins (`slo_plugins`/`sloPlugins` of the service, `plugins` of an SLO) are Go code too; each is
  named in a warning that says what its loss changes.
- Labels slodrift sets itself (`tier`, `category`, `severity`...) are renamed `sloth_<name>`;
  annotation references to Sloth's `sloth_service`, `sloth_slo`, `sloth_id` and `sloth_severity`
  labels become slodrift's `service`, `slo` and `severity`; any other template action is dropped,
  each with a warning.

Both `prometheus/v1` files (snake_case fields, one service per YAML document) and Kubernetes
`PrometheusServiceLevel` objects (`sloth.slok.dev/v1`, camelCase fields under `spec`: `errorQuery`,
`pageAlert`, `sloPlugins`...) are read; the other spelling of a field is accepted with a warning.
"""

from __future__ import annotations

from slodrift.generator.importers.common import Imported, ImportFailed, Source
from slodrift.generator.importers.sloth.alerting import SLO_WINDOW, SLOTH_PERIODS
from slodrift.generator.importers.sloth.convert import Converter
from slodrift.generator.spec import SpecIssue

__all__ = ["sloth_to_spec"]


def sloth_to_spec(source: Source, period: str = SLO_WINDOW) -> Imported:
    """Convert every Sloth document of `source` into one slodrift spec (one service per service name).

    `period` is Sloth's `--default-slo-period` (28d or 30d). Raises ImportFailed listing every problem;
    the result always passes slodrift's own validation.
    """
    if period not in SLOTH_PERIODS:
        raise ImportFailed(
            [
                SpecIssue(
                    source.file,
                    "",
                    None,
                    f"--default-slo-period {period}: Sloth has alert "
                    f"windows for {' and '.join(SLOTH_PERIODS)} only",
                )
            ]
        )
    return Converter(source, period).convert()
