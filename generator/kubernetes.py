"""PrometheusRule objects (monitoring.coreos.com/v1) carrying the same groups as the rule files, for
clusters where the Prometheus Operator loads rules."""

from __future__ import annotations

import re
from typing import Any

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def object_name(stem: str) -> str:
    """A DNS-1123 name from a rule file stem (`checkout.slo` -> `slodrift-checkout-slo`)."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"slodrift-{stem}".lower()).strip("-")[:253].rstrip("-")
    if not DNS_1123.match(name):
        raise ValueError(f"cannot make a Kubernetes name from {stem!r}")
    return name


def prometheus_rule(stem: str, rule_file: dict[str, Any], namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    """One PrometheusRule whose spec is exactly the rule file's groups."""
    meta: dict[str, Any] = {"name": object_name(stem), "labels": {"app.kubernetes.io/managed-by": "slodrift",
                                                                  **labels}}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": meta,
            "spec": {"groups": rule_file["groups"]}}
