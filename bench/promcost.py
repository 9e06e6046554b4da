"""What a PromQL expression reads, computed from its selectors: series x (range / interval) per selector.

The steady-state benchmark (`steady_cost.py`) checks Prometheus' own count of the samples a rule's query
loaded (`totalQueryableSamples` of `/api/v1/query?stats=all`) against this computation, which knows
nothing of Prometheus: it scans the expression for its vector selectors (metric name, matchers, range,
offset), matches them against a catalog of the series the benchmark wrote, each with its sampling
schedule, and counts the samples of each series inside each selector's time range. Both sides follow
Prometheus 2.x: a range `[r] offset o` at time t holds the samples with a timestamp in [t-o-r, t-o]
(closed at both ends), an instant selector one sample per series with a sample in the 5m lookback.
Every selector is counted: both sides of `or`, `and` and `unless` are always evaluated.

Also here: Prometheus' evaluation phase of a rule group (its evaluations are at `n * interval + offset`,
the offset a hash of the rule file's path and the group's name), so recorded series can be written on the
grid the live rules then continue.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from slodrift.report.promql_names import parse_duration_ms  # the batch side's duration parser

# ---------------------------------------------------------------- evaluation phase of a rule group

_M64 = (1 << 64) - 1
_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _round(acc: int, lane: int) -> int:
    acc = (acc + lane * _P2) & _M64
    return (_rotl(acc, 31) * _P1) & _M64


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 (what Prometheus' labels.Hash uses), in plain Python: fine for short strings."""
    n = len(data)
    i = 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M64, (seed + _P2) & _M64, seed & _M64, (seed - _P1) & _M64]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round(v[k], int.from_bytes(data[i + 8 * k : i + 8 * k + 8], "little"))
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M64
        for k in range(4):
            h = ((h ^ _round(0, v[k])) * _P1 + _P4) & _M64
    else:
        h = (seed + _P5) & _M64
    h = (h + n) & _M64
    while i + 8 <= n:
        h ^= _round(0, int.from_bytes(data[i : i + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _M64
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i : i + 4], "little") * _P1) & _M64
        h = (_rotl(h, 23) * _P2 + _P3) & _M64
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M64
        h = (_rotl(h, 11) * _P1) & _M64
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M64
    h ^= h >> 29
    h = (h * _P3) & _M64
    h ^= h >> 32
    return h


def group_phase_ms(rule_file: str, group: str, interval_s: int) -> int:
    """Milliseconds after each multiple of the interval at which Prometheus evaluates a rule group.

    Prometheus 2.x: offset = hash(labels{file, name}) % interval (ns), the hash being XXH64 of
    `file\\xff<path>\\xffname\\xff<group>\\xff`; a sample's timestamp is the evaluation time truncated to ms.
    """
    key = b"file\xff" + rule_file.encode() + b"\xffname\xff" + group.encode() + b"\xff"
    return (xxh64(key) % (interval_s * 1_000_000_000)) // 1_000_000


# ---------------------------------------------------------------- selectors of an expression

_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_NUMBER = re.compile(r"(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_AGGREGATIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
}
_LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = {"and", "or", "unless", "bool", "atan2", "inf", "nan", "Inf", "NaN", "offset"}
_MATCH_OPS = ("=~", "!~", "!=", "=")


@dataclass(frozen=True)
class Selector:
    """One vector selector: `name{matchers}[range] offset o` (range None: an instant selector)."""

    name: str | None
    matchers: tuple[tuple[str, str, str], ...]
    range_ms: int | None
    offset_ms: int

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.name is not None and labels.get("__name__") != self.name:
            return False
        for label, op, value in self.matchers:
            have = labels.get(label, "")
            if op == "=":
                ok = have == value
            elif op == "!=":
                ok = have != value
            else:
                ok = _regex(value).fullmatch(have) is not None
                ok = ok if op == "=~" else not ok
            if not ok:
                return False
        return True


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c.isspace():
                self.i += 1
            elif c == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def peek(self) -> str:
        self.ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def string(self) -> str:
        q = self.s[self.i]
        j = self.i + 1
        out = []
        while self.s[j] != q:
            if self.s[j] == "\\" and q != "`":
                out.append(self.s[j + 1])
                j += 2
            else:
                out.append(self.s[j])
                j += 1
        self.i = j + 1
        return "".join(out)

    def ident(self) -> str | None:
        self.ws()
        m = _IDENT.match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    def expect(self, c: str) -> None:
        if self.peek() != c:
            raise ValueError(f"expected {c!r} at {self.i} in {self.s!r}")
        self.i += 1

    def until(self, c: str) -> str:
        j = self.s.index(c, self.i)
        out = self.s[self.i : j]
        self.i = j + 1
        return out.strip()


