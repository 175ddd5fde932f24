"""Baselines, and whether a run regressed from one.

A run on this noisy 2-core machine is compared in ratios to the reference measured in
the same round: service CPU per request / reference's, requests/s / reference's, p95 /
reference's p95. Service and reference take turns within each round (A B, then B A),
so what the machine does meanwhile weighs on both.

- DynamoDB calls and consumed capacity units per request, per endpoint, are what no
  noise moves: compared exactly, any increase is a regression that names the endpoint.
- CPU per request is judged statistically: the run's mean log ratio over its rounds
  against what the history of unchanged runs says that mean does (`CpuNoise`), at a
  one-sided 1 % level: an unchanged build fails about one run in a hundred per
  scenario, about one night in twenty with every scenario gated; on this machine that
  still catches a 10 % regression at least nine times in ten (perf/calibrate_gate.py
  measures both rates; perf/benchmarks.md has them).
- requests/s and p95 get a tolerance from the spread of the history's runs (three
  standard deviations, never under a floor): they guard against gross changes.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "Baseline",
    "CpuNoise",
    "Measured",
    "baseline_from",
    "cost_regressions",
    "cpu_noise",
    "cpu_regression",
    "load_baseline",
    "regressions",
]

BASELINES = Path(__file__).with_name("baselines")

# One-sided 1 %: the share of an unchanged build's runs the CPU verdict may fail, per
# scenario. Five gated scenarios a night make that about one night in twenty.
GATE_Z: Final = 2.326
# The least a tolerance may be, whatever the runs' spread: relative changes.
_FLOORS: Final = {"throughput_ratio": 0.2, "p95_ratio": 0.3}
# Below this, a per-round spread of the CPU ratio is a history too short to show its noise.
_LEAST_WITHIN_SD: Final = 0.01
_COMPARED: Final = ("cpu_ratio", "throughput_ratio", "p95_ratio")


@dataclass(frozen=True)
class Measured:
    """What one round of one scenario measured, service and reference side by side."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests_per_s: float
    events_per_s: float
    failed_rate: float
    cpu_ms_per_request: float | None
    reference_requests_per_s: float | None
    reference_p95_ms: float | None
    reference_cpu_ms_per_request: float | None

    @property
    def cpu_ratio(self) -> float | None:
        if not self.cpu_ms_per_request or not self.reference_cpu_ms_per_request:
            return None
        return self.cpu_ms_per_request / self.reference_cpu_ms_per_request

    @property
    def throughput_ratio(self) -> float | None:
        if not self.reference_requests_per_s:
            return None
        return self.requests_per_s / self.reference_requests_per_s

    @property
    def p95_ratio(self) -> float | None:
        if not self.reference_p95_ms:
            return None
        return self.p95_ms / self.reference_p95_ms

    def record(self) -> dict[str, Any]:
        """The round as a report or history line holds it: its figures and its ratios."""
        return {**asdict(self), **self.compared()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Measured:
        return cls(**{name: record[name] for name in cls.__dataclass_fields__})

    def compared(self) -> dict[str, float | None]:
        return {metric: getattr(self, metric) for metric in _COMPARED}


@dataclass(frozen=True)
class CpuNoise:
    """What unchanged runs do to the CPU ratio on this kind of machine, in natural logs
    (a ratio's log moves by the same amount whichever side is slower)."""

    mean: float  # the runs' mean log ratio
    within_sd: float  # spread of one round's log ratio about its run's mean
    between_sd: float  # spread of the runs' means beyond what the rounds' spread explains
    runs: int
    rounds_per_run: float

    def limit(self, rounds: int) -> float:
        """The highest mean log ratio a run of `rounds` rounds of an unchanged build
        reaches in 99 runs of 100: its own spread, plus the uncertainty of `mean`."""
        run_variance = self.between_sd**2 + self.within_sd**2 / rounds
        mean_variance = (self.between_sd**2 + self.within_sd**2 / self.rounds_per_run) / self.runs
        return self.mean + GATE_Z * math.sqrt(run_variance + mean_variance)


def cpu_noise(runs: Sequence[Sequence[float]]) -> CpuNoise | None:
    """The noise of unchanged runs, from their per-round CPU ratios; None without any."""
    logs = [[math.log(ratio) for ratio in run] for run in runs if run]
    if not logs:
        return None
    means = [statistics.fmean(run) for run in logs]
    pooled = [(len(run) - 1, statistics.variance(run)) for run in logs if len(run) > 1]
    degrees = sum(d for d, _ in pooled)
    within = math.sqrt(sum(d * v for d, v in pooled) / degrees) if degrees else 0.0
    within = max(within, _LEAST_WITHIN_SD)
    rounds_per_run = statistics.fmean(len(run) for run in logs)
    between = 0.0
    if len(means) > 1:
        explained = within**2 * statistics.fmean(1 / len(run) for run in logs)
        between = math.sqrt(max(0.0, statistics.variance(means) - explained))
    return CpuNoise(
        mean=statistics.fmean(means),
        within_sd=within,
        between_sd=between,
        runs=len(logs),
        rounds_per_run=rounds_per_run,
    )


def cpu_regression(ratios: Sequence[float], noise: CpuNoise) -> str | None:
    """Why these rounds' CPU ratios are more than an unchanged build's, if they are."""
    if not ratios:
        return None
    mean = statistics.fmean(math.log(ratio) for ratio in ratios)
    limit = noise.limit(len(ratios))
    if mean <= limit:
        return None
    return (
        f"CPU per request is {math.exp(mean):.3f}x the reference's over {len(ratios)} rounds "
        f"(baseline {math.exp(noise.mean):.3f}x; an unchanged build stays under "
        f"{math.exp(limit):.3f}x in 99 runs of 100)"
    )


@dataclass(frozen=True)
class Baseline:
    scenario: str
    profile: str
    commit: str
    date: str
    machine: dict[str, Any]
    runs: int  # the unchanged runs it was made from (perf/history)
    values: dict[str, float | None]  # medians of the compared ratios over those runs
    tolerances: dict[str, float]  # requests/s and p95 ratios (relative)
    cpu_noise: dict[str, Any] | None  # CpuNoise's fields; None without a reference
    measured: list[list[dict[str, Any]]]  # every round of every run, for the record
    # Median DynamoDB calls and consumed capacity units per request, by endpoint
    # ("POST /v1/events"): compared exactly.
    dynamodb_calls: dict[str, float] = field(default_factory=dict)
    dynamodb_capacity: dict[str, float] = field(default_factory=dict)
    # The last commit that changed the service's code when this was measured
    # (perf.loadtest.service_commit).
    service_commit: str = ""

    def write(self, directory: Path = BASELINES) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.scenario}-{self.profile}.json"
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @property
    def noise(self) -> CpuNoise | None:
        return None if self.cpu_noise is None else CpuNoise(**self.cpu_noise)


