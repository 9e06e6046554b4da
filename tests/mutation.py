"""Mutation testing of generated rules: each mutation in its own copy of the output, promtool on all
of them as many at once as there are CPUs (each run is one single-threaded promtool process)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slodrift.generator.writer import write_tree


def caught(
    promtool: str,
    files: Mapping[str, str],
    rule_file: str,
    test_file: str,
    cases: Sequence[object],
    tmp_path: Path,
) -> dict[str, bool | None]:
    """For each `pytest.param(pattern, replacement, id=...)`: True when the generated tests fail on the
    rules with that one substitution, False when they still pass, None when the pattern is not there."""
    text = files[rule_file]

    def one(case: object) -> tuple[str, bool | None]:
        pattern, replacement = case.values  # type: ignore[attr-defined]
        mutated, n = re.subn(pattern, replacement, text, count=1)
        if n != 1:
            return case.id, None  # type: ignore[attr-defined]
        out = tmp_path / re.sub(r"[^a-zA-Z0-9]+", "_", case.id)  # type: ignore[attr-defined]
        write_tree(out, {**files, rule_file: mutated})
        r = subprocess.run(
            [promtool, "test", "rules", test_file],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return case.id, r.returncode != 0  # type: ignore[attr-defined]

    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
        return dict(pool.map(one, cases))


def assert_all_caught(results: dict[str, bool | None], expected: int) -> None:
    assert len(results) == expected, "two mutations share an id"
    assert not [k for k, v in results.items() if v is None], "patterns not found in the rules"
    assert not [k for k, v in results.items() if not v], (
        "the generated tests did not notice these wrong rules"
    )
