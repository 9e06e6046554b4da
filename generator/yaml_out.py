"""YAML output that reviewers can read: stable key order, block-style PromQL, every string escaped."""

from __future__ import annotations

from typing import Any

import yaml

from generator.slo_rules import Expr

# libyaml's emitter when PyYAML was built with it (the PyPI wheels are): the same text, several times faster.
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):  # type: ignore[valid-type,misc]
    """SafeDumper that never emits aliases and prints multi-line expressions as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data))


def _expr(dumper: yaml.SafeDumper, data: Expr) -> yaml.ScalarNode:
    text = str(data)
    style = "|" if "\n" in text and not any(line != line.rstrip() for line in text.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(Expr, _expr)
_Dumper.add_representer(str, _str)


def dump(data: Any, header: str = "") -> str:
    """Serialise rule or test data; `header` becomes a comment block at the top."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    head = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return head + body
