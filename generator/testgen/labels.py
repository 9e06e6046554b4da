"""Label values that satisfy a selector's matchers: what the generated tests feed as raw series."""

from __future__ import annotations

import functools
import re
from re import _constants as sre_constants  # noqa: I001 (the public sre_* modules are deprecated)
from re import _parser as sre_parse
from typing import Any

from slodrift.generator import promql

NEGATIVE_CANDIDATES = ("200", "ok", "x", "0", "GET", "none", "slodrift_other")


class SynthesisError(ValueError):
    """The generator cannot build input series for a selector; the message says which and why."""


@functools.lru_cache(maxsize=4096)
def _regex_example(pattern: str) -> str | None:
    """A short string fully matching `pattern`, or None when the regex is beyond this small walker."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None

    def walk(items: Any) -> str:
        out = []
        for op, av in items:
            if op is sre_constants.LITERAL:
                out.append(chr(av))
            elif op is sre_constants.ANY:
                out.append("0")
            elif op is sre_constants.IN:
                ch = None
                for iop, iav in av:
                    if iop is sre_constants.LITERAL:
                        ch = chr(iav)
                    elif iop is sre_constants.RANGE:
                        ch = chr(iav[0])
                    elif iop is sre_constants.CATEGORY:
                        ch = "0" if iav is sre_constants.CATEGORY_DIGIT else "a"
                    if ch is not None:
                        break
                if ch is None:
                    raise ValueError
                out.append(ch)
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                lo, _hi, sub = av
                out.append(walk(sub) * max(lo, 1 if lo == 0 else lo))
            elif op is sre_constants.SUBPATTERN:
                out.append(walk(av[-1]))
            elif op is sre_constants.BRANCH:
                out.append(walk(av[1][0]))
            elif op in (sre_constants.AT,):
                continue
            else:
                raise ValueError
        return "".join(out)

    try:
        return walk(parsed)
    except (ValueError, TypeError):
        return None


def satisfies(value: str, m: promql.Matcher) -> bool:
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    hit = re.fullmatch(m.value, value, re.S) is not None
    return hit if m.op == "=~" else not hit


def _value_for(label: str, matchers: list[promql.Matcher]) -> str | None:
    """A value of `label` that satisfies all of `matchers` (all on that label)."""
    candidates = [m.value for m in matchers if m.op == "="]
    candidates += [x for m in matchers if m.op == "=~" for x in [_regex_example(m.value)] if x is not None]
    candidates += list(NEGATIVE_CANDIDATES)
    for c in candidates:
        if all(satisfies(c, m) for m in matchers):
            return c
    return None


def labels_matching(sel: promql.Selector, avoid: promql.Selector | None = None) -> dict[str, str]:
    """Concrete labels selected by `sel` and, when `avoid` is given, not selected by `avoid`."""
    return dict(_labels_matching(sel, avoid))


@functools.lru_cache(maxsize=4096)
def _labels_matching(sel: promql.Selector, avoid: promql.Selector | None) -> tuple[tuple[str, str], ...]:
    return tuple(_find_labels(sel, avoid).items())


def _find_labels(sel: promql.Selector, avoid: promql.Selector | None) -> dict[str, str]:
    by_label: dict[str, list[promql.Matcher]] = {}
    for m in sel.matchers:
        by_label.setdefault(m.label, []).append(m)
    labels: dict[str, str] = {}
    for label, ms in by_label.items():
        v = _value_for(label, ms)
        if v is None:
            raise SynthesisError(f"cannot find a value of {label!r} matching {sel.render()}")
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
    raise SynthesisError(f"cannot build a series selected by {sel.render()} but not by {avoid.render()}")


def selects(sel: promql.Selector, labels: dict[str, str]) -> bool:
    return all(satisfies(labels.get(m.label, ""), m) for m in sel.matchers)
