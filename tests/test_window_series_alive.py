"""Generated tests long enough to make promtool compact its head create every series at the first
step and write it at every step (see generator/testgen/slo_windows.py's docstring).

promtool 2.42 (Debian 12's) loses, now and then, the first sample of a series created while a head
compaction truncates the head: 400 series created at each of 61 steps 12h apart lost one sample in
about every other run, and none in the same number of runs when each series had a sample at every
step from the first. Head compaction starts once a test's samples span more than 36h (1.5 times the
24h block promtool's test storage uses), so only such test groups need the pattern.
"""

from __future__ import annotations

import re

import pytest
import yaml
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec_text

from tests.helpers import EXAMPLE

COMPACTION_SPAN = 36 * 3600  # seconds of samples after which promtool's test storage compacts
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 365 * 86400}


def seconds(text: str) -> float:
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text)
    assert parts and "".join(n + u for n, u in parts) == text, text
    return sum(int(n) * UNITS[u] for n, u in parts)


def sample_indices(values: str) -> list[int]:
    """Indices with a sample, in the notation the window test writes (`_xN` gaps and numbers)."""
    out, pos = [], 0
    for token in values.split():
        if token.startswith("_x"):
            pos += int(token[2:])
        elif token == "_":
            pos += 1
        else:
            assert re.fullmatch(r"-?[0-9.e+]+", token), f"unexpected notation {token!r}"
            out.append(pos)
            pos += 1
    return out


def rendered(interval: str) -> dict[str, str]:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "evaluation_interval: 1m", f"evaluation_interval: {interval}"
    )
    return render([load_spec_text("example.yml", text.encode())])


@pytest.mark.parametrize("interval", ["1m", "30s", "1s", "5m"])
def test_every_series_of_a_long_test_lives_from_the_first_step_to_its_last_sample(interval):
    files = rendered(interval)
    windows = {rel: text for rel, text in files.items() if rel.endswith(".slo-windows.test.yml")}
    assert windows, "the example has no window test"
    for rel, text in windows.items():
        doc = yaml.safe_load(text)
        for group in doc["tests"]:
            step = seconds(group["interval"])
            stride = round(seconds(doc["evaluation_interval"]) / step)
            assert stride * step == seconds(doc["evaluation_interval"])
            for s in group["input_series"]:
                have = set(sample_indices(s["values"]))
                last = max(have)
                assert 0 in have, f"{rel}: {s['series']} is created after the first step"
                for tick in range(stride, last + 1, stride):
                    assert any(tick - stride < i <= tick for i in have), (
                        f"{rel}: {s['series']} has no sample in the step ending at {tick}"
                    )
                    if ":increase" in s["series"]:
                        # the window sums read it at every step, so they exist at every step too
                        assert tick in have, f"{rel}: {s['series']} has no slice at step {tick}"


@pytest.mark.slow  # renders the example at two intervals and reads every test group: about 3 s
def test_only_the_window_tests_run_long_enough_to_compact():
    """Every other generated test group stays under the span that starts head compaction, so none of
    them needs the pattern; a new long test has to adopt it (and then join the test above)."""
    for interval in ("1m", "1s"):
        for rel, text in rendered(interval).items():
            if not rel.startswith("promtool-tests/") or rel.endswith(".slo-windows.test.yml"):
                continue
            for group in yaml.safe_load(text)["tests"]:
                step = seconds(group.get("interval", "1m"))
                spans = [
                    max(sample_indices_any(s["values"]), default=0) * step for s in group["input_series"]
                ]
                times = [seconds(t["eval_time"]) for t in group.get("promql_expr_test", [])]
                times += [seconds(t["eval_time"]) for t in group.get("alert_rule_test", [])]
                longest = max(spans + times + [0])
                assert longest <= COMPACTION_SPAN, f"{rel}: {group.get('name')} spans {longest / 3600:.1f}h"


def sample_indices_any(values: str) -> list[int]:
    """Indices with a sample in any of promtool's notations (`a+bxN`, `axN`, `_xN`, `stale`)."""
    out, pos = [], 0
    for token in values.split():
        m = re.fullmatch(r"(.*?)x(\d+)", token)
        if token.startswith("_"):
            pos += int(token[2:]) if m else 1
        elif m:
            n = int(m.group(2)) + 1
            out.extend(range(pos, pos + n))
            pos += n
        else:
            out.append(pos)
            pos += 1
    return out
