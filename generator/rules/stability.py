"""The alert on the exporter's rollback recommendation, and its promtool test.

One rule serves every service: the exporter publishes `slodrift_rollback_recommended{service}` and the
alert carries that label through.
"""

from __future__ import annotations

from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import Spec
from slodrift.generator.promql import Expr

ROLLBACK = "slodrift_rollback_recommended"
ROLLBACK_ALERT = "SlodriftRollbackRecommended"
ANNOTATIONS = {
    "summary": "{{ $labels.service }}: rollback of the release recommended",
    "description": "The stability scores of {{ $labels.service }} meet the rollback criteria (availability "
    "below objective, drift over 15 %, two or more degraded days, or more than five critical "
    "alerts); see the weekly stability report for the reasons.",
}


def stability_groups(interval: str = "1m") -> list[dict[str, Any]]:
    """The rollback alert group."""
    return [
        {
            "name": "slodrift-stability",
            "interval": interval,
            "rules": [
                {
                    "alert": ROLLBACK_ALERT,
                    "expr": Expr(f"max by (service) ({ROLLBACK}) == 1"),
                    "for": "5m",
                    "labels": {"severity": "critical"},
                    "annotations": dict(ANNOTATIONS),
                }
            ],
        }
    ]


def stability_test_file(spec: Spec, rule_file: str) -> dict[str, Any]:
    """Fires for a service whose recommendation is 1 for 5 minutes; quiet for one at 0."""
    names = [s.name for s in spec.services][:2] or ["svc"]
    firing, quiet = names[0], names[-1] if len(names) > 1 else None
    inputs = [
        {"series": promql.selector(ROLLBACK, {"job": "slodrift", "service": firing}), "values": "1+0x10"}
    ]
    if quiet:
        inputs.append(
            {"series": promql.selector(ROLLBACK, {"job": "slodrift", "service": quiet}), "values": "0+0x10"}
        )
    labels = {"service": firing, "severity": "critical"}
    rendered = {k: v.replace("{{ $labels.service }}", firing) for k, v in ANNOTATIONS.items()}
    return {
        "rule_files": [rule_file],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": "rollback recommended fires after 5m; a service at 0 stays quiet",
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
