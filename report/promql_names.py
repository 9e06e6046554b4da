"""Which metric names a PromQL expression reads, and over how much time: a lexer, not an evaluator.

The rule engine needs three facts about each expression, and nothing else: the metric names it reads
(to order recording rules by dependency), how far back it reads each of them (a range selector, an
`offset`, a subquery), so that the rules it reads are evaluated early enough, and a way to give a recorded
name another name everywhere it is read (so a scratch evaluation never mixes with series of the same name
that the source Prometheus already holds). Evaluating PromQL stays Prometheus' job.

Metric names are the identifiers that are not function names (followed by `(`), keywords, label names
(inside `{...}` or in the parenthesised list after `by`, `without`, `on`, `ignoring`, `group_left`,
`group_right`) or the special numbers `Inf`/`NaN`. Strings and comments are skipped. A selector written as
`{__name__="x"}` is not seen as reading `x`; none of the rule generators this serves writes one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Read", "parse_duration_ms", "reads", "rename", "names_read"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+(?![A-Za-z0-9_]))
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}\[\]:@])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "and",
        "or",
        "unless",
        "atan2",
        "inf",
        "nan",
    }
)
_LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "y": 31_536_000_000,
}
_DURATION_PART = re.compile(r"(\d+)(ms|[smhdwy])")


def parse_duration_ms(text: str) -> int:
    """A Prometheus duration (`1h30m`, `5m`, `2m0s`, `100ms`) in milliseconds; ValueError otherwise."""
    text = text.strip()
    pos, total = 0, 0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNIT_MS[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise ValueError(f"{text!r} is not a duration like '30s', '5m' or '1h30m'")
    return total


@dataclass(frozen=True)
class Read:
    """One read of a metric name: how far back before the evaluation time it reaches (ms), whether it
    reads a range (a range selector or a subquery) rather than the single latest sample, and the equality
    matchers of its selector (`{event="total"}`: which of several rules recording the name it can see)."""

    name: str
    back_ms: int
    ranged: bool
    matchers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int


def _tokens(expr: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read PromQL at offset {pos}: {expr[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append(_Tok(kind, m.group(), m.start(), m.end()))
        pos = m.end()
    return out


def _name_positions(toks: list[_Tok]) -> list[int]:
    """Indexes of the tokens that are metric names."""
    out: list[int] = []
    brace = 0
    label_list = False  # inside the ( ... ) after by/without/on/...
    expect_label_list = False
    for i, t in enumerate(toks):
        if t.kind == "op":
            if t.text == "{":
                brace += 1
            elif t.text == "}":
                brace -= 1
            elif t.text == "(" and expect_label_list:
                label_list = True
            elif t.text == ")" and label_list:
                label_list = False
            expect_label_list = False
            continue
        if t.kind != "ident":
            expect_label_list = False
            continue
        low = t.text.lower()
        if brace or label_list:
            continue
        if low in _LABEL_LIST_KEYWORDS:
            expect_label_list = True
            continue
        expect_label_list = False
        if low in _KEYWORDS:
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and (nxt.text == "(" or nxt.text.lower() in ("by", "without")):
            continue  # a function or an aggregation
        out.append(i)
    return out


def _close(toks: list[_Tok], i: int, open_: str, close: str) -> int:
    """Index of the token closing the bracket opened at `i`."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "op" and toks[j].text == open_:
            depth += 1
        elif toks[j].kind == "op" and toks[j].text == close:
            depth -= 1
            if depth == 0:
                return j
    raise ValueError(f"unbalanced {open_!r} in PromQL")


def _suffix(toks: list[_Tok], j: int) -> tuple[int, bool, int]:
    """After a selector or a parenthesised expression ending before token `j`: (ms reached back by a
    range or subquery plus any offset, whether it is a range, index of the next token)."""
    back, ranged = 0, False
    if j < len(toks) and toks[j].text == "[":
        end = _close(toks, j, "[", "]")
        inner = toks[j + 1 : end]
        if inner and inner[0].kind == "duration":
            back, ranged = parse_duration_ms(inner[0].text), True
        j = end + 1
    while j < len(toks) and toks[j].kind == "ident" and toks[j].text.lower() == "offset":
        sign = -1 if j + 1 < len(toks) and toks[j + 1].text == "-" else 1
        k = j + 2 if sign < 0 else j + 1
        if k < len(toks) and toks[k].kind == "duration":
            back += sign * parse_duration_ms(toks[k].text)
        j = k + 1
    return back, ranged, j


def reads(expr: str) -> list[Read]:
    """Every read of a metric name in `expr`, with how far back it reaches (subqueries add up)."""
    toks = _tokens(expr)
    positions = _name_positions(toks)
    extra = [0] * len(toks)  # ms added by the subqueries enclosing each token
    ranged_by_subquery = [False] * len(toks)
    for i, t in enumerate(toks):
        if t.kind == "op" and t.text == "(":
            end = _close(toks, i, "(", ")")
            back, ranged, _ = _suffix(toks, end + 1)
            if back or ranged:
                for k in range(i, end + 1):
                    extra[k] += back
                    ranged_by_subquery[k] = ranged_by_subquery[k] or ranged
    out = []
    for i in positions:
        j = i + 1
        matchers: tuple[tuple[str, str], ...] = ()
        if j < len(toks) and toks[j].text == "{":
            close = _close(toks, j, "{", "}")
            matchers = _equality_matchers(toks[j + 1 : close])
            j = close + 1
        back, ranged, _ = _suffix(toks, j)
        out.append(Read(toks[i].text, max(0, back + extra[i]), ranged or ranged_by_subquery[i], matchers))
    return out


def _unquote(text: str) -> str:
    """A PromQL string literal's value (single-character escapes decoded; none inside `...`)."""
    if text[0] == "`":
        return text[1:-1]
    return re.sub(
        r"\\(.)",
        lambda m: {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}.get(
            m.group(1), m.group(1)
        ),
        text[1:-1],
    )


def _equality_matchers(inner: list[_Tok]) -> tuple[tuple[str, str], ...]:
    """The `label="value"` matchers among the tokens inside a selector's braces (others are skipped)."""
    out = []
    for k in range(len(inner) - 2):
        a, op, v = inner[k], inner[k + 1], inner[k + 2]
        if a.kind == "ident" and op.kind == "op" and op.text == "=" and v.kind == "string":
            out.append((a.text, _unquote(v.text)))
    return tuple(out)


def names_read(expr: str) -> set[str]:
    """The metric names `expr` reads."""
    return {r.name for r in reads(expr)}


def rename(expr: str, mapping: Mapping[str, str]) -> str:
    """`expr` with every read of a name in `mapping` replaced by its new name; nothing else changes."""
    toks = _tokens(expr)
    out, last = [], 0
    for i in _name_positions(toks):
        new = mapping.get(toks[i].text)
        if new is not None:
            out += [expr[last : toks[i].start], new]
            last = toks[i].end
    out.append(expr[last:])
    return "".join(out)
