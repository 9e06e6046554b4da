"""Label values that satisfy a selector's matchers: what the generated tests feed as raw series, and
what the spec loader checks exists before any test is built (so it lives outside `testgen`).

Matching is Prometheus' own: RE2, anchored (`promql.compile_regex(...).fullmatch`), so it is linear in
the value and a pattern like `(a+)+` cannot make it backtrack. Finding a value is bounded too: candidate
examples are built by a small walker over the pattern (at most `MAX_VALUE` characters), then by a search
over short strings, within `MAX_CANDIDATES` candidates and `MAX_WORK` characters matched: counts, not a
clock, so a loaded machine gives the same answer. When nothing is found, `SynthesisError` says which
label and selector; the spec loader reports it as a spec error.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typeshed describes the private re._parser and re._constants under their old names
    import sre_constants
    import sre_parse
else:  # the public sre_* modules are deprecated at run time
    from re import _constants as sre_constants
    from re import _parser as sre_parse

from slodrift.generator import promql

NEGATIVE_CANDIDATES = ("200", "ok", "x", "0", "GET", "none", "slodrift_other")
MAX_VALUE = 4096  # characters of a synthesised value (selectors are at most 4096 characters too)
MAX_CANDIDATES = 4000  # values tried for one label before giving up
# Characters matched for one label before giving up, each check counted as its value's length plus
# CHECK_COST: RE2 is linear in them, so this bounds the time (about a second at worst, 2,000 checks of
# 1,000-character values each building new DFA states) without a clock that would make the output
# depend on the machine's load.
MAX_WORK = 2_000_000
CHECK_COST = 4
_ALPHABET = "0a1A_b5.-9zZ:/ "


class SynthesisError(ValueError):
    """The generator cannot build input series for a selector; the message says which and why."""


class _TooLong(Exception):
    pass


def _regex_example(pattern: str) -> str | None:
    """A short string that probably fully matches `pattern` (checked by the caller), or None.

    The walker reads the pattern with Python's parser, whose syntax is close to RE2's; what it gets
    wrong is caught by the RE2 check of every candidate."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RE2's [[:alpha:]] reads as a "possible nested set" to Python
            parsed = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return None

    def one_of(items: Any) -> str:
        """A character of a class [...], or outside a negated class [^...]."""
        negate = bool(items) and items[0][0] is sre_constants.NEGATE
        if negate:
            for ch in _ALPHABET + "0123456789abcdefghijklmnopqrstuvwxyz":
                if not any(_in_item(ch, iop, iav) for iop, iav in items[1:]):
                    return ch
            raise ValueError
        for iop, iav in items:
            if iop is sre_constants.LITERAL:
                return chr(iav)
            if iop is sre_constants.RANGE:
                return chr(iav[0])
            if iop is sre_constants.CATEGORY:
                return "0" if iav is sre_constants.CATEGORY_DIGIT else "a"
        raise ValueError

    def walk(items: Any, out: list[str]) -> None:
        for op, av in items:
            if len(out) > MAX_VALUE:  # one character per entry
                raise _TooLong
            if op is sre_constants.LITERAL:
                out.append(chr(av))
            elif op is sre_constants.NOT_LITERAL:
                out.append("a" if chr(av) != "a" else "b")
            elif op is sre_constants.ANY:
                out.append("0")
            elif op is sre_constants.IN:
                out.append(one_of(av))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                lo, _hi, sub = av
                for _ in range(max(lo, 1)):
                    walk(sub, out)
            elif op is sre_constants.SUBPATTERN:
                walk(av[-1], out)
            elif op is sre_constants.BRANCH:
                walk(av[1][0], out)
            elif op is sre_constants.AT:
                continue
            else:
                raise ValueError

    out: list[str] = []
    try:
        walk(parsed, out)
    except (ValueError, TypeError, _TooLong, RecursionError):
        return None
    text = "".join(out)
    return text if len(text) <= MAX_VALUE else None


def _in_item(ch: str, op: Any, av: Any) -> bool:
    if op is sre_constants.LITERAL:
        return ch == chr(av)
    if op is sre_constants.RANGE:
        low: int = av[0]
        high: int = av[1]
        return low <= ord(ch) <= high
    if op is sre_constants.CATEGORY:
        return _category(ch, av)
    return True  # anything else: assume it may contain ch (the RE2 check decides)


