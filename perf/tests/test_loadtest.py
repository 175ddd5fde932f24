"""The load-test runner against a real gunicorn, reference and DynamoDB Local: every
scenario's smoke run, and regression detection (an unchanged build passes, an injected
slowdown is caught)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devstack.localstack import aws_env
from perf import loadtest
from perf.harness import machine
from perf.k6 import run_k6
from perf.loadconfig import Profile, load
from perf.loadtest import ScenarioResult, run_scenario, service_commit
from perf.regression import baseline_from
from perf.segments import combine
from perf.stack import LoadStack, load_stack

pytestmark = pytest.mark.integration

CONFIG = load()
# The smoke runs prove the scripts run: a failed request fails them. On a machine busy
# with the rest of the suite, a request must not be answered 503 for taking over the
# default 4 s DynamoDB deadline.
BUSY_MACHINE = {"DYNAMODB_DEADLINE_SECONDS": "30"}
SMOKE = CONFIG.profiles["smoke"]


@pytest.fixture(scope="module")
def stores(dynamodb_url: str, moto_url: str) -> dict[str, str]:
    return aws_env(dynamodb_url=dynamodb_url, moto_url=moto_url)


@pytest.fixture(scope="module")
def stack(stores: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadStack]:
    with load_stack(
        tmp_path_factory.mktemp("loadstack"), stores=stores, service_env=BUSY_MACHINE
    ) as started:
        yield started


def run(
    stack: LoadStack, name: str, tmp: Path, profile: Profile = SMOKE, rounds: int = 1
) -> ScenarioResult:
    return run_scenario(
        stack,
        CONFIG.scenarios[name],
        profile,
        rounds=rounds,
        reports=tmp / "reports",
        baselines=tmp / "baselines",
    )


@pytest.mark.parametrize("name", list(CONFIG.scenarios))
def test_every_scenario_runs_its_smoke_profile_and_writes_its_report(
    stack: LoadStack, tmp_path: Path, name: str
) -> None:
    result = run(stack, name, tmp_path)

    assert result.ok, result.failed_thresholds + result.regressions
    measured = result.rounds[0]
    assert measured.requests_per_s > 0
    assert measured.failed_rate < 0.001
    assert measured.cpu_ms_per_request
    assert measured.cpu_ms_per_request > 0
    assert result.dynamodb_calls  # read from the service's request_finished lines
    files = {path.name for path in result.report.iterdir()}
    assert {"result.json", "summary-service.json", "dashboard-service.html"} <= files
    written = json.loads((result.report / "result.json").read_text())
    assert written["scenario"] == name
    assert written["commit"]
    assert written["machine"]["cores"]
    if CONFIG.scenarios[name].reference:
        assert {"summary-reference.json", "dashboard-reference.html"} <= files
        assert measured.reference_cpu_ms_per_request
        assert measured.cpu_ratio
    if name == "batch_ingestion":
        assert measured.events_per_s > measured.requests_per_s * 10  # 25 events a request
    if name == "stress_test":
        assert result.stress is not None
        assert result.stress["seconds"]  # per-second rate, p95 and errors, for the analysis


# Tolerances that no machine's noise reaches and that no injected slowdown of 400 ms
# hides, and no CPU verdict (a wait costs no CPU): this test shows the runner's wiring (a
# baseline read, each metric compared with the same run's reference, the verdict
# written), not the statistics of the gate, which perf/tests/test_regression.py tests and
# perf/calibrate_gate.py calibrates (perf/benchmarks.md).
WIDE_TOLERANCES = {"throughput_ratio": 0.8, "p95_ratio": 2.0}


@pytest.mark.alone
def test_an_unchanged_build_passes_and_an_injected_slowdown_is_caught(
    stack: LoadStack, stores: dict[str, str], tmp_path: Path
) -> None:
    # GIVEN a baseline of two rounds of single-event ingestion, with wide tolerances
    profile = replace(SMOKE, duration="3s")
    rounds = run(stack, "event_ingestion", tmp_path, profile, rounds=2).rounds
    baseline = baseline_from(
        [rounds],
        scenario="event_ingestion",
        profile=profile.name,
        commit="test",
        date=datetime.now(UTC).date().isoformat(),
        machine=machine(),
        service_commit=service_commit(),
    )
    replace(baseline, tolerances=WIDE_TOLERANCES, cpu_noise=None).write(tmp_path / "baselines")

    # WHEN the same build runs again THEN nothing regressed
    unchanged = run(stack, "event_ingestion", tmp_path, profile)
    assert unchanged.regressions == []

    # WHEN every ingest waits 400 ms (devstack's injected slowdown)
    with load_stack(
        tmp_path / "slow",
        stores=stores,
        service_env={**BUSY_MACHINE, "DEVSTACK_INGEST_DELAY_MS": "400"},
    ) as slow:
        slowed = run(slow, "event_ingestion", tmp_path, profile)

    # THEN the run fails on it: p95 and requests/s against the same-run reference
    assert not slowed.ok
    assert any(problem.startswith("p95 is") for problem in slowed.regressions)
    assert any(problem.startswith("requests/s is") for problem in slowed.regressions)
    verdict = json.loads((slowed.report / "result.json").read_text())
    assert verdict["regressions"] == slowed.regressions


def test_combined_figures_of_one_process_are_k6s_own(stack: LoadStack, tmp_path: Path) -> None:
    # GIVEN one k6 run with its raw samples and its own summary
    scenario = CONFIG.scenarios["event_ingestion"]
    env = loadtest._k6_env(stack.service, stack=stack, scenario=scenario, profile=SMOKE,
                           report=tmp_path)  # fmt: skip
    raw = tmp_path / "samples.json"
    own = run_k6(scenario.script.name, env, summary=tmp_path / "own.json",
                 options=["--out", f"json={raw}"], check=False).summary  # fmt: skip

    # WHEN its raw samples are combined as the segments' are
    combined = combine([raw], [own])

    # THEN they give k6's own figures (percentiles interpolated as k6 does)
    latency = "http_req_duration{expected_response:true}"
    for stat in ("med", "p(90)", "p(95)", "p(99)", "min", "max", "count"):
        assert combined["metrics"][latency]["values"][stat] == pytest.approx(
            own["metrics"][latency]["values"][stat], abs=0.001
        ), stat
    assert (
        combined["metrics"]["http_reqs"]["values"]["count"]
        == own["metrics"]["http_reqs"]["values"]["count"]
    )
    assert (
        combined["metrics"]["checks"]["values"]["rate"]
        == own["metrics"]["checks"]["values"]["rate"]
    )


def test_two_segments_are_two_k6_processes_combined(stack: LoadStack, tmp_path: Path) -> None:
    result = run_scenario(
        stack, CONFIG.scenarios["event_ingestion"], SMOKE, rounds=1,
        reports=tmp_path / "reports", baselines=tmp_path / "baselines", segments=2,
    )  # fmt: skip

    assert result.ok, result.failed_thresholds
    parts = [json.loads((result.report / f"summary-service-{n}.json").read_text()) for n in (0, 1)]
    combined = json.loads((result.report / "summary-service.json").read_text())
    counts = [part["metrics"]["http_reqs"]["values"]["count"] for part in parts]
    assert all(count > 0 for count in counts)  # both processes sent requests
    assert combined["segments"] == 2
    assert combined["metrics"]["http_reqs"]["values"]["count"] == sum(counts)
    latency = "http_req_duration{expected_response:true}"
    assert combined["metrics"][latency]["values"]["max"] == max(
        part["metrics"][latency]["values"]["max"] for part in parts
    )
    # AND a scenario judged by one process's own accounting runs in one, unsplit
    single = run_scenario(
        stack, CONFIG.scenarios["competing_consumers"], SMOKE, rounds=1,
        reports=tmp_path / "reports", baselines=tmp_path / "baselines", segments=2,
    )  # fmt: skip
    assert not list(single.report.glob("summary-service-*.json"))


@pytest.mark.parametrize("name", ["event_lookup", "inbox_polling"])
def test_a_deployed_environment_keeps_none_of_the_seeded_events(
    stack: LoadStack, tmp_path: Path, name: str
) -> None:
    scenario = CONFIG.scenarios[name]
    seeded = replace(SMOKE, seed_events=7)
    env = loadtest._k6_env(stack.service, stack=stack, scenario=scenario, profile=seeded,
                           report=tmp_path)  # fmt: skip

    summary = run_k6(scenario.script.name, {**env, "CLEAN_UP": "true"},
                     summary=tmp_path / "summary.json", check=False).summary  # fmt: skip

    assert summary["metrics"]["events_cleaned_up"]["values"]["count"] == 7
    assert summary["metrics"]["checks"]["values"]["rate"] == 1.0
