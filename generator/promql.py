"""The only place where PromQL text is assembled from values a user wrote.

Every name is validated against Prometheus' legacy character set (so the rules load in both 2.x and
3.x without UTF-8 quoting), every label value is escaped as a PromQL double-quoted string, and
user-written selectors are parsed and re-rendered rather than pasted. A service name or label value
therefore cannot change what a query means: at worst it is a strange, but literal, string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import re2

METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
DURATION_RE = re.compile(
    r"^(?:(?P<y>\d+)y)?(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?"
    r"(?:(?P<s>\d+)s)?(?:(?P<ms>\d+)ms)?$"
)
_UNIT_MS = {
    "y": 365 * 86400_000,
    "w": 7 * 86400_000,
    "d": 86400_000,
    "h": 3600_000,
    "m": 60_000,
    "s": 1000,
    "ms": 1,
}
MATCH_OPS = ("=~", "!~", "!=", "=")


class Expr(str):
    """A PromQL expression; the YAML writer prints multi-line ones as literal blocks for review."""


class PromQLError(ValueError):
    """A value cannot be used safely in PromQL; the message says why."""


def check_metric_name(name: str) -> str:
    """Reject names that would need UTF-8 quoting, so output stays loadable by Prometheus 2.x."""
    if not isinstance(name, str) or not METRIC_NAME_RE.fullmatch(name):
        raise PromQLError(f"invalid metric name {name!r}: must match {METRIC_NAME_RE.pattern}")
    return name


def check_label_name(name: str) -> str:
    """Reject label names Prometheus would refuse or reserve (`__` prefix is internal)."""
    if not isinstance(name, str) or not LABEL_NAME_RE.fullmatch(name):
        raise PromQLError(f"invalid label name {name!r}: must match {LABEL_NAME_RE.pattern}")
    if name.startswith("__"):
        raise PromQLError(f"invalid label name {name!r}: names starting with '__' are reserved")
    return name


def quote(value: str) -> str:
    """Quote a label value as a PromQL string literal that means exactly `value`.

    Backslash, double quote and control characters are escaped; everything else (including `}` and
    non-ASCII text) is safe inside double quotes.
    """
    return '"' + value.translate(_ESCAPES) + '"'


_ESCAPES = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)},
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


@dataclass(frozen=True)
class Matcher:
    """One label matcher; `op` is one of =, !=, =~, !~."""

    label: str
    op: str
    value: str

    def render(self) -> str:
        """Render with the value escaped, so the value can never end the matcher early."""
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True)
class Selector:
    """A parsed instant-vector selector: a metric name and its matchers."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    def with_matchers(self, extra: Iterable[Matcher]) -> Selector:
        """Add a service's matchers; a conflicting matcher on the same label is an error, not an override."""
        mine = {m.label: m for m in self.matchers}
        merged = list(self.matchers)
        for m in extra:
            if m.label in mine:
                if mine[m.label] != m:
                    raise PromQLError(
                        f"selector {self.render()} already matches label {m.label!r}; "
                        f"it conflicts with the service selector {m.render()}"
                    )
                continue
            merged.append(m)
        return Selector(self.metric, tuple(merged))

    def render(self) -> str:
        """Render canonically: the metric name, then matchers in the order given."""
        if not self.matchers:
            return self.metric
        return self.metric + "{" + ",".join(m.render() for m in self.matchers) + "}"


def labelset(items: tuple[tuple[str, str], ...]) -> str:
    """`{k="v",...}` for label pairs, every name checked and every value escaped.

    The generated tests ask for 510,000 label sets per 1000 SLOs, so the common case is written out:
    a plain name, and a printable value without `"` or `\\`, which `quote` would leave as it is
    (every character it escapes is a control character, `"` or `\\`). It is faster than the memo this
    function had (BENCHMARKS.md, part 3); anything else goes through the checks."""
    return (
        "{"
        + ",".join(
            [
                f'{k}="{v}"'
                if type(k) is str
                and k.isascii()
                and k.isidentifier()
                and k[:2] != "__"
                and type(v) is str
                and v.isprintable()
                and '"' not in v
                and "\\" not in v
                else f"{check_label_name(k)}={quote(str(v))}"
                for k, v in items
            ]
        )
        + "}"
    )


