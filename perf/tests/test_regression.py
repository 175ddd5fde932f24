"""Baselines and the regression verdict, on made-up rounds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from perf.loadtest import _stale_baseline
from perf.regression import (
    Baseline,
    Measured,
    baseline_from,
    call_regressions,
    load_baseline,
    regressions,
)

ROUND = Measured(
    p50_ms=10.0,
    p95_ms=20.0,
    p99_ms=30.0,
    requests_per_s=400.0,
    events_per_s=400.0,
    failed_rate=0.0,
    cpu_ms_per_request=3.0,
    reference_requests_per_s=500.0,
    reference_p95_ms=15.0,
    reference_cpu_ms_per_request=2.5,
)


def baseline(*rounds: Measured) -> Baseline:
    return baseline_from(
        list(rounds), scenario="s", profile="p", commit="c", date="d", machine={"cores": 2}
    )


def test_a_baseline_of_steady_rounds_gets_the_floor_tolerances() -> None:
    made = baseline(ROUND, ROUND, ROUND)

    assert made.values == {"cpu_ratio": 1.2, "throughput_ratio": 0.8, "p95_ratio": 1.3333}
    assert made.tolerances == {"cpu_ratio": 0.15, "throughput_ratio": 0.2, "p95_ratio": 0.3}


def test_a_noisy_baseline_tolerates_three_times_its_spread() -> None:
    noisy = [replace(ROUND, p95_ms=p95) for p95 in (10.0, 20.0, 30.0)]

    assert baseline(*noisy).tolerances["p95_ratio"] == pytest.approx(1.5)  # 3 x stdev / mean


def test_the_same_figures_pass() -> None:
    assert regressions([ROUND], baseline(ROUND)) == []


def test_a_slower_reference_in_the_same_round_excuses_a_slower_p95() -> None:
    busier = replace(ROUND, p95_ms=40.0, reference_p95_ms=30.0)  # both twice as slow
    assert regressions([busier], baseline(ROUND)) == []


def test_a_faster_machine_with_the_same_ratios_passes() -> None:
    faster = replace(
        ROUND, cpu_ms_per_request=1.5, reference_cpu_ms_per_request=1.25,
        requests_per_s=800.0, reference_requests_per_s=1000.0, p95_ms=10.0,
        reference_p95_ms=7.5,
    )  # fmt: skip
    assert regressions([faster], baseline(ROUND)) == []


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        ({"cpu_ms_per_request": 3.6}, "CPU per request is 1.44x"),  # 1.2x -> 1.44x (+20 %)
        ({"requests_per_s": 300.0}, "requests/s is 0.60x"),  # 0.8x -> 0.6x (-25 %)
        ({"p95_ms": 27.0}, "p95 is 1.80x"),  # 1.33x -> 1.8x (+35 %, over the 30 % floor)
    ],
)
def test_each_compared_figure_alone_is_caught(change: dict[str, float], reported: str) -> None:
    found = regressions([replace(ROUND, **change)], baseline(ROUND))

    assert len(found) == 1
    assert found[0].startswith(reported)


def test_a_run_of_several_rounds_is_judged_by_its_medians() -> None:
    one_bad_round = [ROUND, replace(ROUND, p95_ms=90.0), ROUND]

    assert regressions(one_bad_round, baseline(ROUND)) == []


def test_a_baseline_round_trips_through_its_file(tmp_path: Path) -> None:
    made = baseline(ROUND, replace(ROUND, p95_ms=25.0))

    made.write(tmp_path)

    assert load_baseline("s", "p", tmp_path) == made
    assert load_baseline("other", "p", tmp_path) is None


def test_dynamodb_calls_per_request_are_compared_exactly_per_endpoint() -> None:
    before = {"POST /v1/events": 1.0, "GET /v1/inbox": 1.0, "POST /v1/inbox/lease": 11.0}
    recorded = replace(baseline(ROUND), dynamodb_calls=before)

    # the same calls, fewer calls, and an endpoint the baseline never saw: nothing
    assert call_regressions(dict(before), recorded) == []
    assert call_regressions({**before, "POST /v1/inbox/lease": 10.0}, recorded) == []
    assert call_regressions({"DELETE /v1/events/{event_id}": 3.0}, recorded) == []
    # one call more on one endpoint: that endpoint, named, however small the change
    assert call_regressions({**before, "GET /v1/inbox": 2.0}, recorded) == [
        "GET /v1/inbox: 2 DynamoDB calls per request (baseline 1)"
    ]


def test_a_baseline_records_the_calls_and_an_older_one_reads_without_them(tmp_path: Path) -> None:
    made = baseline_from(
        [ROUND], scenario="s", profile="p", commit="c", date="d", machine={},
        dynamodb_calls={"POST /v1/events": 1.0},
    )  # fmt: skip
    made.write(tmp_path)
    assert load_baseline("s", "p", tmp_path) == made
    # a baseline written before calls were recorded compares nothing
    older = {key: value for key, value in made.__dict__.items() if key != "dynamodb_calls"}
    (tmp_path / "s-p.json").write_text(json.dumps(older))
    reread = load_baseline("s", "p", tmp_path)
    assert reread is not None
    assert call_regressions({"POST /v1/events": 5.0}, reread) == []


def test_a_baseline_of_other_service_code_is_called_stale() -> None:
    recorded = replace(baseline(ROUND), service_commit="abc1234")

    assert _stale_baseline(recorded, "abc1234") is None
    for current in ("def5678", "abc1234 (modified)"):
        reason = _stale_baseline(recorded, current)
        assert reason is not None
        assert "abc1234" in reason
        assert current in reason
    assert "an unrecorded commit" in str(_stale_baseline(baseline(ROUND), "abc1234"))
