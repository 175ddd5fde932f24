"""perf/config.yaml, read into typed objects: environments, profiles, scenarios."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CONFIG", "Config", "Environment", "Profile", "Scenario", "load", "seconds"]

CONFIG = Path(__file__).with_name("config.yaml")
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")


def seconds(duration: str) -> float:
    """k6's duration syntax ("1m30s", "20s", "2h") in seconds."""
    match = _DURATION.fullmatch(duration.strip())
    if not match or not duration.strip():
        raise ValueError(f"not a duration: {duration!r}")
    hours, minutes, secs = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)


@dataclass(frozen=True)
class Environment:
    name: str
    kind: str  # "local" or "remote"
    url_env: str | None = None
    api_key_env: str | None = None
    confirm: str | None = None  # None, "ask" or "flag"
    max_vus: int | None = None
    max_duration_seconds: float | None = None
    # Kept-alive connections, as clients of a load balancer hold them; locally each
    # request opens its own, as Elastic Beanstalk's nginx does towards gunicorn.
    keep_alive: bool = False
    # At most this many events seeded per scenario, and whether scripts delete what they
    # seeded when they end (teardown): a deployed environment keeps no load-test data.
    max_seed_events: int | None = None
    clean_up: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    vus: int
    duration: str
    ramp_up: str
    ramp_down: str
    seed_events: int
    latency_thresholds: bool
    # Whether the scenarios' events/s targets (`min_events_per_s`) are thresholds: only
    # at the task list's scale, not on a laptop.
    throughput_thresholds: bool = False
    # Rounds per scenario compared with the reference, service and reference in turn
    # (--repeat overrides): what the CPU verdict is a mean of (perf/regression.py).
    # Scenarios without a reference run once.
    rounds: int = 1
    # Iterations a second offered to each scenario (k6's arrival-rate executor, at most
    # `vus` at once), or None for `vus` VUs each sending as fast as it is answered.
    rate: float | None = None
    # Before the rounds, each target serves this long unmeasured ("3s"; "" for none).
    warm_up: str = ""
    stress: dict[str, Any] = field(default_factory=dict)
    # Per scenario, what differs from the above (`inbox_polling: {vus: 500}`).
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_scenario(self, name: str) -> Profile:
        """This profile as one scenario runs it (its own VUs or duration, if it has them)."""
        own = self.scenarios.get(name, {})
        return replace(self, **own) if own else self

    @property
    def total_seconds(self) -> float:
        """How long one scenario at this profile runs (ramps included)."""
        return seconds(self.ramp_up) + seconds(self.duration) + seconds(self.ramp_down)

    def capped(self, environment: Environment) -> Profile:
        """The profile within an environment's caps (production's): VUs, and the whole
        run of every scenario, ramps and the stress test's climb and recovery included."""
        vus, duration, stress = self.vus, self.duration, dict(self.stress)
        seed_events = self.seed_events
        if environment.max_seed_events is not None:
            seed_events = min(seed_events, environment.max_seed_events)
        ramp_up, ramp_down = self.ramp_up, self.ramp_down
        if environment.max_vus is not None:
            vus = min(vus, environment.max_vus)
            stress["max_vus"] = min(int(stress.get("max_vus", vus)), environment.max_vus)
            for rate in ("start_rate", "peak_rate", "recovery_rate"):
                if rate in stress:  # one request per VU per second is already a lot there
                    stress[rate] = min(int(stress[rate]), environment.max_vus)
        limit = environment.max_duration_seconds
        if limit is not None:
            ramp_up, ramp_down = (
                f"{int(min(seconds(ramp), limit / 4))}s" for ramp in (ramp_up, ramp_down)
            )
            ramps = seconds(ramp_up) + seconds(ramp_down)
            duration = f"{max(1, int(min(seconds(duration), limit - ramps)))}s"
            climb, recovery = (seconds(str(stress.get(k, "0s"))) for k in ("climb", "recovery"))
            if climb + recovery > limit:
                share = limit / (climb + recovery)
                stress["climb"] = f"{max(1, int(climb * share))}s"
                stress["recovery"] = f"{max(1, int(recovery * share))}s"
        return replace(
            self,
            vus=vus,
            duration=duration,
            ramp_up=ramp_up,
            ramp_down=ramp_down,
            stress=stress,
            seed_events=seed_events,
        )


@dataclass(frozen=True)
class Scenario:
    name: str
    p95_ms: float
    reference: bool = True  # measured against the reference in the same run
    min_events_per_s: float | None = None  # a threshold where the profile asks for it
    # Its verdict is one process's own accounting (handleSummary): it cannot be split
    # over several k6 processes (--segments).
    single_process: bool = False
    # Endpoints whose DynamoDB cost per request depends on races between the scenario's
    # own clients (a lease lost to another consumer costs a write, and a wave more):
    # their calls and capacity units are reported beside the baseline's, not judged.
    contended: tuple[str, ...] = ()

    @property
    def script(self) -> Path:
        return Path(__file__).with_name("scenarios") / f"{self.name}.js"


@dataclass(frozen=True)
class Config:
    environments: dict[str, Environment]
    profiles: dict[str, Profile]
    scenarios: dict[str, Scenario]


def load(path: Path = CONFIG) -> Config:
    raw = yaml.safe_load(path.read_text())
    environments = raw["environments"].items()
    return Config(
        environments={name: Environment(name=name, **values) for name, values in environments},
        profiles={name: Profile(name=name, **values) for name, values in raw["profiles"].items()},
        scenarios={
            name: Scenario(name=name, **{**value, "contended": tuple(value.get("contended", ()))})
            for name, value in raw["scenarios"].items()
        },
    )