def equality_matchers(labels: Mapping[str, str]) -> tuple[Matcher, ...]:
    """Matchers for a `{label: value}` mapping, with every name checked and every value escaped."""
    return tuple(Matcher(check_label_name(k), "=", str(v)) for k, v in labels.items())


def selector(metric: str, labels: Mapping[str, str] | None = None, extra: Iterable[Matcher] = ()) -> str:
    """Build `metric{k="v",...}` from trusted structure and untrusted values."""
    if not extra:
        check_metric_name(metric)
        return metric + labelset(tuple(labels.items())) if labels else metric
    matchers = equality_matchers(labels or {}) + tuple(extra)
    return Selector(check_metric_name(metric), matchers).render()


class SharedLabels:
    """A label set rendered once, for selectors built from it and another one: the alert tests' inputs
    are thousands of series that differ only in their metric and last label."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels
        self.text = labelset(tuple(labels.items()))[1:-1]  # `k="v",...`

    def selector(self, metric: str, extra: SharedLabels) -> str:
        """The same text as `selector(metric, {**labels, **extra.labels})`."""
        if not self.text or not extra.text or not self.labels.keys().isdisjoint(extra.labels):
            return selector(metric, {**self.labels, **extra.labels})
        return check_metric_name(metric) + "{" + self.text + "," + extra.text + "}"

    def selectors(self, metric: str, extras: Iterable[SharedLabels]) -> list[str]:
        """`selector(metric, extra)` for each of `extras`, the metric name checked once."""
        head = check_metric_name(metric) + "{" + self.text + ","
        keys = self.labels.keys()
        return [
            head + extra.text + "}"
            if self.text and extra.text and keys.isdisjoint(extra.labels)
            else self.selector(metric, extra)
            for extra in extras
        ]


def _read_string(text: str, pos: int) -> tuple[str, int]:
    """Read a PromQL string literal starting at `pos`; returns its value and the position after it."""
    q = text[pos]
    if q not in "\"'`":
        raise PromQLError(f"expected a quoted string at offset {pos} in {text!r}")
    i = pos + 1
    out: list[str] = []
    escapes = {
        "n": "\n",
        "r": "\r",
        "t": "\t",
        "\\": "\\",
        '"': '"',
        "'": "'",
        "a": "\a",
        "b": "\b",
        "f": "\f",
        "v": "\v",
    }
    while i < len(text):
        ch = text[i]
        if ch == q:
            return "".join(out), i + 1
        if ch == "\\" and q != "`":
            if i + 1 >= len(text):
                break
            nxt = text[i + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
                continue
            if nxt == "x" and re.match(r"[0-9a-fA-F]{2}", text[i + 2 : i + 4]):
                out.append(chr(int(text[i + 2 : i + 4], 16)))
                i += 4
                continue
            if nxt == "u" and re.match(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            raise PromQLError(f"unknown escape \\{nxt} in {text!r}")
        if ch == "\n" and q != "`":
            break
        out.append(ch)
        i += 1
    raise PromQLError(f"unterminated string in {text!r}")


def _re2_options() -> re2.Options:
    opts = re2.Options()
    opts.log_errors = False  # the library would print every refused pattern to stderr
    return opts


def compile_regex(pattern: str) -> re2._Regexp:
    """`pattern` compiled by RE2, the engine (and syntax) of Go's regexp that Prometheus matches with:
    linear-time matching, no lookaround or backreferences, bounded program size. Raises re2.error.
    `.fullmatch` is Prometheus' anchored match (`^(?:pattern)$`); `.` does not match a newline, as
    in Prometheus 2 (Prometheus 3 lets it: values slodrift synthesises never contain one)."""
    return re2.compile(pattern, _re2_options())


def _go_only_problem(pattern: str) -> str | None:
    """What RE2 accepts but Go's regexp (promtool, Prometheus) refuses; the rest of the syntax is shared."""
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt == "C":
                return "\\C (any single byte) is not supported by Prometheus (Go's regexp)"
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                i = len(pattern) if end < 0 else end + 2
                continue
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                i = len(pattern) if end < 0 else end + 2
                continue
            in_class = c != "]"
            i += 1
            continue
        if c == "[":
            in_class = True
            i += 1
            if pattern.startswith("^", i):
                i += 1
            if pattern.startswith("]", i):
                i += 1
            continue
        if pattern.startswith("(?<", i):
            return "named groups (?<name>...) are not supported by Prometheus 2 (Go's regexp); write (?P<name>...)"
        i += 1
    return None


