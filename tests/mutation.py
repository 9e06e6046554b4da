"""Mutation testing of generated rules: each mutation in its own copy of the output, promtool on all
of them as many at once as there are CPUs (each run is one single-threaded promtool process)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from slodrift.generator.writer import write_tree


@dataclass(frozen=True)
class Mutation:
    """One wrong rule file, and the generated test files that must notice it."""

    id: str
    text: str | None  # the mutated rule file; None when the pattern was not found
    tests: tuple[str, ...]
    rule_file: str | None = None  # the file `text` replaces, when not the one `caught` is given


def substitute(text: str, pattern: str, replacement: str, occurrence: int = 0) -> str | None:
    """`text` with the `occurrence`-th match of `pattern` replaced, or None without one."""
    matches = list(re.finditer(pattern, text))
    if len(matches) <= occurrence:
        return None
    m = matches[occurrence]
    return text[: m.start()] + m.expand(replacement) + text[m.end() :]


def caught(
    promtool: str,
    files: Mapping[str, str],
    rule_file: str,
    mutations: Sequence[Mutation],
    tmp_path: Path,
    fail_fast: bool = False,
) -> dict[str, bool | None]:
    """For each mutation: True when its test files fail on the mutated rules (`rule_file`, or the
    mutation's own), False when they still pass, None when the mutation's pattern was not in the rules. With `fail_fast`, the test files run
    one at a time, in order, until one fails (a mutation is caught by its first failing file)."""

    def one(k_m: tuple[int, Mutation]) -> tuple[str, bool | None]:
        k, m = k_m
        if m.text is None:
            return m.id, None
        out = tmp_path / f"{k:04d}"
        write_tree(out, {**files, (m.rule_file or rule_file): m.text})
        for tests in [(t,) for t in m.tests] if fail_fast else [m.tests]:
            r = subprocess.run(
                [promtool, "test", "rules", *tests],
                cwd=out,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if r.returncode != 0:
                return m.id, True
        return m.id, False

    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
        return dict(pool.map(one, enumerate(mutations)))


def assert_all_caught(results: dict[str, bool | None], expected: int) -> None:
    assert len(results) == expected, "two mutations share an id"
    assert not [k for k, v in results.items() if v is None], "patterns not found in the rules"
    missed = [k for k, v in results.items() if not v]
    assert not missed, f"the generated tests did not notice these wrong rules: {missed}"


def from_params(text: str, params: Sequence[object], tests: tuple[str, ...]) -> list[Mutation]:
    """`pytest.param(pattern, replacement, id=...)` cases as mutations of `text` (first match each)."""
    out = []
    for p in params:
        pattern, replacement = p.values  # type: ignore[attr-defined]
        out.append(Mutation(p.id, substitute(text, pattern, replacement), tests))  # type: ignore[attr-defined]
    return out
