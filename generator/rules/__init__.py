"""Rule builders: one module per kind of rules (SLO, drift, stability)."""
