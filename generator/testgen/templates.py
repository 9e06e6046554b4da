"""Annotation templates rendered as Prometheus would for the labels of a firing alert (expected values)."""

from __future__ import annotations

import re

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_LABEL_REF = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)")


def render_template(text: str, labels: dict[str, str]) -> str:
    """Expand the only template actions slodrift allows, the way Prometheus will."""

    def action(m: re.Match[str]) -> str:
        body = m.group(1).strip()
        if body == '"{{"':
            return "{{"
        ref = _LABEL_REF.fullmatch(body)
        if not ref:
            raise ValueError(f"unsupported template action in {text!r}")
        return labels.get(ref.group(1), "")

    return _ACTION.sub(action, text) if "{{" in text else text
