"""Drift, regression and anomaly rules: the release watched against its own baseline.

The exporter publishes each indicator's release baseline (`slodrift_baseline`, its spread and sample
count) and, when the baseline was captured over a day, a profile per UTC hour of day
(`slodrift_baseline_profile{hour}` and friends). Prometheus records each indicator's current value
once; the baseline *for this time of day* is the profile interpolated between the two nearest hours
(the flat baseline when there is no profile). Drift is `(current - expected) / expected`, signed so
that positive is always worse.

A drift alert needs the change to be big and real at once: past its category's threshold (the seeds'
sizes), past the indicator's absolute floor (`min_change`), `z_threshold` standard deviations beyond
noise (the baseline's spread at this hour, widened to the Poisson noise of the traffic seen now), and
on enough traffic for ratios and latencies. Drift is a release regression, not an outage: its critical
level files a ticket (`tier="ticket"`) unless the spec says `page: true`. A missing baseline is one
alert per service, so drift can never go silent unnoticed.

`drift_names` holds the series and alert names and the labels of an indicator's series, `drift_records`
the recording rules, `drift_alerts` the alerts; this module puts them in a service's two groups.
"""

from __future__ import annotations

from slodrift.generator.model import DriftSettings, Service
from slodrift.generator.rules.drift_alerts import drift_alerts
from slodrift.generator.rules.drift_records import anomaly_rules, recording_rules, region_rules
from slodrift.generator.rules.types import Group


def drift_groups(service: Service, drift: DriftSettings, interval: int) -> list[Group]:
    """One service's drift rules: a recording group in dependency order (values, baseline for this time
    of day, drift and significance, regions, anomaly statistics), then the alerts that read them."""
    if not service.indicators:
        return []
    recordings = recording_rules(service) + region_rules(service) + anomaly_rules(service)
    return [
        Group(f"slodrift-drift-{service.name}", interval, tuple(recordings)),
        Group(f"slodrift-drift-alerts-{service.name}", interval, tuple(drift_alerts(service, drift))),
    ]
