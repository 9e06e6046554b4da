"""`slodrift test --changed` records only what was tested: a rule file that changes while promtool runs
is not recorded as passed, every file a `rule_files` glob matches is part of the fingerprint, and a
promtool that prints no version makes every file run (found by a fresh review of issue 22)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from slodrift.generator import cli, promtool, test_state


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "promtool-tests").mkdir()
    rule = tmp_path / "rules" / "a.slo.yml"
    rule.write_text("groups: [{name: g, rules: [{record: x, expr: vector(1)}]}]\n")
    test = tmp_path / "promtool-tests" / "a.test.yml"
    test.write_text("rule_files: [../rules/a.slo.yml]\ntests: []\n")
    return rule, test, tmp_path


def test_a_rule_file_changed_while_promtool_ran_is_not_recorded(tmp_path: Path, monkeypatch):
    rule, test, base = _tree(tmp_path)
    ok = promtool.PromtoolResult(True, ["promtool"], "")
    monkeypatch.setattr(promtool, "check_rules", lambda files: ok)
    monkeypatch.setattr(promtool, "version", lambda: "promtool, version 2.42.0")

    def tested_while_edited(
        files: list[Path], jobs: int | None = None
    ) -> dict[Path, promtool.PromtoolResult]:
        rule.write_text(rule.read_text().replace("vector(1)", "vector(2)"))  # a generate in the meantime
        return dict.fromkeys(files, ok)

    monkeypatch.setattr(promtool, "test_each", tested_while_edited)
    assert cli.cmd_test(argparse.Namespace(dir=str(base), changed=True)) == 0
    assert test_state.load(base) == {}  # not remembered: the rules it passed on are gone

    monkeypatch.setattr(promtool, "test_each", lambda files, jobs=None: dict.fromkeys(files, ok))
    assert cli.cmd_test(argparse.Namespace(dir=str(base), changed=True)) == 0
    assert test_state.load(base) == {
        "promtool-tests/a.test.yml": test_state.fingerprint(test, "promtool, version 2.42.0")
    }


def test_every_file_a_rule_files_glob_matches_is_fingerprinted(tmp_path: Path):
    rule, test, _ = _tree(tmp_path)
    other = rule.with_name("a.slo-alerts.yml")
    other.write_text("groups: []\n")
    test.write_text("rule_files: ['../rules/a.slo*.yml']\ntests: []\n")
    before = test_state.fingerprint(test, "v")
    other.write_text("groups: [{name: h, rules: []}]\n")
    changed = test_state.fingerprint(test, "v")
    other.unlink()
    gone = test_state.fingerprint(test, "v")
    assert len({before, changed, gone}) == 3


@pytest.mark.parametrize("output, ok", [("", True), ("promtool: cannot run\n", False)])
def test_a_promtool_without_a_version_line_counts_as_never_tested(monkeypatch, output: str, ok: bool):
    monkeypatch.setattr(promtool.shutil, "which", lambda name: "/usr/bin/promtool")
    monkeypatch.setattr(
        promtool, "run", lambda args: promtool.PromtoolResult(ok, ["promtool", *args], output)
    )
    first, second = promtool.version(), promtool.version()
    assert first.startswith("unknown promtool version") and first != second
