"""One template grammar (`alert_templates`) for the spec's annotation check and the test generator's
renderer: an action the check accepts is one the renderer renders, and one it refuses the renderer
refuses too (issue 18). Expected renderings and verdicts are worked out by hand from Go's text/template
(whitespace around an action's words: space, tab, CR, LF only)."""

from __future__ import annotations

import pytest
from slodrift.generator.alert_templates import LABEL_REF_RE, TEMPLATE_ACTION_RE
from slodrift.generator.template_check import template_problem
from slodrift.generator.testgen.templates import render_template

LABELS = {"service": "api"}
VALUE = 2.5

RENDERED = [
    ("{{ $labels.service }}", "api"),
    ("{{$labels.service}}", "api"),
    ("a {{\t$labels.service\r\n}} b", "a api b"),
    ('{{ "{{" }}', "{{"),
    ('{{"{{"}}x', "{{x"),
    ("{{ $value }}", "2.5"),
    ('{{ $value | printf "%.2f" }}', "2.50"),
    ('{{\n$value\t|\tprintf "%.3f"\n}}', "2.500"),
]
REFUSED = [
    "{{\u00a0$labels.service }}",  # Python's \s takes a no-break space; Go's lexer does not
    "{{ $labels.service\u2003}}",
    "{{\x0b$labels.service }}",  # vertical tab: \s in Python, not a space to Go
    '{{ $value |\nprintf "%.1f" }}',  # a line break inside the pipe
    '{{ $value | printf "%.\u0661f" }}',  # an Arabic-Indic digit: \d in Python
    "{{ .Labels.service }}",
    "{{- $labels.service }}",
    "{{ $labels.service | toUpper }}",
    '{{ "{{" | print }}',
]


@pytest.mark.parametrize(("text", "expected"), RENDERED)
def test_accepted_actions_render(text: str, expected: str) -> None:
    assert template_problem(text) is None
    assert render_template(text, LABELS, VALUE) == expected


@pytest.mark.parametrize("text", REFUSED)
def test_refused_actions_are_refused_by_both(text: str) -> None:
    assert template_problem(text) is not None
    with pytest.raises(ValueError, match="unsupported template action"):
        render_template(text, LABELS, VALUE)


@pytest.mark.parametrize("text", [t for t, _ in RENDERED] + REFUSED)
def test_label_references_are_the_accepted_label_actions(text: str) -> None:
    """What the importers and the dashboard read as a label reference is what the check accepts as one."""
    refs = [LABEL_REF_RE.match(m.group(1)) for m in TEMPLATE_ACTION_RE.finditer(text)]
    is_label = "$labels." in text and template_problem(text) is None
    assert [r.group(1) for r in refs if r] == (["service"] if is_label else [])
