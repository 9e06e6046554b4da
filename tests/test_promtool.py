"""The real promtool accepts every generated rule file and passes every generated test."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from slodrift.generator import promtool as promtool_lib
from slodrift.generator.model import Spec
from slodrift.generator.render import render
from slodrift.generator.rules.slo import ABSENT_ALERT, BURN_ALERT, NO_DATA_ALERT
from slodrift.generator.rules.slo_names import span
from slodrift.generator.spec import load_spec, load_spec_text
from slodrift.generator.testgen.slo_alerts import error_guard_binds
from slodrift.generator.writer import write_tree

from tests.helpers import EXAMPLE, FULL, ROOT, spread
from tests.mutation import Mutation, assert_all_caught, caught, substitute

pytestmark = pytest.mark.slow

HOSTILE = [
    'quo"te',
    "back\\slash",
    "brace}",
    "new\nline",
    "{{ $value }}",
    "ünï ✓",
    "'single'",
    'a=~"b"} or vector(1)',
]


def promtool_run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def generate(spec_files, out: Path) -> dict[str, str]:
    files = render(spec_files)
    write_tree(out, files)
    return files


def assert_promtool_passes(promtool: str, out: Path) -> None:
    rules = sorted(str(p) for p in (out / "rules").glob("*.yml"))
    tests = sorted(str(p) for p in (out / "promtool-tests").glob("*.yml"))
    checked = promtool_run(promtool, "check", "rules", *rules, cwd=out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool_lib.test_rules([Path(t) for t in tests])  # one promtool per file, in parallel
    assert tested.ok, tested.output


def test_checked_in_golden_files_pass_promtool(promtool):
    assert_promtool_passes(promtool, ROOT)


# 1s: the 30d window's test feeds 2.6 million one-second slices, which promtool expands into about 4 GB
# and 30-45 s of CPU; `make test-full` runs it, `make test` the sub-minute 15s (and the 1s window test's
# structure: tests/test_window_series_alive.py).
@pytest.mark.parametrize("interval", ["15s", "5m", *(["1s"] if FULL else [])])
def test_other_evaluation_intervals_pass_promtool(promtool, tmp_path, interval):
    """Slices of another interval: ranges, guard divisor and expected values all follow it (on the
    example with checkout's availability SLO only: the latency SLO's rules are built the same way)."""
    text = mutation_spec_text().replace("evaluation_interval: 1m", f"evaluation_interval: {interval}")
    assert f"evaluation_interval: {interval}" in text
    files = generate([load_spec_text("example.yml", text.encode())], tmp_path)
    rules = files["rules/checkout.slo.yml"]
    assert f"slodrift:sli_events:increase{interval}" in rules
    checked = promtool_run(
        promtool, "check", "rules", *sorted(str(p) for p in (tmp_path / "rules").glob("*.yml")), cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # one service's SLO tests: the other files do not depend on the interval's slices
    tests = sorted(
        str(p.relative_to(tmp_path)) for p in (tmp_path / "promtool-tests").glob("checkout.slo*.yml")
    )
    tested = promtool_run(promtool, "test", "rules", *tests, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_firing_and_a_quiet_test():
    """Every burn pair, absent and no-data alert of the example is shown firing and shown quiet by
    some generated test."""
    files = render([load_spec(EXAMPLE)])
    for service in ("checkout", "catalog"):
        alerts = {
            (r["alert"], r["labels"]["slo"], r["labels"].get("long_window"))
            for rel, text in files.items()
            if rel.startswith(f"rules/{service}.slo")
            for g in yaml.safe_load(text)["groups"]
            for r in g["rules"]
            if "alert" in r
        }
        fired, checked = set(), set()
        for rel, text in files.items():
            if not rel.startswith(f"promtool-tests/{service}.slo"):
                continue
            for group in yaml.safe_load(text)["tests"]:
                for at in group.get("alert_rule_test", []):
                    seen = {
                        (at["alertname"], a["exp_labels"]["slo"], a["exp_labels"].get("long_window"))
                        for a in at["exp_alerts"]
                    }
                    # a carried comparison case (`slodrift_case`) is another instance of the alert:
                    # the raw-counter one is shown quiet where only cases fire
                    raw = {
                        (at["alertname"], a["exp_labels"]["slo"], a["exp_labels"].get("long_window"))
                        for a in at["exp_alerts"]
                        if "slodrift_case" not in a["exp_labels"]
                    }
                    fired |= seen
                    checked |= {a for a in alerts if a[0] == at["alertname"]} - raw
        assert alerts - fired == set(), f"{service}: alerts never shown firing: {alerts - fired}"
        assert alerts - checked == set(), f"{service}: alerts never shown quiet: {alerts - checked}"
        assert {a[0] for a in alerts} == {BURN_ALERT, NO_DATA_ALERT, ABSENT_ALERT}


def test_hostile_label_values_arrive_intact(promtool, tmp_path):
    labels = {f"l{i}": v for i, v in enumerate(HOSTILE)}
    spec_text = yaml.safe_dump(
        {
            "version": 1,
            "services": [
                {
                    "name": "svc",
                    "labels": labels,
                    "selector": {"job": 'we"ird}\\'},
                    "slos": [
                        {
                            "name": "avail",
                            "objective": 99.5,
                            "sli": {
                                "errors": 'http_requests_total{code=~"5..",path!="/x\\"}"}',
                                "total": "http_requests_total",
                            },
                            "alerting": {"labels": {"owner": '{{ $labels.slo }}"}'}},
                        },
                        {
                            "name": "lat",
                            "objective": 99,
                            "sli": {"latency": {"histogram": "h_seconds", "threshold": 2}},
                        },
                    ],
                }
            ],
        },
        allow_unicode=True,
    )
    files = generate([load_spec_text("hostile.yml", spec_text.encode())], tmp_path)
    assert_promtool_passes(promtool, tmp_path)
    rules = yaml.safe_load(files["rules/svc.slo.yml"])
    recorded = [r for g in rules["groups"] for r in g["rules"] if "record" in r]
    assert all(r["labels"][k] == v for r in recorded for k, v in labels.items())
    # the generated tests assert alerts carry the exact raw value, so promtool passing proves it arrives intact
    tests = yaml.safe_load(files["promtool-tests/svc.slo.test.yml"])["tests"]
    alert = next(
        a
        for g in tests
        for t in g.get("alert_rule_test", [])
        for a in t["exp_alerts"]
        if a["exp_labels"].get("tier") == "page"
    )
    assert (
        alert["exp_labels"]["owner"] == '{{ $labels.slo }}"}' and alert["exp_labels"]["l1"] == "back\\slash"
    )


CHECKOUT = "rules/checkout.slo.yml"
CHECKOUT_ALERTS = "rules/checkout.slo-alerts.yml"
CHECKOUT_DATA = "rules/checkout.slo-data.yml"
RAW = "promtool-tests/checkout.slo.test.yml"
DATA = "promtool-tests/checkout.slo-data.test.yml"
ALERTS = "promtool-tests/checkout.slo-alerts.test.yml"
WINDOWS = "promtool-tests/checkout.slo-windows.test.yml"
DURATION = r"(?:\[(?P<range>[0-9a-z]+)\]|offset (?P<offset>[0-9a-z]+))"


def _window_rule_spans(text: str) -> list[tuple[str, int, int]]:
    """(record name, start, end) of every recording rule that builds windows: blocks, open block, sums."""
    spans = []
    for m in re.finditer(r"- record: (slodrift:sli_events:(?:block\w*|sum\w*))\n", text):
        end = text.find("\n  - ", m.end())
        spans.append((m.group(1), m.start(), end if end > 0 else len(text)))
    return spans


def every_window_range_mutated(text: str, interval: int = 60) -> list[Mutation]:
    """Every range and offset of every rule that builds a window, one interval shorter and longer:
    each must fail a generated test (the window test for block-built sums, the raw test otherwise)."""
    out = []
    for name, start, end in _window_rule_spans(text):
        body = text[start:end]
        sums_from_blocks = name.startswith("slodrift:sli_events:sum") and "block" in body
        blocks = name.startswith("slodrift:sli_events:block")
        # block-built sums: the window test; blocks and the open block: the raw test (the sizes the open
        # block holds) and the window test (each block size, and every range at its edge); the rest:
        # the raw test
        tests = (WINDOWS,) if sums_from_blocks else (RAW, WINDOWS) if blocks else (RAW,)
        for k, m in enumerate(re.finditer(DURATION, body)):
            seconds = parse_duration_ms(m.group("range") or m.group("offset"))
            latest = m.group("range") and body.rfind("last_over_time(", 0, m.start()) > body.rfind(
                ")", 0, m.start()
            )
            for delta in (-interval, interval):
                new = seconds + delta * 1000
                if new <= 0:
                    continue
                if latest and delta > 0:
                    # The latest open block within a longer range is the same one whenever the open
                    # block is recorded at every evaluation: an equivalent mutant (it differs only
                    # across a gap in the rules' own evaluations, which has no single right value).
                    continue
                text_new = m.group(0).replace(m.group("range") or m.group("offset"), span(new / 1000))
                mutated = text[: start + m.start()] + text_new + text[start + m.end() :]
                out.append(Mutation(f"{name} #{k} {m.group(0)} {delta:+d}s", mutated, tests))
    return out


def parse_duration_ms(text: str) -> int:
    units = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|d|h|m|s)", text))


def every_alert_limit_mutated(text: str) -> list[Mutation]:
    """Every limit of every burn pair (both burn thresholds, the error guard, both coverage counts) 5 %
    either way (one interval for counts); each tier's `for` one interval either way."""
    out = []
    # the availability SLO's pairs (the latency SLO's are built by the same code)
    slo = mutation_spec().services[0].slos[0]
    binds = [error_guard_binds(slo, bw) for t in slo.tiers for bw in t.windows]
    blocks = re.finditer(r"- alert: SlodriftErrorBudgetBurn\n(?:    [^\n]*\n|      [^\n]*\n)*", text)
    for b, block in enumerate(m for m in blocks if 'slo="availability"' in m.group(0)):
        for k, m in enumerate(re.finditer(r"(?P<op>>=?) (?P<limit>[0-9.]+)\n", block.group(0))):
            limit = Decimal(m.group("limit"))
            line = block.group(0)[block.group(0).rfind("\n", 0, m.start()) : m.start()]
            counted = 'event="interval"' in line
            if 'event="error"' in line and not binds[b]:
                continue  # the traffic guard asks for more errors than this one: an equivalent mutant
            for by in ("up", "down"):
                step = Decimal(1) if counted else limit * Decimal("0.05")
                new = limit + step if by == "up" else limit - step
                at = block.start() + m.start("limit")
                mutated = text[:at] + format(new.normalize(), "f") + text[block.start() + m.end("limit") :]
                out.append(
                    Mutation(
                        f"alert #{b} limit #{k} {m.group('op')} {limit} {by}",
                        mutated,
                        (ALERTS,),
                        CHECKOUT_ALERTS,
                    )
                )
        fors = re.search(r"for: (\d+)m\n", block.group(0))
        if fors:
            minutes = int(fors.group(1))
            for new in (minutes - 1, minutes + 1):
                at = block.start() + fors.start(1)
                mutated = text[:at] + str(new) + text[block.start() + fors.end(1) :]
                # the raw test carries each tier's `for` check
                out.append(Mutation(f"alert #{b} for {minutes}m -> {new}m", mutated, (RAW,), CHECKOUT_ALERTS))
    return out


