"""promtool test builders: input series (`series`; their label values from `generator.matching`), the SLO tests
(`slo*`: raw counters checked against a reference model, window sums, each burn condition 2 % either
side of its limit, absent and no-data), the drift tests (`drift*`) and expected annotations
(`templates`, `gofmt`)."""
