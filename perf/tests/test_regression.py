"""Baselines and the regression verdict, on made-up rounds."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from perf.loadconfig import load
from perf.loadtest import ScenarioResult, _stale_baseline, _summarise
from perf.regression import (
    Baseline,
    Measured,
    baseline_from,
    cost_changes,
    cost_regressions,
    cpu_noise,
    cpu_regression,
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
    """A baseline of one run of these rounds."""
    return baseline_from(
        [list(rounds)], scenario="s", profile="p", commit="c", date="d", machine={"cores": 2}
    )


def with_cpu(ratio: float) -> Measured:
    return replace(ROUND, cpu_ms_per_request=2.5 * ratio)


def test_a_baseline_of_steady_rounds_gets_the_floor_tolerances() -> None:
    made = baseline(ROUND, ROUND, ROUND)

    assert made.values == {"cpu_ratio": 1.2, "throughput_ratio": 0.8, "p95_ratio": 1.3333}
    assert made.tolerances == {"throughput_ratio": 0.2, "p95_ratio": 0.3}


def test_a_noisy_baseline_tolerates_three_times_its_spread() -> None:
    noisy = [replace(ROUND, p95_ms=p95) for p95 in (10.0, 20.0, 30.0)]

    assert baseline(*noisy).tolerances["p95_ratio"] == pytest.approx(1.5)  # 3 x stdev / mean


def test_a_baseline_of_several_runs_tolerates_the_spread_of_their_medians() -> None:
    # each run steady within, the runs apart: the runs' medians 10, 20, 30 set it
    runs = [[replace(ROUND, p95_ms=p95)] * 3 for p95 in (10.0, 20.0, 30.0)]

    made = baseline_from(runs, scenario="s", profile="p", commit="c", date="d", machine={})

    assert made.runs == 3
    assert made.tolerances["p95_ratio"] == pytest.approx(1.5)


def test_cpu_noise_separates_the_rounds_spread_from_the_runs_spread() -> None:
    # two runs whose rounds spread alike (log ratios +-0.05 about their run's mean), and
    # whose means lie 0.2 apart: more than the rounds' spread explains
    low = [math.exp(0.00), math.exp(0.10)]
    high = [math.exp(0.20), math.exp(0.30)]

    noise = cpu_noise([low, high])

    assert noise is not None
    assert noise.mean == pytest.approx(0.15)
    assert noise.within_sd == pytest.approx(math.sqrt(0.005))  # sample variance 0.005
    # the means' variance (0.02) less the share of it the rounds explain (0.005 / 2)
    assert noise.between_sd == pytest.approx(math.sqrt(0.02 - 0.0025))
    assert cpu_noise([]) is None


def test_the_cpu_limit_widens_with_fewer_rounds_and_a_shorter_history() -> None:
    noise = cpu_noise([[1.0, 1.05, 0.95, 1.02]] * 5)
    assert noise is not None
    assert noise.limit(1) > noise.limit(4) > noise.mean
    shorter = replace(noise, runs=2)
    assert shorter.limit(4) > noise.limit(4)


def test_the_cpu_verdict_on_made_up_noise_catches_ten_percent_and_rarely_cries_wolf() -> None:
    # GIVEN rounds whose log ratio spreads 3 % about each run's mean, and runs whose means
    # spread 1 % (a seeded generator: the same figures every time)
    rng = random.Random(20261202)

    def run(shift: float, rounds: int = 4) -> list[float]:
        mean = math.log(1.2) + shift + rng.gauss(0, 0.01)
        return [math.exp(rng.gauss(mean, 0.03)) for _ in range(rounds)]

    noise = cpu_noise([run(0.0) for _ in range(20)])
    assert noise is not None

    # WHEN 200 unchanged runs and 200 runs 10 % slower are judged
    alarms = sum(cpu_regression(run(0.0), noise) is not None for _ in range(200))
    caught = sum(cpu_regression(run(math.log(1.1)), noise) is not None for _ in range(200))

    # THEN about one unchanged run in twenty fails, and nearly every slower one does
    assert alarms <= 200 / 20 * 1.6
    assert caught >= 200 * 0.9


def test_a_cpu_regression_is_reported_with_its_ratio_and_limit() -> None:
    made = baseline_from(
        [[with_cpu(r) for r in (1.19, 1.21, 1.2, 1.2)] for _ in range(5)],
        scenario="s", profile="p", commit="c", date="d", machine={},
    )  # fmt: skip

    found = regressions([with_cpu(1.32)] * 4, made)

    assert len(found) == 1
    assert found[0].startswith("CPU per request is 1.320x the reference's over 4 rounds")
    assert "baseline 1.200x" in found[0]
    assert regressions([with_cpu(1.2)] * 4, made) == []


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
        ({"cpu_ms_per_request": 3.6}, "CPU per request is 1.440x"),  # 1.2x -> 1.44x (+20 %)
        ({"requests_per_s": 300.0}, "requests/s is 0.60x"),  # 0.8x -> 0.6x (-25 %)
        ({"p95_ms": 27.0}, "p95 is 1.80x"),  # 1.33x -> 1.8x (+35 %, over the 30 % floor)
    ],
)
def test_each_compared_figure_alone_is_caught(change: dict[str, float], reported: str) -> None:
    found = regressions([replace(ROUND, **change)], baseline(ROUND))

    assert len(found) == 1
    assert found[0].startswith(reported)


def test_a_run_of_several_rounds_is_judged_by_its_medians() -> None:
    one_bad_round = [ROUND, replace(ROUND, p95_ms=90.0), ROUND, ROUND]

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
    assert cost_regressions(dict(before), {}, recorded) == []
    assert cost_regressions({**before, "POST /v1/inbox/lease": 10.0}, {}, recorded) == []
    assert cost_regressions({"DELETE /v1/events/{event_id}": 3.0}, {}, recorded) == []
    # one call more on one endpoint: that endpoint, named, however small the change
    assert cost_regressions({**before, "GET /v1/inbox": 2.0}, {}, recorded) == [
        "GET /v1/inbox: 2 DynamoDB calls per request (baseline 1)"
    ]


def test_a_contended_endpoints_cost_is_shown_but_never_a_regression() -> None:
    before = {"POST /v1/inbox/lease": 5.0, "POST /v1/events": 1.0}
    recorded = replace(baseline(ROUND), dynamodb_calls=before, dynamodb_capacity=before)
    more = {"POST /v1/inbox/lease": 6.0, "POST /v1/events": 2.0}

    found = cost_regressions(more, more, recorded, contended=("POST /v1/inbox/lease",))

    # the lease's extra call (another consumer won a write) is not judged; the rest is
    assert found == [
        "POST /v1/events: 2 DynamoDB calls per request (baseline 1)",
        "POST /v1/events: 2 capacity units per request (baseline 1)",
    ]
    assert [endpoint for endpoint, _ in cost_changes(more, more, recorded)] == [
        "POST /v1/events", "POST /v1/inbox/lease", "POST /v1/events", "POST /v1/inbox/lease",
    ]  # fmt: skip
    # and only the competing consumers' leases are declared contended
    assert {name: s.contended for name, s in load().scenarios.items() if s.contended} == {
        "competing_consumers": ("POST /v1/inbox/lease",),
        "competing_consumers_fault": ("POST /v1/inbox/lease",),
    }


def test_capacity_units_per_request_are_compared_exactly_per_endpoint() -> None:
    before = {"POST /v1/events": 3.0, "GET /v1/events/{event_id}": 0.5}
    recorded = replace(baseline(ROUND), dynamodb_capacity=before)

    assert cost_regressions({}, dict(before), recorded) == []
    assert cost_regressions({}, {**before, "POST /v1/events": 2.0}, recorded) == []
    # half a unit more (a consistent read where an eventual one was): named
    assert cost_regressions({}, {**before, "GET /v1/events/{event_id}": 1.0}, recorded) == [
        "GET /v1/events/{event_id}: 1 capacity units per request (baseline 0.5)"
    ]


def test_a_baseline_records_the_costs_and_round_trips_through_its_file(tmp_path: Path) -> None:
    made = baseline_from(
        [[ROUND]], scenario="s", profile="p", commit="c", date="d", machine={},
        dynamodb_calls={"POST /v1/events": 1.0}, dynamodb_capacity={"POST /v1/events": 3.0},
    )  # fmt: skip
    made.write(tmp_path)

    reread = load_baseline("s", "p", tmp_path)

    assert reread == made
    assert reread.noise == made.noise
    assert json.loads((tmp_path / "s-p.json").read_text())["dynamodb_capacity"] == {
        "POST /v1/events": 3.0
    }


def test_a_baseline_of_other_service_code_is_called_stale() -> None:
    recorded = replace(baseline(ROUND), service_commit="abc1234")

    assert _stale_baseline(recorded, "abc1234") is None
    for current in ("def5678", "abc1234 (modified)"):
        reason = _stale_baseline(recorded, current)
        assert reason is not None
        assert "abc1234" in reason
        assert current in reason
    assert "an unrecorded commit" in str(_stale_baseline(baseline(ROUND), "abc1234"))


def test_a_run_writes_its_row_to_the_ci_job_summary_under_one_header(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"

    def result(name: str, problems: list[str]) -> ScenarioResult:
        return ScenarioResult(
            scenario=name, report=tmp_path, rounds=[ROUND, with_cpu(1.3)],
            failed_thresholds=[], regressions=problems,
            dynamodb_calls={"POST /v1/events": 1.0}, dynamodb_capacity={"POST /v1/events": 3.0},
        )  # fmt: skip

    _summarise(result("event_ingestion", []), str(summary))
    _summarise(result("batch_ingestion", ["CPU per request is 1.320x"]), str(summary))
    _summarise(result("nowhere", []), None)  # outside CI: nothing written

    text = summary.read_text()
    assert text.count("| scenario | verdict |") == 1
    assert (
        "| event_ingestion | pass | 20 | 400 | 400 | 0.0000% | 1.250x | POST /v1/events: 1 / 3.0 |"
        in text
    )
    assert "| batch_ingestion | **FAIL**<br>CPU per request is 1.320x |" in text
