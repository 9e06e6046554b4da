"""The template syntax slodrift allows in alert annotations, defined once: `{{ $labels.NAME }}`,
`{{ $value }}`, `{{ $value | printf "%.Nf" }}` (one digit N) and `{{ "{{" }}` (a literal `{{`), and
nothing else.

Read by the spec's annotation check (`template_check`, which refuses any other action before a rule is
written), the test generator (which renders the expected annotations the way Prometheus will), the
dashboard (which fills runbook links) and the importers (which keep label references and drop other
actions). Whitespace around an action's words is Go's (space, tab, CR, LF), not Python's `\\s`, which
also takes Unicode spaces that Go's template lexer refuses; inside the `printf` pipe only spaces and
tabs are allowed.
"""

from __future__ import annotations

import re

__all__ = ["LABEL_REF_RE", "LITERAL_BRACES_RE", "TEMPLATE_ACTION_RE", "VALUE_REF_RE", "allowed_action"]

_GO_SPACE = "[ \t\r\n]*"

# One Go template action; group 1 is its body (may span lines): Go's lexer starts an action at every
# `{{` and ends it at the first `}}` (outside strings, which no allowed action contains).
TEMPLATE_ACTION_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
# An action body that only reads a label (`match` it against group 1 above); group 1 is the label name.
LABEL_REF_RE = re.compile(rf"\A{_GO_SPACE}\$labels\.([A-Za-z_][A-Za-z0-9_]*){_GO_SPACE}\Z")
# An action body that prints the alert's value, as is or with a fixed number of decimals (group 1).
VALUE_REF_RE = re.compile(rf'\A{_GO_SPACE}\$value(?:[ \t]*\|[ \t]*printf[ \t]+"%\.([0-9])f")?{_GO_SPACE}\Z')
# An action body that prints a literal `{{`.
LITERAL_BRACES_RE = re.compile(rf'\A{_GO_SPACE}"\{{\{{"{_GO_SPACE}\Z')


def allowed_action(body: str) -> bool:
    """Whether an action body (the text between `{{` and `}}`) is one slodrift allows."""
    return any(r.match(body) for r in (LABEL_REF_RE, VALUE_REF_RE, LITERAL_BRACES_RE))
