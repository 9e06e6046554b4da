"""The dashboard's variables (datasource, service, slo, indicator, one per group label) and the label
matchers that filter queries by them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from slodrift.generator import promql
from slodrift.generator.dashboard.panels import DS
from slodrift.generator.model import SLO, Service, Spec
from slodrift.generator.promql import Matcher
from slodrift.generator.rules import drift_names
from slodrift.generator.rules import slo as slo_rules

RESERVED_VARIABLES = {"datasource", "service", "slo", "indicator"}


def group_labels(specs: Sequence[Spec]) -> list[str]:
    """The `group_by` labels of every SLO of the specs (issue 13): one dashboard variable each."""
    return sorted(
        {label for spec in specs for svc in spec.services for slo in svc.slos for label in slo.group_by}
    )


def group_variable(label: str) -> str:
    """The variable of a group label: the label's own name, unless a built-in variable has it."""
    return f"group_{label}" if label in RESERVED_VARIABLES or label.startswith("__") else label


class Selectors:
    """Label matchers of the overview (Grafana variables) and of one SLO (exact values, escaped)."""

    def __init__(self, labels: list[str]) -> None:
        self.groups = [Matcher(label, "=~", f"${group_variable(label)}") for label in labels]
        self.who = "{{service}} {{slo}}" + "".join(f" {{{{{label}}}}}" for label in labels)  # legend

    def slo_vars(self, metric: str) -> str:
        return promql.selector(
            metric,
            extra=[Matcher("service", "=~", "$service"), Matcher("slo", "=~", "$slo"), *self.groups],
        )

    def service_vars(self, metric: str, *extra: Matcher) -> str:
        return promql.selector(metric, extra=[Matcher("service", "=~", "$service"), *extra])

    def one_slo(self, metric: str, service: Service, slo: SLO) -> str:
        return promql.selector(metric, slo_rules.slo_matchers(service, slo), extra=self.groups)


def query_variable(name: str, label: str, query: str, all_value: str | None = None) -> dict[str, Any]:
    var: dict[str, Any] = {
        "name": name,
        "type": "query",
        "datasource": DS,
        "label": label,
        "multi": True,
        "includeAll": True,
        "refresh": 2,
        "sort": 1,
        "query": {"query": query, "refId": name},
        "hide": 0,
    }
    if all_value is not None:
        var["allValue"] = all_value
    return var


def variables(labels: Iterable[str]) -> list[dict[str, Any]]:
    """datasource, service, slo, indicator, and one per group label (`All` matches series without it)."""
    svc = 'service=~"$service"'
    out: list[dict[str, Any]] = [
        {
            "name": "datasource",
            "type": "datasource",
            "query": "prometheus",
            "label": "Data source",
            "hide": 0,
        },
        query_variable("service", "Service", f"label_values({slo_rules.INFO}, service)"),
        query_variable("slo", "SLO", f"label_values({slo_rules.INFO}{{{svc}}}, slo)"),
        query_variable(
            "indicator", "Indicator", f"label_values({drift_names.DRIFT}{{{svc}}}, indicator)", ".*"
        ),
    ]
    for label in labels:
        out.append(
            query_variable(
                group_variable(label),
                label,
                f'label_values({slo_rules.INFO}{{{svc}, slo=~"$slo"}}, {label})',
                ".*",
            )
        )
    return out
