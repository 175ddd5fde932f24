"""The calibration's bookkeeping, on made-up ratios (the runs themselves are real only
in `python -m perf.calibrate_gate`)."""

from __future__ import annotations

import math

from perf.calibrate_gate import _schedule, judge


def steady(level: float, wobble: float) -> list[float]:
    return [level * math.exp(wobble), level * math.exp(-wobble)] * 2


def test_each_unchanged_run_is_judged_without_itself_and_each_slowed_run_counted() -> None:
    # GIVEN ten unchanged runs near 1.2 (the first far off), and three slowed runs after
    # them, two 10 % up and one no different from the unchanged
    unchanged = [steady(1.5, 0.01)] + [steady(1.2 * (1 + 0.002 * i), 0.01) for i in range(9)]
    slowed = [steady(1.32, 0.01), steady(1.33, 0.01), steady(1.2, 0.01)]

    verdicts = judge(unchanged, slowed, history=9)

    # THEN the far-off unchanged run is a false alarm (its own figures are not in its
    # baseline), and the two slowed runs that are slower are caught (against the nine
    # runs nearest them)
    assert (verdicts.false_alarms, verdicts.unchanged) == (1, 10)
    assert (verdicts.detected, verdicts.slowed) == (2, 3)
    assert "| unchanged | 10 | 1 | 10% (false alarms) |" in verdicts.table()


def test_a_slowed_run_is_judged_against_the_unchanged_runs_nearest_in_time() -> None:
    # GIVEN the machine drifts: early unchanged runs near 1.0, late ones near 1.1
    unchanged = [steady(1.0, 0.01)] * 5 + [steady(1.1, 0.01)] * 5
    late_and_unchanged = steady(1.1, 0.01)

    # THEN a slowed run among the late ones, no slower than they, is not "caught" as it
    # would be against the early ones
    assert judge(unchanged, [late_and_unchanged], history=4, slowed_after=[8]).detected == 0
    assert judge(unchanged, [late_and_unchanged], history=4, slowed_after=[2]).detected == 1


def test_slowed_runs_are_spread_among_the_unchanged_and_never_first() -> None:
    for unchanged, slowed in ((20, 10), (3, 1), (5, 5)):
        plan = _schedule(unchanged, slowed)
        assert len(plan) == unchanged + slowed
        assert sum(plan) == slowed
        assert plan[0] is False
    plan = _schedule(20, 10)
    # no long stretch of either kind
    assert "FFFF" not in "".join("S" if slow else "F" for slow in plan)
