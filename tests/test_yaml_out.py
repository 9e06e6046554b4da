"""slodrift's own YAML emitter: whatever the data, the text loads back as exactly that data, and Go's
YAML (through promtool and amtool) reads the same values; readable where it can be (plain scalars,
PromQL as literal blocks)."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slodrift.generator import yaml_out
from slodrift.generator.promql import Expr
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec

from tests.helpers import EXAMPLE

# Strings a resolver, an indicator or an escape could get wrong, mixed with anything printable or not.
TRICKY = st.sampled_from(
    [
        "",
        " ",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "N",
        "~",
        "null",
        "Null",
        "true",
        "FALSE",
        "0",
        "-1",
        "1e3",
        "1.5",
        "0x1F",
        "0o17",
        "1_000",
        "1:30",
        ".inf",
        "-.Inf",
        ".NaN",
        "2025-11-22",
        "2025-11-22T00:00:00Z",
        "<<",
        "=",
        "- a",
        "? b",
        ": c",
        "a: b",
        "a #b",
        "a:",
        "#x",
        "&a",
        "*a",
        "!tag",
        "|",
        ">",
        "%x",
        "@x",
        "`x",
        "'q'",
        '"d"',
        "[a]",
        "{a: 1}",
        "a,b",
        "---",
        "...",
        "\ufeff",
        "\u2028",
        "\u0085",
        "\x7f",
        "\x00",
        "\t",
        "a\tb",
        "line\nbreak",
        "trailing ",
        " leading",
        "ünï ✓",
        "\U0001f600",
        "\ufffe",
    ]
)
STRINGS = st.one_of(
    TRICKY,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.lists(TRICKY, max_size=4).map("".join),
)
SCALARS = st.one_of(
    STRINGS,
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    STRINGS.map(Expr),
    st.lists(st.sampled_from(["sum(x)", "  or", "", 'y{a="b"} > 0', " #c"]), min_size=2, max_size=4).map(
        lambda lines: Expr("\n".join(lines))
    ),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(STRINGS, inner, max_size=4)),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(STRINGS, DATA, min_size=1, max_size=4))
def test_anything_loads_back_as_written(data):
    text = yaml_out.dump(data, "a header\nwith \x00 and \u2028 in it")
    assert yaml.safe_load(text) == data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(STRINGS, DATA, min_size=1, max_size=3), min_size=2, max_size=3))
def test_an_emitter_shared_by_documents_writes_each_as_a_new_one_would(docs):
    """render() keeps one emitter (and its memo of scalars) for all its files: the memo changes no text."""
    shared = yaml_out.Emitter()
    assert [shared.dump(d) for d in docs + docs] == [yaml_out.Emitter().dump(d) for d in docs + docs]


@given(STRINGS)
def test_scalars_load_back_alone(value):
    assert yaml.safe_load(f"k: {yaml_out.scalar(value)}\n") == {"k": value}


def test_a_document_end_marker_is_quoted():
    text = yaml_out.dump({"... 0": ["..."], "...": "... x"})  # `...` at a line's start ends a document
    assert yaml.safe_load(text) == {"... 0": ["..."], "...": "... x"}


def test_readable_where_it_can_be():
    text = yaml_out.dump(
        {
            "record": "slodrift:sli_errors:increase1m",
            "for": "5m",
            "le": "+Inf",
            "n": 1,
            "expr": Expr('sum(\n  rate(x{code=~"5.."}[5m])\n)'),
            "series": 'http_requests_total{code="500"}',
            "on": "yes",
        }
    )
    assert "record: slodrift:sli_errors:increase1m\n" in text
    assert "for: 5m\n" in text
    assert "le: +Inf\n" in text  # a string in YAML 1.1 and 1.2 alike (infinity needs the dot)
    assert 'series: http_requests_total{code="500"}\n' in text
    assert 'expr: |-\n  sum(\n    rate(x{code=~"5.."}[5m])\n  )\n' in text
    assert "'on': 'yes'\n" in text  # a YAML 1.1 boolean, as key and value


def _typed(node: object) -> object:
    """The data as YAML holds it, every scalar with its type (so 1 and 1.0 and True differ): tuples are
    sequences, str subclasses (`Expr`) are strings."""
    if isinstance(node, dict):
        return {_typed(k): _typed(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_typed(v) for v in node]
    if isinstance(node, str):
        return ("str", str(node))
    return (type(node).__name__, node)


@pytest.mark.slow  # about 1.5 s
def test_every_generated_file_is_the_data_it_was_rendered_from(monkeypatch):
    rendered_from: dict[str, object] = {}
    real_dump = yaml_out.Emitter.dump

    def recording_dump(self, data, header=""):
        text = real_dump(self, data, header)
        rendered_from[text] = copy.deepcopy(data)
        return text

    monkeypatch.setattr(yaml_out.Emitter, "dump", recording_dump)
    files = render([load_spec(EXAMPLE)])
    yml = {rel: text for rel, text in files.items() if rel.endswith(".yml")}
    assert any(rel.endswith(".test.yml") for rel in yml) and any(rel.startswith("rules/") for rel in yml)
    for rel, text in yml.items():
        assert text in rendered_from, f"{rel} was not written by yaml_out.Emitter.dump"
        data = rendered_from[text]
        assert _typed(yaml.safe_load(text)) == _typed(data), rel


def test_rendering_twice_gives_the_same_files():
    """No state is left behind by a render: the second one (in the same process) is the same text."""
    spec = load_spec(EXAMPLE)
    assert render([spec]) == render([spec])
