"""Annotation templates rendered as Prometheus will render them for a firing alert (expected values).

Only the actions slodrift writes or allows (`alert_templates`) are known here, and the escape
`{{ "{{" }}`; anything else is an error, not a guess.
"""

from __future__ import annotations

import re

from slodrift.generator.alert_templates import (
    LABEL_REF_RE,
    LITERAL_BRACES_RE,
    TEMPLATE_ACTION_RE,
    VALUE_REF_RE,
)


def _go_float(value: float) -> str:
    """`{{ $value }}`: Go prints a float64 in its shortest form (strconv 'g', precision -1)."""
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").rjust(2, "0")
        return f"{mantissa.removesuffix('.0')}e{sign}{digits}"
    return text.removesuffix(".0")


def render_template(text: str, labels: dict[str, str], value: float | None = None) -> str:
    """Expand the template actions of an annotation, the way Prometheus will."""

    def action(m: re.Match[str]) -> str:
        body = m.group(1)
        if LITERAL_BRACES_RE.match(body):
            return "{{"
        ref = LABEL_REF_RE.match(body)
        if ref:
            return labels.get(ref.group(1), "")
        val = VALUE_REF_RE.match(body)
        if val and value is not None:
            return _go_float(value) if val.group(1) is None else f"{value:.{int(val.group(1))}f}"
        raise ValueError(f"unsupported template action in {text!r}")

    return TEMPLATE_ACTION_RE.sub(action, text) if "{{" in text else text
