"""The template syntax slodrift allows in alert annotations: `{{ $labels.NAME }}`, `{{ $value }}` and
`{{ $value | printf "%.1f" }}`, and nothing else.

One definition for the three places that read it: the spec loader (which refuses anything else), the
test generator (which renders the expected annotations the way Prometheus will) and the importers
(which keep label references and drop other actions).
"""

from __future__ import annotations

import re

__all__ = ["LABEL_REF_RE", "TEMPLATE_ACTION_RE", "VALUE_REF_RE"]

# One Go template action; group 1 is its body (may span lines).
TEMPLATE_ACTION_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
# An action body that only reads a label (`match` it against group 1 above); group 1 is the label name.
LABEL_REF_RE = re.compile(r"^\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*$")
# An action body that prints the alert's value, as is or with a fixed number of decimals (group 1).
VALUE_REF_RE = re.compile(r'^\s*\$value(?:\s*\|\s*printf\s+"%\.(\d)f")?\s*$')