def check_regex(value: str, label: str) -> str:
    """Refuse a regular expression Prometheus would refuse: it is checked as RE2 syntax (with Go's few
    differences), not Python's, so `(?=5)5..` or `(5)\\1` fail here instead of in promtool."""
    problem = _go_only_problem(value)
    if problem is None:
        try:
            compile_regex(value)
        except re2.error as exc:
            reason = (
                exc.args[0].decode("utf-8", "replace")
                if exc.args and isinstance(exc.args[0], bytes)
                else str(exc)
            )
            problem = f"{reason} (Prometheus uses RE2 syntax: no lookaround, backreferences or possessive repeats, and repeats of at most 1000)"
    if problem is not None:
        raise PromQLError(f"invalid regular expression {value!r} for {label!r}: {problem}")
    return value


def parse_selector(text: str) -> Selector:
    """Parse `metric{label="value",...}` as written in a spec.

    Only a plain selector is accepted (no functions, ranges or operators): slodrift adds the rate
    window and the service's matchers itself, so a selector that smuggled in an expression would be a
    query whose meaning the spec's author cannot see.
    """
    if not isinstance(text, str):
        raise PromQLError(f"selector must be a string, got {type(text).__name__}")
    s = text.strip()
    m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s)
    if not m:
        raise PromQLError(f"invalid selector {text!r}: must start with a metric name")
    metric = m.group(0)
    pos = m.end()
    matchers: list[Matcher] = []
    while pos < len(s) and s[pos].isspace():
        pos += 1
    if pos < len(s):
        if s[pos] != "{":
            raise PromQLError(f"invalid selector {text!r}: unexpected {s[pos:]!r} after the metric name")
        pos += 1
        while True:
            while pos < len(s) and s[pos] in " \t,":
                pos += 1
            if pos < len(s) and s[pos] == "}":
                pos += 1
                break
            lm = re.match(r"[a-zA-Z_][a-zA-Z0-9_]*", s[pos:])
            if not lm:
                raise PromQLError(f"invalid selector {text!r}: expected a label name at offset {pos}")
            label = check_label_name(lm.group(0))
            pos += lm.end()
            while pos < len(s) and s[pos].isspace():
                pos += 1
            op = next((o for o in MATCH_OPS if s.startswith(o, pos)), None)
            if op is None:
                raise PromQLError(f"invalid selector {text!r}: expected one of = != =~ !~ after {label!r}")
            pos += len(op)
            while pos < len(s) and s[pos].isspace():
                pos += 1
            if pos >= len(s):
                raise PromQLError(f"invalid selector {text!r}: missing value for {label!r}")
            value, pos = _read_string(s, pos)
            if op in ("=~", "!~"):
                check_regex(value, label)
            matchers.append(Matcher(label, op, value))
        if pos != len(s):
            raise PromQLError(f"invalid selector {text!r}: unexpected {s[pos:]!r} after the matchers")
    if metric in ("sum", "rate", "by", "without", "on", "ignoring", "and", "or", "unless") and not matchers:
        raise PromQLError(f"invalid selector {text!r}: {metric!r} is a PromQL keyword, not a metric")
    return Selector(metric, tuple(matchers))


