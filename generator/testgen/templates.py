"""Annotation templates rendered as Prometheus would for the labels of a firing alert (expected values)."""

from __future__ import annotations

import re

from slodrift.generator.alert_templates import LABEL_REF_RE, TEMPLATE_ACTION_RE


def render_template(text: str, labels: dict[str, str]) -> str:
    """Expand the only template actions slodrift allows, the way Prometheus will."""

    def action(m: re.Match[str]) -> str:
        body = m.group(1).strip()
        if body == '"{{"':
            return "{{"
        ref = LABEL_REF_RE.match(body)
        if not ref:
            raise ValueError(f"unsupported template action in {text!r}")
        return labels.get(ref.group(1), "")

    return TEMPLATE_ACTION_RE.sub(action, text) if "{{" in text else text
