"""The alert on the exporter's rollback recommendation, and its promtool test.

The exporter publishes `slodrift_rollback_recommended{service}`; one rule per service of the specs
raises the alert with that service's labels (its team, ...), so team routes see it like every other
alert of the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import Service, Spec
from slodrift.generator.promql import Expr
from slodrift.generator.rules.types import Alerting, Group

ROLLBACK = "slodrift_rollback_recommended"
ROLLBACK_ALERT = "SlodriftRollbackRecommended"
ROLLBACK_FOR = 300
ANNOTATIONS = {
    "summary": "{{ $labels.service }}: rollback of the release recommended",
    "description": "The stability scores of {{ $labels.service }} meet the rollback criteria (availability "
    "below objective, drift over 15 %, two or more degraded days, or more than five critical "
    "alerts); see the weekly stability report for the reasons.",
}


def _services(specs: Sequence[Spec]) -> list[Service]:
    seen: dict[str, Service] = {}
    for spec in specs:
        for svc in spec.services:
            seen.setdefault(svc.name, svc)
    return list(seen.values())


def rollback_rule(service: Service) -> Alerting:
    """The rollback alert of one service, carrying the service's labels."""
    return Alerting(
        ROLLBACK_ALERT,
        Expr(f"max by (service) ({promql.selector(ROLLBACK, {'service': service.name})}) == 1"),
        {
            **{k: promql.template_literal(v) for k, v in service.labels.items()},
            "service": service.name,
            "severity": "critical",
        },
        dict(ANNOTATIONS),
        for_seconds=ROLLBACK_FOR,
    )


def stability_groups(specs: Sequence[Spec] = (), interval: int = 60) -> list[Group]:
    """The rollback alert group: one rule per service of the specs."""
    return [Group("slodrift-stability", interval, tuple(rollback_rule(s) for s in _services(specs)))]


def stability_test_file(spec: Spec, rule_file: str, specs: Sequence[Spec] = ()) -> dict[str, Any]:
    """Fires for a service whose recommendation is 1 for 5 minutes, with its labels; quiet for one at 0."""
    services = _services(specs or [spec])[:2]
    firing, quiet = services[0], services[1] if len(services) > 1 else None
    inputs = [
        {
            "series": promql.selector(ROLLBACK, {"job": "slodrift", "service": firing.name}),
            "values": "1+0x10",
        }
    ]
    if quiet:
        inputs.append(
            {
                "series": promql.selector(ROLLBACK, {"job": "slodrift", "service": quiet.name}),
                "values": "0+0x10",
            }
        )
    labels = {**firing.labels, "service": firing.name, "severity": "critical"}
    rendered = {k: v.replace("{{ $labels.service }}", firing.name) for k, v in ANNOTATIONS.items()}
    return {
        "rule_files": [rule_file],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": "rollback recommended fires after 5m with the service's labels; a service at 0 stays quiet",
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [
                    {"eval_time": "4m", "alertname": ROLLBACK_ALERT, "exp_alerts": []},
                    {
                        "eval_time": "6m",
                        "alertname": ROLLBACK_ALERT,
                        "exp_alerts": [{"exp_labels": labels, "exp_annotations": rendered}],
                    },
                ],
            }
        ],
    }