def check_query(text: str, placeholder: str | None = None) -> str:
    """Check a user-written PromQL expression: the `{{window}}` placeholder where one is needed, quick
    checks with plain messages (unbalanced brackets or quotes, a comment), then a real PromQL parser
    (`promql-parser`), so a query that Prometheus would refuse is an error of `slodrift check` naming
    the spec's line, not a promtool failure after `generate`. promtool stays the final check in tests.
    """
    if not isinstance(text, str) or not text.strip():
        raise PromQLError("query must be a non-empty string")
    if placeholder and placeholder not in text:
        raise PromQLError(f"query {text!r} must contain the placeholder {placeholder} for the rate window")
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    i = 0
    probe = text.replace(placeholder, "5m") if placeholder else text
    while i < len(probe):
        ch = probe[i]
        if ch in "\"'`":
            _, i = _read_string(probe, i)
            continue
        if ch == "#":
            raise PromQLError(f"query {text!r} contains a comment; write it without '#'")
        if ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack or stack.pop() != pairs[ch]:
                raise PromQLError(f"query {text!r} has an unbalanced {ch!r}")
        i += 1
    if stack:
        raise PromQLError(f"query {text!r} has an unclosed {stack[-1]!r}")
    problem = parse_problem(probe.replace("{{window}}", "5m"))
    if problem:
        raise PromQLError(f"query {text!r} is not valid PromQL: {problem}")
    return text.strip()


def parse_problem(query: str) -> str | None:
    """What a PromQL parser finds wrong with `query`, or None."""
    import promql_parser  # a native extension: loaded only when a spec has a query to check

    try:
        promql_parser.parse(query)
    except ValueError as exc:
        return str(exc) or "unparseable"
    return None


def parse_duration(text: str) -> int:
    """Parse a Prometheus duration (`90s`, `1h30m`, `30d`) into whole seconds; must be positive."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise PromQLError(f"duration must be a string like '5m', got {text!r}")
    m = DURATION_RE.fullmatch(text)
    if not text or not m:
        raise PromQLError(f"invalid duration {text!r}: use units ms, s, m, h, d, w, y (e.g. '5m', '1h30m')")
    ms = sum(int(v) * _UNIT_MS[k] for k, v in m.groupdict().items() if v)
    if ms <= 0:
        raise PromQLError(f"invalid duration {text!r}: must be greater than zero")
    if ms % 1000:
        raise PromQLError(f"invalid duration {text!r}: must be a whole number of seconds")
    return ms // 1000


def format_duration(seconds: int) -> str:
    """Render seconds as the shortest Prometheus duration, so names like `rate30d` stay stable."""
    if seconds <= 0:
        raise PromQLError("duration must be positive")
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if unit == "w" and seconds % 604800:
            continue  # 10d reads better than 1w3d
        if seconds >= size:
            n, seconds = divmod(seconds, size)
            out.append(f"{n}{unit}")
            if not seconds:
                break
    return "".join(out)


def number(value: Decimal | float | int) -> str:
    """Render a number as a PromQL literal without float noise (0.001, not 0.0010000000000000009)."""
    d = (
        value
        if isinstance(value, Decimal)
        else Decimal(repr(value))
        if isinstance(value, float)
        else Decimal(value)
    )
    if not d.is_finite():
        raise PromQLError(f"number {value!r} is not finite")
    text = format(d.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def le_matcher(threshold: Decimal) -> Matcher:
    """A matcher for the histogram bucket at `threshold` that works on Prometheus 2 and 3.

    Prometheus 3 normalises `le` on ingestion (`1` becomes `1.0`); 2.x keeps what the client wrote.
    Integral thresholds therefore match both spellings; fractional ones are spelled the same in both.
    """
    text = number(threshold)
    if "." in text or "e" in text.lower():
        return Matcher("le", "=", text)
    return Matcher("le", "=~", f"{re.escape(text)}(\\.0)?")


def template_literal(value: str) -> str:
    """Make a string safe inside an alert's labels or annotations, which Prometheus expands as Go templates.

    Literal `{{` would start a template action; it is emitted through an action that prints `{{`.
    """
    return value.replace("{{", '{{ "{{" }}')