def load_baseline(scenario: str, profile: str, directory: Path = BASELINES) -> Baseline | None:
    path = directory / f"{scenario}-{profile}.json"
    if not path.exists():
        return None
    recorded = json.loads(path.read_text())
    unknown = set(recorded) - set(Baseline.__dataclass_fields__)
    if unknown or "runs" not in recorded:
        raise SystemExit(
            f"{path} was written by an older runner ({', '.join(sorted(unknown)) or 'no runs'}"
            "): re-record it (make loadtest-baseline)."
        )
    return Baseline(**recorded)


def _median(rounds: Sequence[Measured], metric: str) -> float | None:
    seen = [v for v in (r.compared()[metric] for r in rounds) if v is not None]
    return statistics.median(seen) if seen else None


def _tolerance(metric: str, runs: Sequence[Sequence[Measured]]) -> float:
    """Three relative standard deviations of the runs' medians (of the rounds, when there
    is one run), never under the metric's floor."""
    if len(runs) > 1:
        values = [m for run in runs if (m := _median(run, metric)) is not None]
    else:
        values = [v for run in runs for r in run if (v := r.compared()[metric]) is not None]
    floor = _FLOORS[metric]
    if len(values) < 2:
        return floor
    spread = statistics.stdev(values) / statistics.mean(values)
    return round(max(floor, 3 * spread), 3)