def other_mutations(text: str, alerts: str, data: str) -> list[Mutation]:
    """Named mutations of checkout's recordings (`text`), burn alerts and alerts on its data."""
    both = (RAW, ALERTS)
    return [
        Mutation(
            "a reset inside an interval no longer counted",
            substitute(text, r" \* \(1 - clamp_max\(resets\([^\n]*", ""),
            (RAW,),
        ),
        Mutation("budget", substitute(text, r"vector\(0\.001\)", "vector(0.002)"), both),
        Mutation(
            "sum of slices averaged",
            substitute(
                text,
                r"sum_over_time\((slodrift:sli_events:increase1m\{service=\"checkout\"\}\[4m30s\])\)",
                r"avg_over_time(\1)",
            ),
            (RAW,),
        ),
        Mutation("block mask shifted", substitute(text, r"% 64 == 1\)", "% 64 == 2)"), (RAW, WINDOWS)),
        Mutation(
            "open block counted from the wrong slice",
            substitute(text, r"\(vector\(time\(\)\) - 120\)", "(vector(time()) - 60)", 3),
            (RAW, WINDOWS),
        ),
        Mutation(
            "absent alert too slow",
            substitute(data, r"(alert: SlodriftSLIAbsent[^\n]*\n(?:[^\n]*\n)*?\s*for: )5m", r"\g<1>15m"),
            (DATA,),
            CHECKOUT_DATA,
        ),
        Mutation("no-data window", substitute(data, r"\[15m\]\)", "[5m])"), (DATA,), CHECKOUT_DATA),
        Mutation(
            "coverage not required",
            substitute(alerts, r"\n\s*and ignoring \(event\)\n[^\n]*event=\"interval\"\} >= 54", ""),
            both,
            CHECKOUT_ALERTS,
        ),
    ]


