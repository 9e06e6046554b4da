"""Regex matchers as Prometheus reads them (RE2) and bounded test-label synthesis (issue 17, item 5)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from slodrift.generator import promql
from slodrift.generator.matching import SynthesisError, labels_matching, satisfies, selects
from slodrift.generator.spec import SpecError, load_spec_text

from tests.helpers import run_cli

SPEC = """version: 1
services:
  - name: checkout
    selector: {{job: checkout}}
    slos:
      - name: availability
        objective: 99.9
        sli: {{errors: '{errors}', total: '{total}'}}
"""


def spec(errors: str, total: str = "http_requests_total") -> bytes:
    return SPEC.format(errors=errors.replace("'", "''"), total=total.replace("'", "''")).encode()


@pytest.mark.parametrize(
    ("pattern", "value", "hit"),
    [
        ("5..", "500", True),
        ("5..", "5000", False),  # anchored, as Prometheus anchors
        ("a|b", "a", True),
        ("a|b", "ab", False),
        ("\\pL+", "héllo", True),  # RE2 syntax Python's re does not know
        ("[[:digit:]]{3}", "503", True),
        ("(a+)+$", "a" * 40 + "!", False),  # catastrophic for a backtracking engine; linear here
    ],
)
def test_matching_is_prometheus_full_match(pattern, value, hit):
    started = time.monotonic()
    assert satisfies(value, promql.Matcher("code", "=~", pattern)) is hit
    assert satisfies(value, promql.Matcher("code", "!~", pattern)) is (not hit)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "errors",
    [
        'http_requests_total{code=~"[^2][0-9][0-9]"}',  # a negated class: used to raise SynthesisError
        'http_requests_total{code=~"\\\\pN{3}",code!~"2.."}',
        'http_requests_total{code=~"[[:digit:]]{3}",code!="200"}',
        'http_requests_total{code=~"(?i)ERR|fail"}',
        'http_requests_total{code=~"x{1000}"}',
    ],
)
def test_synthesised_series_are_selected_by_errors_and_not_by_the_good_ones(errors):
    loaded = load_spec_text("s.yml", spec(errors))
    sli = loaded.services[0].slos[0].sli
    assert sli.errors is not None and sli.total is not None
    bad = labels_matching(sli.errors)
    good = labels_matching(sli.total, avoid=sli.errors)
    assert selects(sli.errors, bad) and selects(sli.total, good) and not selects(sli.errors, good)


@pytest.mark.slow
def test_generated_tests_pass_promtool_for_a_negated_class(tmp_path: Path):
    """The series labels slodrift synthesises are matched by Prometheus itself (promtool test rules)."""
    src = tmp_path / "spec.yml"
    src.write_bytes(spec('http_requests_total{code=~"[^2][0-9][0-9]"}'))
    r = run_cli("generate", str(src), "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    r = run_cli("test", str(tmp_path / "out"))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        (
            'http_requests_total{code=~"a{32}!",code=~"(a+)+"}',
            "cannot build test series: no value of label 'code'",
        ),
        ('http_requests_total{code!~".*"}', "cannot build test series"),
        ('http_requests_total{code=~"((a{1000}){1000}){1000}"}', "invalid repetition size"),
        ('http_requests_total{code=~"(?=5)5.."}', "invalid perl operator"),
    ],
)
def test_impossible_selectors_are_spec_errors_found_quickly(errors, expected):
    """These ran for more than 60 s (one at 2.7 GB) or raised a traceback in generate."""
    started = time.monotonic()
    with pytest.raises(SpecError) as err:
        load_spec_text("s.yml", spec(errors))
    assert time.monotonic() - started < 20, "synthesis is not bounded"
    issue = err.value.issues[0]
    assert expected in issue.message and issue.path.startswith("services[0].slos[0].sli")
    assert issue.line is not None


def test_synthesis_failure_is_a_clear_error():
    sel = promql.parse_selector('x{a=~"b",a=~"c"}')
    with pytest.raises(SynthesisError, match="no value of label 'a'"):
        labels_matching(sel)


def test_the_search_reads_no_clock(monkeypatch):
    """Issue 18 review: a wall-clock backstop made the same spec fail on a loaded machine. The search is
    bounded by counts only: with a clock that says every call is a minute later, the answer is the same."""
    now = iter(range(0, 10**9, 60))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(now)))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(now)))
    # three letters (RE2's \\pL, which the example walker does not read), not GET: the first is "aaa",
    # candidate 490 (7 fixed ones, "", 15 of one character, 225 of two, 225 from "000" to "0  ", then
    # "a00" to "aa ", 15 more, then "aaa"); the old search read its clock every 256 candidates
    sel = promql.parse_selector('x{code=~"\\\\pL{3}",code!="GET"}')
    assert labels_matching(sel) == {"code": "aaa"}
    # a contradiction: the 4000 candidates run out, not a clock
    with pytest.raises(SynthesisError, match="no value of label 'code'"):
        labels_matching(promql.parse_selector('x{code=~".{0,3}",code!~".{0,3}"}'))


def test_the_work_bound_stops_a_search_that_matches_long_values_against_many_matchers():
    """About 190 matchers that each accept 1,000 characters from a different starting character on,
    then one that refuses everything: unbounded, each example is checked against the matchers before it
    (about 18,000 checks of 1,000 characters, 105 s before the regexes were compiled once and 4 s after);
    the work bound (MAX_WORK characters) stops it after about a second."""
    matchers, i = [], 0
    while sum(len(m) + 1 for m in matchers) < 3950:
        matchers.append(f'c=~"[{chr(0x100 + i)}-\uffef]{{1000}}"')
        i += 1
    sel = promql.parse_selector("x{" + ",".join(matchers) + ',c!~".+"}')
    started = time.monotonic()
    with pytest.raises(SynthesisError, match="no value of label 'c'"):
        labels_matching(sel)
    assert time.monotonic() - started < 30