def baseline_from(
    runs: Sequence[Sequence[Measured]],
    *,
    scenario: str,
    profile: str,
    commit: str,
    date: str,
    machine: dict[str, Any],
    dynamodb_calls: dict[str, float] | None = None,
    dynamodb_capacity: dict[str, float] | None = None,
    service_commit: str = "",
) -> Baseline:
    """A baseline from unchanged runs of one build (the history's, newest last)."""
    every_round = [r for run in runs for r in run]
    values = {
        metric: None if (v := _median(every_round, metric)) is None else round(v, 4)
        for metric in _COMPARED
    }
    noise = cpu_noise([[ratio for r in run if (ratio := r.cpu_ratio) is not None] for run in runs])
    return Baseline(
        scenario=scenario,
        profile=profile,
        commit=commit,
        date=date,
        machine=machine,
        runs=len(runs),
        values=values,
        tolerances={metric: _tolerance(metric, runs) for metric in _FLOORS},
        cpu_noise=None if noise is None else asdict(noise),
        measured=[[asdict(r) for r in run] for run in runs],
        dynamodb_calls=dict(dynamodb_calls or {}),
        dynamodb_capacity=dict(dynamodb_capacity or {}),
        service_commit=service_commit,
    )


def regressions(rounds: Sequence[Measured], baseline: Baseline) -> list[str]:
    """What got worse than the baseline allows, in words; empty when nothing did."""
    found = []
    noise = baseline.noise
    if noise is not None:
        cpu = cpu_regression([c for r in rounds if (c := r.cpu_ratio) is not None], noise)
        if cpu is not None:
            found.append(cpu)
    throughput, base_throughput = (
        _median(rounds, "throughput_ratio"),
        baseline.values.get("throughput_ratio"),
    )
    if throughput is not None and base_throughput is not None:
        limit = base_throughput * (1 - baseline.tolerances["throughput_ratio"])
        if throughput < limit:
            found.append(
                f"requests/s is {throughput:.2f}x the reference's (baseline "
                f"{base_throughput:.2f}x, allowed down to {limit:.2f}x)"
            )
    p95, base_p95 = _median(rounds, "p95_ratio"), baseline.values.get("p95_ratio")
    if p95 is not None and base_p95 is not None:
        limit = base_p95 * (1 + baseline.tolerances["p95_ratio"])
        if p95 > limit:
            found.append(
                f"p95 is {p95:.2f}x the reference's (baseline {base_p95:.2f}x, "
                f"allowed up to {limit:.2f}x)"
            )
    return found


def cost_changes(
    calls: dict[str, float], capacity: dict[str, float], baseline: Baseline
) -> list[tuple[str, str]]:
    """(endpoint, what) for each endpoint that makes more DynamoDB calls, or consumes more
    capacity units, per request than in the baseline (medians; exact: a call or a unit
    more is a change, whatever the noise)."""
    found = []
    for now, before, what in (
        (calls, baseline.dynamodb_calls, "DynamoDB calls"),
        (capacity, baseline.dynamodb_capacity, "capacity units"),
    ):
        found += [
            (endpoint, f"{endpoint}: {value:g} {what} per request (baseline {was:g})")
            for endpoint, value in sorted(now.items())
            if (was := before.get(endpoint)) is not None and value > was + 1e-9
        ]
    return found


def cost_regressions(
    calls: dict[str, float],
    capacity: dict[str, float],
    baseline: Baseline,
    *,
    contended: tuple[str, ...] = (),
) -> list[str]:
    """The cost changes of every endpoint but the `contended` ones (whose cost depends on
    races between the scenario's clients: shown, never judged)."""
    return [
        change
        for endpoint, change in cost_changes(calls, capacity, baseline)
        if endpoint not in contended
    ]
