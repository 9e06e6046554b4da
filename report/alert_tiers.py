"""Is a firing alert a page or a ticket, and which SLO (or indicator) is it about?

With slodrift's generated Alertmanager configuration, the answer is where Alertmanager would send it:
`amtool config routes test` gives the receiver, and the spec says which receivers page and which
ticket. Without one (Sloth's and Pyrra's rules), labels decide, in this order: `tier` (slodrift),
`sloth_severity` (Sloth), then `severity` (critical/page -> page, warning/ticket -> ticket, anything else
-> other). Alertmanager's inhibitions are not applied: a ticket that fires while the page of the same SLO
fires is still counted as a ticket.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["label_tier", "owner_of", "AmtoolRouter"]

AMTOOL_TIMEOUT_S = 30.0


def label_tier(labels: Mapping[str, str]) -> str:
    """page | ticket | other, from labels alone."""
    for key in ("tier", "sloth_severity"):
        if labels.get(key) in ("page", "ticket"):
            return labels[key]
    sev = labels.get("severity", "").lower()
    if sev in ("critical", "page"):
        return "page"
    if sev in ("warning", "ticket"):
        return "ticket"
    return "other"


def owner_of(labels: Mapping[str, str]) -> str:
    """`service/slo`, `service/indicator:NAME`, Sloth's `sloth_service/sloth_slo`, Pyrra's `slo`, or the
    alert name: what the alert is about."""
    if labels.get("service") and labels.get("slo"):
        return f"{labels['service']}/{labels['slo']}"
    if labels.get("service") and labels.get("indicator"):
        return f"{labels['service']}/indicator:{labels['indicator']}"
    if labels.get("sloth_service") and labels.get("sloth_slo"):
        return f"{labels['sloth_service']}/{labels['sloth_slo']}"
    if labels.get("slo"):
        return labels["slo"]
    if labels.get("service"):
        return labels["service"]
    return labels.get("alertname", "")


class AmtoolRouter:
    """Tier of an alert from the receiver Alertmanager's routing tree picks (one amtool run per label set)."""

    def __init__(self, config_text: str, tiers_by_receiver: Mapping[str, str]) -> None:
        self._tiers = dict(tiers_by_receiver)
        self._cache: dict[tuple[tuple[str, str], ...], str] = {}
        self._amtool = shutil.which("amtool")
        self._dir = tempfile.TemporaryDirectory(prefix="slodrift-amtool-")
        self._config = Path(self._dir.name) / "alertmanager.yml"
        self._config.write_text(config_text)

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> AmtoolRouter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def receiver(self, labels: Mapping[str, str]) -> str | None:
        """The first receiver the routing tree picks, or None when amtool is missing or fails."""
        if not self._amtool:
            return None
        args = [f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())]
        try:
            p = subprocess.run(
                [self._amtool, "config", "routes", "test", f"--config.file={self._config}", *args],
                capture_output=True,
                text=True,
                timeout=AMTOOL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        if p.returncode != 0 or not p.stdout.strip():
            return None
        return p.stdout.strip().split(",")[0].strip()

    def tier(self, labels: Mapping[str, str]) -> str:
        key = tuple(sorted(labels.items()))
        if key not in self._cache:
            recv = self.receiver(labels)
            self._cache[key] = self._tiers.get(recv, label_tier(labels)) if recv else label_tier(labels)
        return self._cache[key]


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


Classifier = Callable[[Mapping[str, str]], str]
