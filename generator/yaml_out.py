"""YAML output that reviewers can read: stable key order, block-style PromQL, every string escaped.

A small emitter of its own rather than PyYAML's: the output is plain data (mappings, sequences,
strings, numbers, booleans, null) in block style, and a spec of a thousand SLOs renders to tens of
megabytes, which PyYAML's representer takes seconds to walk. Every scalar is written in one of three
ways, chosen so the text always loads back as exactly the value written:

- plain, when YAML 1.1 and 1.2 (PyYAML, Go's yaml as Prometheus uses it) would read the text back as
  that same string: no indicator first, no `: ` or ` #` inside, no leading or trailing space, and
  nothing a resolver would take for a number, boolean, null or date;
- a literal block (`|-`) for multi-line PromQL whose lines are printable and free of trailing space;
- otherwise quoted: single quotes when nothing needs escaping, else double quotes with every character
  outside YAML's printable set escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from slodrift.generator.promql import Expr

# First characters that make a plain scalar mean something else (indicators and reserved ones).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@` \t")
# Characters YAML does not allow unescaped: outside c-printable (tab, \x20-\x7e, \x85, \xa0-\ud7ff,
# \ue000-\ufffd, \U00010000 and up), or a byte order mark, printable but not allowed inside a
# document. The classes here list what is excluded: the same sets as the negated c-printable classes,
# but a small class compiles in a tenth of the time, and every `slodrift` command pays that at start.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_NEWLINES = re.compile("[\n\r\x85\u2028\u2029]")
# What a double-quoted scalar must escape beyond JSON's escapes: the unprintable and the line breaks.
_RAW_NOT_ALLOWED = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# YAML 1.1 booleans PyYAML's resolver does not know but Go's yaml.v2 does.
_SHORT_BOOLS = frozenset({"y", "Y", "n", "N"})
# YAML 1.2 core-schema numbers PyYAML (1.1) reads as strings: quoted too, so no reader takes them for numbers.
_NUMBER_12 = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _quoted(text: str) -> str:
    """Single-quoted when that needs no escape (only `'` is doubled there), as PyYAML would write it;
    otherwise double-quoted: JSON's escapes are YAML's too, and what JSON leaves raw but YAML does not
    allow (DEL, C1 controls, U+2028/9, non-characters) is escaped as well."""
    if (text.isascii() and text.isprintable()) or (
        "\t" not in text and not _NEWLINES.search(text) and not _UNPRINTABLE.search(text)
    ):
        return "'" + text.replace("'", "''") + "'"
    return _RAW_NOT_ALLOWED.sub(_escape, json.dumps(text, ensure_ascii=False))


# Printable ASCII after a letter or `_`, not ending in space or `:`, is plain unless it holds `: ` or
# ` #` or is a short word a resolver may take for a boolean or null (`yes`, `Off`, `NULL`, `y`...).
# Nearly every generated string is one of these, so they skip the full checks.


def scalar(text: str) -> str:
    """One string as a single-line scalar that loads back as exactly `text`."""
    if (
        text.isascii()
        and text.isprintable()
        and text
        and (text[0].isalpha() or text[0] == "_")
        and text[-1] not in " :"
        and ": " not in text
        and " #" not in text
        and not (len(text) <= 5 and text.isalpha())
    ):
        return text
    return _checked_scalar(text)


def _checked_scalar(text: str) -> str:
    # `...` first would end the document when the scalar starts a line (a top-level key), as PyYAML knows.
    if (
        not text
        or text[0] in _INDICATORS
        or text.startswith("...")
        or text[-1] in " \t:"
        or ": " in text
        or " #" in text
        or "\t" in text
        or _NEWLINES.search(text)
        or _UNPRINTABLE.search(text)
        or text in _SHORT_BOOLS
        or _NUMBER_12.fullmatch(text)
        # types-PyYAML leaves Resolver.resolve unannotated.
        or _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) != _STR_TAG  # type: ignore[no-untyped-call]
    ):
        return _quoted(text)
    return text


# A literal block's lines must be printable and end in no whitespace (`\n` separates them).
_LITERAL_BAD = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]|[^\\S\n](?=\n|\\Z)"
)


_ASCII_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _literal_ok(text: str) -> bool:
    if not ("\n" in text and text[0] not in " \t\n" and text[-1] != "\n"):
        return False
    if text.isascii():  # PromQL nearly always: the same test with str methods (a few times faster)
        printable = (
            text.replace("\n", " ").isprintable() if "\t" not in text else _ASCII_CONTROL.search(text) is None
        )
        return printable and " \n" not in text and "\t\n" not in text and text[-1] not in " \t"
    return _LITERAL_BAD.search(text) is None


class Emitter:
    """Writes YAML, and remembers the scalar text of every string it has written.

    A document repeats its strings (label values, selectors, names): at 1000 SLOs, the 403 files (127 MB)
    took 12.1 s of CPU to write without a memo, 5.0 s with one emitter per file, 4.8 s with one for all of
    them (BENCHMARKS.md, part 3). `dump` uses one per document, so the memo never outlives the document
    (one for all files would hold 360,000 strings until the end).
    """

    def __init__(self) -> None:
        self._scalars: dict[str, str] = {}

    def scalar(self, text: str) -> str:
        out = self._scalars.get(text)
        if out is None:
            out = self._scalars[text] = scalar(text)
        return out

    def _value(self, v: Any) -> str:
        """A non-container value as a single-line scalar (strings via `scalar`)."""
        if isinstance(v, str):
            return self.scalar(v)
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            if v != v:
                return ".nan"
            if v in (float("inf"), float("-inf")):
                return ".inf" if v > 0 else "-.inf"
            text = repr(v).lower()
            # YAML 1.1 reads `1e-05` as a string: give the mantissa a dot, as PyYAML does.
            return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
        raise TypeError(f"cannot write {type(v).__name__} as YAML")

    def _emit(self, node: Any, indent: int, out: list[str], first: str | None = None) -> None:
        """Append the lines of a mapping or sequence at `indent`; `first` prefixes its first line ("- ").

        The renderers' plain types are dispatched inline (this loop writes every line of tens of
        megabytes at scale); anything else goes through `_member`.
        """
        pad = " " * indent
        head = first if first is not None else pad
        # the memo read inline (every scalar written is non-empty, so `or` falls through on a miss only)
        append, scalar, known = out.append, self.scalar, self._scalars.get
        if isinstance(node, dict):
            for k, v in node.items():
                head += (known(k) or scalar(str(k))) + ":"
                t = type(v)
                if t is str:
                    append(head + " " + (known(v) or scalar(v)))
                elif t is dict and v:
                    append(head)
                    self._emit(v, indent + 2, out)
                elif t is list and v:
                    append(head)
                    # sequences under a key are not indented, as PyYAML writes them
                    self._emit(v, indent, out)
                else:
                    self._member(v, head, indent, out, seq_indent=indent)
                head = pad
        else:
            for v in node:
                t = type(v)
                if t is dict and v and all(type(x) is str for x in v.values()):
                    # a mapping of strings (an input series, a sample's labels) written here, not by a call
                    h = head + "- "
                    for k, x in v.items():
                        append(h + (known(k) or scalar(str(k))) + ": " + (known(x) or scalar(x)))
                        h = pad + "  "
                elif (t is dict or t is list) and v:
                    self._emit(v, indent + 2, out, first=head + "- ")
                elif t is str:
                    append(head + "- " + (known(v) or scalar(v)))
                elif isinstance(v, (dict, list)) and v:
                    self._emit(v, indent + 2, out, first=head + "- ")
                else:
                    self._member(v, head + "-", indent, out, seq_indent=indent + 2)
                head = pad

    def _member(self, v: Any, head: str, indent: int, out: list[str], seq_indent: int) -> None:
        """A value after `key:` or `-`: nested block, literal block, or scalar on the same line."""
        if isinstance(v, dict):
            if v:
                out.append(head)
                self._emit(v, indent + 2, out)
            else:
                out.append(head + " {}")
        elif isinstance(v, list):
            if v:
                out.append(head)
                self._emit(v, seq_indent, out)  # sequences under a key are not indented, as PyYAML does
            else:
                out.append(head + " []")
        elif isinstance(v, Expr) and _literal_ok(v):
            out.append(head + " |-")
            body = " " * (indent + 2)
            out.extend([body + line if line else "" for line in v.split("\n")])
        else:
            out.append(head + " " + self._value(v))

    def dump(self, data: dict[str, Any] | list[Any], header: str = "") -> str:
        """Serialise rule or test data; `header` becomes a comment block at the top."""
        lines = [_UNPRINTABLE.sub("\ufffd", line) for line in header.splitlines()]  # a comment cannot escape
        head = "".join(f"# {line}\n" if line else "#\n" for line in lines)
        if not data:
            return head + ("{}" if isinstance(data, dict) else "[]") + "\n"
        out: list[str] = []
        self._emit(data, 0, out)
        return head + "\n".join(out) + "\n"


def dump(data: dict[str, Any] | list[Any], header: str = "") -> str:
    """Serialise one document with an emitter of its own; `header` becomes a comment block at the top."""
    return Emitter().dump(data, header)