def selectors(expr: str) -> list[Selector]:
    """Every vector selector of a PromQL expression, in order (subqueries and `@` are refused)."""
    sc = _Scanner(expr)
    out: list[Selector] = []
    while True:
        c = sc.peek()
        if not c:
            return out
        if c in "\"'`":
            sc.string()
            continue
        if c == "{" or _IDENT.match(c):
            name = None
            if c != "{":
                name = sc.ident()
                assert name is not None
                nxt = sc.peek()
                if name in _LABEL_LIST_KEYWORDS:
                    if nxt == "(":
                        sc.i += 1
                        sc.until(")")
                    continue
                if name in _AGGREGATIONS or name in _KEYWORDS or nxt == "(":
                    if name == "offset":
                        raise ValueError(f"offset after an expression that is not a selector in {expr!r}")
                    continue
            matchers: list[tuple[str, str, str]] = []
            if sc.peek() == "{":
                sc.i += 1
                while sc.peek() != "}":
                    label = sc.ident()
                    if label is None:
                        raise ValueError(f"bad matcher at {sc.i} in {expr!r}")
                    sc.ws()
                    op = next(o for o in _MATCH_OPS if sc.s.startswith(o, sc.i))
                    sc.i += len(op)
                    sc.ws()
                    matchers.append((label, op, sc.string()))
                    if sc.peek() == ",":
                        sc.i += 1
                sc.i += 1
            rng = None
            if sc.peek() == "[":
                sc.i += 1
                body = sc.until("]")
                if ":" in body:
                    raise ValueError(f"subquery in {expr!r}: not supported")
                rng = parse_duration_ms(body)
            off = 0
            save2 = sc.i
            if sc.ident() == "offset":
                sc.ws()
                neg = sc.s.startswith("-", sc.i)
                if neg:
                    sc.i += 1
                sc.ws()
                m = re.compile(r"[0-9a-z]+").match(sc.s, sc.i)
                assert m is not None
                sc.i = m.end()
                off = parse_duration_ms(m.group(0)) * (-1 if neg else 1)
            else:
                sc.i = save2
            if sc.peek() == "@":
                raise ValueError(f"@ modifier in {expr!r}: not supported")
            out.append(Selector(name, tuple(matchers), rng, off))
            continue
        if c == "[":
            raise ValueError(f"subquery in {expr!r}: not supported")
        m = _NUMBER.match(sc.s, sc.i)
        if m and m.end() > sc.i:
            sc.i = m.end()
            continue
        sc.i += 1


# ---------------------------------------------------------------- series and their samples


@dataclass(frozen=True)
class Schedule:
    """When a series has samples: at `n * step_ms + phase_ms` for every n with n % every == residue,
    from `first_ms` on; a phase of None means on a grid of `step_ms` at an unknown phase (a scrape)."""

    step_ms: int
    phase_ms: int | None
    first_ms: int
    every: int = 1
    residue: int = 0

    def count(self, lo: int, hi: int) -> tuple[float, float, float]:
        """(low, expected, high) number of samples with a timestamp in [lo, hi]."""
        lo = max(lo, self.first_ms)
        if hi < lo:
            return (0.0, 0.0, 0.0)
        if self.phase_ms is None:
            span = (hi - lo) / (self.step_ms * self.every)
            return (float(int(span)), span, float(int(span) + 1))
        # n with lo <= n*step + phase <= hi and n % every == residue
        n0 = -((self.phase_ms - lo) // self.step_ms)  # ceil((lo - phase) / step)
        n1 = (hi - self.phase_ms) // self.step_ms
        if n1 < n0:
            return (0.0, 0.0, 0.0)
        k = (n1 - self.residue) // self.every - (n0 - 1 - self.residue) // self.every
        return (float(k), float(k), float(k))


@dataclass
class Catalog:
    """The series a benchmark's Prometheus holds (those it wrote or scrapes), with their schedules."""

    series: list[tuple[dict[str, str], Schedule]] = field(default_factory=list)
    by_name: dict[str, list[tuple[dict[str, str], Schedule]]] = field(default_factory=dict)

    def add(self, labels: Mapping[str, str], schedule: Schedule) -> None:
        item = (dict(labels), schedule)
        self.series.append(item)
        self.by_name.setdefault(item[0].get("__name__", ""), []).append(item)

    def candidates(self, sel: Selector) -> list[tuple[dict[str, str], Schedule]]:
        return self.series if sel.name is None else self.by_name.get(sel.name, [])

    def extend(self, items: Iterable[tuple[Mapping[str, str], Schedule]]) -> None:
        for lab, s in items:
            self.add(lab, s)


LOOKBACK_MS = 300_000


@dataclass(frozen=True)
class SelectorCost:
    selector: Selector
    series: int
    low: float
    expected: float
    high: float


def expr_cost(expr: str, catalog: Catalog, t_ms: int) -> list[SelectorCost]:
    """Samples each selector of `expr` reads when evaluated at `t_ms` (low, expected, high)."""
    out = []
    for sel in selectors(expr):
        matched = [s for lab, s in catalog.candidates(sel) if sel.matches(lab)]
        lo = ex = hi = 0.0
        end = t_ms - sel.offset_ms
        for s in matched:
            if sel.range_ms is None:
                has = s.count(end - LOOKBACK_MS, end)
                # one sample per series with a sample in the lookback (a scrape every step < 5m: always)
                lo += 1.0 if has[0] > 0 else 0.0
                ex += 1.0 if has[1] > 0 else 0.0
                hi += 1.0 if has[2] > 0 else 0.0
            else:
                a, b, c = s.count(end - sel.range_ms, end)
                lo, ex, hi = lo + a, ex + b, hi + c
        out.append(SelectorCost(sel, len(matched), lo, ex, hi))
    return out


def total(costs: Sequence[SelectorCost]) -> tuple[float, float, float]:
    return (
        sum(c.low for c in costs),
        sum(c.expected for c in costs),
        sum(c.high for c in costs),
    )