def _category(ch: str, cat: sre_constants._NamedIntConstant) -> bool:
    table = {
        sre_constants.CATEGORY_DIGIT: ch.isdigit(),
        sre_constants.CATEGORY_NOT_DIGIT: not ch.isdigit(),
        sre_constants.CATEGORY_SPACE: ch.isspace(),
        sre_constants.CATEGORY_NOT_SPACE: not ch.isspace(),
        sre_constants.CATEGORY_WORD: ch.isalnum() or ch == "_",
        sre_constants.CATEGORY_NOT_WORD: not (ch.isalnum() or ch == "_"),
    }
    return table.get(cat, True)


def satisfies(value: str, m: promql.Matcher) -> bool:
    """Whether Prometheus' matcher `m` selects a series whose label has `value` ("" when absent)."""
    return _test(m)(value)


def _test(m: promql.Matcher) -> Callable[[str], bool]:
    """Matcher `m` as a test of a label value, its regex compiled once."""
    if m.op == "=":
        return lambda value: value == m.value
    if m.op == "!=":
        return lambda value: value != m.value
    regex = promql.compile_regex(m.value)
    if m.op == "=~":
        return lambda value: regex.fullmatch(value) is not None
    return lambda value: regex.fullmatch(value) is None


def _short_strings() -> Iterator[str]:
    """ "", then every string of 1 to 3 characters over a small alphabet, shortest first."""
    yield ""
    for n in range(1, 4):
        for chars in itertools.product(_ALPHABET, repeat=n):
            yield "".join(chars)


def _value_for(label: str, matchers: list[promql.Matcher]) -> str | None:
    """A value of `label` that satisfies all of `matchers` (all on that label), or None; bounded by
    counts alone (candidates tried, characters matched), so the answer never depends on the machine."""
    for m in matchers:  # an equality decides; a value is never too long or odd when the spec wrote it
        if m.op == "=":
            return m.value if all(satisfies(m.value, o) for o in matchers) else None
    tests = [_test(m) for m in matchers]
    candidates = itertools.chain(
        (x for m in matchers if m.op == "=~" for x in [_regex_example(m.value)] if x is not None),
        NEGATIVE_CANDIDATES,
        _short_strings(),
    )
    tried: set[str] = set()
    work = 0
    for n, c in enumerate(candidates):
        if n >= MAX_CANDIDATES or work > MAX_WORK:
            return None
        # no newline in a synthesised value: `.` matches one in Prometheus 3, not in Prometheus 2
        if len(c) > MAX_VALUE or "\n" in c or c in tried:
            continue
        tried.add(c)
        for test in tests:
            work += len(c) + CHECK_COST
            if not test(c):
                break
        else:
            return c
    return None


def group_values(label: str, selectors: list[promql.Selector], n: int = 2) -> list[str]:
    """Up to `n` distinct, non-empty values of a group label that every selector's matchers on it
    select (a grouped SLO whose selector says `handler=~"/api.*"` is fed `/api...` groups)."""
    ms = [m for sel in selectors for m in sel.matchers if m.label == label]
    out: list[str] = []
    while len(out) < n:
        v = _value_for(
            label, [*ms, promql.Matcher(label, "!=", ""), *(promql.Matcher(label, "!=", x) for x in out)]
        )
        if v is None:
            break
        out.append(v)
    return out


def labels_matching(sel: promql.Selector, avoid: promql.Selector | None = None) -> dict[str, str]:
    """Concrete labels selected by `sel` and, when `avoid` is given, not selected by `avoid`."""
    by_label: dict[str, list[promql.Matcher]] = {}
    for m in sel.matchers:
        by_label.setdefault(m.label, []).append(m)
    labels: dict[str, str] = {}
    for label, ms in by_label.items():
        v = _value_for(label, ms)
        if v is None:
            raise SynthesisError(
                f"no value of label {label!r} found that {sel.render()} selects "
                f"(tried up to {MAX_CANDIDATES} candidates); the matchers may contradict each other"
            )
        if v != "":
            labels[label] = v
    if avoid is None or avoid.metric != sel.metric or not selects(avoid, labels):
        return labels
    for m in avoid.matchers:  # flip one label the avoided selector depends on
        ms = by_label.get(m.label, []) + [
            promql.Matcher(m.label, {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}[m.op], m.value)
        ]
        v = _value_for(m.label, ms)
        if v is not None:
            flipped = {**labels, m.label: v}
            if v == "":
                flipped.pop(m.label)
            if not selects(avoid, flipped):
                return flipped
    raise SynthesisError(
        f"no series found that {sel.render()} selects but {avoid.render()} does not: every request "
        "would count as an error"
    )


def selects(sel: promql.Selector, labels: dict[str, str]) -> bool:
    """Whether `sel`'s matchers all select a series with `labels`."""
    return all(satisfies(labels.get(m.label, ""), m) for m in sel.matchers)
