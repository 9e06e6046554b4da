"""Runbook links on the SLO panels (generator/dashboard/rows.py): each `runbook_url` with its
`{{ $labels.x }}` references filled in from the SLO's fixed labels; a URL that would still hold a
template (a label the SLO does not have, `{{ $value }}`) is left out rather than linked half-rendered."""

from __future__ import annotations

import pytest
from slodrift.generator.dashboard import dashboard
from slodrift.generator.spec import load_spec_text

SPEC = """\
version: 1
release: {name: shop, version: v1}
defaults:
  alerting:
    annotations:
      runbook_url: "RUNBOOK"
services:
  - name: api
    labels: {team: payments}
    selector: {job: api}
    slos:
      - name: availability
        objective: 99.9
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
"""


def links(runbook: str) -> list[str]:
    spec = load_spec_text("runbooks.yml", SPEC.replace("RUNBOOK", runbook).encode())
    panels = [q for p in dashboard([spec])["panels"] for q in [p, *p.get("panels", [])]]
    (sli,) = [p for p in panels if p["title"] == "availability SLI (30d)"]
    return [link["url"] for link in sli["links"]]


@pytest.mark.parametrize(
    ("runbook", "urls"),
    [
        ("https://r.example/{{ $labels.service }}/{{$labels.slo}}", ["https://r.example/api/availability"]),
        (
            "https://r.example/{{ $labels.team }}?s={{ $labels.service }}",
            ["https://r.example/payments?s=api"],
        ),
        ("https://r.example/static", ["https://r.example/static"]),
        ("https://r.example/{{ $labels.route }}", []),  # not a label the SLO has
        ("https://r.example/{{ $value }}", []),
    ],
)
def test_runbook_urls_are_filled_from_the_slos_labels_or_left_out(runbook, urls):
    assert links(runbook) == urls
