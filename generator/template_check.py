"""Annotation templates checked the way Prometheus will read them (Go's text/template), before any rule
is written: promtool must never refuse a rule file that `slodrift check` accepted.

slodrift allows `{{ $labels.NAME }}`, the alert's value as `{{ $value }}` or `{{ $value | printf "%.1f" }}`
(any digit of decimals), and `{{ "{{" }}` (a literal `{{`), so the generated tests can render the
expected text. Go's lexer starts an action at every `{{` and ends it at the first
`}}` (outside strings, which no allowed action contains); so the text is split the same way here and
every action must be one of the allowed ones (`alert_templates`, the one definition of that grammar,
with Go's whitespace); trim markers (`{{-`, `-}}`) and comments change the rendered text and are
refused too.
"""

from __future__ import annotations

from slodrift.generator.alert_templates import allowed_action

__all__ = ["template_problem"]


def _shown(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def template_problem(text: str) -> str | None:
    """Why Prometheus (or slodrift's test renderer) would not accept `text` as an annotation, or None."""
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return None
        end = text.find("}}", start + 2)
        if end < 0:
            return (
                f"unclosed template action at character {start} ({_shown(text[start:])!r}): Prometheus reads "
                '"{{" as the start of an action; write {{ "{{" }} for a literal "{{"'
            )
        body = text[start + 2 : end]
        if not allowed_action(body):
            return (
                f"unsupported template action {{{{{_shown(body)}}}}}: only {{{{ $labels.NAME }}}}, "
                '{{ $value }} and {{ $value | printf "%.1f" }} are allowed, so the generated tests can '
                "render them"
            )
        pos = end + 2
