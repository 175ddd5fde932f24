"""Reading a stress run (perf/stress.py) from k6's per-request output, made up here."""

from __future__ import annotations

import json
from pathlib import Path

from perf.stress import analyse

PROFILE = {"start_rate": 10, "peak_rate": 110, "recovery_rate": 10}
CLIMB = 10.0


def point(second: float, metric: str, value: float, *, ok: bool = True) -> str:
    moment = f"2023-11-14T22:{13 + int(second) // 60:02d}:{20 + int(second) % 60:02d}.5Z"
    data = {"time": moment, "value": value, "tags": {"expected_response": str(ok).lower()}}
    return json.dumps({"type": "Point", "metric": metric, "data": data})


def k6_output(tmp_path: Path, seconds: dict[int, dict[str, float]]) -> Path:
    """Per second: `n` requests taking `ms` each, `errors` failed, `dropped` not started."""
    lines = []
    for second, spec in seconds.items():
        lines += [point(second, "http_req_duration", spec.get("ms", 10))] * int(spec.get("n", 10))
        lines += [point(second, "http_req_duration", 5, ok=False)] * int(spec.get("errors", 0))
        if spec.get("dropped"):
            lines.append(point(second, "dropped_iterations", spec["dropped"]))
    path = tmp_path / "requests.json"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_breaking_point_is_the_first_two_bad_seconds_while_climbing(tmp_path: Path) -> None:
    # GIVEN good seconds, one bad second alone, then slow seconds from second 6 on
    seconds = {s: {"n": 10 + s} for s in range(16)}
    seconds[4] = {"n": 14, "errors": 5}  # one bad second: not yet a break
    for s in range(6, 10):
        seconds[s] = {"n": 12, "ms": 250}
    path = k6_output(tmp_path, seconds)

    outcome = analyse(path, profile=PROFILE, climb_seconds=CLIMB, p95_target_ms=100, cpu=[])

    assert outcome.breaking_second == 6
    assert outcome.breaking_offered_rate == 70.0  # 10 + 100 x 6/10
    assert outcome.breaking_reason == "p95 250 ms over 100 ms"
    assert outcome.max_good_throughput == 15  # second 5's 15 requests: the best good second
    assert outcome.recovery_seconds == 0  # good again from the drop on


def test_recovery_counts_from_the_drop_to_three_good_seconds(tmp_path: Path) -> None:
    seconds = {s: {"n": 10} for s in range(20)}
    for s in range(5, 13):  # errors and dropped iterations past the peak, for 3 s after it
        seconds[s] = {"n": 10, "errors": 3, "dropped": 4}
    path = k6_output(tmp_path, seconds)

    outcome = analyse(path, profile=PROFILE, climb_seconds=CLIMB, p95_target_ms=100, cpu=[])

    assert outcome.breaking_second == 5
    assert (
        outcome.breaking_reason == "3/13 requests failed; 4 requests could not start (no free VU)"
    )
    assert outcome.recovery_seconds == 3


def test_a_run_that_never_breaks_says_so(tmp_path: Path) -> None:
    path = k6_output(tmp_path, {s: {"n": 10} for s in range(14)})

    outcome = analyse(path, profile=PROFILE, climb_seconds=CLIMB, p95_target_ms=100, cpu=[])

    assert outcome.breaking_second is None
    assert outcome.recovery_seconds == 0


def test_a_passing_blip_is_not_the_breaking_point(tmp_path: Path) -> None:
    # GIVEN two slow seconds (3-4) the service recovers from, then a lasting break at 8
    seconds = {s: {"n": 10} for s in range(14)}
    seconds[3] = seconds[4] = {"n": 10, "ms": 180}
    seconds[8] = seconds[9] = {"n": 10, "ms": 300}
    path = k6_output(tmp_path, seconds)

    outcome = analyse(path, profile=PROFILE, climb_seconds=CLIMB, p95_target_ms=100, cpu=[])

    assert outcome.breaking_second == 8
    assert outcome.breaking_reason == "p95 300 ms over 100 ms"
