from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slodrift.generator import promql


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", '"plain"'),
        ('a"b', '"a\\"b"'),
        ("back\\slash", '"back\\\\slash"'),
        ("brace}", '"brace}"'),
        ("new\nline", '"new\\nline"'),
        ("tab\t", '"tab\\t"'),
        ("bell\x07", '"bell\\x07"'),
        ("ünïcode ✓", '"ünïcode ✓"'),
    ],
)
def test_quote_escapes_every_character_that_could_end_the_string(value, quoted):
    assert promql.quote(value) == quoted


@pytest.mark.parametrize("value", ['a"b', "x\\", '"}) or vector(1) #', "\n\r\t", "{{ $value }}", "'`"])
def test_quote_round_trips_through_the_selector_parser(value):
    sel = promql.parse_selector(promql.selector("m", {"l": value}))
    assert sel.matchers == (promql.Matcher("l", "=", value),)


def _labelset_by_the_checks(items):
    """What labelset means: every name checked, every value quoted, one pair at a time."""
    return "{" + ",".join(f"{promql.check_label_name(k)}={promql.quote(str(v))}" for k, v in items) + "}"


NAMES = st.one_of(
    st.sampled_from(["a", "_b", "route", "le", "__name__", "1a", "a-b", "é", ""]), st.text(max_size=6)
)
VALUES = st.one_of(
    st.sampled_from(["5..", 'x"y', "x\\y", "a\nb", "\x7f", "\u2028", "ü", ""]), st.text(max_size=8)
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(NAMES, VALUES), max_size=4))
def test_labelset_is_the_checks_and_quote_of_every_pair(pairs):
    """labelset's fast path (plain names, values with nothing to escape) writes what the checks would."""
    items = tuple(pairs)
    try:
        want = _labelset_by_the_checks(items)
    except promql.PromQLError as exc:
        with pytest.raises(promql.PromQLError, match="invalid label name") as got:
            promql.labelset(items)
        assert str(got.value) == str(exc)
    else:
        assert promql.labelset(items) == want


def test_labelset_escapes_and_refuses():
    assert promql.labelset((("a", 'x"y'), ("b", "c\\d"), ("c", "\t"))) == '{a="x\\"y",b="c\\\\d",c="\\t"}'
    with pytest.raises(promql.PromQLError, match="reserved"):
        promql.labelset((("__name__", "x"),))


def test_parse_selector_reads_all_operators_and_quotes():
    sel = promql.parse_selector("""http_requests_total{code=~"5..", path!='/x', a!~`b.*`, job="c"}""")
    assert sel.metric == "http_requests_total"
    assert [(m.label, m.op, m.value) for m in sel.matchers] == [
        ("code", "=~", "5.."),
        ("path", "!=", "/x"),
        ("a", "!~", "b.*"),
        ("job", "=", "c"),
    ]
    assert sel.render() == 'http_requests_total{code=~"5..",path!="/x",a!~"b.*",job="c"}'


@pytest.mark.parametrize(
    "text",
    [
        "rate(x[5m])",
        'x{a="1"} or vector(1)',
        "x{a=1}",
        'x{a="1"',
        "x{__name__}",
        "9x",
        'x{a=~"("}',
        "sum",
        "",
    ],
)
def test_parse_selector_refuses_anything_but_a_plain_selector(text):
    with pytest.raises(promql.PromQLError):
        promql.parse_selector(text)


def test_with_matchers_refuses_conflicts_but_accepts_repeats():
    sel = promql.parse_selector('x{job="a"}')
    assert sel.with_matchers([promql.Matcher("job", "=", "a")]) == sel
    with pytest.raises(promql.PromQLError, match="conflicts"):
        sel.with_matchers([promql.Matcher("job", "=", "b")])


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h30m", 5400), ("30d", 2592000), ("1w", 604800), ("90s", 90), ("2000ms", 2)],
)
def test_parse_duration(text, seconds):
    assert promql.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "0m", "1500ms", "m5", "1h 5m", 5])
