"""Alertmanager routing for the alerts slodrift's rules raise: a pure function from specs to a config.

Burn-rate alerts carry the receiver their tier names (`receiver` label) and are routed on it; drift
alerts carry a `tier` (ticket by default: drift is a release regression, not an outage) and are routed
on that; every other alert is routed by severity: critical to the page receiver, the rest to the ticket
receiver.
Each team (a service's `team` label) gets its own child route, so its alerts group together and a
user can point it elsewhere. Inhibition is scoped per kind of alert, so a critical alert silences only
the warning about the same SLO or the same indicator, never a neighbour's.
"""

from __future__ import annotations

from typing import Any

from slodrift.generator.model import Spec
from slodrift.generator.rules.drift_names import DRIFT_ALERT, REGRESSION_ALERT
from slodrift.generator.rules.slo import BURN_ALERT

DEFAULT_RECEIVER = "slodrift-default"
DEFAULT_WEBHOOK_BASE = "http://127.0.0.1:9095/"


def quote(value: str) -> str:
    r"""Double-quote a matcher value the way Alertmanager unquotes it.

    Alertmanager's matcher parser knows only three escapes (`\\`, `\"`, `\n`) and keeps any other
    backslash literally, so JSON or Python escaping (`\t`, `\u0001`) would change the value; every
    other character, control characters included, is read raw inside the quotes. Alertmanager's
    newer UTF-8 parser reads those three escapes the same way.
    """
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def matcher(label: str, value: str, op: str = "=") -> str:
    """An Alertmanager matcher with the value double-quoted and escaped, whatever it contains."""
    return f"{label}{op}{quote(value)}"


def receivers_of(specs: list[Spec]) -> tuple[list[str], str, str]:
    """Every receiver the specs name, and the page and ticket receivers used for severity routing."""
    named: list[str] = []
    page = ticket = None
    for spec in specs:
        for svc in spec.services:
            for slo in svc.slos:
                for tier in slo.tiers:
                    if tier.receiver and tier.receiver not in named:
                        named.append(tier.receiver)
                    if tier.name == "page" and tier.receiver and page is None:
                        page = tier.receiver
                    if tier.name == "ticket" and tier.receiver and ticket is None:
                        ticket = tier.receiver
    return named, page or DEFAULT_RECEIVER, ticket or page or DEFAULT_RECEIVER


def _children(named: list[str], page: str, ticket: str) -> list[dict[str, Any]]:
    routes: list[dict[str, Any]] = [{"receiver": r, "matchers": [matcher("receiver", r)]} for r in named]
    routes.append({"receiver": page, "matchers": [matcher("tier", "page")]})
    routes.append({"receiver": ticket, "matchers": [matcher("tier", "ticket")]})
    routes.append({"receiver": page, "matchers": [matcher("severity", "critical")]})
    routes.append({"receiver": ticket, "matchers": [matcher("severity", "warning|info", "=~")]})
    return routes


def alertmanager_config(specs: list[Spec], webhook_base: str = DEFAULT_WEBHOOK_BASE) -> dict[str, Any]:
    """The whole Alertmanager configuration: routes, inhibitions and (placeholder webhook) receivers."""
    named, page, ticket = receivers_of(specs)
    teams = sorted({svc.labels["team"] for spec in specs for svc in spec.services if "team" in svc.labels})
    children = _children(named, page, ticket)
    routes: list[dict[str, Any]] = [
        {
            "receiver": DEFAULT_RECEIVER,
            "matchers": [matcher("team", team)],
            "group_by": ["alertname", "team", "service", "slo", "indicator"],
            "routes": children,
        }
        for team in teams
    ]
    routes += children
    base = webhook_base if webhook_base.endswith("/") else webhook_base + "/"
    all_receivers = [
        DEFAULT_RECEIVER,
        *[r for r in dict.fromkeys([*named, page, ticket]) if r != DEFAULT_RECEIVER],
    ]
    return {
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": ["alertname", "service", "slo", "indicator"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "inhibit_rules": [
            {
                "source_matchers": [matcher("alertname", BURN_ALERT), matcher("severity", "critical")],
                "target_matchers": [matcher("alertname", BURN_ALERT), matcher("severity", "warning")],
                "equal": ["service", "slo"],
            },
            {
                # A critical drift (or the regression alert that is an indicator's critical level)
                # silences the warning of the same indicator.
                "source_matchers": [
                    matcher("alertname", f"{DRIFT_ALERT}|{REGRESSION_ALERT}", "=~"),
                    matcher("severity", "critical"),
                ],
                "target_matchers": [matcher("alertname", DRIFT_ALERT), matcher("severity", "warning")],
                "equal": ["service", "indicator"],
            },
        ],
        "receivers": [
            {"name": r, "webhook_configs": [{"url": base + r, "send_resolved": True}]} for r in all_receivers
        ],
    }
