"""Sloth's SLO plugins (Go code slodrift cannot run): each is named in a warning that says what its loss
changes."""

from __future__ import annotations

from typing import Any

from slodrift.generator.importers.common import Context

from slodrift.issues import Path_

# What losing each known SLO plugin changes (sloth internal/plugin/slo/*/README.md).
PLUGINS = {
    "sloth.dev/core/debug/v1": "it only logs; nothing is lost",
    "sloth.dev/core/noop/v1": "it does nothing; nothing is lost",
    "sloth.dev/core/validate/v1": "slodrift validates the spec itself",
    "sloth.dev/core/sli_rules/v1": "slodrift writes its own SLI rules",
    "sloth.dev/core/metadata_rules/v1": "slodrift writes its own objective, budget and burn-rate rules",
    "sloth.dev/core/alert_rules/v1": "slodrift writes its own burn-rate alerts",
    "sloth.dev/contrib/denominator_corrected_rules/v1": "it weighs burn rates by traffic; slodrift's SLI is "
    "the plain error ratio over each window (its minimum-traffic guard keeps quiet periods from paging), "
    "so alerts fire as without the plugin",
    "sloth.dev/contrib/error_budget_exhausted_alert/v1": "slodrift has no budget-exhausted alert; alert on "
    "slodrift:slo_error_budget_remaining:ratio yourself",
    "sloth.dev/contrib/info_labels/v1": "its labels are not added to slodrift:slo:info",
    "sloth.dev/contrib/remove_labels/v1": "slodrift keeps the labels; its windows aggregate by the SLO's "
    "identity, so changing them does not break evaluation",
    "sloth.dev/contrib/rule_intervals/v1": "slodrift evaluates every group at defaults.evaluation_interval",
    "sloth.dev/contrib/validate_victoria_metrics/v1": "slodrift checks queries as PromQL, not MetricsQL",
}


def warn_plugins(ctx: Context, raw: Any, path: Path_) -> None:
    """Each SLO plugin named in a warning that says what its loss changes."""
    block = ctx.mapping(raw, path, "plugins")
    chain = block.get("chain") or []
    if not isinstance(chain, list):
        ctx.error((*path, "chain"), "chain must be a list of plugins")
        return
    if block.get("overridePrevious"):
        ctx.warn(
            (*path, "overridePrevious"),
            "overridePrevious: Sloth's default plugins are replaced; "
            "slodrift always writes its own SLI, objective and alert rules",
        )
    for i, item in enumerate(chain):
        pid = str(item.get("id", "?")) if isinstance(item, dict) else "?"
        why = PLUGINS.get(pid, "a custom plugin: its effect on the rules is lost")
        ctx.warn((*path, "chain", i), f"SLO plugin {pid} not run: {why}")