def test_parse_duration_rejects(text):
    with pytest.raises(promql.PromQLError):
        promql.parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5m"), (5400, "1h30m"), (2592000, "30d"), (2419200, "4w"), (864000, "10d"), (90, "1m30s")],
)
def test_format_duration_is_shortest(seconds, text):
    assert promql.format_duration(seconds) == text


def test_number_has_no_float_noise():
    assert promql.number(1 - Decimal("0.999")) == "0.001"
    assert promql.number(Decimal("14.40") * Decimal("0.001")) == "0.0144"
    assert promql.number(Decimal("100")) == "100"
    assert promql.number(0.1) == "0.1"


def test_le_matcher_spells_integral_thresholds_both_ways():
    assert promql.le_matcher(Decimal("0.5")).render() == 'le="0.5"'
    m = promql.le_matcher(Decimal("1"))
    assert m.render() == 'le=~"1(\\\\.0)?"'
    import re

    assert re.fullmatch(m.value, "1") and re.fullmatch(m.value, "1.0") and not re.fullmatch(m.value, "10")


def test_template_literal_neutralises_template_actions():
    assert promql.template_literal("a {{ $value }} b") == 'a {{ "{{" }} $value }} b'


@pytest.mark.parametrize("query", ["sum(rate(x[{{window}}]))", 'sum(rate(x{a=")"}[{{window}}]))'])
def test_check_query_accepts_balanced(query):
    assert promql.check_query(query, "{{window}}") == query


@pytest.mark.parametrize("query", ["sum(rate(x[5m]))", "sum(rate(x[{{window}}])", "x[{{window}}]) # c", "(]"])
def test_check_query_rejects(query):
    with pytest.raises(promql.PromQLError):
        promql.check_query(query, "{{window}}")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("sum(rate(x[{{window}}])) by", "not valid PromQL"),  # balanced, but the grouping is missing
        ("rate(x[{{window}}]) +", "not valid PromQL"),
        ("sum(rate(x[{{window}}])) bye (a)", "not valid PromQL"),
        ("histogram_share(0.5, x[{{window}}])", "histogram_share"),  # MetricsQL, not PromQL
        ("rate(sum(x)[{{window}}])", "not valid PromQL"),  # a range of an expression needs a subquery
    ],
)
def test_check_query_parses_promql(query, problem):
    with pytest.raises(promql.PromQLError, match=problem):
        promql.check_query(query, "{{window}}")


@pytest.mark.parametrize(
    "query",
    [
        "sum by (route) (rate(x[{{window}}])) / on (route) group_left sum by (route) (rate(y[{{window}}]))",
        "sum_over_time((count(x < 0.5))[{{window}}:]) or on () vector(0)",
        "histogram_count(sum(rate(x[{{window}}]))) * (1 - histogram_fraction(0, 0.2, sum(rate(x[{{window}}]))))",
        'label_replace(sum by (service) (rate(x[{{window}}])), "s", "$1", "service", "(.*)")',
    ],
)
def test_check_query_accepts_real_queries(query):
    assert promql.check_query(query, "{{window}}") == query


def test_shared_labels_render_as_the_whole_set() -> None:
    shared = promql.SharedLabels({"service": "api", "slo": 'a"b'})
    event = promql.SharedLabels({"event": "error"})
    assert shared.selector("m", event) == 'm{service="api",slo="a\\"b",event="error"}'
    # a label of the shared set given again keeps its place and takes the new value, as a dict would
    again = promql.SharedLabels({"service": "x", "e": "1"})
    assert shared.selector("m", again) == 'm{service="x",slo="a\\"b",e="1"}'
    assert shared.selector("m", promql.SharedLabels({})) == 'm{service="api",slo="a\\"b"}'
    assert promql.SharedLabels({}).selector("m", again) == 'm{service="x",e="1"}'
    with pytest.raises(promql.PromQLError):
        shared.selector("bad-name", event)
    # several at once: the same text as one by one
    extras = [event, again, promql.SharedLabels({})]
    assert shared.selectors("m", extras) == [shared.selector("m", e) for e in extras]
    assert shared.selectors("m", [event]) == ['m{service="api",slo="a\\"b",event="error"}']
