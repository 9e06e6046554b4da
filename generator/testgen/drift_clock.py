"""The clock of the drift tests: when baselines appear, how often promtool evaluates, and the
evaluation grid every `eval_time` is on."""

from __future__ import annotations

from slodrift.generator.model import DriftSettings

WARMUP = 6  # minutes until every 5m rate window is full (on the evaluation grid); baselines start here
EVAL_MINUTES = 2  # promtool evaluates every rule of the file at every step: every other minute halves it


def grid(minutes: int) -> int:
    """The first evaluation at or after `minutes`."""
    return -(-minutes // EVAL_MINUTES) * EVAL_MINUTES


def grid_down(minutes: int) -> int:
    return minutes // EVAL_MINUTES * EVAL_MINUTES


def last_before(start: int, seconds: int) -> int:
    """The last evaluation before `seconds` have passed since `start` (minutes): a condition true from
    `start` on, under a `for` of `seconds`, is still pending there."""
    return grid_down(start + -(-seconds // 60) - 1)


def eval_after(drift: DriftSettings, seconds: int) -> int:
    return grid(WARMUP + -(-seconds // 60) + EVAL_MINUTES)


def clear_of(at: int, waits: list[int]) -> int:
    """The first evaluation from `at` on that is at least an evaluation step away from every wait (in
    seconds, counted from WARMUP): a condition may start a step late, so a check right at a wait could
    see the alert either way."""
    while any(abs((at - WARMUP) * 60 - w) < EVAL_MINUTES * 60 for w in waits):
        at += EVAL_MINUTES
    return at
