"""Annotation templates are checked as Prometheus reads them (issue 17, item 6): whatever the checker
accepts, promtool accepts too. The expected answers come from promtool itself, not from the checker."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from slodrift.generator.template_check import template_problem

ACCEPTED = [
    "plain text",
    "{{ $labels.service }}",
    "{{$labels.service}}",
    "a {{ $labels.a }} b {{ $labels.b_2 }}",
    '{{ "{{" }} literal',
    "}} closing braces are text",
    "{ single brace }",
    "{{\t$labels.x\n}}",
    "{{ $labels.service }}}",
    "{{ $value }}",
    '{{ $value | printf "%.1f" }}x',
    "",
]
REFUSED = [
    ("foo {{ bar", "unclosed template action"),
    ("{{ $labels.service }", "unclosed template action"),
    ("{{ $value | humanize }}", "unsupported template action"),
    ("{{- $labels.service }}", "unsupported template action"),
    ("{{ $labels.service -}}", "unsupported template action"),
    ("{{/* comment */}}", "unsupported template action"),
    ("{{\u00a0$labels.service }}", "unsupported template action"),
    ("{{{ $labels.service }}", "unsupported template action"),
    ("{{ $labels.service | toUpper }}", "unsupported template action"),
    ("{{ .Labels.service }}", "unsupported template action"),
    ("{{ $labels.1x }}", "unsupported template action"),
]


def promtool_verdicts(promtool: str, folder: Path, templates: list[str]) -> list[bool]:
    """Whether promtool accepts each template as an annotation: one file per template, one run."""
    files = []
    for i, text in enumerate(templates):
        rule = {"alert": "A", "expr": "vector(1)", "annotations": {"summary": text}}
        path = folder / f"t{i}.yml"
        path.write_text(json.dumps({"groups": [{"name": "g", "rules": [rule]}]}))
        files.append(path)
    verdicts = []
    for start in range(0, len(files), 200):
        chunk = files[start : start + 200]
        r = subprocess.run(
            [promtool, "check", "rules", *map(str, chunk)], capture_output=True, text=True, timeout=300
        )
        assert r.stdout.count("Checking ") == len(chunk), r.stdout[-2000:] + r.stderr[-2000:]
        # every problem is reported on a line starting with its file's path
        failed = {line.split(": ", 1)[0] for line in r.stderr.splitlines() if ": " in line}
        verdicts += [str(p) not in failed for p in chunk]
    return verdicts


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted(text):
    assert template_problem(text) is None


@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_refused(text, why):
    problem = template_problem(text)
    assert problem is not None and why in problem


@pytest.mark.slow
def test_the_examples_agree_with_promtool(promtool, tmp_path):
    verdicts = promtool_verdicts(promtool, tmp_path, ACCEPTED + [t for t, _ in REFUSED])
    assert verdicts[: len(ACCEPTED)] == [True] * len(ACCEPTED)
    # the motivating case: slodrift used to accept it, promtool refuses it
    assert verdicts[len(ACCEPTED)] is False


@pytest.mark.slow
def test_whatever_the_checker_accepts_promtool_accepts(promtool, tmp_path):
    """Random templates over the characters that matter to Go's lexer (seeded, so it is repeatable)."""
    rng = random.Random(17)
    pieces = [
        "{{",
        "}}",
        "{",
        "}",
        " ",
        "\t",
        "\n",
        "$labels.",
        "x",
        "svc",
        "-",
        '"',
        "`",
        "/*",
        "*/",
        "|",
        ".",
        "\u00a0",
        "é",
    ]
    templates = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(1500)]
    accepted = sorted({t for t in templates if template_problem(t) is None})
    assert len(accepted) > 100, "the fuzzer hardly exercises accepted templates"
    verdicts = promtool_verdicts(promtool, tmp_path, accepted)
    refused_by_promtool = [t for t, ok in zip(accepted, verdicts, strict=True) if not ok]
    assert refused_by_promtool == []