@pytest.mark.timeout(3600)
def test_generated_tests_catch_every_wrong_rule(promtool, tmp_path):
    """Every mutation of checkout's SLO rules fails the generated tests: each range of each window one
    interval off (the 30d window's included), each alert limit 5 % off, each `for` one interval off."""
    files = render([mutation_spec()])
    text, alerts = files[CHECKOUT], files[CHECKOUT_ALERTS]
    every = every_window_range_mutated(text) + every_alert_limit_mutated(alerts)
    assert len(every) > 150
    # `make test` runs 32 of them, spread over every rule (all of them under `make test-full`)
    mutations = spread(every, 32) + other_mutations(text, alerts, files[CHECKOUT_DATA])
    results = caught(promtool, files, CHECKOUT, mutations, tmp_path)
    assert_all_caught(results, len(mutations))


def mutation_spec_text() -> str:
    """The example with checkout's availability SLO only: its window and alert rules are what is
    mutated, and every promtool run is cheaper without the latency SLO's rules."""
    text = EXAMPLE.read_text()
    latency = text[
        text.index("      - name: latency\n") : text.index("    # Compared with the release baseline")
    ]
    return text.replace(latency, "")


def mutation_spec() -> Spec:
    return load_spec_text("example.yml", mutation_spec_text().encode())
