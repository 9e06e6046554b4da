"""promtool test builders: label synthesis, input series, SLO and drift cases, the comparison solver."""
