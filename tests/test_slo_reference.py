"""The reference model's window sums (running sums since issue 18) against sums worked out by hand."""

from __future__ import annotations

from slodrift.generator.testgen.slo_reference import Events


def test_window_sums_by_hand() -> None:
    # interval:    0     1    2     3    4    5
    error = [None, 1.0, 0.0, None, 2.0, 5.0]
    total = [None, 10.0, 20.0, None, 30.0, 40.0]
    ev = Events(error, total)
    assert ev.window(5, 3) == (7.0, 70.0, 2)  # intervals 3..5; 3 has no data
    assert ev.window(5, 6) == (8.0, 100.0, 4)
    assert ev.window(2, 10) == (1.0, 30.0, 2)  # a window reaching before interval 0
    assert ev.window(0, 1) == (0.0, 0.0, 0)
    assert ev.window(3, 1) == (0.0, 0.0, 0)


def test_fractional_events_add_up_in_order() -> None:
    """Not whole numbers: the window is added up interval by interval, as the rules' sums are, so a
    difference of running sums (which rounds differently) is not used."""
    ev = Events([None, 0.1, 0.2, 0.3], [None, 1.0, 1.0, 1.0])
    err, tot, count = ev.window(3, 2)
    assert err == 0.2 + 0.3 and tot == 2.0 and count == 2
    # (0.1 + 0.2 + 0.3) - 0.1 is 0.5000000000000001, not 0.2 + 0.3 = 0.5
    assert ev.window(3, 3)[0] == 0.0 + 0.1 + 0.2 + 0.3
