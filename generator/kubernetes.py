"""PrometheusRule objects (monitoring.coreos.com/v1) carrying the same groups as the rule files, for
clusters where the Prometheus Operator loads rules."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from slodrift.generator.rules.types import Group

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a DNS-1123 label
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")
# Stems that map to a name without losing anything: `<lower-case service>.<kind>` or a fixed name. The
# kinds are `slo`, `slo-alerts`, `slo-data` and `drift`: none ends with another after a `-`, so two
# services' stems never map to one name.
_PLAIN_STEM = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z]+|\.slo-[a-z]+)?$")
_PREFIX = "slodrift-"


def object_name(stem: str) -> str:
    """A DNS-1123 name from a rule file stem (`checkout.slo` -> `slodrift-checkout-slo`).

    Service names may hold upper case, `_` and `.`, which a DNS name cannot: `Checkout`, `checkout`,
    `a.b` and `a_b` would all collapse onto one object and `kubectl apply` would silently replace one
    service's rules with another's. A stem that does not map one to one gets a short hash of itself.
    """
    base = re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-") or "rules"
    name = _PREFIX + base
    if not _PLAIN_STEM.fullmatch(stem) or len(name) > 253:
        digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
        name = f"{name[: 253 - 9].rstrip('-')}-{digest}"
    if not DNS_1123.fullmatch(name):
        raise ValueError(f"cannot make a Kubernetes name from {stem!r}")
    return name


def namespace_problem(namespace: str) -> str | None:
    """Why `namespace` cannot be a Kubernetes namespace (None: it can, or it is empty = unset)."""
    if namespace and not NAMESPACE.fullmatch(namespace):
        return f"namespace {namespace!r} is not a DNS-1123 label (lower case, digits, '-', at most 63)"
    return None


def label_problem(key: str, value: str) -> str | None:
    """Why `key=value` cannot be a Kubernetes label: the API server would refuse the whole object."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not DNS_1123.fullmatch(prefix)):
        return f"label key {key!r}: the prefix must be a DNS subdomain"
    if not _LABEL_NAME.fullmatch(name):
        return f"label key {key!r}: the name must be 1-63 of [A-Za-z0-9-_.], alphanumeric at both ends"
    if value and not _LABEL_NAME.fullmatch(value):
        return f"label value {value!r}: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends"
    return None


def prometheus_rule(
    stem: str, groups: Sequence[Group], namespace: str, labels: dict[str, str]
) -> dict[str, Any]:
    """One PrometheusRule whose spec is exactly the rule file's groups (written here, as in the file)."""
    meta: dict[str, Any] = {
        "name": object_name(stem),
        "labels": {"app.kubernetes.io/managed-by": "slodrift", **labels},
    }
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": meta,
        "spec": {"groups": [g.to_dict() for g in groups]},
    }
