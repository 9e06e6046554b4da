"""Fields of a Sloth spec in either spelling: snake_case in `prometheus/v1` files, camelCase in Kubernetes
`PrometheusServiceLevel` objects; the other spelling is accepted with a warning, an unknown key is one."""

from __future__ import annotations

import difflib
from typing import Any

from slodrift.generator.importers.common import Context

from slodrift.issues import Path_

VERSION = "prometheus/v1"
K8S_API = "sloth.slok.dev/v1"
K8S_KIND = "PrometheusServiceLevel"
# The Kubernetes spelling of each prometheus/v1 field.
CAMEL = {
    "error_query": "errorQuery",
    "total_query": "totalQuery",
    "error_ratio_query": "errorRatioQuery",
    "page_alert": "pageAlert",
    "ticket_alert": "ticketAlert",
    "slo_plugins": "sloPlugins",
}


class Fields:
    """Reads the fields of one document: `k8s` says which spelling is its own."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.k8s = False

    def key(self, d: dict[str, Any], name: str, path: Path_) -> str | None:
        """The key under which `d` holds the field `name` (snake_case, or camelCase in Kubernetes
        objects); the other spelling is accepted with a warning."""
        camel = CAMEL.get(name, name)
        mine, other = (camel, name) if self.k8s else (name, camel)
        if mine in d:
            return mine
        if other in d:
            where = "a PrometheusServiceLevel object" if self.k8s else "a prometheus/v1 spec"
            self.ctx.warn((*path, other), f"{other}: {where} spells it {mine}; read as {mine}")
            return other
        return None

    def get(self, d: dict[str, Any], name: str, path: Path_) -> tuple[Any, Path_]:
        key = self.key(d, name, path)
        return (d[key], (*path, key)) if key is not None else (None, (*path, name))

    def unknown(self, d: dict[str, Any], known: tuple[str, ...], path: Path_, what: str) -> None:
        spellings = {k for name in known for k in (name, CAMEL.get(name, name))}
        for key in d:
            if key not in spellings:
                close = difflib.get_close_matches(str(key), sorted(spellings), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.ctx.warn((*path, key), f"ignored: {key} is not a field of {what}{hint}")
