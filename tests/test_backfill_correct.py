"""`slodrift backfill --correct` without a Prometheus: which rules it corrects, what it compares them
with, and its bad input. (On a live Prometheus: tests/test_backfill_live.py, `make test-full`.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from slodrift.report.backfill import BackfillInputError
from slodrift.report.backfill_correct import PARTIAL, _block_rules, correct
from slodrift.report.rulefiles import Group, Rule
from slodrift.report.spec_rules import spec_rules

from tests.helpers import EXAMPLE, run_cli
from tests.servers import free_port


def test_every_block_rule_of_the_example_is_corrected_from_the_slices():
    groups = spec_rules(EXAMPLE).groups
    rules = _block_rules(groups)
    names = sorted({br.rule.name for br in rules})
    assert names == sorted(
        [PARTIAL] + [f"slodrift:sli_events:block{n}" for n in ("2m", "4m", "8m", "16m", "32m", "1h4m")]
    )
    for br in rules:
        assert br.slices.startswith("slodrift:sli_events:increase1m{service=")
        assert br.by[:2] == ("service", "slo") and br.by[-1] == "event"
        if br.rule.name != PARTIAL:
            # a block reads the slices only: its own expression gives the right value once they are in
            assert br.expected_expr(65) == br.rule.expr and "increase1m" in br.rule.expr
            assert "block" not in br.rule.expr.replace(br.rule.name, "")


def test_the_open_block_is_the_slices_since_the_last_64_slice_boundary():
    """At evaluation n the open block holds slices m - (m mod 64) + 1 .. m, m = n - 2 (by hand: at n = 67,
    m = 65, slice 65 alone; at n = 130, m = 128, none; at n = 129, m = 127, the 63 slices 65..127)."""
    (br,) = [b for b in _block_rules(spec_rules(EXAMPLE).groups) if b.rule.name == PARTIAL][:1]
    one = br.expected_expr(67)
    assert one is not None and "[30000ms] offset 120000ms" in one  # 1 slice: (n-3, n-2] minutes ago
    assert br.expected_expr(130) is None  # m = 128: a boundary, the open block is empty (0)
    many = br.expected_expr(129)
    assert many is not None and f"[{63 * 60000 - 30000}ms] offset 120000ms" in many


def test_a_rule_that_is_not_slodrift_s_block_rule_is_refused():
    odd = Group("g", 60000, (Rule("record", "slodrift:sli_events:block2m", "sum(x)"),), "rules/x.yml")
    with pytest.raises(BackfillInputError, match="not a block rule as slodrift generates it"):
        _block_rules([odd])


@pytest.mark.slow  # the CLI in subprocesses
def test_bad_ranges_and_an_unreachable_prometheus(tmp_path: Path):
    out = tmp_path / "out"
    with pytest.raises(BackfillInputError, match="is not after"):
        correct(spec_rules(EXAMPLE).groups, "http://127.0.0.1:9", 2_000_000, 1_000_000, out)
    assert not out.exists()
    r = run_cli(
        "backfill", str(EXAMPLE), "--prometheus-url", f"http://127.0.0.1:{free_port()}", "--correct",
        "--from", "2025-11-01T00:00:00Z", "--to", "2025-11-02T00:00:00Z", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 1 and "nothing written" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    r = run_cli(
        "backfill", str(EXAMPLE), "--prometheus-url", "http://127.0.0.1:9", "--correct",
        "--from", "2025-11-01T00:00:00Z", "--to", "2025-11-02T00:00:00Z", "--out", str(tmp_path / "full"),
    )  # fmt: skip
    assert r.returncode == 2 and "not an empty directory" in r.stderr, r.stderr


@pytest.mark.slow  # the CLI in subprocesses
def test_a_symlink_out_and_a_future_to_are_refused_before_any_query(tmp_path: Path):
    """Found by a review: a symlink --out did all the work, then failed with a raw OS error (exit 1); a
    --to in the future wrote samples ahead of the rules that every window then read."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    closed = f"http://127.0.0.1:{free_port()}"  # refused before any query: no Prometheus is needed
    for extra, out, why in (
        ([], tmp_path / "link", "is a symlink"),
        (["--correct"], tmp_path / "link", "is a symlink"),
        ([], tmp_path / "new", "is in the future"),
        (["--correct"], tmp_path / "new", "is in the future"),
    ):
        to = "2999-01-01T00:00:00Z" if "future" in why else "2025-11-02T00:00:00Z"
        r = run_cli(
            "backfill", str(EXAMPLE), "--prometheus-url", closed, *extra,
            "--from", "2025-11-01T00:00:00Z", "--to", to, "--out", str(out),
        )  # fmt: skip
        assert r.returncode == 2 and why in r.stderr and "Traceback" not in r.stderr, (extra, r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"] and not any(
        (tmp_path / "real").iterdir()
    )
