"""Baselines, and whether a run regressed from one.

A run on this noisy 2-core machine is compared in ratios to the reference measured in
the same run: service CPU per request / reference's, service requests/s / reference's,
service p95 / reference's p95 in the same round. Each baseline carries its tolerances,
set from the spread of the rounds that made it (three standard deviations of the
relative spread, never under a floor), so an unchanged build passes and a real slowdown
does not.

DynamoDB calls per request, per endpoint, are what no noise moves: they are compared
exactly, and any increase is a regression that names the endpoint.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Baseline",
    "Measured",
    "baseline_from",
    "call_regressions",
    "load_baseline",
    "regressions",
]

BASELINES = Path(__file__).with_name("baselines")

# The least a tolerance may be, whatever the rounds' spread: relative changes.
_FLOORS = {"cpu_ratio": 0.15, "throughput_ratio": 0.2, "p95_ratio": 0.3}


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
        return {
            **asdict(self),
            "cpu_ratio": self.cpu_ratio,
            "throughput_ratio": self.throughput_ratio,
        }

    def compared(self) -> dict[str, float | None]:
        return {
            "cpu_ratio": self.cpu_ratio,
            "throughput_ratio": self.throughput_ratio,
            "p95_ratio": self.p95_ratio,
        }


@dataclass(frozen=True)
class Baseline:
    scenario: str
    profile: str
    commit: str
    date: str
    machine: dict[str, Any]
    rounds: int
    values: dict[str, float | None]  # medians of the compared metrics
    tolerances: dict[str, float]
    measured: list[dict[str, Any]]  # every round, for the record
    # Median DynamoDB calls per request, by endpoint ("POST /v1/events"); older
    # baselines have none, and nothing is compared for them.
    dynamodb_calls: dict[str, float] = field(default_factory=dict)
    # The last commit that changed the service's code when this was measured
    # (perf.loadtest.service_commit); "" for baselines older than the field.
    service_commit: str = ""

    def write(self, directory: Path = BASELINES) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.scenario}-{self.profile}.json"
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path


def load_baseline(scenario: str, profile: str, directory: Path = BASELINES) -> Baseline | None:
    path = directory / f"{scenario}-{profile}.json"
    if not path.exists():
        return None
    return Baseline(**json.loads(path.read_text()))


def _tolerance(metric: str, values: list[float]) -> float:
    floor = _FLOORS[metric]
    if len(values) < 2:
        return floor
    spread = statistics.stdev(values) / statistics.mean(values)
    return round(max(floor, 3 * spread), 3)


def baseline_from(
    rounds: list[Measured],
    *,
    scenario: str,
    profile: str,
    commit: str,
    date: str,
    machine: dict[str, Any],
    dynamodb_calls: dict[str, float] | None = None,
    service_commit: str = "",
) -> Baseline:
    values = {m: None if v is None else round(v, 4) for m, v in _medians(rounds).items()}
    tolerances = {
        metric: _tolerance(metric, [v for r in rounds if (v := r.compared()[metric]) is not None])
        for metric in _FLOORS
    }
    return Baseline(
        scenario=scenario,
        profile=profile,
        commit=commit,
        date=date,
        machine=machine,
        rounds=len(rounds),
        values=values,
        tolerances=tolerances,
        measured=[asdict(r) for r in rounds],
        dynamodb_calls=dict(dynamodb_calls or {}),
        service_commit=service_commit,
    )


def _medians(rounds: list[Measured]) -> dict[str, float | None]:
    medians: dict[str, float | None] = {}
    for metric in _FLOORS:
        seen = [v for v in (r.compared()[metric] for r in rounds) if v is not None]
        medians[metric] = statistics.median(seen) if seen else None
    return medians


def regressions(rounds: list[Measured], baseline: Baseline) -> list[str]:
    """What got worse than the baseline allows, in words; empty when nothing did.

    A run of several rounds is judged by the median of each compared metric.
    """
    found = []
    now = _medians(rounds)
    cpu, base_cpu = now["cpu_ratio"], baseline.values.get("cpu_ratio")
    if cpu is not None and base_cpu is not None:
        limit = base_cpu * (1 + baseline.tolerances["cpu_ratio"])
        if cpu > limit:
            found.append(
                f"CPU per request is {cpu:.2f}x the reference's (baseline {base_cpu:.2f}x, "
                f"allowed up to {limit:.2f}x)"
            )
    throughput, base_throughput = now["throughput_ratio"], baseline.values.get("throughput_ratio")
    if throughput is not None and base_throughput is not None:
        limit = base_throughput * (1 - baseline.tolerances["throughput_ratio"])
        if throughput < limit:
            found.append(
                f"requests/s is {throughput:.2f}x the reference's (baseline "
                f"{base_throughput:.2f}x, allowed down to {limit:.2f}x)"
            )
    # baselines recorded before p95 was a ratio hold "p95_ms": nothing compared for them
    p95, base_p95 = now["p95_ratio"], baseline.values.get("p95_ratio")
    if p95 is not None and base_p95 is not None:
        limit = base_p95 * (1 + baseline.tolerances["p95_ratio"])
        if p95 > limit:
            found.append(
                f"p95 is {p95:.2f}x the reference's (baseline {base_p95:.2f}x, "
                f"allowed up to {limit:.2f}x)"
            )
    return found


def call_regressions(calls: dict[str, float], baseline: Baseline) -> list[str]:
    """Endpoints that make more DynamoDB calls per request than in the baseline (medians;
    exact: a call more is a regression, whatever the noise)."""
    return [
        f"{endpoint}: {now:g} DynamoDB calls per request (baseline {before:g})"
        for endpoint, now in sorted(calls.items())
        if (before := baseline.dynamodb_calls.get(endpoint)) is not None and now > before
    ]
